"""The notifications section: how many notifications wait in the outbox and how many delivery attempts failed.

Rule: round 1 reads one XLEN of the outbox and one HMGET of the senders' counters; nothing in rounds 2 and 3.
"""

from __future__ import annotations

from tui.data.models import NotifyCounts
from tui.data.sections.rounds import Replies, Round
from worker import keys
from worker.display_text import safe_text
from worker.records import as_int, as_text


class NotifyPlanner:
    """Reads the notification outbox's size and the senders' failure counters."""

    def __init__(self) -> None:
        self._slot = 0

    def first(self, r1: Round) -> None:
        self._slot = r1.add("xlen", keys.NOTIFY_OUTBOX)
        r1.add("hmget", keys.NOTIFY_STATUS, ["failures", "failing"])
        self._one: Replies = []

    def second(self, one: Replies, r2: Round) -> None:
        self._one = one

    def third(self, two: Replies, r3: Round) -> None:
        pass

    def rows(self, two: Replies, three: Replies) -> NotifyCounts:
        pending, counters = self._one[self._slot], self._one[self._slot + 1]
        if isinstance(pending, Exception) or isinstance(counters, Exception) or not isinstance(counters, list):
            return NotifyCounts()
        failures, failing = counters
        return NotifyCounts(pending=as_int(pending) or 0, failures=as_int(failures) or 0,
                            failing=safe_text(as_text(failing)))
