"""Pilot tests for moving around: tab keys, refresh, sort, keys list, job detail, small terminals."""

from __future__ import annotations

from typing import Any

from textual.widgets import Label

from tests.tui.fakes import HISTORY, METRICS, FakeReader, loaded, make_app, run, sample_snapshot, wait_until
from tui import formatting as fmt
from tui.screens.job_detail import JobDetailScreen
from tui.screens.keys import KeysScreen
from tui.widgets.keyed_table import KeyedTable


def test_number_keys_switch_tabs_and_only_the_visible_tab_renders() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            workers = app.workers_pane.workers_table
            assert app.tabs.active == "jobs"
            assert app.jobs_pane.schedules_table.row_count == 5
            assert workers.row_count == 0, "a hidden tab must not render"
            await pilot.press("2")
            assert app.tabs.active == "workers"
            assert workers.row_count == 4
            await pilot.press("3")
            assert app.tabs.active == "metrics"
            assert app.metrics_pane.metrics_table.row_count == len(METRICS)
            await pilot.press("1")
            assert app.tabs.active == "jobs"

    run(body)


def test_r_reads_again() -> None:
    async def body() -> None:
        reader = FakeReader()
        app = make_app(reader)
        async with app.run_test() as pilot:
            await loaded(app, pilot)
            assert reader.calls == 1
            await pilot.press("r")
            await wait_until(lambda: reader.calls == 2, pilot)
            await pilot.pause(0.1)
            assert reader.calls == 2

    run(body)


def test_s_cycles_the_metrics_sort_worst_success_first_by_default() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("3")
            table = app.metrics_pane.metrics_table
            first = table.coordinate_to_cell_key((0, 0)).row_key.value
            assert first == "worker.demo_tasks.invoice_retry"  # 87.5 %: the worst
            await pilot.press("s")
            assert "p95" in app.metrics_pane.sort_name
            first = table.coordinate_to_cell_key((0, 0)).row_key.value
            assert first == "worker.demo_tasks.nightly_report"  # p95 184 s: the slowest

    run(body)


def test_s_cycles_the_workers_sort_and_is_hidden_on_background_jobs() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            assert app.check_action("cycle_sort", ()) is False
            await pilot.press("2")
            assert app.check_action("cycle_sort", ()) is True
            table = app.workers_pane.workers_table
            assert table.coordinate_to_cell_key((0, 0)).row_key.value == "alpha"
            await pilot.press("s")
            assert table.coordinate_to_cell_key((0, 0)).row_key.value == "charlie"  # offline first

    run(body)


def test_highlighting_a_metric_row_shows_its_hourly_sparklines() -> None:
    """The bars follow the cursor, one cell per hour, failures drawn on the runs' scale."""

    def bars(app: Any, name: str) -> str:
        return str(app.metrics_pane.query_one(f"#{name}-bars", Label).content)

    def expected(metric: Any) -> tuple[str, str]:
        top = max([*metric.hourly_runs, *metric.hourly_failures])
        return fmt.bars(metric.hourly_runs, top), fmt.bars(metric.hourly_failures, top)

    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("3")
            await pilot.pause()
            by_task = {m.task: m for m in METRICS}
            assert (bars(app, "runs"), bars(app, "failures")) == expected(by_task["worker.demo_tasks.invoice_retry"])
            await pilot.press("down")
            await pilot.pause()
            selected = app.metrics_pane.selected_metric()
            assert selected is not None and selected.task == "worker.demo_tasks.cache_warm"
            assert (bars(app, "runs"), bars(app, "failures")) == expected(selected)
            assert len(bars(app, "runs")) == 24

    run(body)


def test_question_mark_lists_the_keys() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("question_mark")
            assert isinstance(app.screen, KeysScreen)
            actions = [row[1] for row in app.screen._keys]
            assert "Janitor" in actions and "Refresh" in actions
            await pilot.press("escape")
            assert not isinstance(app.screen, KeysScreen)

    run(body)


def test_enter_on_a_history_row_opens_its_detail() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            app.jobs_pane.history_table.focus()
            await pilot.press("down", "enter")
            assert isinstance(app.screen, JobDetailScreen)
            assert app.screen._row == HISTORY[1]
            await pilot.press("escape")
            assert not isinstance(app.screen, JobDetailScreen)

    run(body)


def test_refresh_updates_rows_in_place_and_keeps_the_cursor_on_its_row() -> None:
    async def body() -> None:
        first = sample_snapshot()
        second = sample_snapshot(schedules=(first.schedules[4], *first.schedules[:3]))
        app = make_app(FakeReader([first, second]))
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            table: KeyedTable = app.jobs_pane.schedules_table
            await pilot.press("down")
            assert table.highlighted_key == "nightly_report"
            table.clear = lambda *a, **k: (_ for _ in ()).throw(AssertionError("cleared"))  # type: ignore[method-assign]
            await pilot.press("r")
            await wait_until(lambda: app.snapshot is second, pilot)
            await pilot.pause()
            assert [key.value for key in table.rows] != []
            assert table.row_count == 4
            assert table.highlighted_key == "nightly_report"
            assert table.cursor_row == 2

    run(body)


def test_a_small_terminal_gets_a_message_not_a_crash() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(60, 20)) as pilot:
            await loaded(app, pilot)
            assert app.query_one("#too-small").display
            assert not app.tabs.display
            await pilot.press("2", "r", "3")
            assert app.query_one("#too-small").display

    run(body)
