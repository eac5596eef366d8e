"""Encodings shared by the worker that writes rqtop's records and the dashboard that reads them.

Duration histogram: log-spaced bins with ratio ``BIN_RATIO`` = 1.02 starting at ``BIN_FLOOR_S``.
A duration d >= floor falls in bin ``i = floor(log(d / floor) / log(ratio)) + 1``; bin 0 holds
everything under the floor. A bin is reported by its geometric midpoint, so any value read back
from a bin is within ``sqrt(1.02) - 1`` = 0.995 % of every duration that bin holds; a percentile
computed by walking the cumulative counts (nearest-rank) is therefore within 1 % of the exact
nearest-rank percentile of the same runs. The maximum is stored exactly.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Literal

from worker.keys import METRIC_RECENT_S, METRIC_RECENT_SLOTS

BIN_RATIO = 1.02
BIN_FLOOR_S = 0.001
_LOG_RATIO = math.log(BIN_RATIO)

ERROR_MAX = 200
"""Longest error line rqtop stores and the dashboard shows, in characters."""

HistoryState = Literal["pending", "running", "completed", "failed", "retry", "canceled", "skipped", "unreadable"]
HISTORY_STATES: tuple[HistoryState, ...] = (
    "pending", "running", "completed", "failed", "retry", "canceled", "skipped", "unreadable",
)
"""States a history record can be in."""

WorkerMode = Literal["all", "worker", "scheduler"]
WORKER_MODES: tuple[WorkerMode, ...] = ("all", "worker", "scheduler")
"""What an ``rqtop worker`` process runs: both halves, the RQ worker only, or the scheduler only."""

Priority = Literal["high", "normal", "low"]
PRIORITIES: tuple[Priority, ...] = ("high", "normal", "low")
"""A schedule's priority, highest first (each maps to one of ``DEFAULT_QUEUES``)."""

DEFAULT_QUEUES = ("high", "default", "low")
"""The queues an rqtop worker listens on by default, in priority order."""

ScheduleSource = Literal["rqtop", "rq-scheduler", "rq cron"]
SCHEDULE_SOURCES: tuple[ScheduleSource, ...] = ("rqtop", "rq-scheduler", "rq cron")
"""Where a recurring job is defined: rqtop's schedules file, rq-scheduler's scheduled jobs, or ``rq cron``'s config."""


def as_text(value: Any) -> str:
    """Redis bytes (or None) as text; undecodable bytes become U+FFFD, never an error."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def as_int(value: Any) -> int | None:
    """An integer from Redis bytes, or None."""
    try:
        return int(as_text(value))
    except ValueError:
        return None


def epoch_text(epoch: float) -> str:
    """An epoch as the decimal string every rqtop record stores."""
    return f"{epoch:.6f}"


def one_line(exc: BaseException) -> str:
    """First line of an exception's text, or its type name."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def sanitize_exc(exc_type: type[BaseException] | None, exc: BaseException | None) -> str:
    """'ExcType: first line of the message', at most 200 chars; never locals or a traceback."""
    name = exc_type.__name__ if exc_type is not None else "Error"
    text = one_line(exc) if exc is not None and str(exc).strip() else ""
    return (f"{name}: {text}" if text else name)[:ERROR_MAX]


def sanitize_text(text: str) -> str:
    """One line from an RQ exc_string: the final 'Type: message' of a traceback, or its first line."""
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    if not lines:
        return ""
    line = lines[-1] if lines[0].startswith("Traceback") else lines[0]
    name, sep, rest = line.partition(": ")
    if sep and "." in name and " " not in name:
        line = f"{name.rsplit('.', 1)[1]}: {rest}"
    return line.rstrip("; ")[:ERROR_MAX]


def bin_index(duration_s: float) -> int:
    """Histogram bin that holds a duration."""
    if duration_s < BIN_FLOOR_S:
        return 0
    return int(math.floor(math.log(duration_s / BIN_FLOOR_S) / _LOG_RATIO)) + 1


def bin_value(index: int) -> float:
    """Representative duration of a bin: the geometric midpoint of its bounds."""
    if index <= 0:
        return BIN_FLOOR_S / 2
    low = BIN_FLOOR_S * BIN_RATIO ** (index - 1)
    return low * math.sqrt(BIN_RATIO)


def percentile_from_bins(counts: dict[int, int], q: float) -> float | None:
    """Nearest-rank percentile ``q`` (0-100) of a histogram; None when it is empty."""
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q / 100.0 * total))
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            return bin_value(index)
    return bin_value(max(counts))


def exact_percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of raw values; the reference the histogram is measured against."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def hour_of(epoch: float) -> int:
    """Hourly metrics bucket an epoch falls in."""
    return int(epoch // 3600)


def window_hours(now_epoch: float, hours: int = 24) -> list[int]:
    """The hourly buckets that make up the last ``hours`` hours, oldest first, current hour last."""
    current = hour_of(now_epoch)
    return list(range(current - hours + 1, current + 1))


def slot_of(epoch: float) -> int:
    """The 5-minute bucket of the recent window an epoch falls in."""
    return int(epoch // METRIC_RECENT_S)


def recent_slots(now_epoch: float, slots: int = METRIC_RECENT_SLOTS) -> list[int]:
    """The 5-minute buckets that make up the last ``slots`` × 5 minutes, oldest first, the current one last."""
    current = slot_of(now_epoch)
    return list(range(current - slots + 1, current + 1))


def to_epoch(value: str | bytes | None) -> float | None:
    """Parse an epoch float or an RQ ISO-8601 timestamp; None when absent or malformed."""
    if value is None:
        return None
    if isinstance(value, bytes):
        if b"T" not in value:  # an epoch number: float() parses the bytes themselves, no decode (a refresh's hot path)
            try:
                return float(value)
            except ValueError:
                pass
        try:
            value = value.decode()
        except UnicodeDecodeError:
            return None
    value = value.strip()
    if not value:
        return None
    if "T" not in value:  # an epoch number (RQ's ISO timestamps always hold a "T"): no exception to pay for
        try:
            return float(value)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def from_epoch(epoch: float | None) -> datetime | None:
    """An aware UTC datetime for an epoch, or None."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc)
