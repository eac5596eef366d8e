"""Table cells for the Background Jobs tab: one keyed row per schedule and per history entry."""

from __future__ import annotations

from rich.text import Text

from tui import formatting as fmt
from tui.data.models import HistoryRow, ScheduleRow
from tui.widgets.keyed_table import Row, largest_first
from tui.widgets.sorting import SortOrder
from worker.display_text import safe_text

SCHEDULE_COLUMNS = (
    ("job", "Job"),
    ("source", "Source"),
    ("description", "Description"),
    ("schedule", "Schedule"),
    ("priority", "Priority"),
    ("next_run", "Next run"),
    ("pending", "Pending"),
    ("last_run", "Last run"),
)



def schedule_columns(now: float) -> tuple[tuple[str, str], ...]:
    """The Scheduled Jobs columns, "Next run" naming the zone its exact times are in ("Next run (CET)")."""
    return tuple((key, f"{label} ({fmt.zone_label(now)})" if key == "next_run" else label)
                 for key, label in SCHEDULE_COLUMNS)


HISTORY_COLUMNS = (
    ("task", "Job type"),
    ("state", "State"),
    ("created", "Created"),
    ("completed", "Completed"),
    ("retries", "Retries"),
    ("duration", "Duration"),
    ("worker", "Worker"),
    ("job_id", "Job id"),
    ("error", "Error"),
)


def _ran_for_s(row: HistoryRow) -> float | None:
    """Seconds the run took, or None while either end is unknown."""
    start, end = fmt.to_epoch(row.started_at), fmt.to_epoch(row.ended_at)
    return end - start if start is not None and end is not None else None


HISTORY_SORTS: tuple[SortOrder[HistoryRow], ...] = (
    SortOrder("newest first", "completed", lambda h: 0, True),
    SortOrder("job type", "task", lambda h: (fmt.short_task(h.task), h.task, h.queue)),
    SortOrder("state", "state", lambda h: h.state),
    SortOrder("created (latest first)", "created", lambda h: largest_first(fmt.to_epoch(h.created_at)), True),
    SortOrder("retries (most first)", "retries", lambda h: -h.retries, True),
    SortOrder("duration (longest first)", "duration", lambda h: largest_first(_ran_for_s(h)), True),
    SortOrder("worker", "worker", lambda h: (h.worker is None, h.worker or "")),
    SortOrder("job id", "job_id", lambda h: h.id),
    SortOrder("error", "error", lambda h: (h.error is None, h.error or "")),
)
"""Every history column as a sort order, in the order `s` cycles them. The default is the snapshot's own order,
newest first (a stable sort on a constant key keeps it); only that order pins the table to its newest row."""
HISTORY_NARROW_OUT = frozenset({"created"})
"""History columns left out below HISTORY_FULL_WIDTH cells, so Completed and Retries stay on screen at 80."""
HISTORY_FULL_WIDTH = 100
HISTORY_WIDE = frozenset({"duration", "worker", "job_id", "error"})
"""History columns a wide terminal gains (from HISTORY_WIDE_WIDTH cells)."""
HISTORY_WIDE_WIDTH = 160
ERROR_WIDTH = 48

OUTCOME_STYLES = {
    "completed": "green",
    "failed": "bold red",
    "running": "cyan",
    "retry": "yellow",
    "pending": "",
    "canceled": "dim",
    "skipped": "yellow",
    "unreadable": "magenta",
}
PRIORITY_STYLES = {"high": "bold", "normal": "", "low": "dim"}
JOB_WIDTH = 20
DESCRIPTION_WIDTH = 28
SCHEDULE_WIDTH = 16
SOURCE_WIDTH = 14
WORKER_WIDTH = 24


def _pair(main: str, extra: str, main_style: str = "", extra_style: str = "dim") -> Text:
    """Main text followed by dimmed detail, separated by two spaces."""
    text = Text(main, style=main_style)
    if extra:
        text.append("  ")
        text.append(extra, style=extra_style)
    return text


