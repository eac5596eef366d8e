"""The no-op job the worker throughput benchmark enqueues (a module of its own, so work horses import nothing else)."""

from __future__ import annotations


def noop() -> None:
    """Do nothing: the run measures the worker's own cost per job."""
    return None


def progress_loop(calls: int = 100) -> int:
    """A tight loop that reports progress on every one of its ``calls`` iterations (written at most once a second)."""
    from worker.progress import report_progress

    for i in range(calls):
        report_progress(i + 1, calls, "looping")
    return calls
