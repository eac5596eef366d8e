"""Every job function the tests enqueue, once; importable by in-process, forked and spawned workers alike.

Plain jobs touch nothing but their result; the ``recorded_*``, ``nap`` and ``hold`` jobs first push their start
to ``STARTS`` so a test can tell what really ran, where, and how often.
"""

from __future__ import annotations

import os
import time
from typing import Any

import redis
from rq import Retry, get_current_job

from worker import keys
from worker.tasks import NO_ACTIVE_WORK

STARTS = "test:starts"
"""Redis list: ``<job_id> <pid> <epoch>`` pushed by every recording job as it starts (pid = the work horse)."""


def say_hello(name: str = "world") -> str:
    """Finish at once."""
    return f"hello {name}"


def ok(value: Any = None) -> Any:
    """Succeed at once."""
    return value


def sleep_for(seconds: float) -> float:
    """Succeed after ``seconds``."""
    time.sleep(seconds)
    return seconds


def sleep_then(seconds: float, fail: bool = False) -> float:
    """Succeed, or fail when ``fail``, after ``seconds``."""
    time.sleep(seconds)
    if fail:
        raise RuntimeError(f"failed after {seconds:.4f}s")
    return seconds


def boom(message: str = "upstream timed out after 30s") -> None:
    """Fail with a readable error whose traceback has a local that must not leak."""
    secret_local = "hunter2-password"  # noqa: F841 - must never appear in rqtop's records
    raise ConnectionError(message + "\nsecond line that must not be recorded")


def boom_with_secret(secret: str = "hunter2") -> None:
    """Fail with a message that quotes a secret (the reader must mask it)."""
    raise ValueError(f"upstream refused password={secret}")


def no_work() -> str:
    """Report that there was nothing to do."""
    return NO_ACTIVE_WORK


def ask_retry() -> Retry:
    """Return a Retry so RQ re-enqueues the job (at most once)."""
    return Retry(max=1)


def probe_worker_record() -> dict[str, str]:
    """Return rqtop's record of the worker running this job, as it is mid-run."""
    job = get_current_job()
    assert job is not None
    raw = job.connection.hgetall(keys.worker(job.worker_name))
    return {k.decode(): v.decode() for k, v in raw.items()}


def _record_start() -> redis.Redis:
    """Push this job's id, the horse pid and the start time to ``STARTS``; the job's connection."""
    job = get_current_job()
    assert job is not None
    job.connection.rpush(STARTS, f"{job.id} {os.getpid()} {time.time():.6f}")
    return job.connection


def recorded_ok(value: object = None) -> object:
    """Record the start and succeed at once."""
    _record_start()
    return value


def recorded_boom(message: str = "upstream refused the request") -> None:
    """Record the start, then fail with a readable one-line error."""
    _record_start()
    raise RuntimeError(message)


def nap(seconds: float = 30.0) -> float:
    """Record the start, then succeed after ``seconds`` (slept in short slices: a job tests stop or kill mid-run)."""
    _record_start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(min(0.02, max(0.0, deadline - time.monotonic())))
    return seconds


def hold(key: str, timeout_s: float = 20.0) -> str:
    """Record the start, then run until ``key`` exists in Redis or ``timeout_s`` passes: a job tests catch mid-run."""
    conn = _record_start()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if conn.exists(key):
            return "released"
        time.sleep(0.02)
    return "timed out"


def starts(conn: redis.Redis) -> dict[str, list[tuple[int, float]]]:
    """Job id -> every (horse pid, start epoch) recorded for it."""
    out: dict[str, list[tuple[int, float]]] = {}
    for raw in conn.lrange(STARTS, 0, -1):
        job_id, pid, at = raw.decode().split()
        out.setdefault(job_id, []).append((int(pid), float(at)))
    return out


def started(conn: redis.Redis) -> dict[str, int]:
    """Job id -> horse pid of its last recorded start."""
    return {job_id: runs[-1][0] for job_id, runs in starts(conn).items()}


CALLBACK_MARK = "test:failure-callback-ran"
"""Set by ``leave_mark``: proof that a failure callback ran (and in which process)."""


def leave_mark(job: Any, connection: redis.Redis, *exc_info: Any) -> None:
    """A failure callback that sets ``CALLBACK_MARK`` to its pid: the proof a process imported and called it."""
    connection.set(CALLBACK_MARK, str(os.getpid()))


def report_until_released(key: str, total: int = 200, timeout_s: float = 20.0) -> str:
    """Report progress in a tight loop (thousands of calls a second) until ``key`` exists; stop early, as a
    checkpointing task does, when the operator cancels."""
    from worker.progress import is_cancelled, report_progress

    conn = _record_start()
    deadline, calls = time.monotonic() + timeout_s, 0
    while time.monotonic() < deadline:
        calls += 1
        report_progress(min(45, calls), total, f"Synced {min(45, calls)} users")
        if is_cancelled():
            return "cancelled"
        if calls % 500 == 0 and conn.exists(key):
            return "released"
    return "timed out"


def meta_progress_until_released(key: str, timeout_s: float = 20.0) -> str:
    """Keep ``{"progress": {"processed": 7, "total": 10}}`` in RQ's job.meta (the common habit) until ``key``."""
    job = get_current_job()
    assert job is not None
    job.meta["progress"] = {"processed": 7, "total": 10, "message": "meta step"}
    job.save_meta()
    _record_start()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if job.connection.exists(key):
            return "released"
        time.sleep(0.02)
    return "timed out"


def ignore_cancel_for(seconds: float) -> str:
    """A task without checkpoints: runs ``seconds`` whatever the operator asks."""
    _record_start()
    time.sleep(seconds)
    return "done"


def progress_steps(steps: int = 3, pause_s: float = 1.1, fail: bool = False) -> int:
    """Report ``i`` of ``steps`` after each pause (slower than the write interval: every step is written)."""
    from worker.progress import report_progress

    for i in range(1, steps + 1):
        time.sleep(pause_s)
        report_progress(i, steps, f"step {i}")
    if fail:
        raise RuntimeError("step failed on purpose")
    return steps
