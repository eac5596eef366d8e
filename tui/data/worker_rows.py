"""Worker rows from rqtop's record and RQ's hash, each hash parsed once and reused while it is unchanged.

A worker's hashes change when it beats (every ~10 s) or starts or ends a job, far less often than the
dashboard refreshes, so ``WorkerRows`` keeps each worker's parsed facts with the replies they came from
and re-parses only a worker whose replies differ; a row holds instants, not durations (``WorkerRow``), so
one is rebuilt only when its worker was re-read or its last-seen time or status changed. Garbage fields
mark the row unreadable, as ``Fields`` reads them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple, cast

from tui.data.job_meta import EPOCH_MAX, EPOCH_MIN, UNREADABLE, Fields, encoded, function_name
from tui.data.masking import decode
from tui.data.models import WorkerRow
from tui.data.progress import JobProgress
from worker import records

RQ_FIELDS = ("last_heartbeat", "birth", "successful_job_count", "failed_job_count", "hostname", "pid", "version",
             "queues", "death", "state", "total_working_time", "current_job")
"""What round 2 reads of a plain worker's hash (HMGET): what a row shows, not the fields RQ adds that none shows
(at 10,000 workers HGETALL of the whole hashes cost ~30 % more, in Redis and in parsing)."""
OUR_FIELDS = ("mode", "last_seen", "birth", "processed", "failed", "hostname", "pid", "version", "queues",
              "current_job_id", "current_task", "current_started")
"""What round 2 reads of rqtop's worker record (HMGET)."""
_RQ_KEYS, _OUR_KEYS = encoded(RQ_FIELDS), encoded(OUR_FIELDS)
_RQ_JOB = RQ_FIELDS.index("current_job")
_OUR_JOB, _OUR_TASK = OUR_FIELDS.index("current_job_id"), OUR_FIELDS.index("current_task")

CURRENT_FIELDS = ("data", "started_at")
"""What round 3 reads of the job a plain ``rq worker`` runs (HMGET)."""
CURRENT_READ = (*CURRENT_FIELDS, "execution_created_at")
"""Those replies plus its execution's ``created_at`` (HGET in the same round): the job's own ``started_at`` is
written only once the horse starts, and holds the previous run's time for a retried job."""


RQ_DEFAULT_HASH_TTL_S = 480.0
"""RQ's default worker_ttl (420 s) plus the 60 s it adds: how long a plain worker's hash outlives a beat."""

RQ_TTL_MARGIN_S = 60.0
"""RQ sets a worker hash's TTL at every beat to the time until its next beat plus this margin (RQ 2 and 3,
``Worker.heartbeat``: ``worker_ttl + 60`` idle, ``job_monitoring_interval + 60`` busy)."""
LATE_GRACE_S = 5.0
"""A beat this much later than RQ scheduled it makes the worker *late*."""
LATE_BELOW_MS = int((RQ_TTL_MARGIN_S - LATE_GRACE_S) * 1000)
"""A worker hash whose remaining TTL (PTTL) is below this has missed the beat RQ scheduled: *late*."""
GONE_SHOWN_S = 60.0
"""A worker whose hash expired (its name left behind in ``rq:workers``) is shown as *gone* this long after a
refresh first saw it gone, then dropped; a reader that never saw it alive drops it at once."""


class WorkerFacts(NamedTuple):
    """What one worker's hashes say, apart from the clock."""

    mode: str
    unreadable: bool
    beat: float | None
    """The later of rqtop's last_seen and RQ's last_heartbeat."""
    beat_at: datetime | None
    dead: bool
    current_id: str | None
    current_task: str | None
    started: float | None
    birth: float | None
    processed: int | None
    failed: int | None
    hostname: str | None
    pid: int | None
    version: str | None
    queues: tuple[str, ...]
    birth_at: datetime | None
    rq_hash_live: bool = False
    """A plain ``rq worker``'s hash is there and records no death: RQ's own sign of life (its idle beats
    come only every ~worker_ttl seconds, 420 by default, so a 60 s staleness rule would call it offline)."""
    rq_state: str | None = None
    """RQ's own ``state`` field (busy, idle, suspended, started), as RQ 2 and 3 write it."""
    attempts: int | None = None
    """rqtop's count of every run (retries included), from its own record; None for a plain worker."""
    attempts_failed: int | None = None
    """rqtop's count of failed runs, from its own record; None for a plain worker."""
    hash_gone: bool = False
    """RQ's hash has expired and rqtop keeps no record of it: only the name is left in ``rq:workers``."""
    working_time_s: float | None = None
    """RQ's ``total_working_time`` (seconds), None when absent or not a finite non-negative number."""


