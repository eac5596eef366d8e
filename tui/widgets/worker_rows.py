"""Table cells and sort orders for the Workers tab: queues and workers, plus the unattended-queue check."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.text import Text

from tui import formatting as fmt
from tui.data.models import QueueRow, WorkerRow
from tui.data.settings import Backlog
from tui.widgets.keyed_table import Row, largest_first
from tui.widgets.progress_cell import progress_text
from tui.widgets.sorting import SortOrder

LEVEL_STYLES = {"amber": "bold yellow", "red": "bold red"}
"""A backlog threshold level -> the style of its cell."""
MANY_QUEUES = 30
"""From this many queues on, the Queues table gives up its fixed height and uses the spare space."""

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
    """Sort key part for the longest-running job first (the earliest start), then running for an unknown time,
    then idle."""
    started = row.current_started if row.current_job is not None and row.current_started else None
    return row.current_job is None, started is None, started or 0.0


def _uptime_key(row: WorkerRow) -> tuple[bool, float]:
    """Sort key part for the longest uptime first (the earliest start of a worker that is up), None last."""
    since = row.up_since
    return since is None, since or 0.0


WORKER_SORTS: tuple[SortOrder[WorkerRow], ...] = (
    SortOrder("name", "worker", lambda w: w.name),
    SortOrder("status (offline first)", "status", lambda w: (STATUS_RANK.get(w.status, 0), w.name)),
    SortOrder("mode", "mode", lambda w: (w.mode, w.name)),
    SortOrder("version (oldest first)", "version", lambda w: (_version(w), w.name)),
    SortOrder("uptime (longest first)", "uptime", lambda w: (_uptime_key(w), w.name), True),
    SortOrder("processed (most first)", "processed", lambda w: (largest_first(w.processed), w.name), True),
    SortOrder("failed (most first)", "failed", lambda w: (largest_first(w.failed), w.name), True),
    SortOrder("running (longest first)", "running", lambda w: (_running_key(w), w.name), True),
    SortOrder("last seen (oldest first)", "last_seen", lambda w: (_seen(w), w.name)),
)
"""Every Worker Status column as a sort order, in the order `s` cycles them; the first is the default."""


def _number(value: int | None, style: str = "") -> Text:
    """A right-aligned count."""
    return Text(fmt.count(value), style=style, justify="right")


def _unclassified(count: int, unknown: int, style: str) -> Text:
    """A Retry or Scheduled count, with "+?" while some scheduled entries are not classified yet."""
    text = _number(count, style if count else "dim")
    if unknown:
        text.append(f" +{fmt.count(unknown)}?", style="yellow")
    return text


def _active(row: QueueRow) -> Text:
    """Active jobs, and the abandoned ones (past their deadline, worker gone) marked beside them."""
    text = _number(row.active, "cyan" if row.active else "dim")
    if row.abandoned:
        text.append(f" +{fmt.count(row.abandoned)} abandoned", style="bold red")
    return text


def queue_row(row: QueueRow, backlog: Backlog | None = None, unattended: bool = False,
              taken: float | None = None) -> Row:
    """One per-queue row keyed by queue name; Pending and Oldest pending coloured by ``backlog``'s thresholds,
    the name flagged when jobs wait and no online worker listens (``unattended``), and "as of" when its counts
    were read before ``taken`` (the snapshot's time)."""
    backlog = backlog or Backlog()
    pending_level = backlog.pending_level(row.pending)
    oldest_level = backlog.oldest_level(row.oldest_pending_age_s if row.pending else None)
    name = Text(row.name, style="bold")
    if unattended:
        name = Text.assemble(("⚠ ", "bold red"), (row.name, "bold red"), (" no worker", "red"))
    age = row.age_at(taken) if taken is not None else None
    if age is not None and age >= 1:  # kept from an earlier read (queue_reads)
        name.append(f" · as of {fmt.span(age)} ago", style="dim")
    has_oldest = row.oldest_pending_age_s is not None
    cells = (
        name,
        _number(row.pending, LEVEL_STYLES.get(pending_level or "", "bold" if row.pending else "dim")),
        _active(row),
        _number(row.completed),
        _number(row.failed, "red" if row.failed else "dim"),
        _unclassified(row.retry, row.retry_unknown, "yellow"),
        _unclassified(row.scheduled, row.retry_unknown, ""),
        Text(fmt.span(row.oldest_pending_age_s) if row.oldest_pending_age_s is not None else fmt.NO_VALUE,
             style=LEVEL_STYLES.get(oldest_level or "", "" if has_oldest else "dim"), justify="right"),
    )
    return row.name, cells


def _backlog(row: QueueRow) -> tuple[int, float]:
    """Sort key for the backlog first: most pending, then the oldest pending job; ties keep RQ's order."""
    return -row.pending, -(row.oldest_pending_age_s or 0.0)


def _most(value: int) -> int:
    """Sort key part for the largest count first."""
    return -value


QUEUE_SORTS: tuple[SortOrder[QueueRow], ...] = (
    SortOrder("backlog (most pending first)", "pending", _backlog, True),
    SortOrder("name", "queue", lambda q: q.name),
    SortOrder("active (most first)", "active", lambda q: (_most(q.active + q.abandoned), q.name), True),
    SortOrder("completed (most first)", "completed", lambda q: (_most(q.completed), q.name), True),
    SortOrder("failed (most first)", "failed", lambda q: (_most(q.failed), q.name), True),
    SortOrder("retry (most first)", "retry", lambda q: (_most(q.retry), q.name), True),
    SortOrder("scheduled (most first)", "scheduled", lambda q: (_most(q.scheduled), q.name), True),
    SortOrder("oldest pending (oldest first)", "oldest",
              lambda q: (largest_first(q.oldest_pending_age_s if q.pending else None), q.name), True),
)
"""Every Queues column as a sort order, in the order `s` cycles them; the backlog first by default, so the
queues that need a worker are on screen however many there are."""


def queue_order(queues: Sequence[QueueRow]) -> list[QueueRow]:
    """The default order: the backlog first (most pending, then the oldest pending job); ties keep RQ's order."""
    return sorted(queues, key=_backlog)


def _status(row: WorkerRow) -> Text:
    """Online / Late (missed the beat RQ scheduled) / Suspended / Offline (red) / Gone (hash expired, dim)."""
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
    return Text("Offline", style="bold red")


def _running(row: WorkerRow, now: float) -> Text:
    """The task being run and for how long, "idle", or for an offline worker the task it was last seen running
    (no elapsed time: nothing says it still runs)."""
    if not row.current_job:
        return Text("idle", style="dim")
    if row.status in ("offline", "gone"):
        return Text.assemble(("last seen running ", "yellow"), (fmt.short_task(row.current_job), "yellow"))
    text = Text(fmt.short_task(row.current_job), style="cyan")
    elapsed = row.elapsed_at(now)
    if elapsed is not None:
        text.append(f"  {fmt.duration(elapsed)}", style="dim")
    if row.progress is not None:
        text.append("  ")
        text.append_text(progress_text(row.progress))
    return text


def where(row: WorkerRow) -> str:
    """Host and pid, leaving out what the worker's name already says (RQ 2's ``host.pid`` names)."""
    host = row.hostname if row.hostname and row.hostname not in row.name else None
    pid = row.pid if row.pid is not None and str(row.pid) not in row.name else None
    if host and pid is not None:
        return f"{host}:{pid}"
    return host or (f"pid {pid}" if pid is not None else "")


def worker_row(row: WorkerRow, now: float, taken: float | None = None) -> Row:
    """One Worker Status row keyed by worker name, its durations at ``now``; an offline worker's row is highlighted
    (it needs a look), a gone one dimmed (it is about to leave the view); "as of" when its hashes were read before
    ``taken`` (the snapshot's time; ``now`` when not given)."""
    offline = row.status == "offline"
    name = Text(row.name, style="bold" if row.status == "online" else "bold red" if offline else "")
    if location := where(row):
        name.append(f"  {location}", style="dim")
    failed_style = "bold red" if (row.failed or 0) > 0 else "dim"
    cells: list[Text] = [
        name,
        Text(row.mode),
        Text(row.version or fmt.NO_VALUE),
        _status(row),
        Text(fmt.span(uptime) if (uptime := row.uptime_at(now)) is not None else fmt.NO_VALUE, justify="right"),
        _number(row.processed),
        _number(row.failed, failed_style),
        _running(row, now),
        _last_seen(row, now, offline, now if taken is None else taken),
    ]
    if row.status == "gone":
        for cell in cells:
            cell.stylize("dim")
    return row.name, cells


def _last_seen(row: WorkerRow, now: float, offline: bool, taken: float) -> Text:
    """When the worker was last seen; a row the last refresh did not re-read says how old its data is."""
    cell = Text(fmt.relative(row.last_seen, now), style="bold yellow" if offline else "")
    age = row.age_at(taken)
    if age is not None and age >= 1:
        cell.append(f" · as of {fmt.span(age)} ago", style="dim")
    return cell


def unattended_queues(queues: Sequence[QueueRow], workers: Sequence[WorkerRow]) -> list[str]:
    """Queues holding pending jobs that no online worker listens to."""
    listened = {name for w in workers if w.status == "online" and w.mode != "scheduler" for name in w.queues}
    return [q.name for q in queues if q.pending > 0 and q.name not in listened]


def unattended_warning(names: Sequence[str], width: int) -> str:
    """The "no worker listens" line for ``names`` in at most ``width`` cells: the whole sentence when it fits,
    else "N queues have pending jobs and no online worker: a, b, … (+K)" with as many whole names as fit."""
    if not names:
        return ""
    whole = (f"⚠ Jobs are pending in {', '.join(names)} but no online worker listens to "
             f"{'it' if len(names) == 1 else 'them'}.")
    if len(whole) <= width:
        return whole
    verb = "has" if len(names) == 1 else "have"
    head = f"⚠ {fmt.plural(len(names), 'queue')} {verb} pending jobs and no online worker"
    shown: list[str] = []
    for index, name in enumerate(names):
        rest = len(names) - index - 1
        tail = f", … (+{fmt.count(rest)})" if rest else ""
        if len(f"{head}: {', '.join([*shown, name])}{tail}") > width:
            break
        shown.append(name)
    left = len(names) - len(shown)
    if not shown:
        return f"{head} (+{fmt.count(left)})" if len(names) > 1 else head
    return f"{head}: {', '.join(shown)}" + (f", … (+{fmt.count(left)})" if left else "")
