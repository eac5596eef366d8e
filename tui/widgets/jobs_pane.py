"""The Background Jobs tab: scheduled jobs, the Job Management strip and recent job history."""

from __future__ import annotations

from dataclasses import dataclass

from textual import getters, on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Label

from tui import formatting as fmt
from tui.data.models import HistoryRow, ScheduleRow, Snapshot
from tui.data.settings import Settings
from tui.keyspec import KeySpec
from tui.widgets.job_rows import HISTORY_COLUMNS, SCHEDULE_COLUMNS, history_row, schedule_row
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.labels import set_label


class JobsPane(Vertical):
    """Shows schedules and history from a Snapshot; asks the App for actions through messages."""

    @dataclass
    class ActionRequested(Message):
        """The operator pressed a Job Management button; ``action`` is the App action's name."""

        action: str

    @dataclass
    class HistorySelected(Message):
        """The operator chose a history row to see in detail."""

        row: HistoryRow

    schedules_table = getters.query_one("#schedules-table", KeyedTable)
    """The Scheduled Jobs table."""
    history_table = getters.query_one("#history-table", KeyedTable)
    """The Recent Job History table."""

    def __init__(self, settings: Settings, buttons: tuple[KeySpec, ...] = (), *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._settings = settings
        self._buttons = buttons
        """The keys that also get a Job Management button (label = title, the key's variant and palette help)."""
        self._schedules: dict[str, ScheduleRow] = {}
        self._history: dict[str, HistoryRow] = {}

    def compose(self) -> ComposeResult:
        """Two tables with the management strip between them."""
        yield Label("Scheduled Jobs", id="schedules-title", classes="section-title")
        yield KeyedTable(SCHEDULE_COLUMNS, row_height=2, id="schedules-table",
                         optional=frozenset({"description", "priority", "source"}), full_width=126)
        yield Label("No schedules are registered.", id="schedules-empty", classes="empty-state")
        read_only = self._settings.read_only
        with Horizontal(id="job-management", disabled=read_only) as strip:
            strip.display = not read_only
            yield Label("Job Management", classes="strip-title")
            for spec in self._buttons:
                yield Button(spec.title, id=f"btn-{spec.action}", variant=spec.button or "default",
                             compact=True, tooltip=spec.palette_help, disabled=read_only)
            yield Label("n run now · p pause/resume", id="row-hint")
        yield Label("Recent Job History", id="history-title", classes="section-title")
        yield KeyedTable(HISTORY_COLUMNS, id="history-table")
        yield Label("No job has run recently.", id="history-empty", classes="empty-state")
        yield Label("", id="history-note", classes="empty-state")
        notify_status = Label("", id="notify-status", classes="empty-state")
        notify_status.display = False
        yield notify_status

    def show(self, snapshot: Snapshot, now: float) -> None:
        """Update both tables in place from ``snapshot``."""
        self._schedules = {row.name: row for row in snapshot.schedules}
        history = snapshot.history[: self._settings.history_limit]
        self._history = {row.id: row for row in history}
        threshold = self._settings.pending_threshold
        self.schedules_table.sync([schedule_row(row, now, threshold) for row in snapshot.schedules])
        self.history_table.sync([history_row(row, now) for row in history])
        paused = sum(1 for row in snapshot.schedules if row.paused)
        title = f"Scheduled Jobs ({len(snapshot.schedules)}"
        title += f", {paused} paused" if paused else ""
        title += f", +{snapshot.schedules_more} more not read" if snapshot.schedules_more else ""
        down = [s.source if s.source == "rq-scheduler" else s.name for s in snapshot.schedulers if not s.alive]
        title += ")" + (f"  ✗ scheduler down: {', '.join(down)}" if down else "")
        self.query_one("#schedules-title", Label).update(title)
        self.query_one("#history-title", Label).update(f"Recent Job History (last {len(history)})")
        self.query_one("#schedules-empty").display = not snapshot.schedules
        set_label(self.query_one("#history-empty", Label), empty_history_text(snapshot), not history)
        set_label(self.query_one("#history-note", Label), snapshot.history_note or "",
                      bool(snapshot.history_note and history))
        note = notify_text(snapshot)
        set_label(self.query_one("#notify-status", Label), note, bool(note))

    def selected_schedule(self) -> ScheduleRow | None:
        """The schedule under the cursor, as of the last snapshot shown."""
        key = self.schedules_table.highlighted_key
        return self._schedules.get(key) if key is not None else None

    def focus_table(self) -> None:
        """Give the Scheduled Jobs table the keyboard."""
        self.schedules_table.focus()

    @on(Button.Pressed)
    def _request_action(self, event: Button.Pressed) -> None:
        """Turn a management button into a request the App checks and confirms."""
        event.stop()
        if event.button.id and event.button.id.startswith("btn-"):
            self.post_message(self.ActionRequested(event.button.id.removeprefix("btn-")))

    @on(DataTable.RowSelected, "#history-table")
    def _open_history_row(self, event: DataTable.RowSelected) -> None:
        """Enter on a history row asks for its detail screen."""
        event.stop()
        row = self._history.get(event.row_key.value or "")
        if row is not None:
            self.post_message(self.HistorySelected(row))


def empty_history_text(snapshot: Snapshot) -> str:
    """What an empty history says: who records it, and what RQ itself holds that rqtop did not record."""
    if snapshot.history_source == "rqtop":
        return "No job has run recently."
    return fmt.not_recorded_text(snapshot.totals.completed)


def notify_text(snapshot: Snapshot) -> str:
    """The notifications line: shown only while some wait or delivery attempts failed ("" otherwise)."""
    counts = snapshot.notify
    if not counts.pending and not counts.failures:
        return ""
    text = f"Notifications: {fmt.count(counts.pending)} waiting · {fmt.plural(counts.failures, 'failed attempt')}"
    return text + (f" · ✗ {counts.failing} failing (rqtop notify status)" if counts.failing else "")
