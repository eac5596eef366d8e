"""Job functions and worker-process helpers for the action, janitor and race tests."""

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
from rq import Queue, get_current_job
from rq.utils import utcformat

from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
STARTS = "test:starts"
"""Redis list: ``<job_id> <pid>`` pushed by every job function as it starts."""


def _record_start() -> None:
    """Push this job's id and pid to ``STARTS``."""
    job = get_current_job()
    assert job is not None
    job.connection.rpush(STARTS, f"{job.id} {os.getpid()}")


def quick() -> str:
    """Record the start and return at once."""
    _record_start()
    return "ok"


def boom() -> None:
    """Record the start, then fail."""
    _record_start()
    raise ValueError("upstream timed out after 30s")


def sleeper(seconds: float = 30.0) -> str:
    """Record the start, then sleep (a job the tests stop or kill mid-run)."""
    _record_start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return "slept"


def started(conn: redis.Redis) -> dict[str, int]:
    """Job id -> pid of every recorded start."""
    out = {}
    for raw in conn.lrange(STARTS, 0, -1):
        job_id, pid = raw.decode().split()
        out[job_id] = int(pid)
    return out


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


def iso_ago(seconds: float) -> str:
    """RQ's timestamp format for a moment ``seconds`` ago."""
    return utcformat(datetime.fromtimestamp(time.time() - seconds, timezone.utc))


def plant_running(
    conn: redis.Redis, worker: str, queue: str = "default", started_at: float | None = None,
    job_id: str | None = None,
) -> tuple[str, str]:
    """A job that looks mid-run on ``worker`` (status, execution hash, started entry); returns (job, exec)."""
    job = Queue(queue, connection=conn).enqueue(sleeper, 30, job_id=job_id)
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
