"""Opening a queue (Enter or `o` on its Workers row, or the palette) is the Jobs explorer filtered to
``queue:NAME`` — one job list, not a second browser — on a real Redis with real RQ jobs."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import redis
from rq import Queue, SimpleWorker
from textual.widgets import DataTable, Input

from tests import jobs
from tests.rq_support import contents
from tests.tui.fakes import run, wait_until
from tests.tui.test_explorer import label, make
from tui.commands import PALETTE_COMMANDS, DashboardCommands
from tui.data.explorer.query import parse_query
from tui.screens.explorer_detail import ExplorerDetailScreen
from tui.widgets.explorer_pane import ExplorerPane, queue_query


def row_text(table: DataTable[Any], row: int) -> list[str]:
    """The plain text of one table row."""
    return [str(getattr(cell, "plain", cell)) for cell in table.get_row_at(row)]


def column(pane: ExplorerPane, key: str) -> list[str]:
    """Every shown row's cell in column ``key``."""
    index = pane.table.column_keys.index(key)
    return [row_text(pane.table, row)[index] for row in range(pane.table.row_count)]


def populate(conn: redis.Redis) -> None:
    """120 pending jobs on 'default' (descriptions numbered) and two failed imports on 'high'."""
    default, high = Queue("default", connection=conn), Queue("high", connection=conn)
    for batch in range(2):
        high.enqueue(jobs.boom, f"import {batch} timed out")
    SimpleWorker([high], connection=conn, name="queue-w").work(burst=True)
    for batch in range(120):
        default.enqueue(jobs.ok, batch, description=f"ok(batch={batch})")


async def open_queue(app: Any, pilot: Any, name: str) -> ExplorerPane:
    """Workers tab, the cursor on queue ``name``'s row, Enter; the Jobs tab once its first page is shown."""
    await wait_until(lambda: app.snapshot is not None, pilot)
    await pilot.pause()
    await pilot.press("2")
    table = app.workers_pane.queues_table
    table.focus()
    await wait_until(lambda: name in [key.value for key in table.rows], pilot)
    table.move_cursor(row=[key.value for key in table.rows].index(name))
    await pilot.pause()
    assert app.workers_pane.selected_queue() == name
    request = app.explorer_pane._request
    await pilot.press("enter")
    pane: ExplorerPane = app.explorer_pane
    await wait_until(lambda: pane._request > request and not pane._reading and pane.page is not None, pilot, 10)
    await pilot.pause()
    return pane


def test_enter_on_a_queue_opens_the_jobs_tab_filtered_to_it_pages_and_opens_a_jobs_drawer(
        conn: redis.Redis, redis_url: str) -> None:
    populate(conn)
    before = contents(conn)
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_queue(app, pilot, "default")
            assert app.tabs.active == "explorer" and pane.filter.queues == ("default",)
            assert pane.query_text == "queue:default", "the filter is in the bar, to narrow or clear"
            assert label(app, "#explorer-header").startswith("queue:default · 1–50 of 120")
            assert set(column(pane, "queue")) == {"default"}, "only the queue opened"
            await pilot.press("end")
            await wait_until(lambda: pane.page is not None and pane.page.offset == 100, pilot)
            await pilot.pause()
            assert pane.table.row_count == 20 and "101–120 of 120" in label(app, "#explorer-header")
            assert column(pane, "description")[-1] == "ok(batch=119)", "pending jobs in queue order"
            request = pane._request
            await pilot.press("slash")
            bar = pane.query_one("#explorer-query", Input)
            assert bar.has_focus and bar.value == "queue:default"
            await pilot.press("home", "pagedown")
            await pilot.pause(0.2)
            assert bar.cursor_position == 0 and pane._request == request, "typing in the bar: home is the bar's"
            await pilot.press("escape", "home")
            await wait_until(lambda: pane.page is not None and pane.page.offset == 0, pilot)
            await pilot.press("pagedown")
            await wait_until(lambda: pane.page is not None and pane.page.offset == 50, pilot)
            await pilot.pause()
            assert column(pane, "description")[0] == "ok(batch=50)"
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ExplorerDetailScreen), pilot)
            assert app.screen.detail.task == "tests.jobs.ok" and app.screen.detail.state == "pending"
            assert app.screen.detail.description == "ok(batch=50)"
            await pilot.press("escape")
            await wait_until(lambda: not isinstance(app.screen, ExplorerDetailScreen), pilot)
            await pilot.press("2")
            await wait_until(lambda: app.tabs.active == "workers", pilot)

            pane = await open_queue(app, pilot, "high")
            assert pane.filter.queues == ("high",) and pane.page is not None and pane.page.total == 2
            assert set(column(pane, "state")) == {"failed"} and set(column(pane, "queue")) == {"high"}

    run(body)
    assert contents(conn) == before, "opening and paging a queue never writes"


def test_o_and_the_palette_open_the_highlighted_or_first_queue_even_read_only(conn: redis.Redis,
                                                                            redis_url: str) -> None:
    populate(conn)
    app = make(conn, redis_url, read_only=True)

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(lambda: app.snapshot is not None, pilot)
            await pilot.pause()
            titles = [hit.text for hit in [h async for h in DashboardCommands(app.screen).discover()]]
            assert "queues: Browse queue jobs" not in titles, "offered where the queues are: the Workers tab"
            await pilot.press("2")
            await pilot.pause()
            titles = [hit.text for hit in [h async for h in DashboardCommands(app.screen).discover()]]
            assert "queues: Browse queue jobs" in titles, "browsing never writes, so read-only offers it"
            first = app.workers_pane.selected_queue()
            assert first == "default", "the queue table's first row: the largest backlog"
            await pilot.press("o")
            pane = app.explorer_pane
            await wait_until(lambda: app.tabs.active == "explorer" and pane.page is not None
                             and pane.page.filter.queues == (first,), pilot, 10)

    run(body)
    assert ("queues: Browse queue jobs", "browse_queue") in {entry[:2] for entry in PALETTE_COMMANDS}


def test_a_queue_name_that_needs_quoting_round_trips_through_the_query() -> None:
    for name in ("default", "odd name's queue", "rq:looks:like:a:key", "[bold]x[/]"):
        flt = parse_query(queue_query(name))
        assert flt.queues == (name,) and not flt.warnings, name


def test_the_app_and_its_widgets_never_import_redis() -> None:
    code = ("import sys, tui.app, tui.widgets.explorer_pane, tui.widgets.page_rows; "
            "assert 'redis' not in sys.modules, 'redis imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
