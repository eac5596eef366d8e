"""The workers section: one row per worker, plain ``rq worker`` and rqtop's alike.

Rule: round 1 reads RQ's worker set and rqtop's worker zset (name -> last seen); round 2, per worker, HMGET of the
fields a row shows of RQ's hash (``RQ_FIELDS``) and of rqtop's record (``OUR_FIELDS``), SMEMBERS of RQ's executions
set and PTTL of RQ's hash (late: RQ sets that TTL to the next beat + 60 s); round 3, for a worker running a job
rqtop's record does not name (a plain ``rq worker``), HMGET of that job's ``CURRENT_FIELDS`` and, on RQ 3, HGET of
its execution's ``created_at`` (RQ 2 names the job in its hash's ``current_job`` field and has no execution); and,
for every worker running a job (rqtop's or plain), GET of its progress key and HGET of its ``meta`` (RQ's
``meta["progress"]``): bounded by the workers, not by what Redis holds. Rows are built by ``WorkerRows``, which
re-parses only workers whose replies changed; the progress is parsed every refresh (it changes every second).

With a ``WorkerReads`` (the dashboard) rounds 2 and 3 cover only the workers ``worker_reads.due`` picks: the
ones on screen, new ones, and a slice of the rest per refresh so each is re-read about once per heartbeat
cadence; the others keep their last row and progress (its ``read_at`` says when). Round 1 still lists them all. With a
hidden ``WorkerReads`` (``off_screen``: a tab that shows no worker) nothing is read in any round and ``rows`` is the
last refresh's tuple, whole (``kept_at`` says when it was built).
"""

from __future__ import annotations

from typing import Any

from tui.data.job_meta import UNREADABLE
from tui.data.masking import MaskRules, resolve
from tui.data.models import WorkerRow
from tui.data.progress import JobProgress, job_progress
from tui.data.sections.raw_keys import bkeys
from tui.data.sections.rounds import Replies, Round, reply_as, score_map
from tui.data.sections.suspension import SuspensionPlanner
from tui.data.worker_reads import WorkerReads, due
from tui.data.worker_rows import (
    CURRENT_FIELDS,
    OUR_FIELDS,
    RQ_FIELDS,
    WorkerFacts,
    WorkerRows,
    current_execution,
    job_of,
    our_job,
    rq2_current_job,
)
from worker import keys


