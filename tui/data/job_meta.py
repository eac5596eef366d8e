"""Job metadata read from RQ's job hash without unpickling anything: name, state, times, errors.

The function name is the first element of the pickled ``(func_name, instance, args, kwargs)`` tuple in
``data``; it is found by walking the opcodes of the zlib-decompressed pickle with ``pickletools.genops``,
which parses and never executes. Anything malformed (not zlib, not a pickle, truncated, another shape)
reads as ``UNREADABLE``. Error texts (``exc_info`` = zlib text, results-stream ``exc_string`` =
base64(zlib(text))) are decompressed with a size cap and shown as a masked one-line summary.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from tui.data.job_payload import Payload, read_payload
from tui.data.masking import MaskRules, decode, mask_description, mask_error, resolve
from tui.data.progress import JobProgress, job_progress
from tui.data.settings import DEFAULT_MASK_PATTERNS
from tui.data.user_meta import meta_pairs
from worker import keys, records
from worker.display_text import safe_text
from worker.safe_decoding import UNREADABLE, error_text, function_name, inflate  # noqa: F401 - re-exported

NUMBER_MAX_BYTES = 40
"""The longest count, pid or size a hash may hold (a 64-bit integer has 20 digits): a longer one is garbage."""
EPOCH_MIN, EPOCH_MAX = -62_000_000_000.0, 253_000_000_000.0
"""Epochs a datetime can show (years 5-9987); anything else in a hash is garbage, not a crash."""


JOB_STATES = {
    "queued": "pending", "created": "pending", "rate_limited": "pending", "started": "running",
    "finished": "completed", "failed": "failed", "stopped": "failed", "scheduled": "scheduled",
    "ready_to_enqueue": "scheduled", "deferred": "deferred", "canceled": "canceled",
}
"""RQ job status -> the state rqtop shows; a scheduled job that already failed once shows as "retry"."""


def state_of(status: str | None, has_run: bool = False) -> str:
    """rqtop's state for an RQ status (a scheduled job that has run before is a retry); ``UNREADABLE`` for
    anything RQ does not write."""
    state = JOB_STATES.get(status or "", UNREADABLE)
    return "retry" if state == "scheduled" and has_run else state


class Fields:
    """A Redis hash read defensively: each getter returns None for absent fields and notes garbage in ``bad``."""

    def __init__(self, raw: Any) -> None:
        self.raw: dict[bytes, bytes] = raw if isinstance(raw, dict) else {}
        self.bad = raw is not None and not isinstance(raw, dict)

    @classmethod
    def from_hmget(cls, names: Sequence[str], reply: Any) -> Fields:
        """Fields from an HMGET reply for ``names`` (an absent field reads as absent, a reply of none as an empty
        hash; an error reply reads as bad)."""
        return cls.from_values(encoded(tuple(names)), reply)

    @classmethod
    def from_values(cls, keys: tuple[bytes, ...], reply: Any) -> Fields:
        """``from_hmget`` with the names already encoded (``encoded``: the per-worker path of a refresh)."""
        if not isinstance(reply, list):
            return cls(reply)
        if reply.count(None) == len(reply):
            return cls({})
        return cls(dict(zip(keys, reply, strict=False)))

    def __bool__(self) -> bool:
        return bool(self.raw)

    def value(self, name: str) -> bytes | None:
        """The raw value, or None when absent or empty."""
        value = self.raw.get(name.encode())
        return value if value else None

    def text(self, name: str, limit: int = 200) -> str | None:
        """The value as printable text cut to ``limit``, decoded once; invalid UTF-8 is replaced and marks the
        hash bad."""
        value = self.raw.get(name.encode())
        if not value:
            return None
        try:
            text = value.decode()
        except UnicodeDecodeError:
            self.bad = True
            return decode(value, limit)
        if len(text) > limit:
            text = text[: max(0, limit - 1)] + "…"
        return text if text.isprintable() else safe_text(text)  # safe_text's own fast test, without its call

    def number(self, name: str) -> int | None:
        """The value as an int (parsed from the bytes: ASCII digits only); garbage, including a number no int can
        hold (inf, nan) and one longer than ``NUMBER_MAX_BYTES``, marks the hash bad."""
        value = self.raw.get(name.encode())
        if not value:
            return None
        if len(value) > NUMBER_MAX_BYTES:
            self.bad = True
            return None
        try:
            return int(float(value)) if b"." in value else int(value)
        except (ValueError, OverflowError, TypeError):
            self.bad = True
            return None

    def epoch(self, name: str) -> float | None:
        """The value as epoch seconds (epoch float or RQ ISO); garbage, including a number no date can hold
        (nan, inf, beyond year 9999), marks the hash bad."""
        raw = self.raw.get(name.encode())
        if not raw:
            return None
        value = records.to_epoch(raw) if isinstance(raw, bytes) else None
        if value is None or not EPOCH_MIN <= value <= EPOCH_MAX:
            self.bad = True
            return None
        return value

    def when(self, name: str) -> datetime | None:
        """The value as an aware UTC datetime."""
        return records.from_epoch(self.epoch(name))


@functools.lru_cache(maxsize=64)
def encoded(names: tuple[str, ...]) -> tuple[bytes, ...]:
    """The field names of an HMGET as the keys of its ``Fields`` (encoded once per list of names: each caller's is a
    constant)."""
    return tuple(name.encode() for name in names)


@dataclass(frozen=True)
class JobSummary:
    """One job in a paged list: what a table row shows, from a single HMGET."""

    id: str
    task: str
    queue: str | None
    state: str
    status: str | None
    created_at: datetime | None
    enqueued_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    description: str | None
    worker: str | None
    unreadable: bool = False
    redis_id: str | None = None
    """The id exactly as Redis holds it, to read the job again, when it differs from the display text ``id``."""


@dataclass(frozen=True)
class JobDetail(JobSummary):
    """Everything the detail screen shows about one job (metadata only, never the pickled payload)."""

    retries: int = 0
    retries_left: int | None = None
    error: str | None = None
    schedule: str | None = None
    meta: tuple[tuple[str, str], ...] = ()
    """The job's ``meta`` as masked (key, value) text, decoded as plain data only."""
    dependencies: tuple[tuple[str, str], ...] = ()
    """(id, state) of at most ``DEPENDENCIES_MAX`` jobs this one waits on (RQ's dependencies set)."""
    progress: JobProgress | None = None
    """A running job's progress (rqtop's progress key, else ``meta["progress"]``), read in the same round trip."""
    worker_state: str | None = None
    """RQ's busy/idle/suspended ``state`` of the worker that runs or ran the job, when the caller named that worker
    (the list row it came from) and its hash is still there."""
    payload: Payload | None = None
    """Its args and kwargs as plain data (masked), or the structure of a payload that is not plain data."""
    scheduled_at: datetime | None = None
    """When a scheduled (or retrying) job is due: its score in RQ's scheduled registry of its queue."""
    canceled_at: datetime | None = None
    """When it was canceled: its score in RQ's canceled registry (RQ adds it there at the cancel's time)."""
    last_heartbeat: datetime | None = None
    timeout: int | None = None
    number_of_retries: int | None = None
    """RQ's own count of retries (None when the hash has none: RQ 2 before a retry)."""


