"""The no-op job the worker throughput benchmark enqueues (a module of its own, so work horses import nothing else)."""

from __future__ import annotations


def noop() -> None:
    """Do nothing: the run measures the worker's own cost per job."""
    return None