def _stack(top: Text | str, bottom: Text | str, width: int | None = None) -> Text:
    """Two lines in one cell (schedule rows are two lines tall); each is cut to ``width`` with an ellipsis."""
    lines = [Text(line) if isinstance(line, str) else line for line in (top, bottom)]
    if width is not None:
        for line in lines:
            line.truncate(width, overflow="ellipsis")
    first, second = lines
    second.stylize("dim")
    return Text("\n").join([first, second])


def next_run_text(row: ScheduleRow, now: float) -> Text:
    """Relative next run over the exact time in the shown zone, or "paused"."""
    if row.paused:
        return _stack(Text("paused", style="bold yellow"), "not queueing")
    if row.next_run is None:
        return _stack(Text(fmt.NO_VALUE, style="dim"), "")
    return _stack(fmt.relative(row.next_run, now), fmt.exact_time(row.next_run, now))


def _elapsed_short(seconds: float) -> str:
    """``42s``, ``2m05s``, ``1h02m``: an elapsed time in at most six cells."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def last_run_text(row: ScheduleRow, now: float, compact: bool = False) -> Text:
    """When the last run was queued (relative) over how it ended with its exact time dimmed beside it; ``compact``
    (a narrow table, 80 columns) shows the exact time over the outcome instead, so the cell fits. "Running now"
    (with its elapsed time) replaces the top line while a run executes and "Needs attention" (with the unresolved
    failures) the bottom one while any are left ("▶ Run 2m05s" and "⚠ N failed" when compact: both fit 80
    columns)."""
    if row.last_run is None and not (row.running or row.needs_attention):
        return _stack(Text("never", style="dim"), "")
    style = OUTCOME_STYLES.get(row.last_status or "", "")
    if row.last_run is None:
        top = Text("never", style="dim")
    else:
        top = Text(fmt.exact_time(row.last_run, now) if compact else fmt.relative(row.last_run, now))
    if row.running:
        top = Text("▶ Run" if compact else "▶ Running now", style="bold cyan")
        if row.running_since is not None:
            since = now - row.running_since.timestamp()
            top.append(f" {_elapsed_short(since) if compact else fmt.duration(since)}", style="cyan")
    if row.needs_attention:
        words = f"{row.failures} failed" if compact else f"Needs attention ({row.failures})"
        bottom = Text(f"⚠ {words}", style="bold red")
    elif compact or row.last_run is None:
        bottom = Text(row.last_status or "", style=style)
    else:
        bottom = _pair(row.last_status or "", fmt.exact_time(row.last_run, now), style)
    return Text("\n").join([top, bottom])


def _description(row: ScheduleRow, width: int = DESCRIPTION_WIDTH) -> Text:
    """The description cut to the column, over the queue-expiry note, which is never cut."""
    top = Text(row.description or "")
    top.truncate(width, overflow="ellipsis")
    return _stack(top, Text(fmt.expiry_note(row.expires_after_s), style="italic"))


def source_text(row: ScheduleRow) -> Text:
    """Who enqueues the job, with its scheduler's liveness, over whether Pause is available or its run-time edit
    ("overridden", "run-time", "file changed" when the file's entry changed under the override, "not applied")."""
    top = Text(row.source)
    if row.scheduler_alive is not None:
        top.append(" ●" if row.scheduler_alive else " ✗ down", style="green" if row.scheduler_alive else "bold red")
    if row.override:
        top.append(" ✎", style="yellow")
    return _stack(top, edit_text(row) or ("" if row.pause_allowed else "no pause"), SOURCE_WIDTH)


def edit_text(row: ScheduleRow) -> Text | None:
    """The row's run-time edit in one word or two, or None when it runs as the file says."""
    if row.override_error:
        return Text("not applied", style="bold red")
    if row.file_changed:
        return Text("file changed", style="bold yellow")
    if row.override:
        return Text("overridden" if row.override == "overridden" else "run-time", style="yellow")
    return None


def _job_name(row: ScheduleRow) -> str:
    """rqtop's schedule name; for another scheduler's job, its function's short name (the row key is longer)."""
    if row.source == "rqtop":
        return row.name
    return row.name.rsplit("/", 1)[-1] if row.source == "rq cron" else fmt.short_task(row.task)


def text_widths(table_width: int, full_width: int) -> tuple[int, int]:
    """(description, schedule) widths for a table ``table_width`` cells wide: the spare cells beyond
    ``full_width`` go to the schedule text first (up to 16 more, so "At 00:17 UTC, only on Monday" fits), then to the
    description."""
    spare = max(0, table_width - full_width)
    schedule_extra = min(16, spare // 2)
    return DESCRIPTION_WIDTH + spare - schedule_extra, SCHEDULE_WIDTH + schedule_extra


def schedule_row(row: ScheduleRow, now: float, pending_threshold: int,
                 widths: tuple[int, int] = (DESCRIPTION_WIDTH, SCHEDULE_WIDTH), compact: bool = False) -> Row:
    """One two-line Scheduled Jobs row keyed by schedule name (``rq-scheduler/<id>``, ``rq-cron/...`` for others);
    ``compact`` for a narrow table (Last run without its relative time)."""
    pending_style = "bold red" if row.pending > pending_threshold else ""
    name_style = "magenta" if row.unreadable else ("dim" if row.paused else "bold")
    cells = (
        _stack(Text(_job_name(row), style=name_style),
               (row.queue + (" ✎" if row.override else "")) if row.source == "rqtop" else f"{row.queue} · {row.source}",
               JOB_WIDTH),
        source_text(row),
        _description(row, widths[0]),
        _stack(row.schedule_text or fmt.NO_VALUE, fmt.raw_schedule(row.cron, row.interval_s), widths[1]),
        Text(fmt.priority_label(row.priority), style=PRIORITY_STYLES.get(row.priority, "")),
        next_run_text(row, now),
        Text(fmt.count(row.pending), style=pending_style, justify="right"),
        last_run_text(row, now, compact),
    )
    return row.name, cells


def history_row(row: HistoryRow, now: float) -> Row:
    """One Recent Job History row keyed by job id."""
    created = _pair(fmt.time_of_day(row.created_at), fmt.relative(row.created_at, now)) if row.created_at else (
        Text(fmt.NO_VALUE, style="dim")
    )
    completed = _pair(fmt.time_of_day(row.ended_at), fmt.relative(row.ended_at, now)) if row.ended_at else (
        Text(fmt.NO_VALUE, style="dim")
    )
    cells = (
        _pair(fmt.short_task(row.task), row.queue),
        _state(row),
        created,
        completed,
        Text(str(row.retries), style="yellow" if row.retries else "dim", justify="right"),
        Text(fmt.ran_for(row.started_at, row.ended_at), justify="right"),
        _cut(row.worker, WORKER_WIDTH),
        Text(fmt.short_id(row.id), style="dim"),
        _cut(fmt.one_line(row.error) if row.error else None, ERROR_WIDTH, "red"),
    )
    return row.id, cells


def _cut(value: str | None, width: int, style: str = "") -> Text:
    """Safe display text cut to ``width`` cells with an ellipsis, or a dim dash."""
    if not value:
        return Text(fmt.NO_VALUE, style="dim")
    text = Text(safe_text(value), style=style)
    text.truncate(width, overflow="ellipsis")
    return text


def _state(row: HistoryRow) -> Text:
    """The state, plus the task's own note ("no active work") when it left one."""
    text = Text(fmt.state_label(row.state), style=OUTCOME_STYLES.get(row.state, ""))
    if row.note:
        text.append(f" · {row.note}", style="dim")
    if row.progress is not None and row.state == "running":
        text.append(f" · {row.progress.summary}", style="dim")
    return text