def our_job(ours: Any) -> bytes | None:
    """The job rqtop's record names as running (its ``current_job_id``), from the HMGET of ``OUR_FIELDS``."""
    job = ours[_OUR_JOB] if isinstance(ours, list) and len(ours) == len(OUR_FIELDS) else None
    return job if isinstance(job, bytes) and job else None


def _names_a_job(ours: Any) -> bool:
    """rqtop's record names the running job (its id or its task)."""
    return our_job(ours) is not None or (isinstance(ours, list) and len(ours) == len(OUR_FIELDS)
                                         and bool(ours[_OUR_TASK]))


def current_execution(ours: Any, executions: Any) -> bytes | None:
    """The ``<job_id>:<execution_id>`` whose job and execution hashes round 3 must read for a worker (from its
    HMGET of rqtop's record and SMEMBERS of RQ's executions): only when rqtop's record does not name a job."""
    if not executions or not isinstance(executions, set) or _names_a_job(ours):
        return None
    members = sorted(m for m in executions if isinstance(m, bytes) and m.partition(b":")[0])
    return members[0] if members else None


def job_of(execution: bytes | None) -> bytes | None:
    """The job id part of an execution member."""
    return execution.partition(b":")[0] if execution else None


def rq2_current_job(rq: Any, ours: Any, executions: Any) -> bytes | None:
    """The job an RQ 2 worker runs (its hash's ``current_job`` field, from the HMGET of ``RQ_FIELDS``; RQ 2 keeps
    no executions set), when neither RQ 3's executions set nor rqtop's record names one."""
    if executions or not isinstance(rq, list) or len(rq) != len(RQ_FIELDS) or _names_a_job(ours):
        return None
    job = rq[_RQ_JOB]
    return job if isinstance(job, bytes) and job else None


def worker_facts(rq: Fields, ours: Fields, executions: Any, job_id: bytes | None, job: Any) -> WorkerFacts:
    """One worker's facts from rqtop's record (preferred) and RQ's hash, each field read once and none looked up in
    a hash that is not there (at 10,000 workers this is the hottest loop of a full read)."""
    mode = ours.text("mode", 20) if ours else "rq"
    unreadable = (mode not in records.WORKER_MODES and mode != "rq") or (not isinstance(executions, set))
    seen = ours.epoch("last_seen") if ours else None
    heartbeat = rq.epoch("last_heartbeat") if rq else None
    beat = heartbeat if seen is None else seen if heartbeat is None else max(seen, heartbeat)
    current_id = current_task = None
    started = None
    if ours:
        current_id, current_task, started = (ours.text("current_job_id"), ours.text("current_task"),
                                             ours.epoch("current_started"))
    job_bad = False
    if job is not None:
        job_fields = Fields.from_hmget(CURRENT_READ, job)
        job_bad = job_fields.bad
        if current_id is None and not current_task and job_fields:
            current_id = decode(job_id)
            current_task = function_name(job_fields.value("data"))
            started = job_fields.epoch("execution_created_at") or job_fields.epoch("started_at")
    # processed / failed as RQ counts them (its hash's counters, which rqtop's worker keeps too);
    # rqtop's own record counts every attempt, shown apart as attempts.
    processed = failed = attempts = attempts_failed = None
    dead, state, working = False, None, None
    if rq:
        processed = rq.number("successful_job_count") or 0
        failed = rq.number("failed_job_count") or 0
        dead = rq.value("death") is not None
        state, working = rq.text("state", 20), _seconds(rq.text("total_working_time"))
    if ours:
        birth = ours.epoch("birth")
        attempts, attempts_failed = ours.number("processed"), ours.number("failed")
        if not rq:
            processed, failed = attempts, attempts_failed  # the RQ hash is gone: the record is all there is
        hostname = ours.text("hostname") or rq.text("hostname")
        pid = ours.number("pid") or rq.number("pid")
        version, queues = ours.text("version", 40), ours.text("queues", 2000)
    else:
        birth = rq.epoch("birth")
        hostname, pid = rq.text("hostname"), rq.number("pid")
        version, queues = rq.text("version", 40), rq.text("queues", 2000)
    return WorkerFacts(
        mode=cast(str, mode if not unreadable else (mode or UNREADABLE)),  # None only for a record with no mode
        unreadable=unreadable or ours.bad or rq.bad or job_bad, beat=beat, beat_at=records.from_epoch(beat),
        dead=dead, current_id=current_id, current_task=current_task, started=started,
        birth=birth, processed=processed, failed=failed, hostname=hostname, pid=pid, version=version,
        queues=tuple(filter(None, queues.split(","))) if queues else (), birth_at=records.from_epoch(birth),
        rq_hash_live=mode == "rq" and bool(rq) and not dead,
        rq_state=state, attempts=attempts, attempts_failed=attempts_failed,
        hash_gone=not rq and not ours and not rq.bad, working_time_s=working,
    )


