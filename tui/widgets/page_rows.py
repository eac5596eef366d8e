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
"""The job lists of a queue, in the order tab cycles them (``jobs_page.QUEUE_LISTS``, which imports redis)."""

PAGE_COLUMNS = (
    ("id", "Job id"),
    ("task", "Job type"),
    ("state", "State"),
    ("created", "Created"),
    ("enqueued", "Enqueued"),
    ("started", "Started"),
    ("ended", "Ended"),
    ("ran_for", "Ran for"),
    ("error", "Error"),
    ("worker", "Worker"),
    ("description", "Description"),
)
"""Every column a list can show, in the order they appear."""

LIST_COLUMNS = {
    "pending": ("enqueued",),
    "active": ("enqueued", "started", "worker"),
    "completed": ("ended", "ran_for", "worker"),
    "failed": ("ended", "worker", "error"),
    "scheduled": ("created",),
    "deferred": ("created",),
    "canceled": ("created", "ended"),
}
"""The columns each list shows between State and Description: only those its jobs fill (a pending job has not
started, so no Started, Ended or Worker pushes its description off-screen)."""

LIST_STATES = {"pending": "pending", "active": "running", "completed": "completed", "failed": "failed",
               "scheduled": "scheduled", "deferred": "deferred", "canceled": "canceled"}
"""The state every job of a list is in; the State cell names only the jobs that differ (retry, expired, unreadable)."""

NARROW_OUT = frozenset({"id"})
"""Left out below NARROW_WIDTH cells, so the description stays on screen at 80 columns (the detail has the id)."""
NARROW_WIDTH = 100

UNREADABLE = "unreadable"
STATE_STYLES = {**OUTCOME_STYLES, "scheduled": "", "deferred": "yellow", "expired": "dim"}
DESCRIPTION_WIDTH = 40
WORKER_WIDTH = 18
ERROR_WIDTH = 48


def columns_for(source: str) -> tuple[tuple[str, str], ...]:
    """The (key, label) columns of one list: id, type and state, its own, then the description."""
    chosen = {"id", "task", "state", "description", *LIST_COLUMNS.get(source, ("created",))}
    return tuple(column for column in PAGE_COLUMNS if column[0] in chosen)


def _when(when: datetime | None, now: float, seconds: bool = False) -> Text:
    """Relative time with the exact time in the shown zone (to the second with ``seconds``) dimmed after it, or a
    dim dash."""
    if when is None:
        return Text(fmt.NO_VALUE, style="dim")
    text = Text(fmt.relative(when, now))
    text.append(f"  {fmt.exact_time(when, now, seconds)}", style="dim")
    return text


def _cut(value: str | None, width: int, style: str = "") -> Text:
    """``value`` cut to ``width`` cells with an ellipsis, or a dim dash."""
    if not value:
        return Text(fmt.NO_VALUE, style="dim")
    text = Text(value, style=style)
    text.truncate(width, overflow="ellipsis")
    return text


def state_text(job: JobSummary, source: str | None = None) -> Text:
    """The job's state, left blank when it is ``source``'s own (every pending job is pending); a job with fields
    that could not be read says so."""
    usual = source is not None and LIST_STATES.get(source) == job.state
    text = Text("" if usual else fmt.state_label(job.state), style=STATE_STYLES.get(job.state, ""))
    if job.unreadable and job.state != UNREADABLE:
        text.append(" · unreadable" if text.plain else "unreadable", style=STATE_STYLES[UNREADABLE])
    return text


def page_row(key: str, job: JobSummary, now: float, source: str = "pending", error: str | None = None) -> Row:
    """One job of a page, keyed by its place in the list (an id can sit twice in a queue), with the cells of
    ``source``'s columns; ``error`` is a failed job's one-line error."""
    task = Text(fmt.short_task(job.task), style=STATE_STYLES[UNREADABLE] if job.task == UNREADABLE else "")
    cells: dict[str, Text] = {
        "id": Text(fmt.short_id(job.id), style="bold"),
        "task": task,
        "state": state_text(job, source),
        "created": _when(job.created_at, now, seconds=True),
        "enqueued": _when(job.enqueued_at or job.created_at, now, seconds=True),
        "started": _when(job.started_at, now, seconds=True),
        "ended": _when(job.ended_at, now, seconds=True),
        "ran_for": Text(fmt.ran_for(job.started_at, job.ended_at), justify="right"),
        "worker": _cut(job.worker, WORKER_WIDTH),
        "error": _cut(error, ERROR_WIDTH, "red"),
        "description": _cut(job.description, DESCRIPTION_WIDTH),
    }
    return key, tuple(cells[column] for column, _ in columns_for(source))


def page_rows(page: JobsPage, now: float) -> list[Row]:
    """Every row of a page, keyed by list and place, with the failed list's errors."""
    return [page_row(f"{page.source}:{page.offset + i}", job, now, page.source, page.error(i))
            for i, job in enumerate(page.jobs)]


def read_at_text(page: JobsPage) -> str:
    """ "read at 11:06:40 UTC": when the page on screen was read (its relative times are as of then)."""
    return f"read at {fmt.clock(page.read_at)}" if page.read_at is not None else ""


def tab_label(source: str, count: int | None) -> str:
    """A list tab: its name and how many jobs it held at the last read ("failed 41", "pending 1.2M")."""
    return source if count is None else f"{source} {fmt.count(count)}"


def page_header(page: JobsPage) -> str:
    """Where the page sits: "default · pending · 51–100 of 1,000,000" (exact counts, never abbreviated)."""
    where = f"{page.queue} · {page.source}"
    if not page.jobs:
        return f"{where} · no jobs" if page.total == 0 else f"{where} · none from {page.offset + 1:,} of {page.total:,}"
    return f"{where} · {page.offset + 1:,}–{page.offset + len(page.jobs):,} of {page.total:,}"


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
