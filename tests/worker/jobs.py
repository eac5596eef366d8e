"""Job functions the worker tests enqueue (importable by forked and spawned workers)."""

from __future__ import annotations

import time
from typing import Any

from rq import Retry, get_current_job

from worker import keys
from worker.tasks import NO_ACTIVE_WORK


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
