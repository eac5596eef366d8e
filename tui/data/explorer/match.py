"""Whether one explorer row passes a Filter, and the attention kinds a row falls under (defined in the README)."""

from __future__ import annotations

from fnmatch import fnmatchcase

from tui.data.explorer.query import Filter
from tui.data.explorer.rows import ExplorerRow

STATE_INCLUDES = {"running": ("running", "abandoned"), "failed": ("failed", "stopped"),
                  "scheduled": ("scheduled", "retrying")}
"""A state filter that is one RQ registry also lists the refined states that live in it."""

RETRY_PRESSURE_LEFT = 1
"""A retrying job with at most this many retries left is under retry pressure."""
BACKLOG_AFTER_S = 300.0
"""A pending job enqueued longer ago than this is backlog pressure."""


def attention_kinds(row: ExplorerRow, now: float, timeout: float | None = None) -> tuple[str, ...]:
    """The attention kinds of a row: failures, retry (budget pressure), stuck (abandoned, or running past its
    timeout), backlog (pending for more than ``BACKLOG_AFTER_S``)."""
    kinds = []
    if row.state in ("failed", "stopped"):
        kinds.append("failures")
    if row.state == "retrying" and row.retries_left is not None and row.retries_left <= RETRY_PRESSURE_LEFT:
        kinds.append("retry")
    started = row.job.started_at.timestamp() if row.job.started_at else None
    if row.state == "abandoned" or (row.state == "running" and timeout and started and now - started > timeout):
        kinds.append("stuck")
    queued = row.job.enqueued_at or row.job.created_at
    if row.state == "pending" and queued is not None and now - queued.timestamp() > BACKLOG_AFTER_S:
        kinds.append("backlog")
    return tuple(kinds)


def task_matches(task: str, patterns: tuple[str, ...]) -> bool:
    """Whether the task (full dotted name or its last part) equals or globs one of ``patterns``."""
    short = task.rsplit(".", 1)[-1]
    return any(fnmatchcase(task, p) or fnmatchcase(short, p) for p in patterns)


def matches(row: ExplorerRow, flt: Filter, now: float, timeout: float | None = None) -> bool:
    """Whether ``row`` is listed under ``flt`` (completed rows only when the filter includes them)."""
    job = row.job
    if flt.states:
        wanted = {included for state in flt.states for included in STATE_INCLUDES.get(state, (state,))}
        if row.state not in wanted:
            return False
    elif row.state == "completed" and not flt.include_completed:
        return False
    if flt.job_id and job.id != flt.job_id and job.redis_id != flt.job_id:
        return False
    if flt.queues and job.queue not in flt.queues:
        return False
    if flt.workers and not (job.worker and any(fnmatchcase(job.worker, w) for w in flt.workers)):
        return False
    if flt.tasks and not task_matches(job.task, flt.tasks):
        return False
    if flt.text:
        haystack = f"{job.task} {job.description or ''}".lower()
        if not all(word.lower() in haystack for word in flt.text):
            return False
    if flt.since_s is not None or flt.until_s is not None:
        last = row.last_event
        if last is None or (flt.since_s is not None and last.timestamp() < now - flt.since_s):
            return False
        if flt.until_s is not None and last.timestamp() > now - flt.until_s:
            return False
    return not flt.attention or bool(set(attention_kinds(row, now, timeout)) & set(flt.attention))
