"""Jobs queued by Run now, watched until the history shows how they ended, so the operator hears the outcome."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from tui import formatting as fmt
from tui.data.models import HistoryRow

TERMINAL = {"completed", "failed", "canceled"}
MAX_WATCHED = 20
"""Oldest watches are dropped past this many (a run that never shows up must not leak)."""


class RunFollowups:
    """Maps watched job ids to their schedule and turns finished ones into toast texts."""

    def __init__(self) -> None:
        self._watched: OrderedDict[str, str] = OrderedDict()

    def watch(self, job_id: str, schedule: str) -> None:
        """Remember a job Run now queued."""
        self._watched[job_id] = schedule
        while len(self._watched) > MAX_WATCHED:
            self._watched.popitem(last=False)

    def outcomes(self, history: Iterable[HistoryRow]) -> list[tuple[str, str]]:
        """(toast text, severity) for each watched job that has ended; those stop being watched."""
        found: list[tuple[str, str]] = []
        for row in history:
            schedule = self._watched.get(row.id)
            if schedule is None or row.state not in TERMINAL:
                continue
            del self._watched[row.id]
            found.append(describe(schedule, row))
        return found


def describe(schedule: str, row: HistoryRow) -> tuple[str, str]:
    """One finished run as a toast: "No active work", the duration, or the error summary."""
    if row.state == "failed":
        return f"{schedule}: failed — {row.error or 'no error recorded'}", "error"
    if row.state == "canceled":
        return f"{schedule}: canceled before it ran", "warning"
    if row.note and row.note.lower() == "no active work":
        return f"{schedule}: No active work", "information"
    took = ""
    if row.started_at and row.ended_at:
        took = f" in {fmt.duration((row.ended_at - row.started_at).total_seconds())}"
    return f"{schedule}: completed{took}", "information"
