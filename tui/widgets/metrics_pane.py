"""The Metrics tab: per-job-type runs, success and latency, with hourly bars (one scale) for the selected type."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label

from tui import formatting as fmt
from tui.data.models import MetricRow, Snapshot
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.labels import set_label
from tui.widgets.metric_rows import (
    METRIC_COLUMNS,
    METRIC_FULL_WIDTH,
    METRIC_NARROW_OUT,
    METRIC_SORTS,
    metric_row,
    recent_bars,
)
from tui.widgets.sorting import Sorting

TIP = (
    "Start here when the queue backs up: worst success rates on top; s sorts by p95; "
    "Enter lists a job type's runs."
)


class MetricsPane(Vertical):
    """Shows one row per job type; the highlighted row's hourly runs and failures appear as sparklines."""

    @dataclass
    class TaskSelected(Message):
        """The operator chose a job type whose recent runs and failures to list (Enter on its row)."""

        task: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sorting = Sorting(METRIC_SORTS)
        self._metrics: dict[str, MetricRow] = {}

    def compose(self) -> ComposeResult:
        """The table, then the sparklines, then the tip."""
        with Horizontal(classes="title-row"):
            yield Label("Job types, last 24 h", id="metrics-title", classes="section-title")
            yield Label("", id="metrics-sort", classes="sort-hint")
        yield KeyedTable(METRIC_COLUMNS, id="metrics-table", sorting=self.sorting, optional=METRIC_NARROW_OUT,
                         full_width=METRIC_FULL_WIDTH)
        yield Label("No job has finished in the last 24 hours.", id="metrics-empty", classes="empty-state")
        yield Label("", id="metrics-note", classes="empty-state")
        with Vertical(id="trend"):
            yield Label("", id="trend-title", markup=False)
            with Horizontal(classes="trend-row"):
                yield Label("runs/h", classes="trend-label")
                yield Label("", id="runs-bars", classes="trend-bars", markup=False)
                yield Label("", id="runs-max", classes="trend-max", markup=False)
            with Horizontal(classes="trend-row"):
                yield Label("failed/h", classes="trend-label")
                yield Label("", id="failures-bars", classes="trend-bars", markup=False)
                yield Label("", id="failures-max", classes="trend-max", markup=False)
            with Horizontal(classes="trend-row"):
                yield Label("", classes="trend-label")
                yield Label("", id="trend-axis", classes="trend-axis", markup=False)
            with Horizontal(classes="trend-row", id="recent-row"):
                yield Label("runs/5m", classes="trend-label")
                yield Label("", id="recent-bars", classes="trend-bars", markup=False)
                yield Label("", id="recent-max", classes="trend-max", markup=False)
            with Horizontal(classes="trend-row", id="recent-axis-row"):
                yield Label("", classes="trend-label")
                yield Label("", id="recent-axis", classes="trend-axis", markup=False)
        yield Label(TIP, id="metrics-tip")

    @property
    def metrics_table(self) -> KeyedTable:
        """The per-job-type table."""
        return self.query_one("#metrics-table", KeyedTable)

    @property
    def sort_index(self) -> int:
        """Which of METRIC_SORTS the table uses."""
        return self.sorting.index

    @property
    def sort_name(self) -> str:
        """What the table is sorted by."""
        return self.sorting.label

    def cycle_sort(self) -> str:
        """Move to the next sort order and return its name; the caller re-renders."""
        return self.sorting.cycle()

    def sort_table(self) -> KeyedTable:
        """The table `s` and `S` act on."""
        return self.metrics_table

    def show(self, snapshot: Snapshot, now: float) -> None:
        """Update the table in place, then the sparklines for the highlighted job type."""
        rows = self.sorting.apply(snapshot.metrics)
        self._metrics = {row.task: row for row in rows}
        self.metrics_table.sync([metric_row(row, now) for row in rows])
        self.query_one("#metrics-sort", Label).update(self.sorting.hint)
        set_label(self.query_one("#metrics-empty", Label), empty_metrics_text(snapshot), not rows)
        set_label(self.query_one("#metrics-note", Label), snapshot.metrics_note or "",
                      bool(snapshot.metrics_note and rows))
        set_label(self.query_one("#metrics-title", Label), "Job types, last 24 h"
                      if snapshot.metrics_source == "rqtop" else "Job types, from RQ's registries", True)
        self.query_one("#trend").display = bool(rows)
        self._show_trend(self.metrics_table.highlighted_key)

    def selected_metric(self) -> MetricRow | None:
        """The job type under the cursor."""
        key = self.metrics_table.highlighted_key
        return self._metrics.get(key) if key is not None else None

    @on(DataTable.RowHighlighted, "#metrics-table")
    def _follow_cursor(self, event: DataTable.RowHighlighted) -> None:
        """Selecting a row shows its hourly sparklines."""
        event.stop()
        self._show_trend(event.row_key.value)

    @on(DataTable.RowSelected, "#metrics-table")
    def _open_task(self, event: DataTable.RowSelected) -> None:
        """Enter on a job type asks for its recent runs and failures in the Jobs explorer."""
        event.stop()
        if event.row_key.value in self._metrics:
            self.post_message(self.TaskSelected(event.row_key.value))

    def _show_trend(self, task: str | None) -> None:
        """Fill the sparklines from one job type's hourly buckets."""
        row = self._metrics.get(task) if task is not None else None
        if row is None:
            return
        runs, failures = list(row.hourly_runs), list(row.hourly_failures)
        hours = len(runs) or 24
        canceled = f", {fmt.count(row.canceled)} canceled" if row.canceled else ""
        self.query_one("#trend-title", Label).update(
            f"{fmt.short_task(row.task)}: {fmt.count(sum(runs))} runs, {fmt.count(sum(failures))} failed{canceled}, "
            f"last {hours} h (one cell per hour, one scale)"
        )
        top = max([*runs, *failures, 0])
        self.query_one("#runs-bars", Label).update(Text(fmt.bars(runs, top), style="green"))
        self.query_one("#failures-bars", Label).update(Text(fmt.bars(failures, top), style="red"))
        self.query_one("#runs-max", Label).update(f"max {fmt.count(max(runs, default=0))}/h")
        self.query_one("#failures-max", Label).update(f"max {fmt.count(max(failures, default=0))}/h")
        self.query_one("#trend-axis", Label).update(fmt.time_axis(hours, f"{hours} h"))
        self._show_recent(row)

    def _show_recent(self, row: MetricRow) -> None:
        """The recent window's bar row (5-minute buckets over the last 2 h), when the row has one."""
        shown = bool(row.recent_runs)
        self.query_one("#recent-row").display = shown
        self.query_one("#recent-axis-row").display = shown
        if not shown:
            return
        bars, label = recent_bars(row.recent_runs, row.recent_failures)
        self.query_one("#recent-bars", Label).update(bars)
        self.query_one("#recent-max", Label).update(label)
        minutes = len(row.recent_runs) * 5
        span = f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"
        self.query_one("#recent-axis", Label).update(fmt.time_axis(len(row.recent_runs), span))

    def focus_table(self) -> None:
        """Give the metrics table the keyboard."""
        self.metrics_table.focus()


def empty_metrics_text(snapshot: Snapshot) -> str:
    """What empty metrics say: who records them, and what RQ itself holds that rqtop did not record."""
    if snapshot.metrics_source == "rqtop":
        return "No job has finished in the last 24 hours."
    return fmt.not_recorded_text(snapshot.totals.completed)
