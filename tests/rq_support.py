"""Worker processes and planted RQ state for the action, janitor, recovery and race tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import redis
from rq import Queue
from rq.utils import utcformat

from tests.jobs import nap
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[1]


_WORKER_SOURCE = """
import sys, redis
from rq import Queue, SimpleWorker, Worker
url, name, kind, queues = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
conn = redis.Redis.from_url(url)
cls = SimpleWorker if kind == "simple" else Worker
worker = cls([Queue(q, connection=conn) for q in queues], connection=conn, name=name, job_monitoring_interval=1)
worker.work(burst=False, logging_level="WARNING", with_scheduler=False)
"""


def spawn_worker(url: str, name: str, queues: str = "default", simple: bool = False) -> subprocess.Popen:
    """Start an RQ worker process (forking ``Worker`` unless ``simple``) and wait until it registered."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", _WORKER_SOURCE, url, name, "simple" if simple else "fork", queues],
        cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    conn = redis.Redis.from_url(url)
    try:
        wait_for(lambda: conn.exists(f"rq:worker:{name}") and process.poll() is None, 15.0, f"worker {name}")
    except AssertionError:
        process.kill()
        raise AssertionError(f"worker {name} did not start: {process.communicate()[1][-2000:]!r}") from None
    finally:
        conn.close()
    return process


def stop_worker(process: subprocess.Popen, timeout: float = 5.0) -> None:
    """Warm then cold shutdown (a second SIGTERM kills the horse), SIGKILL if it lingers, and reap it."""
    for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(0.5 if sig == signal.SIGTERM else timeout)
        except subprocess.TimeoutExpired:
            continue
    if process.stderr:
        process.stderr.close()


def kill_pid(pid: int) -> None:
    """SIGKILL one process if it still exists (a horse orphaned by a killed worker)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def snapshot(conn: redis.Redis) -> dict[bytes, bytes | None]:
    """Every key and its serialized value: any write shows up as a difference."""
    return {key: conn.dump(key) for key in conn.scan_iter(count=1000)}


def iso_ago(seconds: float) -> str:
    """RQ's timestamp format for a moment ``seconds`` ago."""
    return utcformat(datetime.fromtimestamp(time.time() - seconds, timezone.utc))


def plant_running(
    conn: redis.Redis, worker: str, queue: str = "default", started_at: float | None = None,
    job_id: str | None = None,
) -> tuple[str, str]:
    """A job that looks mid-run on ``worker`` (status, execution hash, started entry); returns (job, exec)."""
    job = Queue(queue, connection=conn).enqueue(nap, 30, job_id=job_id)
    conn.lrem(f"rq:queue:{queue}", 0, job.id)
    begun = time.time() if started_at is None else started_at
    execution_id = uuid.uuid4().hex
    conn.hset(f"rq:job:{job.id}", mapping={
        "status": "started", "worker_name": worker,
        "started_at": utcformat(datetime.fromtimestamp(begun, timezone.utc)),
    })
    conn.hset(f"rq:execution:{job.id}:{execution_id}", mapping={
        "id": execution_id, "job_id": job.id, "created_at": begun, "last_heartbeat": begun, "worker_name": worker,
    })
    conn.zadd(f"rq:wip:{queue}", {f"{job.id}:{execution_id}": time.time() + 600})
    return job.id, execution_id


def contents(conn: redis.Redis) -> dict[bytes, object]:
    """Every key and its content, order-independent where Redis is (hashes, sets): a hash-table encoded hash
    DUMPs in its rehash order, which a read may advance, so ``snapshot`` can differ without any write."""
    out: dict[bytes, object] = {}
    for key in conn.scan_iter(count=1000):
        kind = conn.type(key)
        if kind == b"hash":
            out[key] = conn.hgetall(key)
        elif kind == b"set":
            out[key] = conn.smembers(key)
        else:
            out[key] = conn.dump(key)
    return out