DEPENDENCIES_MAX = 20
"""Most dependency ids read (SRANDMEMBER count) and whose status is read (HGET each)."""

SUMMARY_FIELDS = ("status", "origin", "description", "created_at", "enqueued_at", "started_at", "ended_at",
                  "worker_name", "data", "number_of_retries", "repeats_left")
DETAIL_FIELDS = (*SUMMARY_FIELDS, "retries_left", "exc_info", "meta", "last_heartbeat", "timeout")


def _summary_values(job_id: str, hash_: Fields, patterns: Sequence[str] | MaskRules,
                    exists: Any = None) -> dict[str, Any]:
    """The JobSummary fields of one job hash (read with ``SUMMARY_FIELDS`` or more); ``exists`` is the EXISTS
    reply beside it, so a hash that is there but holds no field RQ writes reads as unreadable, not expired."""
    there = exists is True or (isinstance(exists, int) and exists > 0)
    status = hash_.text("status", 40)
    has_run = bool(hash_.number("number_of_retries")) or bool(hash_.value("started_at") and not
                                                               hash_.value("repeats_left"))
    task = function_name(hash_.value("data"))
    state = state_of(status, has_run) if hash_ else (UNREADABLE if hash_.bad or there else "expired")
    shown = safe_text(job_id)
    return {
        "id": shown, "redis_id": job_id if shown != job_id else None, "task": task, "queue": hash_.text("origin"),
        "state": state, "status": status,
        "created_at": hash_.when("created_at"), "enqueued_at": hash_.when("enqueued_at"),
        "started_at": hash_.when("started_at"), "ended_at": hash_.when("ended_at"),
        "description": mask_description(hash_.value("description"), resolve(patterns, task)),
        "worker": hash_.text("worker_name"),
        "unreadable": hash_.bad or (bool(hash_) or there) and (task == UNREADABLE or state == UNREADABLE),
    }