def _seconds(text: str | None) -> float | None:
    """A finite, non-negative number of seconds from a hash field, else None (garbage is not a duration)."""
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and 0 <= value < float("inf") else None


def is_late(pttl: Any) -> bool:
    """RQ's hash has outlived the beat RQ scheduled for it (its PTTL is below the 60 s margin, less a grace)."""
    return isinstance(pttl, int) and 0 <= pttl < LATE_BELOW_MS


def worker_row(name: str, facts: WorkerFacts, seen: float | None, now: float, offline_after_s: float,
               suspended: bool, pttl: Any = None, read_at: float | None = None,
               progress: JobProgress | None = None) -> tuple[WorkerRow, float]:
    """The row at ``now`` and until when its status holds: online while seen within ``offline_after_s`` (by
    either record) and not dead; a plain ``rq worker`` (idle beats every ~405 s with RQ's defaults) gets RQ's own
    window, its hash's lifetime; an online worker is *late* once its hash's TTL (``pttl``) says the beat RQ
    scheduled did not come. Nothing else in the row depends on ``now``: it stays right until that time."""
    last_seen, last_seen_at = facts.beat, facts.beat_at
    if seen is not None and (last_seen is None or seen > last_seen) and EPOCH_MIN <= seen <= EPOCH_MAX:
        last_seen, last_seen_at = seen, records.from_epoch(seen)
    window = max(offline_after_s, RQ_DEFAULT_HASH_TTL_S) if facts.rq_hash_live else offline_after_s
    online = last_seen is not None and now - last_seen <= window and not facts.dead
    current_id, current_task = facts.current_id, facts.current_task
    status, until = "offline", math.inf
    if online:
        status = "suspended" if suspended else "late" if is_late(pttl) else "online"
        until = last_seen + window  # type: ignore[operator] # online implies a last_seen
    row = WorkerRow(
        name=name, hostname=facts.hostname, pid=facts.pid, mode=facts.mode, version=facts.version,
        status=status, processed=facts.processed, failed=facts.failed,
        current_job=current_task or (UNREADABLE if current_id else None), last_seen=last_seen_at,
        current_job_id=current_id or None, current_started=facts.started, queues=facts.queues,
        birth=facts.birth_at, unreadable=facts.unreadable, state=facts.rq_state,
        attempts=facts.attempts, attempts_failed=facts.attempts_failed, working_time_s=facts.working_time_s,
        progress=progress, read_at=read_at,
    )
    return row, until


