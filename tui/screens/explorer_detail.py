"""The detail drawer of one job: its fields, attempt history, running executions and the scrollable traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Label, Static

from tui import formatting as fmt
from tui.screens.job_detail import JobFieldsScreen
from tui.widgets.page_rows import detail_fields

if TYPE_CHECKING:
    from tui.data.explorer.attempts import AttemptHistory
    from tui.data.job_meta import JobDetail


def attempt_fields(history: AttemptHistory) -> list[tuple[str, str]]:
    """(label, value) per attempt, newest first, and per execution running now."""
    rows = [(f"Attempt -{number}", f"{attempt.outcome} · {fmt.timestamp(attempt.started_at)} → "
             f"{fmt.timestamp(attempt.ended_at)} · {attempt.worker or fmt.NO_VALUE} · "
             f"{attempt.error or fmt.NO_VALUE}")
            for number, attempt in enumerate(history.attempts, 1)]
    return rows + [("Running", execution) for execution in history.running]


class ExplorerDetailScreen(JobFieldsScreen):
    """Detail of one job as read when Enter was pressed, with the job action keys; ``y`` copies its id (OSC 52)."""

    DEFAULT_CSS = """
    ExplorerDetailScreen { align: center middle; }
    #explorer-traceback { height: auto; max-height: 12; border-top: solid $accent; }
    """
    BINDINGS = [
        Binding("y", "copy_id", "Copy id", id="detail.copy_id", tooltip="Copy the job id to the clipboard"),
    ]
    HINT_TAIL = "each asks first · y copy id · Esc to close"

    def __init__(self, detail: JobDetail, history: AttemptHistory, now: float) -> None:
        fields = detail_fields(detail, now) + attempt_fields(history)
        super().__init__(f"Job {fmt.short_task(detail.task)}", fields, bool(detail.error),
                         detail.redis_id or detail.id)
        self.detail = detail
        self.history = history

    def compose(self) -> ComposeResult:
        """The fields table, the traceback (scrollable, masked) when there is one, and the keys."""
        with Vertical(id="detail-dialog") as dialog:
            dialog.border_title = Content(self._title)  # a task name is never markup
            yield DataTable(id="detail-table", cursor_type="none", show_header=False)
            if self.history.traceback:
                with VerticalScroll(id="explorer-traceback"):
                    yield Static(Text(self.history.traceback, style="red"), markup=False)
            yield Label("y copy id · Esc to close", id="detail-hint")

    def action_copy_id(self) -> None:
        """Copy the job id (as Redis holds it) to the terminal's clipboard."""
        job_id = self.detail.redis_id or self.detail.id
        self.app.copy_to_clipboard(job_id)
        self.notify(f"Copied {fmt.short_id(self.detail.id)}", timeout=2)
