"""A modal with every field rqtop keeps about one recent execution, and the job-level action keys on it."""

from __future__ import annotations

from functools import partial

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from tui import formatting as fmt
from tui.action_table import JOB_ACTIONS, JobAction
from tui.data.models import HistoryRow
from tui.screens.job_action_keys import JOB_BINDINGS, JobActionKeys


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


class JobActionCommands(Provider):
    """The palette entries of a job detail screen: each job action its keys offer on this job, gated the same."""

    def _available(self) -> list[tuple[str, str, str]]:
        """(title, action, help) for each job action the screen allows now."""
        screen = self.screen
        if not isinstance(screen, JobFieldsScreen):
            return []
        return [(f"job: {row.title} ({row.key})", f"job_action('{row.name}')", row.help) for row in screen.shown_rows()
                if screen.check_action("job_action", (row.name,)) is not False]

    async def discover(self) -> Hits:
        """Every job action offered, for the palette's empty query."""
        for title, action, help_text in self._available():
            yield DiscoveryHit(title, partial(self.screen.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        """Offered job actions whose title matches ``query``."""
        matcher = self.matcher(query)
        for title, action, help_text in self._available():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.screen.run_action, action), help=help_text)


class JobFieldsScreen(JobActionKeys, FieldsScreen):
    """A job's detail with one key per job action (uppercase: each asks first); hidden when read-only.

    The keys act on this one job through ``JobActionKeys`` (the Jobs tab acts on its rows through the same mixin).
    """

    BINDINGS = list(JOB_BINDINGS)
    COMMANDS = {JobActionCommands}
    HINT_TAIL = "each asks first · Esc to close"
    """The hint line under the keys (a subclass names its own extra keys here)."""

    def __init__(self, title: str, fields: list[tuple[str, str]], error: bool, job_id: str,
                 running: bool | None = None) -> None:
        super().__init__(title, fields, error)
        self.job_id = job_id
        self.running = running
        """Whether the job was running when read (None: not known); Cancel running is offered only then."""

    def shown_rows(self) -> list[JobAction]:
        """The job actions this screen offers: every row the role may take, Cancel running only on a running job."""
        settings = getattr(self.app, "settings", None)
        return [row for row in JOB_ACTIONS
                if self._offers(row.name) and not (settings is not None and settings.refusal(row.name))]

    def _offers(self, name: str) -> bool:
        """Cancel running is for running jobs; every other action is planned and skips what it does not apply to."""
        return name != "cancel_running" or self.running is not False

    def on_mount(self) -> None:
        """The action keys in the hint unless read-only (FieldsScreen.on_mount fills the fields: Textual runs both)."""
        if not self.job_actions_hidden():
            keys_hint = "  ".join(f"{row.key} {row.verb}" for row in self.shown_rows())
            self.query_one("#detail-hint", Label).update(f"{keys_hint}\n{self.HINT_TAIL}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only hides and refuses every job action; the role hides the ones it may not take; Cancel running
        shows only on a running job."""
        if action != "job_action":
            return True
        if self.job_actions_hidden():
            return False
        settings = getattr(self.app, "settings", None)
        if parameters and settings is not None and settings.refusal(str(parameters[0])):
            return False
        return self._offers(str(parameters[0])) if parameters else True

    def on_key(self, event: events.Key) -> None:
        """A job action key the role may not press (hidden, so Textual ignores it) says why nothing happens."""
        settings = getattr(self.app, "settings", None)
        if settings is None or settings.read_only:
            return
        row = next((row for row in JOB_ACTIONS if row.key in (event.key, event.character)), None)
        refusal = settings.refusal(row.name) if row is not None else None
        if refusal:
            event.stop()
            self.app.notify(refusal, severity="warning")

    def job_action_ids(self) -> tuple[str, ...]:
        """This one job."""
        return (self.job_id,)


class JobDetailScreen(JobFieldsScreen):
    """Detail of one history row, as of the snapshot it came from, with the job action keys."""

    def __init__(self, row: HistoryRow, now: float) -> None:
        super().__init__(f"Job {fmt.short_task(row.task)}", detail_fields(row, now), bool(row.error), row.id,
                         running=row.state == "running")
        self._row = row
