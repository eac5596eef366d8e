"""Job functions the end-to-end tests enqueue; each records its start so tests can tell what really ran."""

from __future__ import annotations

import os
import time

import redis
from rq import get_current_job

STARTS = "e2e:starts"
"""Redis list: ``<job_id> <pid> <epoch>`` pushed by every job as it starts (pid = the work horse)."""


def _record_start() -> redis.Redis:
    """Push this job's id, the horse pid and the start time to ``STARTS``; the job's connection."""
    job = get_current_job()
    assert job is not None
    job.connection.rpush(STARTS, f"{job.id} {os.getpid()} {time.time():.6f}")
    return job.connection


def ok(value: object = None) -> object:
    """Succeed at once."""
    _record_start()
    return value


def boom(message: str = "upstream refused the request") -> None:
    """Fail with a readable one-line error."""
    _record_start()
    raise RuntimeError(message)


def nap(seconds: float) -> float:
    """Succeed after ``seconds`` (slept in short slices)."""
    _record_start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
    return seconds


def hold(key: str, timeout_s: float = 20.0) -> str:
    """Run until ``key`` exists in Redis or ``timeout_s`` passes: a job the tests catch, stop or kill mid-run."""
    conn = _record_start()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if conn.exists(key):
            return "released"
        time.sleep(0.05)
    return "timed out"


def starts(conn: redis.Redis) -> dict[str, list[tuple[int, float]]]:
    """Job id -> every (horse pid, start epoch) recorded for it."""
    out: dict[str, list[tuple[int, float]]] = {}
    for raw in conn.lrange(STARTS, 0, -1):
        job_id, pid, at = raw.decode().split()
        out.setdefault(job_id, []).append((int(pid), float(at)))
    return out
