"""The Metrics tab: per-job-type runs, success and latency, with hourly bars (one scale) for the selected type."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Label

from tui import formatting as fmt
from tui.data.models import MetricRow, Snapshot
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.labels import set_label
from tui.widgets.metric_rows import METRIC_COLUMNS, METRIC_FULL_WIDTH, METRIC_NARROW_OUT, METRIC_SORTS, metric_row

TIP = (
    "Start here when the queue backs up: the worst success rates are on top; "
    "s sorts by p95 to find the slow job types."
)


class MetricsPane(Vertical):
    """Shows one row per job type; the highlighted row's hourly runs and failures appear as sparklines."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sort_index = 0
        self._metrics: dict[str, MetricRow] = {}

    def compose(self) -> ComposeResult:
        """The table, then the sparklines, then the tip."""
        with Horizontal(classes="title-row"):
            yield Label("Job types, last 24 h", id="metrics-title", classes="section-title")
            yield Label("", id="metrics-sort", classes="sort-hint")
        yield KeyedTable(METRIC_COLUMNS, id="metrics-table", optional=METRIC_NARROW_OUT, full_width=METRIC_FULL_WIDTH)
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
        yield Label(TIP, id="metrics-tip")

    @property
    def metrics_table(self) -> KeyedTable:
        """The per-job-type table."""
        return self.query_one("#metrics-table", KeyedTable)

    @property
    def sort_name(self) -> str:
        """What the table is sorted by."""
        return METRIC_SORTS[self.sort_index][0]

    def cycle_sort(self) -> str:
        """Move to the next sort order and return its name; the caller re-renders."""
        self.sort_index = (self.sort_index + 1) % len(METRIC_SORTS)
        return self.sort_name

    def show(self, snapshot: Snapshot, now: float) -> None:
        """Update the table in place, then the sparklines for the highlighted job type."""
        rows = sorted(snapshot.metrics, key=METRIC_SORTS[self.sort_index][1])
        self._metrics = {row.task: row for row in rows}
        self.metrics_table.sync([metric_row(row, now) for row in rows])
        self.query_one("#metrics-sort", Label).update(f"sorted by {self.sort_name} · s to change")
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

    def _show_trend(self, task: str | None) -> None:
        """Fill the sparklines from one job type's hourly buckets."""
        row = self._metrics.get(task) if task is not None else None
        if row is None:
            return
        runs, failures = list(row.hourly_runs), list(row.hourly_failures)
        hours = len(runs) or 24
        self.query_one("#trend-title", Label).update(
            f"{fmt.short_task(row.task)}: {fmt.count(sum(runs))} runs, {fmt.count(sum(failures))} failed, "
            f"last {hours} h (one cell per hour, one scale)"
        )
        top = max([*runs, *failures, 0])
        self.query_one("#runs-bars", Label).update(Text(fmt.bars(runs, top), style="green"))
        self.query_one("#failures-bars", Label).update(Text(fmt.bars(failures, top), style="red"))
        self.query_one("#runs-max", Label).update(f"max {fmt.count(max(runs, default=0))}/h")
        self.query_one("#failures-max", Label).update(f"max {fmt.count(max(failures, default=0))}/h")
        self.query_one("#trend-axis", Label).update(fmt.time_axis(hours, f"{hours} h"))

    def focus_table(self) -> None:
        """Give the metrics table the keyboard."""
        self.metrics_table.focus()


def empty_metrics_text(snapshot: Snapshot) -> str:
    """What empty metrics say: who records them, and what RQ itself holds that rqtop did not record."""
    if snapshot.metrics_source == "rqtop":
        return "No job has finished in the last 24 hours."
    return fmt.not_recorded_text(snapshot.totals.completed)
