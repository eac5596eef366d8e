"""The per-task counters stay monotonic as hours leave the 24 h window; the histogram's cumulative buckets."""

from __future__ import annotations

from tui.data.metrics import DURATION_BOUNDS_S, duration_le
from tui.data.models import MetricRow
from tui.exporter.task_totals import TaskTotals
from worker import records


def row(task: str, runs: list[int], failures: list[int], canceled: list[int] | None = None) -> MetricRow:
    """A row with the given hourly counts (oldest first)."""
    return MetricRow(task=task, runs=sum(runs), failures=sum(failures), success_rate=None, p50_s=None, p95_s=None,
                     max_s=None, last_run=None, hourly_runs=tuple(runs), hourly_failures=tuple(failures),
                     canceled=sum(canceled or []), hourly_canceled=tuple(canceled or []))


def test_counts_of_hours_that_left_the_window_are_kept() -> None:
    """Window [10, 11, 12] then [11, 12, 13]: hour 10's runs stay counted, hour 12's growth is added once."""
    totals = TaskTotals()
    totals.update([row("t", [4, 2, 1], [1, 0, 0])], [10, 11, 12])
    assert totals.totals() == {"t": (7, 1, 0)}
    totals.update([row("t", [4, 2, 1], [1, 0, 0])], [10, 11, 12])  # the same read scraped again
    assert totals.totals() == {"t": (7, 1, 0)}
    totals.update([row("t", [2, 3, 5], [0, 1, 2])], [11, 12, 13])
    assert totals.totals() == {"t": (4 + 2 + 3 + 5, 1 + 0 + 1 + 2, 0)}


def test_a_shrinking_registry_count_never_lowers_the_counter() -> None:
    """RQ's registries forget jobs after result_ttl: an hour's count going down keeps the highest seen."""
    totals = TaskTotals()
    totals.update([row("t", [0, 5], [0, 2])], [1, 2])
    totals.update([row("t", [0, 3], [0, 1])], [1, 2])
    assert totals.totals() == {"t": (5, 2, 0)}


def test_canceled_runs_are_a_counter_of_their_own_kept_as_hours_leave() -> None:
    """Cancels per hour: hour 10's stay counted after it leaves the window; they never add to the runs."""
    totals = TaskTotals()
    totals.update([row("t", [1, 0, 2], [0, 0, 0], [2, 0, 1])], [10, 11, 12])
    assert totals.totals() == {"t": (3, 0, 3)}
    totals.update([row("t", [0, 2, 1], [0, 0, 0], [0, 1, 4])], [11, 12, 13])
    assert totals.totals() == {"t": (1 + 0 + 2 + 1, 0, 2 + 0 + 1 + 4)}


def test_duration_le_is_cumulative_at_each_bound() -> None:
    """Durations 0.002, 0.3, 0.3, 7 s: 1 at <= 0.005, 3 at <= 0.5, 4 at <= 10 and beyond; empty bins: ()."""
    bins: dict[int, int] = {}
    for duration in (0.002, 0.3, 0.3, 7.0):
        bins[records.bin_index(duration)] = bins.get(records.bin_index(duration), 0) + 1
    counts = dict(zip(DURATION_BOUNDS_S, duration_le(bins), strict=True))
    assert (counts[0.005], counts[0.25], counts[0.5], counts[5.0], counts[10.0], counts[3600.0]) == (1, 1, 3, 3, 4, 4)
    assert duration_le({}) == ()
