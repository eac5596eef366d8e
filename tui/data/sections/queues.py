"""The queues section: one row of counts per RQ queue, and the age of its oldest pending job.

Rule: round 1 reads RQ's queue set; round 2, per queue, LLEN, one ZCARD per registry and LINDEX 0 (its
head); round 3 one HGET of the head's ``enqueued_at`` when there is a head. ``retry`` and ``scheduled`` are
both the ZCARD of RQ's scheduled registry (``rq:scheduled:<q>``): RQ 3 parks a retry-with-interval there
exactly like an ``enqueue_in`` job, and telling them apart would cost one job read per entry;
``deferred`` (waiting on dependencies) is its own column.
"""

from __future__ import annotations

from typing import Any

from tui.data.masking import decode
from tui.data.models import QueueRow, QueueTotals
from tui.data.sections.raw_keys import bkey
from tui.data.sections.rounds import Replies, Round, reply_as
from worker import keys, records

QUEUE_PREFIX = keys.rq_queue("").encode()
REGISTRIES = ("wip", "finished", "failed", "deferred", "scheduled", "canceled")
PRIORITY_ORDER = ("high", "default", "low")


def _registry_key(queue: str, kind: str) -> str:
    """RQ's registry key with the queue name first, so ``bkey`` can fill it in."""
    return keys.rq_registry(kind, queue)


def _order(name: bytes) -> tuple[int, bytes]:
    """high, default, low first, then the rest by name."""
    known = name in (b"high", b"default", b"low")
    return (PRIORITY_ORDER.index(name.decode()) if known else len(PRIORITY_ORDER), name)


def queue_totals(rows: tuple[QueueRow, ...]) -> QueueTotals:
    """The totals bar: each count summed over every queue."""
    return QueueTotals(**{f: sum(getattr(r, f) for r in rows)
                          for f in ("active", "pending", "completed", "failed", "retry")})


class QueuesPlanner:
    """Reads every queue's counts and head job over the three rounds."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.names: list[bytes] = []
        self._index = 0
        self._slots: list[range] = []
        """Round-2 slots per queue: LLEN, the registries' ZCARDs, then LINDEX 0."""
        self._heads: list[int | None] = []

    def first(self, r1: Round) -> None:
        self._index = r1.add("smembers", keys.RQ_QUEUES)

    def second(self, one: Replies, r2: Round) -> None:
        members = reply_as(one[self._index], set, ())
        self.names = sorted((m[len(QUEUE_PREFIX):] for m in members if m.startswith(QUEUE_PREFIX)), key=_order)
        for q in self.names:
            start = r2.add("llen", bkey(keys.rq_queue, q))
            for kind in REGISTRIES:
                r2.add("zcard", bkey(_registry_key, q, kind))
            r2.add("lindex", bkey(keys.rq_queue, q), 0)
            self._slots.append(range(start, r2.size))

    def third(self, two: Replies, r3: Round) -> None:
        self._heads = [r3.add("hget", bkey(keys.rq_job, h), "enqueued_at") if isinstance(h, bytes) else None
                       for h in (two[slots[-1]] for slots in self._slots)]

    def rows(self, two: Replies, three: Replies) -> tuple[QueueRow, ...]:
        return tuple(self._row(q, [two[s] for s in slots[:-1]], None if h is None else three[h])
                     for q, slots, h in zip(self.names, self._slots, self._heads, strict=True))

    def _row(self, name: bytes, counts: list[Any], head_enqueued: Any) -> QueueRow:
        """Counts of one queue and the age of its head (oldest) pending job."""
        pending, wip, finished, failed, deferred, scheduled, canceled = (reply_as(c, int, 0) for c in counts)
        enqueued = records.to_epoch(head_enqueued) if isinstance(head_enqueued, bytes) else None
        return QueueRow(name=decode(name) or "", pending=pending, active=wip, completed=finished, failed=failed,
                        retry=scheduled, scheduled=scheduled, deferred=deferred, canceled=canceled,
                        oldest_pending_age_s=max(0.0, self.now - enqueued)
                        if pending and enqueued is not None else None)
