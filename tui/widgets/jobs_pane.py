"""The Background Jobs tab: scheduled jobs, the Job Management strip and recent job history."""

from __future__ import annotations

from collections.abc import Sequence
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
from tui.widgets.job_rows import (
    HISTORY_COLUMNS,
    HISTORY_FULL_WIDTH,
    HISTORY_NARROW_OUT,
    HISTORY_SORTS,
    HISTORY_WIDE,
    HISTORY_WIDE_WIDTH,
    history_row,
    schedule_columns,
    schedule_row,
    text_widths,
)
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.labels import set_label
from tui.widgets.sorting import Sorting

SCHEDULES_FULL_WIDTH = 126
LAST_RUN_FULL_WIDTH = 100
"""Below this many cells Last run shows its exact time over the outcome, without "4 min ago", so it fits at 80."""
"""The Scheduled Jobs table shows Source, Description and Priority from this many cells."""


ROW_HINT_IDS = frozenset({"schedule.run_now", "schedule.pause", "schedule.edit"})
"""The binding ids of the schedule-row keys the Job Management strip names."""


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

    @dataclass
    class ScheduleOpened(Message):
        """Enter on a schedule row that is running or needs attention: the App opens the Jobs tab on its runs."""

        row: ScheduleRow

    schedules_table = getters.query_one("#schedules-table", KeyedTable)
    """The Scheduled Jobs table."""
    history_table = getters.query_one("#history-table", KeyedTable)
    """The Recent Job History table."""

    def __init__(self, settings: Settings, buttons: tuple[KeySpec, ...] = (), row_keys: tuple[KeySpec, ...] = (), *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._settings = settings
        self._buttons = buttons
        """The keys that also get a Job Management button (label = title, the key's variant and palette help)."""
        self._row_keys = row_keys
        """The schedule-row keys the strip's hint names (run now, pause, edit)."""
        self._schedules: dict[str, ScheduleRow] = {}
        self._history: dict[str, HistoryRow] = {}
        self.history_sorting = Sorting(HISTORY_SORTS)
        self._newer = 0
        """Rows that arrived above the history cursor since the operator moved it off the newest row."""
        self._history_title = "Recent Job History"
        self._last: tuple[Snapshot, float] | None = None
        self._widths: tuple[int, int] | None = None
        """The (description, schedule) text widths the schedule rows were last cut to."""
        self._compact = False
        """Whether the schedule rows were last drawn for a narrow table (short Last run and attention labels)."""

    def _row_hint(self) -> str:
        """ "n run now · p pause/resume · E edit", with the keys the keymap moved them to and the refused ones left
        out, so the hint never names a key that does something else."""
        moved = dict(self._settings.keymap)
        return " · ".join(f"{moved.get(spec.id, spec.key).split(',')[0].strip()} {spec.description.lower()}"
                          for spec in self._row_keys if not self._settings.refusal(spec.name))

    def compose(self) -> ComposeResult:
        """Two tables with the management strip between them."""
        yield Label("Scheduled Jobs", id="schedules-title", classes="section-title")
        yield KeyedTable(schedule_columns(self._settings.clock()), row_height=2, id="schedules-table",
                         optional=frozenset({"description", "priority", "source"}), full_width=SCHEDULES_FULL_WIDTH)
        yield Label("No schedules are registered.", id="schedules-empty", classes="empty-state")
        read_only = self._settings.read_only
        with Horizontal(id="job-management", disabled=read_only) as strip:
            strip.display = not read_only
            yield Label("Job Management", classes="strip-title")
            for spec in self._buttons:
                yield Button(spec.title, id=f"btn-{spec.action}", variant=spec.button or "default",
                             compact=True, tooltip=spec.palette_help,
                             disabled=read_only or bool(self._settings.refusal(spec.action)))
            yield Label(self._row_hint(), id="row-hint", markup=False)
        with Horizontal(classes="title-row"):
            yield Label("Recent Job History", id="history-title", classes="section-title")
            yield Label("", id="history-sort", classes="sort-hint")
        yield KeyedTable(HISTORY_COLUMNS, id="history-table", sorting=self.history_sorting,
                         optional=HISTORY_NARROW_OUT,
                         full_width=HISTORY_FULL_WIDTH, wide=HISTORY_WIDE, wide_width=HISTORY_WIDE_WIDTH)
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
        self._last = (snapshot, now)
        widths = text_widths(self.size.width, SCHEDULES_FULL_WIDTH)
        if widths != self._widths:
            self._widths = widths
            self.schedules_table.reset()
        compact = self._compact = self.size.width < LAST_RUN_FULL_WIDTH
        self.schedules_table.sync([schedule_row(row, now, threshold, widths, compact) for row in snapshot.schedules])
        self._sync_history(history, now)
        paused = sum(1 for row in snapshot.schedules if row.paused)
        title = f"Scheduled Jobs ({len(snapshot.schedules)}"
        title += f", {paused} paused" if paused else ""
        title += f", +{snapshot.schedules_more} more not read" if snapshot.schedules_more else ""
        down = [s.source if s.source == "rq-scheduler" else s.name for s in snapshot.schedulers if not s.alive]
        title += ")" + (f"  ✗ scheduler down: {', '.join(down)}" if down else "")
        self.query_one("#schedules-title", Label).update(title)
        self._history_title = f"Recent Job History (last {len(history)})"
        self._show_history_title()
        self.query_one("#schedules-empty").display = not snapshot.schedules
        set_label(self.query_one("#history-empty", Label), empty_history_text(snapshot), not history)
        set_label(self.query_one("#history-note", Label), snapshot.history_note or "",
                      bool(snapshot.history_note and history))
        note = notify_text(snapshot)
        set_label(self.query_one("#notify-status", Label), note, bool(note))

    def _sync_history(self, history: Sequence[HistoryRow], now: float) -> None:
        """Show ``history``: pinned to the newest row while the cursor is on it, else kept on its row, counting
        the rows that arrived above it (the title's "↑ N newer"). Sorted any other way than newest first, the
        cursor stays on its row and nothing counts as newer."""
        table = self.history_table
        newest_first = self.history_sorting.is_default
        pinned = table.cursor_row <= 0 and newest_first
        before = {key.value for key in table.rows}
        table.sync([history_row(row, now) for row in self.history_sorting.apply(history)])
        set_label(self.query_one("#history-sort", Label), self.history_sorting.hint, not newest_first)
        if not newest_first:
            self._newer = 0
            return
        if pinned:
            self._newer = 0
            if table.row_count:
                table.move_cursor(row=0, scroll=False)
            table.scroll_home(animate=False)
            return
        self._newer += sum(1 for row in history[: table.cursor_row] if row.id not in before)

    def on_resize(self) -> None:
        """A new width re-cuts the schedule texts (the description takes the spare cells)."""
        if self._last is not None and (text_widths(self.size.width, SCHEDULES_FULL_WIDTH) != self._widths
                                       or (self.size.width < LAST_RUN_FULL_WIDTH) != self._compact):
            self.show(*self._last)

    def selected_schedule(self) -> ScheduleRow | None:
        """The schedule under the cursor, as of the last snapshot shown."""
        key = self.schedules_table.highlighted_key
        return self._schedules.get(key) if key is not None else None

    def schedules_focused(self) -> bool:
        """True while the Scheduled Jobs table has this screen's focus (a modal or the palette on top keeps it)."""
        return self.is_mounted and self.screen.focused is self.schedules_table

    def sort_table(self) -> KeyedTable | None:
        """The table `s` and `S` act on: Recent Job History while it has focus (the schedules are not sorted)."""
        return self.history_table if self.is_mounted and self.screen.focused is self.history_table else None

    def focus_table(self) -> None:
        """Give the Scheduled Jobs table the keyboard."""
        self.schedules_table.focus()

    @on(Button.Pressed)
    def _request_action(self, event: Button.Pressed) -> None:
        """Turn a management button into a request the App checks and confirms."""
        event.stop()
        if event.button.id and event.button.id.startswith("btn-"):
            self.post_message(self.ActionRequested(event.button.id.removeprefix("btn-")))

    @on(DataTable.RowHighlighted, "#history-table")
    def _history_cursor_moved(self, event: DataTable.RowHighlighted) -> None:
        """Back on the newest row: pinned again, nothing newer to point at."""
        if event.cursor_row == 0 and self._newer:
            self._newer = 0
            self._show_history_title()

    def _show_history_title(self) -> None:
        """The history title, with "↑ N newer" while rows arrived above the cursor."""
        newer = f"  ↑ {self._newer} newer" if self._newer else ""
        self.query_one("#history-title", Label).update(self._history_title + newer)

    @on(DataTable.RowSelected, "#schedules-table")
    def _open_schedule_row(self, event: DataTable.RowSelected) -> None:
        """Enter on a schedule that needs attention or is running asks for its jobs in the explorer."""
        event.stop()
        row = self._schedules.get(event.row_key.value or "")
        if row is not None and (row.needs_attention or row.running):
            self.post_message(self.ScheduleOpened(row))

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
