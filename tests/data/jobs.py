"""Job functions the reader tests enqueue; importable by in-process and forked rq workers alike."""

from __future__ import annotations

import time

from rq import get_current_job


def say_hello(name: str = "world") -> str:
    """Finish at once."""
    return f"hello {name}"


def boom(secret: str = "hunter2") -> None:
    """Fail with a message that quotes a secret (the reader must mask it)."""
    raise ValueError(f"upstream refused password={secret}")


def wait_for_key(key: str, timeout_s: float = 20.0) -> str:
    """Run until ``key`` exists in Redis (or the bounded timeout passes): a job the tests catch mid-run."""
    job = get_current_job()
    assert job is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if job.connection.exists(key):
            return "released"
        time.sleep(0.02)
    return "timed out"
