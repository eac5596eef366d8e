"""Helpers for task authors: what a task returns to say "nothing to do", recorded as a note in history."""

from __future__ import annotations

NO_ACTIVE_WORK = "no active work"
"""Return this from a task that found nothing to do; the run is recorded as completed with this note."""


def is_no_active_work(value: object) -> bool:
    """True when a task's return value is the "no active work" marker (a plain string, safe to pickle)."""
    return isinstance(value, str) and value == NO_ACTIVE_WORK
