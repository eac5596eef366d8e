"""The queues section: one row of counts per RQ queue, and the age of its oldest pending job.

Rule: round 1 reads RQ's queue set; round 2, per queue, LLEN, ZCARD of the started registry and ZCOUNT of
its entries past their deadline (*abandoned*: their worker stopped beating them; RQ's cleanup fails them),
ZCOUNT ``(now +inf`` of finished and failed (scored by expiry: only jobs still alive, as RQ counts them),
ZCARD of deferred, scheduled and canceled (canceled entries are scored by cancel time and never expire),
ZRANGE of the first ``retry_kinds.SCAN_PER_QUEUE`` scheduled entries, and LINDEX 0 (its head); round 3 one
HGET of the head's ``enqueued_at`` when there is a head, and one HMGET per scheduled entry not classified
before, at most ``retry_kinds.CLASSIFY_PER_REFRESH`` per refresh over all queues. ``retry`` counts the
classified retries, ``scheduled`` the rest, ``retry_unknown`` the entries not classified yet.

With a ``QueueReads`` (the dashboard) rounds 2 and 3 cover only the queues ``worker_reads.due`` picks: the rows on
screen, new queues, and a slice of the rest per refresh so each is re-read about once per ``QUEUE_CADENCE_S``; the
others keep their last row (``queue_reads.QueueCounts``), whose ``read_at`` says when it was read. Round 1 still
lists them all.
"""

from __future__ import annotations

from typing import Any

from tui.data.masking import decode
from tui.data.models import QueueRow, QueueTotals
from tui.data.queue_reads import QueueCounts, QueueReads
from tui.data.sections import retry_kinds
from tui.data.sections.raw_keys import bkey, bkeys
from tui.data.sections.retry_kinds import RetryKinds
from tui.data.sections.rounds import Replies, Round, reply_as
from tui.data.worker_reads import due
from worker import keys, records

PRIORITY_ORDER = ("high", "default", "low")
TOTALS = ("active", "pending", "completed", "failed", "retry", "abandoned")


def _registry_key(queue: str, kind: str) -> str:
    """RQ's registry key with the queue name first, so ``bkey`` can fill it in."""
    return keys.rq_registry(kind, queue)


def _order(name: bytes) -> tuple[int, bytes]:
    """high, default, low first, then the rest by name."""
    known = name in (b"high", b"default", b"low")
    return (PRIORITY_ORDER.index(name.decode()) if known else len(PRIORITY_ORDER), name)


def queue_totals(rows: tuple[QueueRow, ...], now: float) -> QueueTotals:
    """The totals bar at ``now``: each count summed over every queue, as old as the oldest row summed
    (``as_of_s``)."""
    oldest = min((r.read_at for r in rows if r.read_at is not None), default=None)
    return QueueTotals(**{f: sum(getattr(r, f) for r in rows) for f in TOTALS},
                       as_of_s=now - oldest if oldest is not None and oldest < now else None)


