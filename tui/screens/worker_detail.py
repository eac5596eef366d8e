"""A modal with what the dashboard knows about one worker: its queues, birth, state and current job."""

from __future__ import annotations

from tui import formatting as fmt
from tui.data.models import WorkerRow
from tui.screens.job_detail import FieldsScreen
from worker.display_text import safe_text


def worker_fields(row: WorkerRow, now: float) -> list[tuple[str, str]]:
    """(label, value) pairs describing one worker, every text from Redis made safe to show."""
    attempts = (f"{fmt.count(row.attempts)} ({fmt.count(row.attempts_failed)} failed)"
                if row.attempts is not None else fmt.NO_VALUE)
    return [
        ("Worker", safe_text(row.name)),
        ("Host", safe_text(row.hostname or "") or fmt.NO_VALUE),
        ("PID", str(row.pid) if row.pid is not None else fmt.NO_VALUE),
        ("Status", fmt.state_label(row.status) + (" · some fields could not be read" if row.unreadable else "")),
        ("RQ state", safe_text(row.state or "") or fmt.NO_VALUE),
        ("Mode", safe_text(row.mode)),
        ("Version", safe_text(row.version or "") or fmt.NO_VALUE),
        ("Queues", safe_text(", ".join(row.queues)) or fmt.NO_VALUE),
        ("Born", f"{fmt.timestamp(row.birth)}  ({fmt.relative(row.birth, now)})" if row.birth else fmt.NO_VALUE),
        ("Last seen", f"{fmt.timestamp(row.last_seen)}  ({fmt.relative(row.last_seen, now)})" if row.last_seen
         else fmt.NO_VALUE),
        ("Current job id", safe_text(row.current_job_id or "") or fmt.NO_VALUE),
        ("Current job", safe_text(row.current_job or "") or fmt.NO_VALUE),
        ("Running for", fmt.duration(elapsed) if (elapsed := row.elapsed_at(now)) is not None else fmt.NO_VALUE),
        ("Processed (RQ)", fmt.count(row.processed)),
        ("Failed (RQ)", fmt.count(row.failed)),
        ("Attempts (rqtop)", attempts),
    ]


class WorkerDetailScreen(FieldsScreen):
    """Read-only detail of one worker row, as of the snapshot it came from."""

    def __init__(self, row: WorkerRow, now: float) -> None:
        super().__init__(f"Worker {safe_text(row.name)}", worker_fields(row, now), False)
        self.row = row
