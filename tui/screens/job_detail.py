"""A modal with every field rqtop keeps about one recent execution."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from tui import formatting as fmt
from tui.data.models import HistoryRow


def detail_fields(row: HistoryRow, now: float) -> list[tuple[str, str]]:
    """(label, value) pairs describing one execution."""
    started, ended = fmt.to_epoch(row.started_at), fmt.to_epoch(row.ended_at)
    ran = fmt.duration(ended - started) if started is not None and ended is not None else fmt.NO_VALUE
    return [
        ("Job id", row.id),
        ("Job type", row.task),
        ("Queue", row.queue),
        ("State", fmt.state_label(row.state)),
        ("Created", f"{fmt.timestamp(row.created_at)}  ({fmt.relative(row.created_at, now)})"),
        ("Started", fmt.timestamp(row.started_at)),
        ("Ended", fmt.timestamp(row.ended_at)),
        ("Ran for", ran),
        ("Retries", str(row.retries)),
        ("Schedule", row.schedule or fmt.NO_VALUE),
        ("Worker", row.worker or fmt.NO_VALUE),
        ("Error", row.error or fmt.NO_VALUE),
    ]


class JobDetailScreen(ModalScreen[None]):
    """Read-only detail of one history row, as of the snapshot it came from."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close", id="detail.close", tooltip="Back to the dashboard")]

    def __init__(self, row: HistoryRow, now: float) -> None:
        super().__init__()
        self._row = row
        self._now = now

    def compose(self) -> ComposeResult:
        """A two-column table of fields."""
        with Vertical(id="detail-dialog") as dialog:
            dialog.border_title = f"Job {fmt.short_task(self._row.task)}"
            yield DataTable(id="detail-table", cursor_type="none", show_header=False)
            yield Label("Esc to close", id="detail-hint")

    def on_mount(self) -> None:
        """Fill the fields once."""
        table = self.query_one("#detail-table", DataTable)
        table.add_columns("Field", "Value")
        for label, value in detail_fields(self._row, self._now):
            style = "bold red" if label == "Error" and self._row.error else ""
            table.add_row(Text(label, style="bold"), Text(value, style=style))

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)
