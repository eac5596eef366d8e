"""Helpers for the reader tests: round-trip counting, write-command deltas, rqtop records, hostile payloads."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

from tests.redis_commands import WRITE_COMMANDS
from tests.waiting import wait_for
from tui.data.settings import Settings
from worker import keys, records

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_760_000_000.0 + 1800.5  # a fixed instant, mid-hour



def settings(now: float = NOW, **overrides: Any) -> Settings:
    """Settings with a frozen clock."""
    return Settings(clock=lambda: now, **overrides)


class CountingClient:
    """A redis client whose connections count every send: one per command, one per pipeline execute."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        pool = self.client.connection_pool
        base = pool.connection_class
        counter = self

        def send_packed_command(conn: Any, command: Any, check_health: bool = True) -> None:
            counter.sends += 1
            return base.send_packed_command(conn, command, check_health)

        pool.connection_class = type(f"Counting{base.__name__}", (base,), {"send_packed_command": send_packed_command})
        self.sends = 0
        self.client.ping()  # connect (and its handshake) before anything is counted
        self.sends = 0

    def count(self, action: Callable[[], Any]) -> tuple[Any, int]:
        """Run ``action`` and return its result with the sends it made."""
        before = self.sends
        result = action()
        return result, self.sends - before


def write_calls(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Write commands whose count changed between two command_calls readings."""
    return {c: after.get(c, 0) - before.get(c, 0) for c in WRITE_COMMANDS if after.get(c, 0) != before.get(c, 0)}


def put_worker_record(conn: redis.Redis, name: str, last_seen: float, **fields: Any) -> None:
    """rqtop:worker:<name> and its rqtop:workers entry, as the worker writes them."""
    record = {
        "name": name, "hostname": "host-a", "pid": 4242, "mode": "all", "version": "0.1.0", "rq_version": "3.0.0",
        "birth": f"{last_seen - 3600:.6f}", "last_seen": f"{last_seen:.6f}", "queues": "high,default,low",
        "processed": 12, "failed": 3, "current_job_id": "", "current_task": "", "current_started": "",
    }
    record.update(fields)
    conn.hset(keys.worker(name), mapping=record)
    conn.zadd(keys.WORKERS, {name: last_seen})


def put_history(conn: redis.Redis, job_id: str, created: float, **fields: Any) -> None:
    """One rqtop:history entry and its hash."""
    item = {"task": "tests.jobs.say_hello", "queue": "default", "state": "completed",
            "created_at": f"{created:.6f}", "started_at": f"{created + 1:.6f}", "ended_at": f"{created + 3:.6f}",
            "retries": 0, "schedule": "", "worker": "w1", "error": "", "note": ""}
    item.update(fields)
    conn.hset(keys.history_item(job_id), mapping=item)
    conn.zadd(keys.HISTORY, {job_id: created})


def put_run(conn: redis.Redis, task: str, ended: float, duration: float, failed: bool = False) -> None:
    """Record one terminal run in the hourly metrics bucket the worker would update."""
    key = keys.metric_bucket(task, records.hour_of(ended))
    conn.hincrby(key, "n", 1)
    if failed:
        conn.hincrby(key, "f", 1)
    conn.hincrby(key, f"b{records.bin_index(duration)}", 1)
    current = conn.hget(key, "max")
    if current is None or float(current) < duration:
        conn.hset(key, "max", f"{duration:.6f}")
    conn.hset(key, "last", f"{ended:.6f}")
    conn.zadd(keys.METRIC_TASKS, {task: ended}, gt=True)


class _Trap:
    """Unpickling this runs ``touch <path>``: the payload a hostile producer would plant."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.path}",))


def hostile_pickle(path: Path, shaped_like_rq: bool = False) -> bytes:
    """zlib(pickle) that creates ``path`` when unpickled; optionally inside an rq-shaped 4-tuple."""
    payload: Any = ("tests.jobs.say_hello", None, (_Trap(path),), {}) if shaped_like_rq else _Trap(path)
    return zlib.compress(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))


def start_worker(url: str, queues: str = "default", name: str = "forked-1") -> subprocess.Popen[bytes]:
    """A forking rq Worker in its own process (burst), so jobs run in a real work horse."""
    code = (
        "import sys, redis; from rq import Queue, Worker; "
        "c = redis.Redis.from_url(sys.argv[1]); "
        "qs = [Queue(q, connection=c) for q in sys.argv[2].split(',')]; "
        "Worker(qs, connection=c, name=sys.argv[3]).work(burst=True)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, url, queues, name], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


def wait_until(predicate: Callable[[], Any], timeout_s: float = 15.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout_s``."""
    return wait_for(predicate, timeout_s, what)
