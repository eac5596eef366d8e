"""Worker rows from rqtop's record and RQ's hash, each hash parsed once and reused while it is unchanged.

A worker's hashes change when it beats (every ~10 s) or starts or ends a job, far less often than the
dashboard refreshes, so ``WorkerRows`` keeps each worker's parsed facts with the replies they came from
and re-parses only a worker whose replies differ; only the clock-dependent part (online, uptime,
elapsed) is worked out on every refresh. Garbage fields mark the row unreadable, as ``Fields`` reads them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from tui.data.job_meta import EPOCH_MAX, EPOCH_MIN, UNREADABLE, Fields, function_name
from tui.data.masking import decode
from tui.data.models import WorkerRow
from worker import records

CURRENT_FIELDS = ("data", "started_at")
"""What round 3 reads of the job a plain ``rq worker`` runs (HMGET)."""
CURRENT_READ = (*CURRENT_FIELDS, "execution_created_at")
"""Those replies plus its execution's ``created_at`` (HGET in the same round): the job's own ``started_at`` is
written only once the horse starts, and holds the previous run's time for a retried job."""


RQ_DEFAULT_HASH_TTL_S = 480.0
"""RQ's default worker_ttl (420 s) plus the 60 s it adds: how long a plain worker's hash outlives a beat."""


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


def current_execution(ours: Any, executions: Any) -> bytes | None:
    """The ``<job_id>:<execution_id>`` whose job and execution hashes round 3 must read for a worker (from its
    HGETALL of rqtop's record and SMEMBERS of RQ's executions): only when rqtop's record does not name a job."""
    if not executions or not isinstance(executions, set):
        return None
    if isinstance(ours, dict) and (ours.get(b"current_job_id") or ours.get(b"current_task")):
        return None
    members = sorted(m for m in executions if isinstance(m, bytes) and m.partition(b":")[0])
    return members[0] if members else None


def job_of(execution: bytes | None) -> bytes | None:
    """The job id part of an execution member."""
    return execution.partition(b":")[0] if execution else None


def worker_facts(rq: Fields, ours: Fields, executions: Any, job_id: bytes | None, job: Any) -> WorkerFacts:
    """One worker's facts from rqtop's record (preferred) and RQ's hash, each field read once."""
    mode = ours.text("mode", 20) if ours else "rq"
    unreadable = (mode not in records.WORKER_MODES and mode != "rq") or (not isinstance(executions, set))
    job_fields = Fields.from_hmget(CURRENT_READ, job) if job is not None else Fields({})
    beats = [b for b in (ours.epoch("last_seen"), rq.epoch("last_heartbeat")) if b is not None]
    beat = max(beats) if beats else None
    current_id = ours.text("current_job_id")
    current_task = ours.text("current_task")
    started = ours.epoch("current_started")
    if current_id is None and not current_task and job_fields:
        current_id = decode(job_id)
        current_task = function_name(job_fields.value("data"))
        started = job_fields.epoch("execution_created_at") or job_fields.epoch("started_at")
    if ours:
        birth, processed, failed = ours.epoch("birth"), ours.number("processed"), ours.number("failed")
        hostname = ours.text("hostname") or rq.text("hostname")
        pid = ours.number("pid") or rq.number("pid")
        version, queues = ours.text("version", 40), ours.text("queues", 2000)
    else:
        birth = rq.epoch("birth")
        failed = rq.number("failed_job_count") or (0 if rq else None)
        # RQ counts successes and failures apart; rqtop's "processed" is every run, as on rqtop rows.
        processed = (rq.number("successful_job_count") or 0) + (failed or 0) if rq else None
        hostname, pid = rq.text("hostname"), rq.number("pid")
        version, queues = rq.text("version", 40), rq.text("queues", 2000)
    return WorkerFacts(
        mode=mode if not unreadable else (mode or UNREADABLE),
        unreadable=unreadable or ours.bad or rq.bad or job_fields.bad, beat=beat, beat_at=records.from_epoch(beat),
        dead=rq.value("death") is not None, current_id=current_id, current_task=current_task, started=started,
        birth=birth, processed=processed, failed=failed, hostname=hostname, pid=pid, version=version,
        queues=tuple(q for q in (queues or "").split(",") if q), birth_at=records.from_epoch(birth),
        rq_hash_live=mode == "rq" and bool(rq) and rq.value("death") is None,
    )


def worker_row(name: str, facts: WorkerFacts, seen: float | None, now: float, offline_after_s: float,
               suspended: bool) -> WorkerRow:
    """The row at ``now``: online while seen within ``offline_after_s`` (by either record) and not dead; a plain
    ``rq worker`` (idle beats every ~405 s with RQ's defaults) gets RQ's own window, its hash's lifetime."""
    last_seen, last_seen_at = facts.beat, facts.beat_at
    if seen is not None and (last_seen is None or seen > last_seen) and EPOCH_MIN <= seen <= EPOCH_MAX:
        last_seen, last_seen_at = seen, records.from_epoch(seen)
    window = max(offline_after_s, RQ_DEFAULT_HASH_TTL_S) if facts.rq_hash_live else offline_after_s
    online = last_seen is not None and now - last_seen <= window and not facts.dead
    birth, started, current_id, current_task = facts.birth, facts.started, facts.current_id, facts.current_task
    return WorkerRow(
        name=name, hostname=facts.hostname, pid=facts.pid, mode=facts.mode, version=facts.version,
        status=("suspended" if suspended else "online") if online else "offline",
        uptime_s=max(0.0, now - birth) if online and birth is not None else None,
        processed=facts.processed, failed=facts.failed,
        current_job=current_task or (UNREADABLE if current_id else None),
        current_elapsed_s=max(0.0, now - started) if (current_task or current_id) and started else None,
        last_seen=last_seen_at, current_job_id=current_id or None, queues=facts.queues,
        birth=facts.birth_at, unreadable=facts.unreadable,
    )


class WorkerRows:
    """Builds every worker's row per refresh, re-parsing only workers whose replies changed since the last one."""

    def __init__(self) -> None:
        self._known: dict[bytes, tuple[tuple[Any, ...], str, WorkerFacts]] = {}

    def rows(self, workers: list[tuple[bytes, Any, Any, Any, bytes | None, Any]], seen: dict[bytes, float],
             now: float, offline_after_s: float, suspended: bool) -> tuple[WorkerRow, ...]:
        """Rows for ``(name, rq reply, rqtop reply, executions reply, current job id, its CURRENT_READ replies)``."""
        known, kept = self._known, {}
        rows = []
        for name, rq, ours, executions, job_id, job in workers:
            replies = (rq, ours, executions, job_id, job)
            hit = known.get(name)
            if hit is not None and hit[0] == replies:
                entry = hit
            else:
                entry = (replies, decode(name) or "", worker_facts(Fields(rq), Fields(ours), executions, job_id, job))
            kept[name] = entry
            if entry[2].dead:
                continue  # RQ wrote its death: a clean exit caught between its steps (or between our rounds)
            rows.append(worker_row(entry[1], entry[2], seen.get(name), now, offline_after_s, suspended))
        self._known = kept
        return tuple(rows)
