"""Table cells and sort orders for the Workers tab: queues and workers, plus the unattended-queue check."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text

from tui import formatting as fmt
from tui.data.models import QueueRow, WorkerRow
from tui.widgets.keyed_table import Row, largest_first

QUEUE_COLUMNS = (
    ("queue", "Queue"),
    ("pending", "Pending"),
    ("active", "Active"),
    ("completed", "Completed"),
    ("failed", "Failed"),
    ("retry", "Retry"),
    ("scheduled", "Scheduled"),
    ("oldest", "Oldest pending"),
)

WORKER_COLUMNS = (
    ("worker", "Worker"),
    ("mode", "Mode"),
    ("version", "Version"),
    ("status", "Status"),
    ("uptime", "Uptime"),
    ("processed", "Processed"),
    ("failed", "Failed runs"),
    ("running", "Now running"),
    ("last_seen", "Last seen"),
)

STATUS_RANK = {"gone": 0, "offline": 0, "late": 1, "suspended": 1, "online": 2}


def _seen(row: WorkerRow) -> tuple[bool, float]:
    """Sort key part for the oldest last-seen first, with never-seen workers last."""
    seen = fmt.to_epoch(row.last_seen)
    return seen is None, seen or 0.0


def _version(row: WorkerRow) -> tuple[bool, tuple[int, ...], str]:
    """Sort key part for the oldest version first by its numbers ("0.9" before "0.10"), with None last."""
    version = row.version or ""
    return row.version is None, tuple(int(part) for part in re.findall(r"\d+", version)), version


def _running_key(row: WorkerRow) -> tuple[bool, bool, float]:
    """Sort key part for the longest-running job first, then running for an unknown time, then idle."""
    return row.current_job is None, *largest_first(row.current_elapsed_s)


WORKER_SORTS: tuple[tuple[str, Callable[[WorkerRow], Any]], ...] = (
    ("name", lambda w: w.name),
    ("status (offline first)", lambda w: (STATUS_RANK.get(w.status, 0), w.name)),
    ("mode", lambda w: (w.mode, w.name)),
    ("version (oldest first)", lambda w: (_version(w), w.name)),
    ("uptime (longest first)", lambda w: (largest_first(w.uptime_s), w.name)),
    ("processed (most first)", lambda w: (largest_first(w.processed), w.name)),
    ("failed (most first)", lambda w: (largest_first(w.failed), w.name)),
    ("running (longest first)", lambda w: (_running_key(w), w.name)),
    ("last seen (oldest first)", lambda w: (_seen(w), w.name)),
)
"""Every Worker Status column as a sort order, in the order `s` cycles them; the first is the default."""


def _number(value: int | None, style: str = "") -> Text:
    """A right-aligned count."""
    return Text(fmt.count(value), style=style, justify="right")


def _unclassified(cell: Text, unknown: int) -> Text:
    """A Retry or Scheduled count, with "+N?" for the scheduled entries not yet classified as either (so the two
    columns never show one number twice as if it were known)."""
    if unknown:
        cell.append(f" +{fmt.count(unknown)}?", style="dim italic")
    return cell


def queue_row(row: QueueRow) -> Row:
    """One per-queue row keyed by queue name."""
    cells = (
        Text(row.name, style="bold"),
        _number(row.pending, "bold" if row.pending else "dim"),
        _number(row.active, "cyan" if row.active else "dim"),
        _number(row.completed),
        _number(row.failed, "red" if row.failed else "dim"),
        _unclassified(_number(row.retry, "yellow" if row.retry else "dim"), row.retry_unknown),
        _unclassified(_number(row.scheduled, "" if row.scheduled else "dim"), row.retry_unknown),
        Text(fmt.span(row.oldest_pending_age_s) if row.oldest_pending_age_s is not None else fmt.NO_VALUE,
             style="" if row.oldest_pending_age_s is not None else "dim", justify="right"),
    )
    return row.name, cells


def _status(row: WorkerRow) -> Text:
    """Online / Late (missed the beat RQ scheduled) / Suspended / Offline (dimmed) / Gone (hash expired)."""
    if row.unreadable:
        return Text("Unreadable", style="magenta")
    if row.status == "online":
        return Text("Online", style="green")
    if row.status == "late":
        return Text("Late", style="bold yellow")
    if row.status == "suspended":
        return Text("Suspended", style="bold yellow")
    if row.status == "gone":
        return Text("Gone", style="dim red")
    return Text("Offline", style="dim")


def _running(row: WorkerRow) -> Text:
    """The task being run and for how long, or "idle"."""
    if not row.current_job:
        return Text("idle", style="dim")
    text = Text(fmt.short_task(row.current_job), style="cyan")
    if row.current_elapsed_s is not None:
        text.append(f"  {fmt.duration(row.current_elapsed_s)}", style="dim")
    return text


def worker_row(row: WorkerRow, now: float) -> Row:
    """One Worker Status row keyed by worker name; an offline worker's row is dimmed."""
    where = ""
    if row.hostname:
        where = f"{row.hostname}:{row.pid}" if row.pid is not None else row.hostname
    name = Text(row.name, style="bold" if row.status == "online" else "")
    if where:
        name.append(f"  {where}", style="dim")
    failed_style = "bold red" if (row.failed or 0) > 0 else "dim"
    cells: list[Text] = [
        name,
        Text(row.mode),
        Text(row.version or fmt.NO_VALUE),
        _status(row),
        Text(fmt.span(row.uptime_s) if row.uptime_s is not None else fmt.NO_VALUE, justify="right"),
        _number(row.processed),
        _number(row.failed, failed_style),
        _running(row),
        Text(fmt.relative(row.last_seen, now)),
    ]
    if row.status in ("offline", "gone"):
        for cell in cells:
            cell.stylize("dim")
    return row.name, cells


def unattended_queues(queues: Sequence[QueueRow], workers: Sequence[WorkerRow]) -> list[str]:
    """Queues holding pending jobs that no online worker listens to."""
    listened = {name for w in workers if w.status == "online" and w.mode != "scheduler" for name in w.queues}
    return [q.name for q in queues if q.pending > 0 and q.name not in listened]
