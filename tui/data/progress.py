"""A running job's progress for display: rqtop's progress key (``worker.progress``) or RQ's ``meta["progress"]``.

Both are decoded as plain data only: the key is JSON; ``meta`` goes through ``user_meta.plain_meta`` (JSON, then
the plain-data unpickler that refuses every global). The message is safe text, masked like every other value.
ETA comes from the rate between the first and the latest report when the total is known.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tui.data.user_meta import META_MAX_BYTES, plain_meta
from worker.display_text import safe_text
from worker.masking import mask

MESSAGE_SHOWN = 80
"""A progress message is cut to this many characters on screen."""


@dataclass(frozen=True)
class JobProgress:
    """How far one running job is: processed of total, a message, the percentage and an ETA when known."""

    processed: float
    total: float | None = None
    message: str = ""
    percent: float | None = None
    eta_s: float | None = None
    updated_at: float | None = None
    source: str = "rqtop"
    """"rqtop" (``report_progress``) or "meta" (RQ's ``job.meta["progress"]``)."""

    @property
    def summary(self) -> str:
        """``45/200 · 22 % · Synced 38 users`` (plain text, no markup)."""
        count = _number(self.processed) + (f"/{_number(self.total)}" if self.total else "")
        parts = [count] if self.total or self.processed else []
        if self.percent is not None:
            parts.append(f"{self.percent:.0f} %")
        if self.eta_s is not None:
            parts.append(f"ETA {_duration(self.eta_s)}")
        if self.message:
            parts.append(self.message)
        return " · ".join(parts)


def _number(value: float | None) -> str:
    """An integral count without ``.0``."""
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _duration(seconds: float) -> str:
    """A short ETA: 42s, 3m 05s, 2h 10m."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def _finite(value: Any) -> float | None:
    """A finite non-negative number, or None (booleans, strings, NaN and negatives are not counts)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _build(processed: float, total: float | None, message: Any, patterns: Sequence[str], source: str,
           first: tuple[float | None, float | None] = (None, None), updated: float | None = None) -> JobProgress:
    """The progress with its percentage and, from the rate since the first report, its ETA."""
    text = safe_text(" ".join(str(message or "").split()))[:MESSAGE_SHOWN]
    percent = min(100.0, processed * 100.0 / total) if total else None
    eta = None
    first_at, first_processed = first
    if total and updated is not None and first_at is not None and first_processed is not None:
        elapsed, done = updated - first_at, processed - first_processed
        if elapsed > 0 and done > 0 and processed < total:
            eta = (total - processed) * elapsed / done
    return JobProgress(processed=processed, total=total, message=mask(text, patterns) or "", percent=percent,
                       eta_s=eta, updated_at=updated, source=source)


def parse_progress(raw: Any, patterns: Sequence[str] = ()) -> JobProgress | None:
    """The progress stored by ``report_progress`` (JSON), or None when absent or not a progress document."""
    if not isinstance(raw, (bytes, str)) or not raw or len(raw) > META_MAX_BYTES:
        return None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    processed = _finite(doc.get("processed"))
    if processed is None:
        return None
    return _build(processed, _finite(doc.get("total")) or None, doc.get("message"), patterns, "rqtop",
                  (_finite(doc.get("first_at")), _finite(doc.get("first_processed"))), _finite(doc.get("updated_at")))


def meta_progress(raw: Any, patterns: Sequence[str] = ()) -> JobProgress | None:
    """The ``progress`` entry of a job's ``meta`` (a percentage, ``{processed|current|done, total, message}``
    or a text), decoded as plain data only; None when there is none or it cannot be read."""
    data = plain_meta(raw) if isinstance(raw, bytes) else None
    value = data.get("progress") if isinstance(data, dict) else None
    if value is None:
        return None
    number = _finite(value)
    if number is not None:
        return JobProgress(processed=0, percent=min(100.0, number), source="meta")
    if isinstance(value, str):
        progress = _build(0, None, value, patterns, "meta")
        return progress if progress.message else None
    if isinstance(value, dict):
        processed = next((_finite(value.get(k)) for k in ("processed", "current", "done") if
                          _finite(value.get(k)) is not None), None)
        if processed is not None:
            return _build(processed, _finite(value.get("total")) or None, value.get("message"), patterns, "meta")
    return None


def job_progress(progress_raw: Any, meta_raw: Any, patterns: Sequence[str] = ()) -> JobProgress | None:
    """rqtop's progress key when there is one, else RQ's ``meta["progress"]``."""
    return parse_progress(progress_raw, patterns) or meta_progress(meta_raw, patterns)
