"""Table cells, header and query-bar text of the Jobs explorer: one page of matching jobs across every queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from tui import formatting as fmt
from tui.widgets.keyed_table import Row
from tui.widgets.page_rows import STATE_STYLES, _cut, _when

if TYPE_CHECKING:
    from tui.data.explorer.pages import ExplorerPage
    from tui.data.explorer.query import Filter
    from tui.data.explorer.rows import ExplorerRow

EXPLORER_COLUMNS = (
    ("mark", " "),
    ("id", "Job"),
    ("task", "Task"),
    ("queue", "Queue"),
    ("state", "State"),
    ("description", "Description"),
    ("last", "Last event"),
    ("attempts", "Attempts"),
    ("worker", "Worker"),
    ("error", "Failure"),
)
OPTIONAL_COLUMNS = frozenset({"description", "worker", "attempts"})
"""Left out below ``FULL_WIDTH`` cells, so 80 columns still show job, state, last event and failure."""
FULL_WIDTH = 150
EXPLORER_STYLES = {**STATE_STYLES, "retrying": "yellow", "stopped": "red", "abandoned": "bold red",
                   "running": "cyan"}
MARK = "●"


def explorer_row(row: ExplorerRow, now: float, marked: bool) -> Row:
    """One job, keyed by its id as Redis holds it (an id is listed once)."""
    job = row.job
    state = Text(row.state, style=EXPLORER_STYLES.get(row.state, ""))
    if job.unreadable and row.state != "unreadable":
        state.append(" · unreadable", style="dim")
    error = _cut(row.error, 48)
    if row.error:
        error.stylize("red")
    cells = (
        Text(MARK if marked else " ", style="bold yellow"),
        Text(fmt.short_id(job.id), style="bold"),
        _cut(fmt.short_task(job.task), 24),
        _cut(job.queue, 14),
        state,
        _cut(job.description, 36),
        _when(row.last_event, now),
        Text(row.attempts_text if row.attempts or row.max_attempts else fmt.NO_VALUE),
        _cut(job.worker, 18),
        error,
    )
    return row.redis_id, cells


def header_line(page: ExplorerPage | None, marked: int, now: float) -> str:
    """Where the page sits, how it was found, and when it was read: exact counts, never abbreviated."""
    if page is None:
        return "Jobs · reading…"
    what = page.filter.to_query() or ("every job" if page.filter.include_completed else "every job but completed")
    if page.rows:
        where = f"{page.offset + 1:,}–{page.offset + len(page.rows):,} of {page.total:,}{'' if page.complete else '+'}"
    else:
        where = "no matching jobs" if page.complete else f"no matches yet (of {page.total:,}+)"
    parts = [what, where]
    if page.progress is not None:
        parts.append(page.progress.line())
    if marked:
        parts.append(f"{marked:,} marked")
    parts.append(f"read at {fmt.exact_utc(page.read_at, now)}" if page.read_at else "")
    return " · ".join(part for part in parts if part)


def marked_query(query: str, flt: Filter) -> Text:
    """The query as typed, each ignored term shown reversed in red, followed by why."""
    text = Text()
    bad = {warning.term for warning in flt.warnings}
    for index, term in enumerate(query.split()):
        if index:
            text.append(" ")
        text.append(term, style="bold red reverse" if term in bad else "")
    if flt.warnings:
        text.append("   ignored: " + "; ".join(str(w) for w in flt.warnings), style="red")
    return text