class WorkersPlanner:
    """Reads every worker's hashes and, for a plain ``rq worker``, the job it runs."""

    def __init__(self, rows: WorkerRows, now: float, offline_after_s: float, suspension: SuspensionPlanner,
                 rules: MaskRules | None = None, reads: WorkerReads | None = None) -> None:
        self._rows = rows
        self.reads = reads
        """Which workers to re-read (None: all of them)."""
        self.fresh: list[bytes] = []
        """The workers rounds 2 and 3 read this refresh (a subset of ``names`` with ``reads``)."""
        self.rules = rules or MaskRules(())
        self._progress_slots: dict[bytes, tuple[int, int]] = {}
        """Worker name -> round-3 slots of its running job's progress key (GET) and meta (HGET)."""
        self.progress_jobs: set[bytes] = set()
        """The running jobs whose progress round 3 reads this refresh (the history section reads the others')."""
        self.now = now
        self.offline_after_s = offline_after_s
        self.suspension = suspension
        self.names: list[bytes] = []
        self._seen: dict[bytes, float] = {}
        self._index = (0, 0)
        self._slots: list[tuple[int, int, int, int]] = []
        """Round-2 slots per worker: RQ's hash, rqtop's record, RQ's executions, the PTTL of RQ's hash."""
        self._current: list[bytes | None] = []
        self._current_slots: list[tuple[int, int | None] | None] = []

    @property
    def skipped(self) -> bool:
        """No worker is read this refresh: the tab shows none."""
        return self.reads is not None and self.reads.hidden

    @property
    def kept_at(self) -> float | None:
        """When the rows ``rows`` returns were built, if not this refresh (the epoch when never)."""
        return (self._rows.built_at or 0.0) if self.skipped else None

    def first(self, r1: Round) -> None:
        if self.skipped:
            self.names = self._rows.names()
            return
        self._index = (r1.add("smembers", keys.RQ_WORKERS),
                       r1.add("execute_command", "ZRANGE", keys.WORKERS, 0, -1, "WITHSCORES"))

    def second(self, one: Replies, r2: Round) -> None:
        if self.skipped:
            return
        rq_workers, ours = (one[slot] for slot in self._index)
        self._seen = seen = score_map(ours)
        members = reply_as(rq_workers, set, set())
        last = self._rows.listing
        if last is not None and last[0] == members and last[1].keys() == seen.keys():
            self.names = last[2]  # the same workers as last refresh (the usual case): no re-sort of 10,000 names
        else:
            prefix = keys.rq_worker("").encode()
            self.names = sorted({m[len(prefix):] for m in members if m.startswith(prefix)} | set(seen))
            self._rows.listing = (members, seen, self.names)
        picked = due(self.names, self._rows.read_at, self.now, self.reads, self._rows.raw_names)
        # every worker (a full read) keeps the listing's order; a slice is sorted the same way
        self.fresh = names = self.names if len(picked) == len(self.names) else sorted(picked)
        rq_hashes = bkeys(keys.rq_worker, names)
        self._slots = list(zip(r2.each("hmget", rq_hashes, RQ_FIELDS),
                               r2.each("hmget", bkeys(keys.worker, names), OUR_FIELDS),
                               r2.each("smembers", bkeys(keys.rq_worker_executions, names)),
                               r2.each("pttl", rq_hashes),
                               strict=True))

    def third(self, two: Replies, r3: Round) -> None:
        self._current = []
        runners: list[bytes] = []  # the workers running a job, and that job (running): their progress is read
        running: list[bytes] = []
        plain: list[tuple[int, bytes, bytes | None]] = []  # (index in fresh, job, execution): jobs no record names
        for i, (raw_name, (a, b, c, _)) in enumerate(zip(self.fresh, self._slots, strict=True)):
            run = current_execution(two[b], two[c])
            job = job_of(run) or rq2_current_job(two[a], two[b], two[c])
            self._current.append(job)
            job_running = job or our_job(two[b])
            if job_running:
                runners.append(raw_name)
                running.append(job_running)
            if job:
                plain.append((i, job, run))
        self.progress_jobs = set(running)
        self._progress_slots = dict(zip(runners, zip(r3.each("get", bkeys(keys.progress, running)),
                                                     r3.each("hget", bkeys(keys.rq_job, running), ("meta",)),
                                                     strict=True), strict=True))
        jobs = r3.each("hmget", bkeys(keys.rq_job, [job for _, job, _ in plain]), CURRENT_FIELDS)
        created = iter(r3.each("hget", bkeys(keys.rq_execution, [run for _, _, run in plain if run]),
                               ("created_at",)))
        self._current_slots = [None] * len(self.fresh)
        for (i, _, run), slot in zip(plain, jobs, strict=True):
            self._current_slots[i] = (slot, next(created) if run else None)

    def rows(self, two: Replies, three: Replies) -> tuple[WorkerRow, ...]:
        if self.skipped:
            return self._rows.last

        def current(slots: tuple[int, int | None] | None) -> Any:
            """The ``CURRENT_READ`` replies: the job's HMGET and its execution's created_at (an error stays whole)."""
            if slots is None:
                return None
            job = three[slots[0]]
            created = None if slots[1] is None else three[slots[1]]
            return [*job, created] if isinstance(job, list) else job

        def progress_of(name: bytes, facts: WorkerFacts) -> JobProgress | None:
            """A re-read worker's running job's progress (masked with that task's patterns), when it reports one."""
            slots = self._progress_slots.get(name)
            if slots is None or not facts.current_id:
                return None
            task = facts.current_task or UNREADABLE
            return job_progress(three[slots[0]], three[slots[1]], resolve(self.rules, task))

        read = {n: ((two[a], two[b], two[c], job_id, current(j)), two[d])
                for n, (a, b, c, d), job_id, j in zip(self.fresh, self._slots, self._current, self._current_slots,
                                                      strict=True)}
        rows = self._rows.rows(self.names, read, self._seen, self.now, self.offline_after_s,
                               self.suspension.suspended, progress_of)
        return self._rows.keep(rows, self.now)
