"""The suspension section: whether ``rq suspend`` has suspended every worker.

Rule: round 1 reads one EXISTS of RQ's suspension key; nothing in rounds 2 and 3. Known after round 1, so
the workers section can mark its rows "suspended" from it.
"""

from __future__ import annotations

from tui.data.sections.rounds import Replies, Round
from worker import keys


class SuspensionPlanner:
    """Reads RQ's suspension flag."""

    def __init__(self) -> None:
        self.suspended = False
        self._slot = 0

    def first(self, r1: Round) -> None:
        self._slot = r1.add("exists", keys.RQ_SUSPENDED)

    def second(self, one: Replies, r2: Round) -> None:
        self.suspended = one[self._slot] == 1

    def third(self, two: Replies, r3: Round) -> None:
        pass

    def rows(self, two: Replies, three: Replies) -> bool:
        return self.suspended
