"""The Workers tab: five total cards, the per-queue table and the Worker Status table."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, Static

from tui import formatting as fmt
from tui.data.models import Snapshot
from tui.data.settings import Backlog
from tui.screens.worker_detail import WorkerDetailScreen
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.sorting import Sorting
from tui.widgets.worker_rows import (
    MANY_QUEUES,
    QUEUE_COLUMNS,
    QUEUE_SORTS,
    WORKER_COLUMNS,
    WORKER_SORTS,
    queue_order,
    queue_row,
    unattended_queues,
    unattended_warning,
    worker_row,
)

CARDS = (("active", "Active"), ("pending", "Pending"), ("completed", "Completed"), ("failed", "Failed"),
         ("retry", "Retry"))

CARD_TOOLTIPS = {
    "active": "Jobs running now, over every queue (RQ's started registries, abandoned entries left out)",
    "pending": "Jobs waiting in every queue",
    "completed": "Completed jobs RQ still keeps (until their result TTL), over every queue",
    "failed": "Failed jobs RQ still keeps in its failed registries, over every queue; a worker's \"Failed runs\" "
              "counts the jobs it failed since it started, kept or not",
    "retry": "Failed jobs waiting in the scheduled registry for another try",
}
"""What each total card counts, shown on hover (the Failed card and a worker's Failed runs differ)."""


class CountCard(Static):
    """One bordered total, titled with what it counts."""

    def __init__(self, field: str, title: str) -> None:
        # The colour rules select a class, not the id: Textual's style cache keys a node by its classes, so
        # id-only differences between siblings were lost after a restyle (a blip turned every card amber).
        super().__init__("0", id=f"card-{field}", classes=f"card card-{field}")
        self.field = field
        self.border_title = title
        self.tooltip = CARD_TOOLTIPS.get(field)

    def show(self, value: int, level: str | None = None, as_of_s: float | None = None) -> None:
        """Show a new total; the card lights up when it is non-zero, amber or red at a backlog ``level``; a total
        summing counts not re-read this refresh says how old the oldest is (``as_of_s``)."""
        self.update(fmt.count(value))
        self.border_subtitle = f"≤ {fmt.span(as_of_s)} ago" if as_of_s is not None and as_of_s >= 1 else None
        self.set_class(value > 0, "-nonzero")
        self.set_class(level == "amber", "-amber")
        self.set_class(level == "red", "-red")


def _in_view(table: KeyedTable, margin: int) -> frozenset[str]:
    """Keys of the rows in ``table``'s viewport, ``margin`` rows either side; none while it is hidden or empty."""
    if not table.display or table.row_count == 0:
        return frozenset()
    top = max(0, int(table.scroll_y) - margin)
    bottom = int(table.scroll_y) + table.size.height + margin
    return frozenset(str(row.key.value) for row in table.ordered_rows[top:bottom] if row.key.value is not None)


class WorkersPane(Vertical):
    """Shows queue totals, queues and workers from a Snapshot; 1,000 workers update in place."""

    @dataclass
    class QueueSelected(Message):
        """The operator chose a queue whose jobs to browse."""

        queue: str

    def __init__(self, backlog: Backlog | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.worker_sorting = Sorting(WORKER_SORTS)
        self.queue_sorting = Sorting(QUEUE_SORTS)
        self.backlog = backlog or Backlog()
        self._snapshot: Snapshot | None = None
        self._now = 0.0

    def compose(self) -> ComposeResult:
        """Cards on top, queues, the warning line, then workers."""
        with Horizontal(id="cards"):
            for field, title in CARDS:
                yield CountCard(field, title)
        with Horizontal(classes="title-row"):
            yield Label("Queues", id="queues-title", classes="section-title")
            yield Label("", id="queues-sort", classes="sort-hint")
        yield KeyedTable(QUEUE_COLUMNS, id="queues-table", sorting=self.queue_sorting)
        yield Label("", id="unattended-warning", classes="warning-line", markup=False)
        with Horizontal(classes="title-row"):
            yield Label("Worker Status", id="workers-title", classes="section-title")
            yield Label("", id="workers-sort", classes="sort-hint")
        yield Label("No workers", id="workers-empty", classes="empty-state")
        yield KeyedTable(WORKER_COLUMNS, id="workers-table", sorting=self.worker_sorting,
                         optional=frozenset({"mode", "version", "uptime", "processed"}), full_width=110)

    @property
    def workers_table(self) -> KeyedTable:
        """The Worker Status table."""
        return self.query_one("#workers-table", KeyedTable)

    @property
    def queues_table(self) -> KeyedTable:
        """The per-queue table."""
        return self.query_one("#queues-table", KeyedTable)

    def visible_workers(self, margin: int = 5) -> frozenset[str]:
        """Names of the workers in the Worker Status table's viewport (plus ``margin`` rows either side): the ones
        the reader re-reads every refresh; none while the table is hidden."""
        return _in_view(self.workers_table, margin) if self.display else frozenset()

    def visible_queues(self, margin: int = 5) -> frozenset[str]:
        """Names of the queues in the queue table's viewport (plus ``margin`` rows either side): the ones whose
        counts the reader re-reads every refresh."""
        return _in_view(self.queues_table, margin) if self.display else frozenset()

    def selected_queue(self) -> str | None:
        """The queue under the cursor, once the table has been shown."""
        return self.queues_table.highlighted_key

    @property
    def sort_index(self) -> int:
        """Which of WORKER_SORTS the Worker Status table uses."""
        return self.worker_sorting.index

    @property
    def sort_name(self) -> str:
        """What the Worker Status table is sorted by."""
        return self.worker_sorting.label

    def cycle_sort(self) -> str:
        """Move the Worker Status table to its next sort order and return its name; the caller re-renders."""
        return self.worker_sorting.cycle()

    def sort_table(self) -> KeyedTable:
        """The table `s` and `S` act on: the queues table while it has focus, else the Worker Status table."""
        if self.is_mounted and self.screen.focused is self.queues_table:
            return self.queues_table
        return self.workers_table

    def show(self, snapshot: Snapshot, now: float) -> None:
        """Update cards and both tables in place from ``snapshot``."""
        self._snapshot, self._now = snapshot, now
        totals = snapshot.totals
        for card in self.query(CountCard):
            level = self.backlog.pending_level(totals.pending) if card.field == "pending" else None
            card.show(getattr(totals, card.field), level, totals.as_of_s)
        unattended = set(self._unattended(snapshot))
        taken = snapshot.taken_at.timestamp()
        self.queues_table.sync([queue_row(row, self.backlog, row.name in unattended, taken)
                                for row in self.queue_sorting.apply(snapshot.queues)])
        self.set_class(len(snapshot.queues) >= MANY_QUEUES, "-many-queues")
        workers = self.worker_sorting.apply(snapshot.workers)
        self.workers_table.sync([worker_row(row, now, taken) for row in workers])
        online = sum(1 for w in workers if w.status == "online")
        reading = snapshot.workers_as_of is not None and not workers  # another tab read none: this one reads now
        self.query_one("#workers-title", Label).update(
            "Worker Status (reading…)" if reading else f"Worker Status ({online} online of {len(workers)})")
        self.query_one("#workers-sort", Label).update(self.worker_sorting.hint)
        self.query_one("#queues-sort", Label).update(self.queue_sorting.hint)
        self.query_one("#workers-empty", Label).update("Reading workers…" if reading else "No workers")
        self.query_one("#workers-empty").display = not workers
        self.workers_table.display = bool(workers)
        self._show_warning(snapshot)

    def _show_warning(self, snapshot: Snapshot) -> None:
        """Warn when jobs wait in queues that no online worker listens to."""
        warning = self.query_one("#unattended-warning", Label)
        unattended = self._unattended(snapshot)
        if snapshot.suspended:
            warning.update("⚠ Workers are suspended: no job will start until they are resumed.")
        elif unattended:
            names = set(unattended)
            width = (self.size.width or 200) - 2  # the line's padding
            warning.update(unattended_warning([q.name for q in queue_order(snapshot.queues) if q.name in names],
                                              width))
        warning.display = snapshot.suspended or bool(unattended)

    @staticmethod
    def _unattended(snapshot: Snapshot) -> list[str]:
        """Queues with pending jobs no online worker listens to; none said while the workers shown were not read by
        this snapshot (kept from an earlier refresh, or none read yet: every queue would look unattended)."""
        return [] if snapshot.workers_as_of is not None else unattended_queues(snapshot.queues, snapshot.workers)

    def focus_table(self) -> None:
        """Give the Worker Status table the keyboard, or the queues table when there are no workers."""
        if self.workers_table.display:
            self.workers_table.focus()
        else:
            self.queues_table.focus()

    @on(DataTable.RowSelected, "#queues-table")
    def _open_queue(self, event: DataTable.RowSelected) -> None:
        """Enter on a queue row asks for its job lists."""
        event.stop()
        if event.row_key.value:
            self.post_message(self.QueueSelected(event.row_key.value))

    @on(DataTable.RowSelected, "#workers-table")
    def _open_worker(self, event: DataTable.RowSelected) -> None:
        """Enter on a worker row shows its queues, birth, state and current job, as of the shown snapshot."""
        event.stop()
        rows = {w.name: w for w in self._snapshot.workers} if self._snapshot is not None else {}
        row = rows.get(event.row_key.value or "")
        if row is not None:
            self.app.push_screen(WorkerDetailScreen(row, self._now))
