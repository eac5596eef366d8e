"""Table cells, header and detail fields for the queue browser: one page of one job list of one queue."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from tui import formatting as fmt
from tui.widgets.job_rows import OUTCOME_STYLES
from tui.widgets.keyed_table import Row

if TYPE_CHECKING:
    from tui.data.job_meta import JobDetail, JobSummary
    from tui.data.jobs_page import JobsPage

PAGE_SOURCES = ("pending", "active", "completed", "failed", "scheduled", "deferred", "canceled")
"""The job lists of a queue, in the order tab cycles them."""

PAGE_COLUMNS = (
    ("id", "Job id"),
    ("task", "Job type"),
    ("state", "State"),
    ("enqueued", "Enqueued"),
    ("started", "Started"),
    ("ended", "Ended"),
    ("worker", "Worker"),
    ("description", "Description"),
)

UNREADABLE = "unreadable"
STATE_STYLES = {**OUTCOME_STYLES, "scheduled": "", "deferred": "yellow", "expired": "dim"}
DESCRIPTION_WIDTH = 40
WORKER_WIDTH = 18


def _when(when: datetime | None, now: float) -> Text:
    """Relative time with the exact UTC time dimmed after it, or a dim dash."""
    if when is None:
        return Text(fmt.NO_VALUE, style="dim")
    text = Text(fmt.relative(when, now))
    text.append(f"  {fmt.exact_utc(when, now)}", style="dim")
    return text


def _cut(value: str | None, width: int) -> Text:
    """``value`` cut to ``width`` cells with an ellipsis, or a dim dash."""
    if not value:
        return Text(fmt.NO_VALUE, style="dim")
    text = Text(value)
    text.truncate(width, overflow="ellipsis")
    return text


def state_text(job: JobSummary) -> Text:
    """The job's state; a job with fields that could not be read says so."""
    text = Text(fmt.state_label(job.state), style=STATE_STYLES.get(job.state, ""))
    if job.unreadable and job.state != UNREADABLE:
        text.append(" · unreadable", style=STATE_STYLES[UNREADABLE])
    return text


def page_row(key: str, job: JobSummary, now: float) -> Row:
    """One job of a page, keyed by its place in the list (an id can sit twice in a queue)."""
    task = Text(fmt.short_task(job.task), style=STATE_STYLES[UNREADABLE] if job.task == UNREADABLE else "")
    cells = (
        Text(fmt.short_id(job.id), style="bold"),
        task,
        state_text(job),
        _when(job.enqueued_at or job.created_at, now),
        _when(job.started_at, now),
        _when(job.ended_at, now),
        _cut(job.worker, WORKER_WIDTH),
        _cut(job.description, DESCRIPTION_WIDTH),
    )
    return key, cells


def page_header(page: JobsPage) -> str:
    """Where the page sits: "default · pending · 51–100 of 1,000,000" (exact counts, never abbreviated)."""
    where = f"{page.queue} · {page.source}"
    if not page.jobs:
        return f"{where} · no jobs" if page.total == 0 else f"{where} · none from {page.offset + 1:,} of {page.total:,}"
    return f"{where} · {page.offset + 1:,}–{page.offset + len(page.jobs):,} of {page.total:,}"


def sources_line(current: str) -> Text:
    """Every job list, the shown one highlighted."""
    text = Text()
    for source in PAGE_SOURCES:
        text.append(f" {source} ", style="bold reverse" if source == current else "dim")
        text.append(" ")
    return text


def detail_fields(job: JobDetail, now: float) -> list[tuple[str, str]]:
    """(label, value) pairs describing one job of a queue's list."""
    retries = str(job.retries) if job.retries_left is None else f"{job.retries} ({job.retries_left} left)"
    state = fmt.state_label(job.state) + (" · some fields could not be read" if job.unreadable else "")
    extra = [(f"Meta · {key}" if key else "Meta", value) for key, value in job.meta]
    extra += [("Depends on", f"{dependency}  ({fmt.state_label(state)})") for dependency, state in job.dependencies]
    extra += [("Progress", job.progress.summary)] if job.progress is not None else []
    return [
        ("Job id", job.id),
        ("Job type", job.task),
        ("Queue", job.queue or fmt.NO_VALUE),
        ("State", f"{state}  (RQ status: {job.status})" if job.status else state),
        ("Description", job.description or fmt.NO_VALUE),
        ("Created", f"{fmt.timestamp(job.created_at)}  ({fmt.relative(job.created_at, now)})" if job.created_at
         else fmt.NO_VALUE),
        ("Enqueued", fmt.timestamp(job.enqueued_at)),
        ("Started", fmt.timestamp(job.started_at)),
        ("Ended", fmt.timestamp(job.ended_at)),
        ("Ran for", fmt.ran_for(job.started_at, job.ended_at)),
        ("Retries", retries),
        ("Schedule", job.schedule or fmt.NO_VALUE),
        ("Worker", f"{job.worker}  (RQ state: {job.worker_state})" if job.worker and job.worker_state
         else job.worker or fmt.NO_VALUE),
        ("Error", job.error or fmt.NO_VALUE),
        *extra,
    ]