class WorkerRows:
    """Builds every worker's row per refresh, re-parsing only workers whose replies changed since the last one and
    reusing the very row of a worker not re-read whose last-seen time, status and the suspension are unchanged;
    remembers the last row of a worker whose hash then expired, shown as *gone* for ``GONE_SHOWN_S``."""

    def __init__(self) -> None:
        self._known: dict[bytes, tuple[tuple[Any, ...], str, WorkerFacts]] = {}
        self.read_at: dict[bytes, float] = {}
        """Worker name -> when its hashes were last read, in the order of those reads (``worker_reads.due`` picks
        the stalest from the front)."""
        self._raw_of: dict[str, bytes] = {}
        """A worker's name as shown -> its raw name (to find the rows on screen without decoding every name)."""
        self.listing: tuple[Any, dict[bytes, float], list[bytes]] | None = None
        """The last listing: RQ's worker set, rqtop's index and the sorted names they gave (reused while equal)."""
        self._pttl: dict[bytes, Any] = {}
        """Worker name -> the PTTL of RQ's hash at that read (a kept row is late or not as that read said)."""
        self._progress: dict[bytes, JobProgress | None] = {}
        """Worker name -> the running job's progress at its last read (kept with the row)."""
        self._built: dict[bytes, tuple[Any, float | None, float, bool, WorkerRow]] = {}
        """Worker name -> (its facts entry, seen, until when the status holds, suspended, its row)."""
        self._gone: dict[bytes, tuple[float, WorkerRow]] = {}
        """Worker name -> (when a refresh first saw its hash gone, its last row before that)."""
        self.last: tuple[WorkerRow, ...] = ()
        """The rows the last refresh that read workers returned (a tab showing no worker gets them whole)."""
        self.built_at: float | None = None
        """When ``last`` was built; None before any."""

    def raw_names(self, shown: frozenset[str]) -> set[bytes]:
        """The raw names of the known workers named ``shown`` (names as the rows show them)."""
        raw_of = self._raw_of
        return {raw_of[name] for name in shown if name in raw_of}

    def names(self) -> list[bytes]:
        """The raw names of the workers the last read listed."""
        return list(self._known)

    def rows(self, names: list[bytes], read: dict[bytes, tuple[tuple[Any, ...], Any]], seen: dict[bytes, float],
             now: float, offline_after_s: float, suspended: bool,
             progress_of: Callable[[bytes, WorkerFacts], JobProgress | None] = lambda name, facts: None,
             ) -> tuple[WorkerRow, ...]:
        """Rows for ``names``; ``read`` holds the replies of the workers read this refresh, ``((rq reply, rqtop
        reply, executions reply, current job id, its CURRENT_READ replies), PTTL of RQ's hash)``, and
        ``progress_of`` gives a re-read worker's progress. A worker not in ``read`` keeps its last read (late or
        not as that read said, its row's ``read_at`` saying when); its row is reused while nothing it shows
        changed."""
        known, built, pttls, read_at, kept_progress = self._known, self._built, self._pttl, self.read_at, self._progress
        kept: dict[bytes, tuple[tuple[Any, ...], str, WorkerFacts]] = {}
        now_built: dict[bytes, tuple[Any, float | None, float, bool, WorkerRow]] = {}
        rows: list[WorkerRow] = []
        gone: dict[bytes, tuple[float, WorkerRow]] = {}
        for name in names:
            replies = read.get(name)
            hit = known.get(name)
            when = seen.get(name)
            if replies is None and hit is not None:
                kept[name] = hit
                last = built.get(name)
                if last is not None and last[0] is hit and last[1] == when and now <= last[2] and last[3] == suspended:
                    now_built[name] = last  # nothing it shows changed: the same row
                    rows.append(last[4])
                    continue
                entry, pttl, at, progress = hit, pttls.get(name), read_at[name], kept_progress.get(name)
            else:
                if replies is None:  # listed, never read (a reader given no replies for it): nothing to show yet
                    continue
                key, pttl = replies
                if hit is not None and hit[0] == key:
                    entry = hit
                else:
                    entry = (key, decode(name) or "", worker_facts(Fields.from_values(_RQ_KEYS, key[0]),
                                                                   Fields.from_values(_OUR_KEYS, key[1]), *key[2:]))
                    self._raw_of[entry[1]] = name
                read_at.pop(name, None)  # re-inserted: the dict stays in order of reads, stalest first (due)
                at = read_at[name] = now
                pttls[name] = pttl
                progress = kept_progress[name] = progress_of(name, entry[2])
                kept[name] = entry
            facts = entry[2]
            if facts.dead:
                continue  # RQ wrote its death: a clean exit caught between its steps (or between our rounds)
            if facts.hash_gone and name not in seen:
                row = self._gone_row(name, now)
                if row is not None:
                    gone[name] = self._gone.get(name) or (now, row)
                    rows.append(row)
                continue
            row, until = worker_row(entry[1], facts, when, now, offline_after_s, suspended, pttl, at, progress)
            now_built[name] = (entry, when, until, suspended, row)
            rows.append(row)
        self._known, self._built, self._gone = kept, now_built, gone
        if len(read_at) > len(kept):  # workers no longer listed: forget them
            for stale in [n for n in read_at if n not in kept]:
                read_at.pop(stale, None)
                pttls.pop(stale, None)
                kept_progress.pop(stale, None)
            self._raw_of = {shown: raw for shown, raw in self._raw_of.items() if raw in kept}
        return tuple(rows)

    def keep(self, rows: tuple[WorkerRow, ...], now: float) -> tuple[WorkerRow, ...]:
        """Remember ``rows`` (built at ``now``) as ``last``; returns them."""
        self.last, self.built_at = rows, now
        return rows

    def _gone_row(self, name: bytes, now: float) -> WorkerRow | None:
        """The *gone* row of a worker whose hash expired: its last row, while within ``GONE_SHOWN_S`` of the
        refresh that first saw it gone; None (dropped) after that, or when no refresh saw it alive."""
        last_built = self._built.get(name)
        since, last = self._gone.get(name) or (now, last_built[4] if last_built else None)
        if last is None or now - since > GONE_SHOWN_S:
            return None
        return replace(last, status="gone", current_job=None, current_started=None, current_job_id=None,
                       state=None, progress=None)
