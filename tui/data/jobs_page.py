"""One page of any queue or registry by offset and limit, in two round trips wherever the page lies.

Round 1 reads the length (LLEN/ZCARD) and the page's ids (LRANGE/ZRANGE by index, so page 20,000 of a
1 M-job queue costs what page 1 costs), and with ``counts`` the length of each of the queue's lists (seven
O(1) commands, for the browser's list tabs); round 2 HMGETs the listed fields of those jobs only, and for a
failed list their error (``exc_info`` and the newest results-stream entry: one line, masked). A negative
offset asks for the last page without knowing the length first: the last ``limit`` ids are read with
negative indexes and cut to the page boundary the length gives.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from tui.data.explorer.rows import failure_summary, newest_result
from tui.data.job_meta import SUMMARY_FIELDS, JobSummary, summarize
from tui.data.masking import MaskRules, resolve
from tui.data.settings import DEFAULT_MASK_PATTERNS
from worker import keys
from worker.display_text import safe_text

SOURCES = {
    "pending": "queue", "active": "wip", "completed": "finished", "failed": "failed",
    "deferred": "deferred", "scheduled": "scheduled", "canceled": "canceled", "scheduler": "scheduler",
}
"""Page source -> where its ids live: the queue list, an RQ registry, or rq-scheduler's zset (queue ignored)."""

QUEUE_LISTS = ("pending", "active", "completed", "failed", "scheduled", "deferred", "canceled")
"""The job lists of one queue: the sources ``read_jobs_page`` pages."""

MAX_LIMIT = 1000


@dataclass(frozen=True)
class JobsPage:
    """One page of job summaries and where it sits in the whole list."""

    queue: str
    source: str
    offset: int
    limit: int
    total: int
    jobs: tuple[JobSummary, ...] = ()
    round_trips: int = 0
    read_at: float | None = None
    """When the page was read (epoch seconds): its relative times are as of then."""
    counts: tuple[tuple[str, int], ...] = ()
    """(list, length) of every list of the queue, read beside the page (empty unless asked for)."""
    errors: tuple[str | None, ...] = ()
    """The masked one-line error of each job of a failed list, in page order (empty for other lists)."""

    def count(self, source: str) -> int | None:
        """How many jobs ``source`` held when the page was read, or None when not counted."""
        return dict(self.counts).get(source)

    def error(self, index: int) -> str | None:
        """The error of the page's ``index``-th job, or None."""
        return self.errors[index] if 0 <= index < len(self.errors) else None

    @property
    def has_previous(self) -> bool:
        """True when a page comes before this one."""
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        """True when a page comes after this one."""
        return self.offset + self.limit < self.total


def last_page_offset(total: int, limit: int) -> int:
    """Offset of the last page of ``total`` items in pages of ``limit`` (0 when empty)."""
    return ((total - 1) // limit) * limit if total > 0 and limit > 0 else 0


def source_key(queue: str | bytes, source: str) -> bytes:
    """The Redis key a page of ``source`` for ``queue`` is read from."""
    kind = SOURCES.get(source)
    if kind is None:
        raise ValueError(f"unknown job list {source!r} (expected one of: {', '.join(SOURCES)})")
    if kind == "scheduler":
        return keys.RQ_SCHEDULED_JOBS.encode()
    raw = queue.encode() if isinstance(queue, str) else queue
    prefix = keys.rq_queue("") if kind == "queue" else keys.rq_registry(kind, "")
    return prefix.encode() + raw


def read_jobs_page(
    conn: redis.Redis,
    queue: str | bytes,
    source: str = "pending",
    offset: int = 0,
    limit: int = 50,
    patterns: Sequence[str] | MaskRules = DEFAULT_MASK_PATTERNS,
    newest_first: bool = False,
    counts: bool = False,
    now: float | None = None,
) -> JobsPage:
    """Jobs ``offset``..``offset+limit-1`` of a queue (head first) or registry (by score; ``newest_first``
    reverses a registry), read without writing; ``offset`` < 0 gives the last page. ``counts`` also reads
    the length of each of the queue's lists; a failed list's jobs come with their errors. ``now`` stamps
    the page (the clock's time when None)."""
    key = source_key(queue, source)
    limit = max(1, min(int(limit), MAX_LIMIT))
    is_list = SOURCES[source] == "queue"
    start, stop = (offset, offset + limit - 1) if offset >= 0 else (-limit, -1)
    counted = QUEUE_LISTS if counts and SOURCES[source] != "scheduler" else ()
    pipe = conn.pipeline(transaction=False)
    for other in counted:
        (pipe.llen if SOURCES[other] == "queue" else pipe.zcard)(source_key(queue, other))
    if is_list:
        pipe.llen(key)
        pipe.lrange(key, start, stop)
    else:
        pipe.zcard(key)
        (pipe.zrevrange if newest_first else pipe.zrange)(key, start, stop)
    *lengths, total, members = pipe.execute(raise_on_error=False)
    read_at = time.time() if now is None else now
    lengths_read = tuple((other, n if isinstance(n, int) else 0) for other, n in zip(counted, lengths, strict=True))
    total = total if isinstance(total, int) else 0
    members = [m for m in members if isinstance(m, bytes)] if isinstance(members, list) else []
    if offset < 0:
        offset = last_page_offset(total, limit)
        members = members[-(total - offset):] if total > offset else []
    ids = [m.partition(b":")[0] if SOURCES[source] == "wip" else m for m in members]
    name = safe_text(queue if isinstance(queue, str) else queue.decode(errors="replace"))
    if not ids:
        return JobsPage(name, source, offset, limit, total, (), round_trips=1, read_at=read_at, counts=lengths_read)
    failed = source == "failed"
    per_job = 4 if failed else 2
    pipe = conn.pipeline(transaction=False)
    for job_id in ids:  # EXISTS beside each HMGET: a hash with no field RQ writes is unreadable, not expired
        job_key = keys.rq_job("").encode() + job_id
        pipe.hmget(job_key, list(SUMMARY_FIELDS))
        pipe.exists(job_key)
        if failed:  # the error: RQ 3 keeps it in the results stream, RQ 2 in the hash
            pipe.hget(job_key, "exc_info")
            pipe.xrevrange(keys.rq_results("").encode() + job_id, "+", "-", count=1)
    replies = pipe.execute(raise_on_error=False)
    jobs = tuple(summarize(job_id.decode(errors="replace"), replies[per_job * i], patterns,
                           replies[per_job * i + 1]) for i, job_id in enumerate(ids))
    errors: tuple[str | None, ...] = ()
    if failed:
        errors = tuple(
            failure_summary(exc if isinstance(exc := replies[per_job * i + 2], bytes) else None,
                            newest_result(replies[per_job * i + 3]), resolve(patterns, job.task))
            for i, job in enumerate(jobs))
    return JobsPage(name, source, offset, limit, total, jobs, round_trips=2, read_at=read_at, counts=lengths_read,
                    errors=errors)