class QueuesPlanner:
    """Reads every queue's counts, head job and scheduled entries' kinds over the three rounds."""

    def __init__(self, now: float, kinds: RetryKinds | None = None, counts: QueueCounts | None = None,
                 reads: QueueReads | None = None) -> None:
        self.now = now
        self.kinds = kinds if kinds is not None else RetryKinds()
        self.counts = counts if counts is not None else QueueCounts()
        self.reads = reads
        """Which queues to re-read (None: all of them)."""
        self.names: list[bytes] = []
        """Every listed queue, in display order."""
        self.fresh: list[bytes] = []
        """The queues rounds 2 and 3 read this refresh (a subset of ``names`` with ``reads``)."""
        self._index = 0
        self._slots: list[tuple[int, ...]] = []
        """Round-2 slots per queue: LLEN, the 7 counts, ZRANGE of scheduled entries, then LINDEX 0 (each kind of
        read is queued for every queue at once)."""
        self._heads: list[int | None] = []
        self._classify: list[tuple[retry_kinds.Entry, int]] = []

    def first(self, r1: Round) -> None:
        self._index = r1.add("smembers", keys.RQ_QUEUES)

    def second(self, one: Replies, r2: Round) -> None:
        members = reply_as(one[self._index], set, ())
        prefix = keys.rq_queue("").encode()
        self.names = sorted((m[len(prefix):] for m in members if m.startswith(prefix)), key=_order)
        picked = due(self.names, self.counts.read_at, self.now, self.reads, self.counts.raw_names)
        self.fresh = [n for n in self.names if n in picked]
        alive = f"({self.now!r}"
        names, lists = self.fresh, bkeys(keys.rq_queue, self.fresh)
        wip = bkeys(_registry_key, names, "wip")
        columns = [
            r2.each("llen", lists), r2.each("zcard", wip), r2.each("zcount", wip, ("-inf", alive)),
            r2.each("zcount", bkeys(_registry_key, names, "finished"), (alive, "+inf")),
            r2.each("zcount", bkeys(_registry_key, names, "failed"), (alive, "+inf")),
            *(r2.each("zcard", bkeys(_registry_key, names, kind)) for kind in ("deferred", "scheduled", "canceled")),
            [r2.add("zrange", key, 0, retry_kinds.SCAN_PER_QUEUE - 1, withscores=True)
             for key in bkeys(_registry_key, names, "scheduled")],
            r2.each("lindex", lists, (0,)),
        ]
        self._slots = list(zip(*columns, strict=True))

    def third(self, two: Replies, r3: Round) -> None:
        self._heads = [r3.add("hget", bkey(keys.rq_job, h), "enqueued_at") if isinstance(h, bytes) else None
                       for h in (two[slots[-1]] for slots in self._slots)]
        self._classify = []
        for slots in self._slots:
            for member, score in reply_as(two[slots[-2]], list, []):
                entry = (member, score)
                if self.kinds.get(entry) is None and len(self._classify) < retry_kinds.CLASSIFY_PER_REFRESH:
                    self._classify.append((entry, r3.add("hmget", bkey(keys.rq_job, member),
                                                         list(retry_kinds.FIELDS))))

    def rows(self, two: Replies, three: Replies) -> tuple[QueueRow, ...]:
        for entry, slot in self._classify:
            if isinstance(three[slot], list):
                self.kinds.put(entry, retry_kinds.is_retry(three[slot]))
        fresh = {q: self._row(q, [two[s] for s in slots[:-2]], reply_as(two[slots[-2]], list, []),
                              None if h is None else three[h])
                 for q, slots, h in zip(self.fresh, self._slots, self._heads, strict=True)}
        self.kinds.turn()
        return self.counts.rows(self.names, fresh, self.now)

    def _row(self, name: bytes, counts: list[Any], entries: list[Any], head_enqueued: Any) -> QueueRow:
        """Counts of one queue and the age of its head (oldest) pending job."""
        pending, wip, abandoned, finished, failed, deferred, scheduled, canceled = (reply_as(c, int, 0)
                                                                                    for c in counts)
        kinds = [self.kinds.get((member, score)) for member, score in entries]
        retry = sum(1 for k in kinds if k)
        unknown = max(0, scheduled - sum(1 for k in kinds if k is not None))
        enqueued = records.to_epoch(head_enqueued) if isinstance(head_enqueued, bytes) else None
        return QueueRow(name=decode(name) or "", pending=pending, active=max(0, wip - abandoned),
                        completed=finished, failed=failed, retry=retry,
                        scheduled=max(0, scheduled - retry - unknown), deferred=deferred, canceled=canceled,
                        abandoned=abandoned, retry_unknown=unknown,
                        oldest_pending_age_s=max(0.0, self.now - enqueued)
                        if pending and enqueued is not None else None, read_at=self.now)
