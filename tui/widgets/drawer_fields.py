"""The (label, value) fields of a job's detail drawer, shared by the Jobs tab's drawer and ``rqtop jobs show``:
a job's detail fields plus health, attempts (n of max), scheduled and canceled times and the payload."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui import formatting as fmt
from tui.data.explorer.health import job_health
from tui.widgets.page_rows import detail_fields

if TYPE_CHECKING:
    from tui.data.explorer.attempts import AttemptHistory
    from tui.data.job_meta import JobDetail


def payload_fields(detail: JobDetail) -> list[tuple[str, str]]:
    """Args and kwargs as plain data (masked), or the structure of a payload that is not plain data, each global
    it names listed (read from its opcodes, never imported)."""
    payload = detail.payload
    if payload is None:
        return []
    if payload.plain:
        return [("Args", payload.args or "[]")] + [(f"Kwargs · {key}", value) for key, value in payload.kwargs]
    rows = [("Payload", payload.note or "not plain data")]
    rows += [("Payload structure", payload.structure)] if payload.structure else []
    rows += [("Payload names", ", ".join(payload.globals))] if payload.globals else []
    return rows


def drawer_fields(detail: JobDetail, history: AttemptHistory, now: float) -> list[tuple[str, str]]:
    """A job's detail fields plus health, attempts (n of max), scheduled and canceled times and the payload
    (the attempt history is listed after them by each caller)."""
    health = job_health(detail, history, now)
    extra = {"State": [("Health", health.health), ("Attempts", health.attempts)],
             "Ended": [("Scheduled for", f"{fmt.timestamp(detail.scheduled_at)}  "
                                         f"({fmt.relative(detail.scheduled_at, now)})")] * bool(detail.scheduled_at)
             + [("Canceled", fmt.timestamp(detail.canceled_at))] * bool(detail.canceled_at),
             "Description": payload_fields(detail)}
    fields: list[tuple[str, str]] = []
    for label, value in detail_fields(detail, now):
        fields.append((label, value))
        fields += extra.get(label, [])
    return fields
