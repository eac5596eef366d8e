"""Sort orders: every Workers and Metrics column is one `s` cycles through, None last, ties broken by name."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.widgets import Label

from tests.tui.fakes import METRICS, NOW, WORKERS, at, loaded, make_app, run
from tui.data.models import MetricRow, WorkerRow
from tui.widgets.job_rows import HISTORY_COLUMNS, HISTORY_SORTS
from tui.widgets.metric_rows import METRIC_COLUMNS, METRIC_SORTS
from tui.widgets.metrics_pane import MetricsPane
from tui.widgets.sorting import SortOrder
from tui.widgets.worker_rows import QUEUE_COLUMNS, QUEUE_SORTS, WORKER_COLUMNS, WORKER_SORTS
from tui.widgets.workers_pane import WorkersPane

LONGEST_LABEL = len("success rate (worst first)")
"""The longest label before every column had an order; new ones must not widen the sort hint."""


def _worker(name: str, **kw: Any) -> WorkerRow:
    """A WorkerRow where every sortable field is given by the test."""
    return WorkerRow(name=name, hostname="host-a", pid=1, **kw)


SORT_WORKERS = (
    _worker("alpha", mode="all", version="0.10.0", status="online", birth=at(-3_600), processed=50, failed=2,
            current_job="t.a", current_started=NOW - 5.0, last_seen=at(-1)),
    _worker("bravo", mode="worker", version="0.9.2", status="offline", birth=None, processed=None, failed=None,
            current_job=None, last_seen=at(-500)),
    _worker("charlie", mode="all", version=None, status="suspended", birth=at(-7_200), processed=50, failed=0,
            current_job="t.c", last_seen=None),
    _worker("delta", mode="rq", version="0.10.0", status="online", birth=at(-60), processed=900, failed=2,
            current_job="t.d", current_started=NOW - 90.0, last_seen=at(-2)),
    _worker("echo", mode="scheduler", version="0.9.10", status="offline", birth=None, processed=0, failed=5,
            current_job=None, last_seen=at(-500)),
)

WORKER_EXPECTED = {
    "name": ["alpha", "bravo", "charlie", "delta", "echo"],
    "status (offline first)": ["bravo", "echo", "charlie", "alpha", "delta"],
    "mode": ["alpha", "charlie", "delta", "echo", "bravo"],
    "version (oldest first)": ["bravo", "echo", "alpha", "delta", "charlie"],  # 0.9.10 before 0.10.0; None last
    "uptime (longest first)": ["charlie", "alpha", "delta", "bravo", "echo"],
    "processed (most first)": ["delta", "alpha", "charlie", "echo", "bravo"],  # None after 0
    "failed (most first)": ["echo", "alpha", "delta", "charlie", "bravo"],  # None after 0
    "running (longest first)": ["delta", "alpha", "charlie", "bravo", "echo"],  # unknown elapsed, then idle
    "last seen (oldest first)": ["bravo", "echo", "delta", "alpha", "charlie"],  # never seen last
}


def _metric(task: str, runs: int, failures: int, rate: float | None, p50: float | None, p95: float | None,
            top: float | None, last_run_offset_s: float | None) -> MetricRow:
    """A MetricRow from the figures each sort order reads."""
    last_run = at(last_run_offset_s) if last_run_offset_s is not None else None
    return MetricRow(task=task, runs=runs, failures=failures, success_rate=rate, p50_s=p50, p95_s=p95, max_s=top,
                     last_run=last_run)


SORT_METRICS = (
    _metric("app.jobs.zeta", 10, 1, 90.0, 1.0, 5.0, 9.0, -60),
    replace(_metric("app.jobs.alpha", 0, 0, None, None, None, None, None), canceled=3),
    _metric("other.beta", 100, 10, 90.0, 2.0, 5.0, 30.0, -10),
    replace(_metric("app.jobs.gamma", 50, 0, 100.0, 0.0, 0.0, 0.5, -60), canceled=1),
    _metric("app.jobs.delta", 10, 5, 50.0, 0.5, 1.0, 9.0, -3_600),
)

METRIC_EXPECTED = {
    "success rate (worst first)": ["delta", "beta", "zeta", "gamma", "alpha"],  # 90 % tie: more runs first
    "p95 (slowest first)": ["zeta", "beta", "delta", "gamma", "alpha"],  # None after 0.0
    "p50 (slowest first)": ["beta", "zeta", "delta", "gamma", "alpha"],
    "max (slowest first)": ["beta", "delta", "zeta", "gamma", "alpha"],
    "runs (most first)": ["beta", "gamma", "delta", "zeta", "alpha"],
    "failures (most first)": ["beta", "delta", "zeta", "alpha", "gamma"],
    "canceled (most first)": ["alpha", "gamma", "delta", "zeta", "beta"],  # ties by full name: app.* before other.*
    "last run (latest first)": ["beta", "gamma", "zeta", "delta", "alpha"],  # never run last
    "job name": ["alpha", "beta", "delta", "gamma", "zeta"],  # by the short name the column shows
}


def _inputs(rows: tuple[Any, ...]) -> list[list[Any]]:
    """The rows in three input orders, so an order cannot lean on the input for its ties."""
    return [list(rows), list(reversed(rows)), [rows[i] for i in (3, 0, 4, 2, 1)]]


def test_every_column_has_one_sort_order_with_the_default_first_and_a_short_label() -> None:
    # Metrics: + failures, - the "ago" column beside Last run (the same time: its header sorts nothing)
    assert len(WORKER_SORTS) == len(WORKER_COLUMNS) and len(METRIC_SORTS) == len(METRIC_COLUMNS)
    assert [order.name for order in WORKER_SORTS] == list(WORKER_EXPECTED)
    assert [order.name for order in METRIC_SORTS] == list(METRIC_EXPECTED)
    assert WORKER_SORTS[0].name == "name" and METRIC_SORTS[0].name == "success rate (worst first)"
    assert METRIC_SORTS[1].name.startswith("p95"), "the Metrics tip promises p95 one press away"
    assert all(len(order.name) <= LONGEST_LABEL for order in WORKER_SORTS + METRIC_SORTS)
    for columns, sorts in ((WORKER_COLUMNS, WORKER_SORTS), (METRIC_COLUMNS, METRIC_SORTS),
                           (QUEUE_COLUMNS, QUEUE_SORTS), (HISTORY_COLUMNS, HISTORY_SORTS)):
        keys = [key for key, _ in columns if key != "last_ago"]
        assert set(keys) == {order.column for order in sorts}, "every column sorts, and only columns"


@pytest.mark.parametrize(("pane_type", "sorts", "rows", "expected", "label"), [
    (WorkersPane, WORKER_SORTS, SORT_WORKERS, WORKER_EXPECTED, lambda w: w.name),
    (MetricsPane, METRIC_SORTS, SORT_METRICS, METRIC_EXPECTED, lambda m: m.task.rsplit(".", 1)[-1]),
], ids=["workers", "metrics"])
def test_cycling_the_sort_orders_rows_by_every_column_in_turn(
    pane_type: type, sorts: tuple[SortOrder[Any], ...], rows: tuple[Any, ...], expected: dict[str, list[str]],
    label: Any,
) -> None:
    pane = pane_type()
    seen = []
    for _ in sorts:
        name, key = sorts[pane.sort_index].name, sorts[pane.sort_index].key
        assert name == pane.sort_name
        for ordering in _inputs(rows):
            assert [label(row) for row in sorted(ordering, key=key)] == expected[name], name
        seen.append(name)
        pane.cycle_sort()
    assert seen == list(expected) and pane.sort_index == 0, "s wraps back to the default"


@pytest.mark.parametrize("tab", ["workers", "metrics"])
def test_pressing_s_shows_each_order_in_the_hint_and_reorders_the_table(tab: str) -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("2" if tab == "workers" else "3")
            pane = app.workers_pane if tab == "workers" else app.metrics_pane
            table = pane.workers_table if tab == "workers" else pane.metrics_table
            if tab == "workers":
                sorts: tuple[SortOrder[Any], ...] = WORKER_SORTS
                keys = {o.name: [w.name for w in sorted(WORKERS, key=o.key)] for o in WORKER_SORTS}
            else:
                sorts = METRIC_SORTS
                keys = {o.name: [m.task for m in sorted(METRICS, key=o.key)] for o in METRIC_SORTS}
            hint = pane.query_one(f"#{tab}-sort", Label)
            for press in range(len(sorts) + 1):
                name = sorts[press % len(sorts)].name
                expected = keys[name]
                shown = [table.coordinate_to_cell_key((i, 0)).row_key.value for i in range(table.row_count)]
                assert shown == expected, name
                assert str(hint.render()) == f"sorted by {name} · s/S"
                await pilot.press("s")
                await pilot.pause()

    run(body)
