"""Table cells and sort orders for the Metrics tab: one row per job type over the last 24 h."""

from __future__ import annotations

from rich.text import Text

from tui import formatting as fmt
from tui.data.models import MetricRow
from tui.widgets.keyed_table import Row, largest_first
from tui.widgets.sorting import SortOrder

METRIC_COLUMNS = (
    ("job", "Job"),
    ("runs", "Runs"),
    ("success", "Success"),
    ("canceled", "Canceled"),
    ("p50", "p50"),
    ("p95", "p95"),
    ("max", "Max"),
    ("last_run", "Last run"),
    ("last_ago", ""),
)
METRIC_NARROW_OUT = frozenset({"max", "p95", "canceled", "last_ago"})
"""Columns left out below METRIC_FULL_WIDTH cells: at 80 the exact Last run stays, its "4 min ago" goes."""
METRIC_FULL_WIDTH = 100

GOOD_RATE = 99.0
FAIR_RATE = 90.0


def _rate_key(row: MetricRow) -> float:
    """Success rate for sorting; rows without runs sort last."""
    return row.success_rate if row.success_rate is not None else 101.0


METRIC_SORTS: tuple[SortOrder[MetricRow], ...] = (
    SortOrder("success rate (worst first)", "success", lambda m: (_rate_key(m), -m.runs, m.task)),
    SortOrder("p95 (slowest first)", "p95", lambda m: (largest_first(m.p95_s), m.task), True),
    SortOrder("p50 (slowest first)", "p50", lambda m: (largest_first(m.p50_s), m.task), True),
    SortOrder("max (slowest first)", "max", lambda m: (largest_first(m.max_s), m.task), True),
    SortOrder("runs (most first)", "runs", lambda m: (-m.runs, m.task), True),
    SortOrder("failures (most first)", "runs", lambda m: (-m.failures, m.task), True),
    SortOrder("canceled (most first)", "canceled", lambda m: (-m.canceled, m.task), True),
    SortOrder("last run (latest first)", "last_run", lambda m: (largest_first(fmt.to_epoch(m.last_run)), m.task),
              True),
    SortOrder("job name", "job", lambda m: (fmt.short_task(m.task), m.task)),
)
"""Every Metrics column as a sort order, in the order `s` cycles them: the default first, then p95 as the tip says."""


RUNS_WIDTH = 7
"""Room for the run count ("1,234,567"), so the counts line up whether or not a row names failures."""


def rate_style(rate: float | None) -> str:
    """Green at 99 % and above, amber from 90 % (worth a look), red below."""
    if rate is None:
        return "dim"
    if rate >= GOOD_RATE:
        return "green"
    if rate >= FAIR_RATE:
        return "yellow"
    return "bold red"


def runs_cell(runs: int, failures: int) -> Text:
    """ "      288 runs · 1 failed": the count right-aligned in a fixed width, the noun agreeing with it."""
    text = Text(f"{fmt.count(runs):>{RUNS_WIDTH}} {'run' if runs == 1 else 'runs'}")
    if failures:
        text.append(" · ", style="dim")
        text.append(f"{fmt.count(failures)} failed", style="red")
    return text


def canceled_cell(canceled: int) -> Text:
    """Runs canceled cooperatively (never counted in Runs): the count in amber, a dim 0 when there were none."""
    return Text(fmt.count(canceled), justify="right", style="yellow" if canceled else "dim")


def recent_bars(runs: tuple[int, ...], failures: tuple[int, ...]) -> tuple[Text, str]:
    """The recent window's bar row, one cell per 5-minute bucket on its own single scale (a cell is red when its
    bucket had a failure), and its label: "max 12/5m", with the window's failures when there were any."""
    top = max(runs, default=0)
    cells = fmt.bars(list(runs), top)
    text = Text()
    for cell, failed in zip(cells, (*failures, *(0,) * (len(cells) - len(failures))), strict=False):
        text.append(cell, style="red" if failed else "green")
    label = f"max {fmt.count(top)}/5m"
    if sum(failures):
        label += f" · {fmt.count(sum(failures))} failed"
    return text, label


def _seconds(value: float | None) -> Text:
    """A right-aligned duration."""
    return Text(fmt.duration(value), justify="right", style="" if value is not None else "dim")


def last_run_cells(row: MetricRow, now: float) -> tuple[Text, Text]:
    """When the job type last ran: its exact time in the shown zone ("11:02", always shown), and how long ago
    ("4 min ago", from 100 columns), or dim dashes."""
    if row.last_run is None:
        return Text(fmt.NO_VALUE, style="dim"), Text("")
    return Text(fmt.exact_time(row.last_run, now)), Text(fmt.relative(row.last_run, now), style="dim")


def metric_row(row: MetricRow, now: float) -> Row:
    """One Metrics row keyed by task; failures are named next to the run count."""
    cells = (
        Text(fmt.short_task(row.task), style="bold"),
        runs_cell(row.runs, row.failures),
        Text(fmt.percent(row.success_rate), style=rate_style(row.success_rate), justify="right"),
        canceled_cell(row.canceled),
        _seconds(row.p50_s),
        _seconds(row.p95_s),
        _seconds(row.max_s),
        *last_run_cells(row, now),
    )
    return row.task, cells
