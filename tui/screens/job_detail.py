"""A modal with every field rqtop keeps about one recent execution, and the job-level action keys on it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from tui import formatting as fmt
from tui.data.models import HistoryRow
from tui.screens.job_action_keys import JOB_BINDINGS, KEYS_HINT, JobActionKeys


def detail_fields(row: HistoryRow, now: float) -> list[tuple[str, str]]:
    """(label, value) pairs describing one execution."""
    return [
        ("Job id", row.id),
        ("Job type", row.task),
        ("Queue", row.queue),
        ("State", fmt.state_label(row.state)),
        ("Created", f"{fmt.timestamp(row.created_at)}  ({fmt.relative(row.created_at, now)})"),
        ("Started", fmt.timestamp(row.started_at)),
        ("Ended", fmt.timestamp(row.ended_at)),
        ("Ran for", fmt.ran_for(row.started_at, row.ended_at)),
        ("Retries", str(row.retries)),
        ("Schedule", row.schedule or fmt.NO_VALUE),
        ("Worker", row.worker or fmt.NO_VALUE),
        ("Error", row.error or fmt.NO_VALUE),
    ] + ([("Progress", row.progress.summary)] if row.progress is not None and row.state == "running" else [])


class FieldsScreen(ModalScreen[None]):
    """A read-only modal of (label, value) fields, the Error field in red: the detail of one job or execution."""

    BINDINGS = [Binding("escape,q,enter", "close", "Close", id="detail.close", tooltip="Back to where you were")]

    def __init__(self, title: str, fields: list[tuple[str, str]], error: bool) -> None:
        super().__init__()
        self._title = title
        self._fields = fields
        self._error = error

    def compose(self) -> ComposeResult:
        """A two-column table of fields."""
        with Vertical(id="detail-dialog") as dialog:
            dialog.border_title = Content(self._title)  # a task name is never markup
            yield DataTable(id="detail-table", cursor_type="none", show_header=False)
            yield Label("Esc to close", id="detail-hint")

    def on_mount(self) -> None:
        """Fill the fields once."""
        table = self.query_one("#detail-table", DataTable)
        table.add_columns("Field", "Value")
        for label, value in self._fields:
            style = "bold red" if label == "Error" and self._error else ""
            table.add_row(Text(label, style="bold"), Text(value, style=style))

    def action_close(self) -> None:
        """Back to the screen below."""
        self.dismiss(None)


class JobFieldsScreen(JobActionKeys, FieldsScreen):
    """A job's detail with one key per job action (uppercase: each asks first); hidden when read-only.

    The keys act on this one job through ``JobActionKeys`` (the Jobs tab acts on its rows through the same mixin).
    """

    BINDINGS = list(JOB_BINDINGS)
    HINT_TAIL = "each asks first · Esc to close"
    """The hint line under the keys (a subclass names its own extra keys here)."""

    def __init__(self, title: str, fields: list[tuple[str, str]], error: bool, job_id: str) -> None:
        super().__init__(title, fields, error)
        self.job_id = job_id

    def on_mount(self) -> None:
        """The action keys in the hint unless read-only (FieldsScreen.on_mount fills the fields: Textual runs both)."""
        if not self.job_actions_hidden():
            self.query_one("#detail-hint", Label).update(f"{KEYS_HINT}\n{self.HINT_TAIL}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only hides and refuses every job action."""
        return not (action == "job_action" and self.job_actions_hidden())

    def job_action_ids(self) -> tuple[str, ...]:
        """This one job."""
        return (self.job_id,)


class JobDetailScreen(JobFieldsScreen):
    """Detail of one history row, as of the snapshot it came from, with the job action keys."""

    def __init__(self, row: HistoryRow, now: float) -> None:
        super().__init__(f"Job {fmt.short_task(row.task)}", detail_fields(row, now), bool(row.error), row.id)
        self._row = row