def summarize(job_id: str, values: Sequence[Any],
              patterns: Sequence[str] | MaskRules = DEFAULT_MASK_PATTERNS, exists: Any = None) -> JobSummary:
    """A JobSummary from the HMGET reply for ``SUMMARY_FIELDS`` and the EXISTS reply beside it (an error reply
    reads as unreadable)."""
    return JobSummary(**_summary_values(job_id, Fields.from_hmget(SUMMARY_FIELDS, values), patterns, exists))


def read_job_detail(conn: redis.Redis, job_id: str,
                    patterns: Sequence[str] | MaskRules = DEFAULT_MASK_PATTERNS,
                    worker: str | None = None) -> JobDetail:
    """One job's metadata in one pipelined round trip (its hash, its last 10 results, rqtop's history, up to 20
    dependency ids, and RQ's ``state`` of ``worker``, the worker the caller's list row named), plus a second
    small round for the dependencies' status when it has any and one ZSCORE for a scheduled or canceled job's
    time. Its args and kwargs are decoded as plain data only (``job_payload``), never unpickled otherwise."""
    pipe = conn.pipeline(transaction=False)
    pipe.hmget(keys.rq_job(job_id), list(DETAIL_FIELDS))
    pipe.xrevrange(keys.rq_results(job_id), "+", "-", count=10)
    pipe.hgetall(keys.history_item(job_id))
    pipe.exists(keys.rq_job(job_id))
    pipe.srandmember(keys.rq_dependencies(job_id), DEPENDENCIES_MAX)
    pipe.get(keys.progress(job_id))
    if worker:
        pipe.hget(keys.rq_worker(worker), "state")
    values, results, history, exists, depends_on, raw_progress, *worker_reply = pipe.execute(raise_on_error=False)
    hash_ = Fields.from_hmget(DETAIL_FIELDS, values)
    ours = Fields(history)
    summary = _summary_values(job_id, hash_, patterns, exists)
    entries = [Fields(entry[1]) for entry in results if isinstance(entry, tuple) and len(entry) == 2] \
        if isinstance(results, list) else []
    newest = entries[0] if entries else Fields({})
    error = error_text(newest.value("exc_string"), base64_wrapped=True) if newest.text("type") != "1" else None
    error = error or (error_text(hash_.value("exc_info")) if not entries else None)
    task_patterns = resolve(patterns, summary["task"])
    error_line = mask_error(error, task_patterns) or mask_error(ours.text("error", 400), task_patterns)
    retries = hash_.number("number_of_retries")
    if retries is None:
        failures = sum(1 for entry in entries if entry.text("type") in ("2", "3", "4"))
        retries = max(0, failures - (summary["state"] == "failed")) or ours.number("retries") or 0
    retries = max(retries, 1) if summary["state"] == "retry" else retries
    if not hash_ and ours:
        state = ours.text("state", 40)
        summary.update(state=state if state in records.HISTORY_STATES else UNREADABLE,
                       task=ours.text("task") or UNREADABLE, queue=ours.text("queue"),
                       created_at=ours.when("created_at"), started_at=ours.when("started_at"),
                       ended_at=ours.when("ended_at"))
    if summary["worker"] is None:
        summary["worker"] = next((e.text("worker_name") for e in entries if e.text("worker_name")), None) \
            or ours.text("worker")
    if ours.bad:
        summary.update(unreadable=True, state=summary["state"] if hash_ else UNREADABLE)
    scheduled_at, canceled_at = _registry_times(conn, job_id, summary["queue"], summary["status"])
    return JobDetail(**summary, retries=retries, retries_left=hash_.number("retries_left"), error=error_line,
                     payload=read_payload(hash_.value("data"), task_patterns), scheduled_at=scheduled_at,
                     canceled_at=canceled_at, last_heartbeat=hash_.when("last_heartbeat"),
                     timeout=hash_.number("timeout"), number_of_retries=hash_.number("number_of_retries"),
                     schedule=safe_text(keys.schedule_of(job_id) or "") or ours.text("schedule"),
                     meta=meta_pairs(hash_.value("meta"), task_patterns), dependencies=_dependencies(conn, depends_on),
                     progress=job_progress(raw_progress, hash_.value("meta"), task_patterns)
                     if summary["status"] == "started" else None,
                     worker_state=_worker_state(worker_reply, worker, summary["worker"]))


