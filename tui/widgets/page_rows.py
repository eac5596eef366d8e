"""Job cells shared by the Jobs tab's rows (state styles, times, cut text) and the fields of a job's detail."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from tui import formatting as fmt
from tui.widgets.job_rows import OUTCOME_STYLES

if TYPE_CHECKING:
    from tui.data.job_meta import JobDetail

STATE_STYLES = {**OUTCOME_STYLES, "scheduled": "", "deferred": "yellow", "expired": "dim"}


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


def detail_fields(job: JobDetail, now: float) -> list[tuple[str, str]]:
    """(label, value) pairs describing one job (the drawer adds health, attempts and the payload)."""
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
