"""Every CLI action under Redis faults is one line naming the action and what Redis said, exit 2, no traceback.

Faults come from a real redis-server: an ACL user that may only read, ``maxmemory`` reached (noeviction), a write
stall (``CLIENT PAUSE ... WRITE``) and keys of the wrong type. Most run the CLI in-process (click's runner, an
uncaught exception shows as exit 1); the stall, one ACL case and the malformed audit log run the real entry point.
"""

from __future__ import annotations

import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator

import pytest
import redis
from click.testing import CliRunner
from rq import Queue

from tests.cli_support import ROOT, one_error_line, rqtop, rqtop_env
from tui.cli import cli
from worker import keys
from worker.schedules import ScheduleEntry

ACTIONS: dict[str, tuple[str, ...]] = {
    "run-now": ("run-now", "nightly", "--yes"),
    "pause": ("pause", "nightly", "--yes"),
    "resume": ("resume", "weekly", "--yes"),
    "janitor": ("janitor", "--yes"),
    "fail-active": ("fail-active", "--yes"),
    "cancel-pending": ("cancel-pending", "--yes"),
}


def plant_work(conn: redis.Redis) -> None:
    """Something for every action to do: two schedules (one paused), a running job, a pending job, a stale task."""
    for name in ("nightly", "weekly"):
        entry = ScheduleEntry(name=name, task="tests.jobs.recorded_ok", cron="0 3 * * *")
        conn.hset(keys.SCHEDULES, name, entry.to_json())
    conn.sadd(keys.PAUSED, "weekly")
    conn.hset(keys.rq_job("run1"), mapping={"status": "started", "origin": "default"})
    conn.zadd(keys.rq_registry("wip", "default"), {"run1:exec1": time.time() + 600})
    conn.sadd(keys.RQ_QUEUES, keys.rq_queue("default"))
    Queue("default", connection=conn).enqueue("tests.jobs.recorded_ok")
    conn.zadd(keys.METRIC_TASKS, {"app.stale": time.time() - 3 * 86400})


@pytest.fixture
def planted(conn: redis.Redis) -> redis.Redis:
    plant_work(conn)
    return conn


@pytest.fixture
def out_of_memory(conn: redis.Redis) -> Iterator[None]:
    """Redis at maxmemory with noeviction: every write that may grow memory is refused."""
    policy = conn.config_get("maxmemory-policy")["maxmemory-policy"]
    conn.config_set("maxmemory-policy", "noeviction")
    conn.config_set("maxmemory", 1)
    try:
        yield
    finally:
        conn.config_set("maxmemory", 0)
        conn.config_set("maxmemory-policy", policy)


def invoke(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    """The CLI in this process, as a finished process (exit code, stdout, stderr)."""
    result = CliRunner().invoke(cli, list(args), env={"RQ_REDIS_URL": url, "REDIS_URL": None})
    stderr = result.stderr + ("".join(traceback.format_exception(result.exception))
                              if result.exception and not isinstance(result.exception, SystemExit) else "")
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, stderr)


def test_acl_user_through_the_real_entry_point(planted: redis.Redis, read_only_url: str) -> None:
    line = one_error_line(rqtop(*ACTIONS["cancel-pending"], url=read_only_url))
    assert line.startswith("rqtop: error: cancel-pending: cancel pending: not allowed for role viewer"), line
    assert planted.llen(keys.rq_queue("default")) == 1


def _check(line: str, verb: str, said: str) -> None:
    assert line.startswith(f"rqtop: error: {verb}: "), line
    assert said.lower() in line.lower(), line


@pytest.mark.parametrize("verb", list(ACTIONS))
def test_acl_user_that_may_not_write(verb: str, planted: redis.Redis, read_only_url: str) -> None:
    _check(one_error_line(invoke(*ACTIONS[verb], url=read_only_url)), verb, "not allowed for role viewer")
    assert planted.llen(keys.rq_queue("default")) == 1 and planted.sismember(keys.PAUSED, "weekly")


@pytest.mark.parametrize("verb", list(ACTIONS))
def test_out_of_memory(verb: str, planted: redis.Redis, redis_url: str, out_of_memory: None) -> None:
    _check(one_error_line(invoke(*ACTIONS[verb], url=redis_url)), verb, "maxmemory")


def test_write_stall(planted: redis.Redis, redis_url: str) -> None:
    """Every action at once under one write pause (lifted when they are all done): each says Redis timed out."""
    planted.execute_command("CLIENT", "PAUSE", 60_000, "WRITE")
    try:
        procs = {verb: subprocess.Popen([sys.executable, "-m", "tui", *args], cwd=ROOT, env=rqtop_env(redis_url),
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
                 for verb, args in ACTIONS.items()}
        results = {verb: subprocess.CompletedProcess(proc.args, proc.wait(timeout=50), *proc.communicate())
                   for verb, proc in procs.items()}
    finally:
        planted.execute_command("CLIENT", "UNPAUSE")
    for verb, result in results.items():
        _check(one_error_line(result), verb, "did not answer in time (TimeoutError)")


@pytest.mark.parametrize("verb", list(ACTIONS))
def test_wrong_type_audit_key(verb: str, planted: redis.Redis, redis_url: str) -> None:
    planted.set(keys.AUDIT, "not a stream")
    _check(one_error_line(invoke(*ACTIONS[verb], url=redis_url)), verb, "wrongtype")
    assert planted.llen(keys.rq_queue("default")) == 1 and planted.sismember(keys.PAUSED, "weekly")


@pytest.mark.parametrize(("verb", "plant"), [
    ("pause", lambda c: c.set(keys.PAUSED, "x")),
    ("resume", lambda c: c.set(keys.PAUSED, "x")),
    ("run-now", lambda c: c.hset(keys.active("nightly"), "x", "y")),
    ("janitor", lambda c: c.set(keys.JANITOR_LAST, "x")),
])
def test_wrong_type_key_the_action_touches(verb: str, plant: Callable[[redis.Redis], object], planted: redis.Redis,
                                           redis_url: str) -> None:
    plant(planted)
    _check(one_error_line(invoke(*ACTIONS[verb], url=redis_url)), verb, "wrongtype")


def test_audit_on_a_wrong_type_key(conn: redis.Redis, redis_url: str) -> None:
    conn.set(keys.AUDIT, "not a stream")
    _check(one_error_line(invoke("audit", url=redis_url)), "audit", "wrongtype")


def test_audit_on_malformed_entries_prints_every_entry(conn: redis.Redis, redis_url: str) -> None:
    conn.xadd(keys.AUDIT, {"who": "ann", "action": "pause", "counts": '{"n": Infinity, "m": NaN, "k": 1e400}',
                           "at": "nan", "ok": "1"})
    conn.xadd(keys.AUDIT, {"who": "bob", "action": "janitor", "counts": "[" * 5000, "at": "inf"})
    conn.xadd(keys.AUDIT, {"who": "cy", "action": "resume", "counts": '{"a": [1], "b": "x", "c": 2}', "at": "1e300"})
    conn.xadd(keys.AUDIT, {"who": "dee", "action": "run_now", "at": "-1e20", "counts": '{"q": 1}'})
    result = rqtop("audit", url=redis_url)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    header, *lines = result.stdout.splitlines()
    assert header.startswith("WHEN (UTC)")
    assert len(lines) == 4 and [line.split()[1] for line in lines] == ["dee", "cy", "bob", "ann"], lines
    assert "q=1" in lines[0] and "c=2" in lines[1] and "counts.a" in lines[1] and "counts.n" in lines[3]
