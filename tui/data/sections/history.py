"""The history section: rqtop's most recent executions, newest first.

Rule: round 1 reads the newest ``history_limit`` ids of the history zset (nothing when the limit is 0);
round 2 one HGETALL per id; nothing in round 3. An id whose hash has expired gives no row; rows are reused
while their reply equals the last refresh's. When that zset is empty (rqtop's worker and ``rqtop collect``
recorded nothing) the rows come from RQ's own registries instead (``registry_history``), with a note saying so.
"""

from __future__ import annotations

from typing import Any

from tui.data.job_meta import UNREADABLE, Fields
from tui.data.masking import MaskRules, decode, mask_error
from tui.data.models import HistoryRow
from tui.data.sections.queues import QueuesPlanner
from tui.data.sections.raw_keys import bkey
from tui.data.sections.registry_history import SOURCE, RegistryHistory, RegistryReads
from tui.data.sections.reuse import Reuse
from tui.data.sections.rounds import Replies, Round, reply_as
from worker import keys, records


class HistoryPlanner:
    """Reads the newest history items."""

    def __init__(self, reuse: Reuse, limit: int, mask_rules: MaskRules, queues: QueuesPlanner, now: float) -> None:
        self._reuse = reuse
        self.limit = limit
        self.mask_rules = mask_rules
        self.queues = queues
        self.now = now
        self.ids: list[bytes] = []
        self._index = 0
        self._slots = range(0)
        self._registry: RegistryReads | None = None
        self.fallback: RegistryHistory | None = None
        """What RQ's registries gave, after ``rows``, when rqtop's history was empty."""

    @property
    def source(self) -> str:
        """Where the rows came from: "rqtop" (its own records) or ``registry_history.SOURCE``."""
        return SOURCE if self._registry is not None else "rqtop"

    def first(self, r1: Round) -> None:
        self._index = r1.add("zrevrange", keys.HISTORY, 0, max(1, self.limit) - 1)

    def second(self, one: Replies, r2: Round) -> None:
        self.ids = reply_as(one[self._index], list, []) if self.limit > 0 else []
        self._slots = r2.each("hgetall", [bkey(keys.history_item, i) for i in self.ids])
        if self.limit > 0 and not self.ids:
            self._registry = RegistryReads(self.limit, self.now, self.mask_rules)
            self._registry.second(self.queues.names, r2)

    def third(self, two: Replies, r3: Round) -> None:
        if self._registry is not None:
            self._registry.third(two, r3)

    def rows(self, two: Replies, three: Replies) -> tuple[HistoryRow, ...]:
        if self._registry is not None:
            self.fallback = self._registry.rows(three)
            return self.fallback.rows[: self.limit]
        row = self._reuse.row
        history = tuple(r for i, s in zip(self.ids, self._slots, strict=True)
                        if (r := row(i, (i, two[s]), self._row)) is not None)
        self._reuse.turn()
        return history

    def _row(self, job_id: bytes, raw: Any) -> HistoryRow | None:
        """One execution from rqtop's history; None when its hash has expired."""
        item = Fields(raw)
        if not item and not item.bad:
            return None
        state = item.text("state", 20)
        task = item.text("task")
        row: dict[str, Any] = dict(
            id=decode(job_id) or "", task=task or UNREADABLE, queue=item.text("queue") or "",
            created_at=item.when("created_at"), ended_at=item.when("ended_at"), started_at=item.when("started_at"),
            retries=item.number("retries") or 0, schedule=item.text("schedule") or None,
            worker=item.text("worker") or None,
            error=mask_error(item.text("error", 400), self.mask_rules.for_task(task)),
            note=item.text("note", 200) or None,
        )
        bad = item.bad or state not in records.HISTORY_STATES
        return HistoryRow(state=UNREADABLE if bad else str(state), **row)
