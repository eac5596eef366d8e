"""The collector section: whether ``rqtop collect`` is alive, from the heartbeat it writes after every pass.

Rule: round 1 reads one HMGET of the heartbeat hash; nothing in rounds 2 and 3.
"""

from __future__ import annotations

from tui.data.models import CollectorBeat
from tui.data.sections.rounds import Replies, Round
from worker import keys
from worker.display_text import safe_text
from worker.records import as_int, as_text, from_epoch

MISSED_PASSES = 3
"""The collector reads as not alive once this many of its passes are overdue."""


class CollectorPlanner:
    """Reads ``rqtop collect``'s heartbeat: when it last passed, at what interval, on which host and pid."""

    def __init__(self, now: float) -> None:
        self._now = now
        self._slot = 0
        self._one: Replies = []

    def first(self, r1: Round) -> None:
        self._slot = r1.add("hmget", keys.COLLECT_HEARTBEAT, ["at", "interval", "host", "pid"])

    def second(self, one: Replies, r2: Round) -> None:
        self._one = one

    def third(self, two: Replies, r3: Round) -> None:
        pass

    def rows(self, two: Replies, three: Replies) -> CollectorBeat | None:
        reply = self._one[self._slot] if self._one else None
        if not isinstance(reply, list) or reply[0] is None:
            return None
        at, interval, host, pid = reply
        try:
            at_s, interval_s = float(as_text(at)), float(as_text(interval) or 0)
        except ValueError:
            return None
        seen = from_epoch(at_s)
        if seen is None:
            return None
        alive = self._now - at_s <= MISSED_PASSES * max(interval_s, 1.0) + 1.0
        return CollectorBeat(seen_at=seen, interval_s=interval_s, host=safe_text(as_text(host)),
                             pid=as_int(pid), alive=alive)
