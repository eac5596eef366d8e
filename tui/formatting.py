"""Pure text formatting for the dashboard (relative times, durations, counts), kept apart so it is testable."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timezone, tzinfo

from tui.data.settings import display_zone
from worker.display_text import safe_text

_MINUTE = 60.0
_HOUR = 3600.0
_DAY = 86400.0

PRIORITY_LABELS = {"high": "High", "normal": "Normal", "low": "Low"}
STATE_LABELS = {
    "completed": "Completed",
    "failed": "Failed",
    "running": "Running",
    "retry": "Retry",
    "pending": "Pending",
    "canceled": "Canceled",
    "skipped": "Skipped",
    "unreadable": "Unreadable",
}
NO_VALUE = "—"

_zone: tzinfo | None = timezone.utc
"""The zone every time is shown in (``use_zone``); None is the machine's own zone."""


def to_epoch(when: datetime | float | None) -> float | None:
    """An aware or naive (taken as UTC) datetime, or an epoch, as float seconds."""
    if when is None:
        return None
    if isinstance(when, datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.timestamp()
    return float(when)


def span(seconds: float) -> str:
    """A coarse length of time for relative phrases: "42 s", "4 min", "3 h 5 min", "2 d 4 h"."""
    seconds = abs(seconds)
    if seconds < _MINUTE:
        return f"{int(seconds)} s"
    if seconds < _HOUR:
        return f"{int(seconds // _MINUTE)} min"
    if seconds < _DAY:
        hours, rest = divmod(int(seconds), int(_HOUR))
        minutes = rest // 60
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, rest = divmod(int(seconds), int(_DAY))
    hours = rest // 3600
    return f"{days} d {hours} h" if hours else f"{days} d"


def relative(when: datetime | float | None, now: float) -> str:
    """When something happened or will happen, relative to ``now``: "in 2 min", "4 min ago", "just now"."""
    epoch = to_epoch(when)
    if epoch is None:
        return NO_VALUE
    delta = epoch - now
    if abs(delta) < 1.0:
        return "just now" if delta <= 0 else "now"
    return f"in {span(delta)}" if delta > 0 else f"{span(delta)} ago"


def use_zone(name: str) -> None:
    """Show every time from now on in zone ``name`` (IANA, ``UTC`` or ``local``); ValueError for an unknown zone.
    The App sets it from its settings, the CLI from ``--tz``: one zone per process, as a terminal has one clock."""
    global _zone
    _zone = display_zone(name)


def _moment(epoch: float) -> datetime:
    """An epoch as an aware datetime in the shown zone (the machine's own for ``local``)."""
    return datetime.fromtimestamp(epoch, tz=_zone) if _zone is not None else datetime.fromtimestamp(epoch).astimezone()


def zone_label(when: datetime | float | None = None) -> str:
    """The shown zone's abbreviation at ``when`` (now when None): "UTC", "CET", "CEST", "+04"."""
    epoch = to_epoch(when)
    return _moment(time.time() if epoch is None else epoch).strftime("%Z") or "local"


def clock(when: datetime | float | None) -> str:
    """Wall-clock time in the shown zone, with its abbreviation: "14:05:09 UTC", "15:05:09 CET"."""
    epoch = to_epoch(when)
    if epoch is None:
        return NO_VALUE
    return _moment(epoch).strftime("%H:%M:%S %Z")


def time_of_day(when: datetime | float | None) -> str:
    """Time of day in the shown zone without its name, for dense tables: "14:05:09"."""
    epoch = to_epoch(when)
    if epoch is None:
        return NO_VALUE
    return _moment(epoch).strftime("%H:%M:%S")


def exact_time(when: datetime | float | None, now: float, seconds: bool = False) -> str:
    """An exact time in the shown zone, with the date only when it is not today there: "14:05", "Nov 26 03:00"
    ("14:05:09", "Nov 26 03:00:00" with ``seconds``)."""
    epoch = to_epoch(when)
    if epoch is None:
        return NO_VALUE
    moment = _moment(epoch)
    shape = "%H:%M:%S" if seconds else "%H:%M"
    if moment.date() == _moment(now).date():
        return moment.strftime(shape)
    return moment.strftime(f"%b %d {shape}")


exact_utc = exact_time
"""The old name of ``exact_time``, from when every time was UTC."""


def timestamp(when: datetime | float | None) -> str:
    """A full timestamp in the shown zone for detail views: "2026-11-18 14:05:09 UTC"."""
    epoch = to_epoch(when)
    if epoch is None:
        return NO_VALUE
    return _moment(epoch).strftime("%Y-%m-%d %H:%M:%S %Z")


def duration(seconds: float | None) -> str:
    """A measured duration in the units of ``span``, finer: "850 ms", "4.2 s", "42 s", "3 min 04 s", "2 h 14 min"."""
    if seconds is None:
        return NO_VALUE
    seconds = max(0.0, float(seconds))
    if seconds < 1.0:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10.0:
        return f"{seconds:.1f} s"
    if seconds < _MINUTE:
        return f"{seconds:.0f} s"
    if seconds < _HOUR:
        minutes, rest = divmod(int(seconds), 60)
        return f"{minutes} min {rest:02d} s"
    if seconds < _DAY:
        hours, rest = divmod(int(seconds), int(_HOUR))
        return f"{hours} h {rest // 60:02d} min"
    return span(seconds)


def ran_for(started: datetime | float | None, ended: datetime | float | None) -> str:
    """How long a run took, from its start and end, or a dash when either is unknown."""
    start, end = to_epoch(started), to_epoch(ended)
    return duration(end - start) if start is not None and end is not None else NO_VALUE


def count(value: int | None) -> str:
    """A count with thousands separators, abbreviated from a million: "12,345", "1.2M"."""
    if value is None:
        return NO_VALUE
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    return f"{value:,}"


def exact(value: int | None) -> str:
    """A count in full with thousands separators, never abbreviated (confirmations): "1,234,567"."""
    if value is None:
        return NO_VALUE
    return f"{value:,}"


BARS = "▁▂▃▄▅▆▇█"
"""Eighth-block bar heights, lowest first."""


def bars(values: Sequence[int], top: int) -> str:
    """One cell per value on a shared scale up to ``top``: a blank for 0, at least the lowest bar for any run."""
    if top <= 0:
        return " " * len(values)
    cells = []
    for value in values:
        if value <= 0:
            cells.append(" ")
        else:
            cells.append(BARS[min(len(BARS) - 1, max(0, round(value / top * len(BARS)) - 1))])
    return "".join(cells)


def time_axis(buckets: int, span_label: str) -> str:
    """An axis under ``buckets`` cells: "24 h ago" at the left, "now" at the right (just the ends if it is short)."""
    left, right = f"{span_label} ago", "now"
    gap = buckets - len(left) - len(right)
    return f"{left}{' ' * gap}{right}" if gap >= 1 else f"{left} … {right}"


def percent(rate: float | None) -> str:
    """A success rate: "99.5 %", "100 %"."""
    if rate is None:
        return NO_VALUE
    if rate >= 100.0:
        return "100 %"
    return f"{rate:.1f} %"


def short_task(task: str) -> str:
    """The function name without its module path: "worker.demo_tasks.catalog_sync" -> "catalog_sync"."""
    return task.rsplit(".", 1)[-1] or task


def short_id(job_id: str, width: int = 12) -> str:
    """A job id short enough for a table: "3f2a9c1e…" for a uuid, the hex tail of a schedule run's id."""
    tail = job_id.rsplit("--", 1)[-1] or job_id
    return tail if len(tail) <= width else tail[: width - 4] + "…"


def interval_text(seconds: int) -> str:
    """A friendly interval: "every 30 s", "every 5 min", "every 2 h", "every day"."""
    if seconds % 86400 == 0:
        days = seconds // 86400
        return "every day" if days == 1 else f"every {days} days"
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "every hour" if hours == 1 else f"every {hours} h"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return "every minute" if minutes == 1 else f"every {minutes} min"
    return f"every {seconds} s"


def raw_schedule(cron: str | None, interval_s: int | None) -> str:
    """The schedule as written: the cron expression or the interval in seconds."""
    if cron:
        return cron
    if interval_s:
        return f"{interval_s}s"
    return NO_VALUE


def expiry_note(expires_after_s: int | None) -> str:
    """The note "expires after N min in queue", or "" when a queued run never expires."""
    if not expires_after_s:
        return ""
    if expires_after_s % 60 == 0:
        return f"expires after {expires_after_s // 60} min in queue"
    return f"expires after {expires_after_s} s in queue"


def priority_label(priority: str) -> str:
    """High / Normal / Low."""
    return PRIORITY_LABELS.get(priority, priority.capitalize())


def state_label(state: str) -> str:
    """Completed / Failed / Running / Retry / Pending / Canceled."""
    return STATE_LABELS.get(state, state.capitalize())


def plural(value: int, noun: str, many: str | None = None) -> str:
    """A count in full with its noun: "1 job", "12 jobs", "1,234,567 items" (a sentence never rounds)."""
    word = noun if value == 1 else (many or f"{noun}s")
    return f"{exact(value)} {word}"


def one_line(error: BaseException | str | None) -> str:
    """An error as one short line of safe display text: the exception type and the first line of its text."""
    if error is None:
        return "unknown error"
    if isinstance(error, str):
        text = error
    else:
        first = str(error).strip().splitlines()
        text = f"{type(error).__name__}: {first[0]}" if first else type(error).__name__
    text = safe_text(text.strip().splitlines()[0]) if text.strip() else "unknown error"
    return text if len(text) <= 200 else text[:199] + "…"


def not_recorded_text(completed: int) -> str:
    """The empty History/Metrics text when rqtop recorded nothing: who records them, and what RQ itself holds."""
    return (f"History and metrics are recorded by rqtop's worker or `rqtop collect`; this Redis has {completed} "
            f"completed job{'s' if completed != 1 else ''} from other workers.")
