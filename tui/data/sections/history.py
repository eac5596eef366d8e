"""The history section: rqtop's most recent executions, newest first.

Rule: round 1 reads the newest ``history_limit`` ids of the history zset (nothing when the limit is 0);
round 2 one HGETALL per id; round 3, for each running item whose job no worker re-read this refresh runs (a tab
showing no worker: ``worker_reads``), GET of its progress key and HGET of its job's ``meta``, so its progress stays
live (at most 2 x ``history_limit``; the workers section reads the others'). An id whose hash has expired gives no
row; rows are reused while their reply equals the last refresh's. When that zset is empty (rqtop's worker and
``rqtop collect`` recorded nothing) the rows come from RQ's own registries instead (``registry_history``), with a
note saying so.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tui.data.job_meta import UNREADABLE, Fields
from tui.data.masking import MaskRules, decode, mask_error, resolve
from tui.data.models import HistoryRow
from tui.data.progress import job_progress
from tui.data.sections.queues import QueuesPlanner
from tui.data.sections.raw_keys import bkey
from tui.data.sections.registry_history import SOURCE, RegistryHistory, RegistryReads
from tui.data.sections.reuse import Reuse
from tui.data.sections.rounds import Replies, Round, reply_as
from worker import keys, records

if TYPE_CHECKING:
    from tui.data.sections.workers import WorkersPlanner


class HistoryPlanner:
    """Reads the newest history items."""

    def __init__(self, reuse: Reuse, limit: int, mask_rules: MaskRules, queues: QueuesPlanner, now: float,
                 roster: WorkersPlanner | None = None) -> None:
        self._reuse = reuse
        self.roster = roster
        """The workers section, whose round 3 reads the progress of the jobs its re-read workers run."""
        self._progress: dict[bytes, tuple[int, int]] = {}
        """Running item id -> round-3 slots of its progress key (GET) and its job's meta (HGET)."""
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
            return
        read = self.roster.progress_jobs if self.roster is not None else None
        if read is None:
            return
        for job_id, slot in zip(self.ids, self._slots, strict=True):
            raw = two[slot]
            if isinstance(raw, dict) and raw.get(b"state") == b"running" and job_id not in read:
                self._progress[job_id] = (r3.add("get", bkey(keys.progress, job_id)),
                                          r3.add("hget", bkey(keys.rq_job, job_id), "meta"))

    def rows(self, two: Replies, three: Replies) -> tuple[HistoryRow, ...]:
        if self._registry is not None:
            self.fallback = self._registry.rows(three)
            return self.fallback.rows[: self.limit]
        row = self._reuse.row
        history = tuple(r for i, s in zip(self.ids, self._slots, strict=True)
                        if (r := row(i, (i, two[s]), self._row)) is not None)
        self._reuse.turn()
        if not self._progress:
            return history
        return tuple(self._with_progress(r, three) for r in history)

    def _with_progress(self, row: HistoryRow, three: Replies) -> HistoryRow:
        """A running row with the progress read for it in round 3 (masked with its task's patterns)."""
        slots = self._progress.get(row.id.encode())
        if slots is None or row.state != "running":
            return row
        progress = job_progress(three[slots[0]], three[slots[1]], resolve(self.mask_rules, row.task))
        return replace(row, progress=progress) if progress is not None else row

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
