"""Issue 15 item 15: `S` reverses the sort, the sorted column's header carries an arrow, a header click sorts by
its column (again: reversed), and the queues and history tables sort too; sorted other than newest first, the
history table is not pinned to its newest row."""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.widgets.data_table import ColumnKey

from tests.tui.fakes import HISTORY, QUEUES, WORKERS, FakeReader, loaded, make_app, run, sample_snapshot, wait_until
from tui.data.models import Snapshot
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.sorting import DOWN, UP


def order(table: KeyedTable) -> list[str]:
    """The row keys top to bottom."""
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


def header(table: KeyedTable, column: str) -> str:
    """The header label of one column as shown."""
    return table.columns[ColumnKey(column)].label.plain


def arrows(table: KeyedTable) -> list[str]:
    """The columns whose header shows an arrow."""
    return [str(col.key.value) for col in table.ordered_columns if col.label.plain.endswith((UP, DOWN))]


async def click_header(pilot: Any, table: KeyedTable, column: str) -> None:
    """Click the middle of one column's header cell."""
    x = 0
    for col in table.ordered_columns:
        width = col.get_render_width(table)
        if col.key.value == column:
            await pilot.click(table, offset=(x + width // 2, 0))
            await pilot.pause()
            return
        x += width
    raise AssertionError(f"no column {column}")


def test_capital_s_reverses_the_workers_sort_and_the_header_arrow_follows() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(140, 40)) as pilot:
            await loaded(app, pilot)
            await pilot.press("2")
            await pilot.pause()
            table = app.workers_pane.workers_table
            names = sorted(w.name for w in WORKERS)
            assert order(table) == names
            assert arrows(table) == ["worker"] and header(table, "worker") == f"Worker{UP}"
            await pilot.press("S")
            await pilot.pause()
            assert order(table) == names[::-1]
            assert header(table, "worker") == f"Worker{DOWN}"
            assert str(app.workers_pane.query_one("#workers-sort").render()) == \
                "sorted by name, reversed · s/S"
            await pilot.press("s")  # next column: not reversed any more
            await pilot.pause()
            assert arrows(table) == ["status"] and header(table, "status") == f"Status{UP}"
            assert "reversed" not in app.workers_pane.sort_name

    run(body)


def test_clicking_a_header_sorts_by_that_column_and_clicking_again_reverses() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(140, 40)) as pilot:
            await loaded(app, pilot)
            await pilot.press("3")
            await pilot.pause()
            table = app.metrics_pane.metrics_table
            await click_header(pilot, table, "p50")
            by_p50 = [m.task for m in sorted(app.snapshot.metrics, key=lambda m: -(m.p50_s or 0))]
            await wait_until(lambda: order(table) == by_p50, pilot)
            assert arrows(table) == ["p50"] and header(table, "p50") == f"p50{DOWN}"
            assert app.metrics_pane.sort_name == "p50 (slowest first)"
            await click_header(pilot, table, "p50")
            await wait_until(lambda: order(table) == by_p50[::-1], pilot)
            assert header(table, "p50") == f"p50{UP}"
            assert app.metrics_pane.sort_name == "p50 (slowest first), reversed"

    run(body)


def test_queues_sort_backlog_first_and_s_and_header_clicks_sort_them() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(140, 40)) as pilot:
            await loaded(app, pilot)
            await pilot.press("2")
            await pilot.pause()
            table = app.workers_pane.queues_table
            backlog = [q.name for q in sorted(QUEUES, key=lambda q: -q.pending)]
            assert order(table) == backlog and arrows(table) == ["pending"]
            hint = app.workers_pane.query_one("#queues-sort")
            assert str(hint.render()) == "sorted by backlog (most pending first) · s/S"
            workers_before = order(app.workers_pane.workers_table)
            table.focus()
            await pilot.press("S")
            await pilot.pause()
            assert order(table) == backlog[::-1] and header(table, "pending") == f"Pending{UP}"
            await pilot.press("s")
            await pilot.pause()
            assert order(table) == sorted(q.name for q in QUEUES) and arrows(table) == ["queue"]
            await pilot.pause()
            assert table.render_line(1).text.split()[0] == "default", "re-labelled columns keep their widths"
            assert "no worker" in table.render_line(3).text
            assert order(app.workers_pane.workers_table) == workers_before, "s acts on the focused table only"
            await click_header(pilot, table, "failed")
            await wait_until(lambda: arrows(table) == ["failed"], pilot)
            assert order(table) == [q.name for q in sorted(QUEUES, key=lambda q: -q.failed)]

    run(body)


def _with_new_history(base: Snapshot, *ids: str) -> Snapshot:
    """``base`` with runs ``ids`` finished just now, newest first, above its history."""
    new = tuple(dataclasses.replace(HISTORY[0], id=job_id, task="app.jobs.zzz_new") for job_id in ids)
    return dataclasses.replace(base, history=new + base.history)


def test_history_sorts_when_focused_and_is_not_pinned_unless_newest_first() -> None:
    first = sample_snapshot()
    second = _with_new_history(first, "new-1", "new-2")
    app = make_app(FakeReader([first, second]))
    title = lambda: str(app.jobs_pane.query_one("#history-title").content)  # noqa: E731

    async def body() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await loaded(app, pilot)
            table = app.jobs_pane.history_table
            newest = [row.id for row in HISTORY]
            assert order(table) == newest and arrows(table) == ["completed"]
            assert app.check_action("cycle_sort", ()) is False, "the schedules table has focus: nothing to sort"
            assert app.check_action("reverse_sort", ()) is False
            table.focus()
            await pilot.pause()
            assert app.check_action("reverse_sort", ()) is True
            await pilot.press("S")
            await pilot.pause()
            assert order(table) == newest[::-1], "reversed: oldest first"
            assert header(table, "completed") == f"Completed{UP}"
            assert app.jobs_pane.query_one("#history-sort").display
            top = table.highlighted_key
            assert top == newest[0], "the cursor keeps its row through the re-sort"
            await pilot.press("r")
            await wait_until(lambda: "new-1" in table.rows, pilot)
            await pilot.pause()
            assert order(table)[-2:] == ["new-2", "new-1"], "new rows go where the order puts them"
            assert table.highlighted_key == top, "not pinned to the newest row"
            assert "newer" not in title()
            await pilot.press("s")  # by job type
            await pilot.pause()
            assert arrows(table) == ["task"]
            assert order(table)[-2:] == ["new-1", "new-2"], "zzz_new sorts last, ties keep newest first"
            await pilot.press("S", "s", "s", "s", "s", "s", "s", "s", "s")  # reversed, then round to the default
            await pilot.pause()
            assert app.jobs_pane.history_sorting.is_default and arrows(table) == ["completed"]
            assert not app.jobs_pane.query_one("#history-sort").display

    run(body)
