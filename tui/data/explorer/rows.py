"""An explorer row: a job's summary plus its attempts, last event and failure summary, read without writing.

The summary comes from the queue pager's HMGET (``job_meta.summarize``); one more pipelined round reads the
fields a row adds (retry budget, heartbeat, error) and the newest entry of RQ's results stream, for the
failure summary of jobs whose hash holds no ``exc_info`` (RQ 3 keeps errors in the stream).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from tui.data.job_meta import SUMMARY_FIELDS, Fields, JobSummary, summarize
from tui.data.masking import MaskRules, mask_error, resolve
from tui.data.settings import DEFAULT_MASK_PATTERNS
from worker import keys
from worker.safe_decoding import error_text

EXTRA_FIELDS = ("retries_left", "number_of_retries", "last_heartbeat", "timeout", "exc_info", "status")
"""What a row reads beyond the summary."""


@dataclass(frozen=True)
class ExplorerRow:
    """One job as the explorer lists it."""

    job: JobSummary
    state: str
    """The explorer's state: the summary's, refined to stopped or abandoned when the hash says so."""
    attempts: int = 0
    max_attempts: int | None = None
    """1 + RQ Retry's budget when the job has one (None: unknown)."""
    retries_left: int | None = None
    error: str | None = None
    last_heartbeat: datetime | None = None

    @property
    def id(self) -> str:
        """The job id as shown."""
        return self.job.id

    @property
    def redis_id(self) -> str:
        """The job id as Redis holds it."""
        return self.job.redis_id or self.job.id

    @property
    def last_event(self) -> datetime | None:
        """The latest of the job's timestamps."""
        times = [t for t in (self.job.ended_at, self.job.started_at, self.job.enqueued_at, self.job.created_at)
                 if t is not None]
        return max(times) if times else None

    @property
    def attempts_text(self) -> str:
        """``2 of 3`` when the budget is known, else the attempts made."""
        return f"{self.attempts} of {self.max_attempts}" if self.max_attempts else str(self.attempts)


ABANDONED_AFTER_S = 120.0
"""A running job whose last heartbeat is older than this reads as abandoned (its worker stopped beating)."""


def refine_state(job: JobSummary, extra: Fields, now: float) -> str:
    """The explorer's state: RQ's ``stopped`` status and a running job without a recent heartbeat are told apart."""
    if job.status == "stopped":
        return "stopped"
    if job.state == "retry":
        return "retrying"
    if job.state == "running":
        beat = extra.epoch("last_heartbeat")
        started = job.started_at.timestamp() if job.started_at else None
        latest = max(b for b in (beat, started) if b is not None) if (beat or started) else None
        if latest is not None and now - latest > ABANDONED_AFTER_S:
            return "abandoned"
    return job.state


ENDED = ("failed", "stopped", "completed", "canceled")


def failure_summary(exc_info: bytes | None, newest_result: Fields, patterns: Sequence[str]) -> str | None:
    """A failed job's masked one-line error: from the newest results-stream entry (RQ 3 keeps errors there), else
    from the hash's ``exc_info`` (RQ 2); never unpickled, decompressed with a cap, stripped of escapes."""
    raw = newest_result.value("exc_string")
    text = error_text(raw, base64_wrapped=True) if raw else error_text(exc_info)
    return mask_error(text, patterns)


def build_row(job: JobSummary, extra: Fields, newest_result: Fields, patterns: Sequence[str] | MaskRules,
              now: float, runs: int = 0) -> ExplorerRow:
    """A row from the summary, the extra fields, the newest results-stream entry (possibly empty) and the
    stream's length ``runs`` (one entry per finished execution; RQ keeps the last 10, and writes none for an
    exception that RQ's Retry re-schedules, so a retrying job has at least its ``started_at`` run)."""
    state = refine_state(job, extra, now)
    runs = max(runs, extra.number("number_of_retries") or 0, 1 if job.started_at is not None else 0)
    attempts = runs + (1 if state in ("running", "abandoned") else 0)
    left = extra.number("retries_left")
    retried = max(0, runs - (1 if state in ENDED else 0))
    max_attempts = retried + left + 1 if left is not None else None
    error = None
    if state in ("failed", "stopped", "retrying", "abandoned"):
        error = failure_summary(extra.value("exc_info"), newest_result, resolve(patterns, job.task))
    return ExplorerRow(job=job, state=state, attempts=attempts, max_attempts=max_attempts, retries_left=left,
                       error=error, last_heartbeat=extra.when("last_heartbeat"))


def read_extras(conn: redis.Redis, jobs: Sequence[JobSummary], patterns: Sequence[str] | MaskRules,
                now: float) -> tuple[ExplorerRow, ...]:
    """Rows for summaries already read, in one pipelined round (nothing when there are none)."""
    if not jobs:
        return ()
    pipe = conn.pipeline(transaction=False)
    for job in jobs:
        job_id = job.redis_id or job.id
        pipe.hmget(keys.rq_job(job_id), list(EXTRA_FIELDS))
        pipe.xrevrange(keys.rq_results(job_id), "+", "-", count=1)
        pipe.xlen(keys.rq_results(job_id))
    replies = pipe.execute(raise_on_error=False)
    return tuple(build_row(job, Fields.from_hmget(EXTRA_FIELDS, replies[3 * i]), newest_result(replies[3 * i + 1]),
                           patterns, now, replies[3 * i + 2] if isinstance(replies[3 * i + 2], int) else 0)
                 for i, job in enumerate(jobs))


def newest_result(reply: Any) -> Fields:
    """The fields of the newest results-stream entry in an XREVRANGE reply, or none."""
    if isinstance(reply, list) and reply and isinstance(reply[0], tuple | list) and len(reply[0]) == 2:
        return Fields(reply[0][1])
    return Fields({})


def read_summaries(conn: redis.Redis, ids: Sequence[str], patterns: Sequence[str] | MaskRules
                   ) -> tuple[JobSummary, ...]:
    """Summaries of jobs by id in one pipelined round (HMGET and EXISTS each), as the queue pager reads them."""
    if not ids:
        return ()
    pipe = conn.pipeline(transaction=False)
    for job_id in ids:
        pipe.hmget(keys.rq_job(job_id), list(SUMMARY_FIELDS))
        pipe.exists(keys.rq_job(job_id))
    replies = pipe.execute(raise_on_error=False)
    return tuple(summarize(job_id, replies[2 * i], patterns, replies[2 * i + 1]) for i, job_id in enumerate(ids))


def read_rows(conn: redis.Redis, ids: Sequence[str], patterns: Sequence[str] | MaskRules = DEFAULT_MASK_PATTERNS,
              now: float = 0.0) -> tuple[ExplorerRow, ...]:
    """Rows of jobs by id, in two pipelined rounds (expired ids read as expired rows)."""
    return read_extras(conn, read_summaries(conn, ids, patterns), patterns, now)
