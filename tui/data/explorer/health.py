"""A job's health and attempts for the detail drawer, with the explorer's own definitions (``match.attention_kinds``
and ``rows.build_row``), so the drawer and the list never disagree."""

from __future__ import annotations

from dataclasses import dataclass

from tui.data.explorer.attempts import AttemptHistory
from tui.data.explorer.match import BACKLOG_AFTER_S, attention_kinds
from tui.data.explorer.rows import ABANDONED_AFTER_S, ExplorerRow, build_row
from tui.data.job_meta import Fields, JobDetail
from worker.safe_decoding import UNREADABLE


@dataclass(frozen=True)
class Health:
    """The refined state, attempts as ``n of max`` and the health line of one job."""

    state: str
    attempts: str
    health: str


def _span(seconds: float) -> str:
    """``42 s``, ``12 min``, ``3 h`` (whole units)."""
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.0f} h"


def _row(detail: JobDetail, history: AttemptHistory, now: float) -> ExplorerRow:
    """The explorer row the job would be listed as."""
    raw = {b"retries_left": detail.retries_left, b"number_of_retries": detail.number_of_retries,
           b"timeout": detail.timeout,
           b"last_heartbeat": detail.last_heartbeat.timestamp() if detail.last_heartbeat else None}
    extra = Fields({key: repr(value).encode() for key, value in raw.items() if value is not None})
    return build_row(detail, extra, Fields({}), (), now, runs=len(history.attempts))


def job_health(detail: JobDetail, history: AttemptHistory, now: float) -> Health:
    """What the drawer says of a job's health: ``ok``, or each attention kind it falls under with its figure."""
    row = _row(detail, history, now)
    if detail.unreadable or row.state == UNREADABLE:
        return Health(row.state, row.attempts_text, "unreadable: some fields could not be read")
    words = []
    for kind in attention_kinds(row, now, detail.timeout):
        if kind == "failures":
            words.append(f"needs attention: {row.state}, not re-run or dismissed")
        elif kind == "retry":
            left = row.retries_left or 0
            words.append(f"retry pressure: {left} retr{'y' if left == 1 else 'ies'} left")
        elif kind == "stuck" and row.state == "abandoned":
            beat = row.last_heartbeat or detail.started_at
            words.append(f"stuck: no heartbeat for {_span(now - beat.timestamp())}" if beat else
                         f"stuck: no heartbeat for over {_span(ABANDONED_AFTER_S)}")
        elif kind == "stuck" and detail.started_at is not None:
            words.append(f"stuck: running {_span(now - detail.started_at.timestamp())}, past its "
                         f"{_span(float(detail.timeout or 0))} timeout")
        elif kind == "backlog":
            queued = detail.enqueued_at or detail.created_at
            waited = now - queued.timestamp() if queued else BACKLOG_AFTER_S
            words.append(f"backlog: pending for {_span(waited)}")
    return Health(row.state, row.attempts_text, " · ".join(words) or "ok")