def _registry_times(conn: redis.Redis, job_id: str, queue: str | None, status: str | None
                    ) -> tuple[datetime | None, datetime | None]:
    """(scheduled for, canceled at) from RQ's scheduled and canceled registries of the job's queue: one more
    small round of one ZSCORE, only for a scheduled or canceled job."""
    kind = {"scheduled": "scheduled", "canceled": "canceled"}.get(status or "")
    if kind is None or not queue:
        return None, None
    try:
        score = conn.zscore(keys.rq_registry(kind, queue), job_id)
    except redis.RedisError:
        return None, None
    when = records.from_epoch(score) if isinstance(score, float) and EPOCH_MIN <= score <= EPOCH_MAX else None
    return (when, None) if kind == "scheduled" else (None, when)


WORKER_STATES = ("busy", "idle", "suspended", "started")
"""The ``state`` values RQ 2 and 3 write in a worker hash; anything else reads as unreadable."""


def _worker_state(reply: list[Any], asked: str | None, worker: str | None) -> str | None:
    """RQ's state of the worker asked about, when it is the job's worker (another worker may have taken the job
    since the list was read) and its hash is there."""
    if not reply or not asked or worker != safe_text(asked) or not isinstance(reply[0], bytes):
        return None
    state = reply[0].decode("utf-8", errors="replace")
    return state if state in WORKER_STATES else UNREADABLE


def _dependencies(conn: redis.Redis, members: Any) -> tuple[tuple[str, str], ...]:
    """(id, state) of each dependency id read from RQ's set, their status read in one more pipelined round."""
    if not isinstance(members, list) or not members:
        return ()
    ids = sorted({m.decode("utf-8", errors="replace") if isinstance(m, bytes) else str(m) for m in members})
    ids = ids[:DEPENDENCIES_MAX]
    pipe = conn.pipeline(transaction=False)
    for dependency in ids:
        pipe.hget(keys.rq_job(dependency), "status")
    statuses = pipe.execute(raise_on_error=False)
    return tuple(
        (safe_text(dependency), "expired" if status is None else
         state_of(status.decode("utf-8", errors="replace") if isinstance(status, bytes) else None))
        for dependency, status in zip(ids, statuses, strict=False)
    )
