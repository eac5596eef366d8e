"""The queue browser: Enter on a queue pages through its job lists with the fake reader, and on a real Redis."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from rq import Queue
from textual.widgets import DataTable, Label

from tests.tui.fakes import NOW, FakeReader, loaded, make_app, page_job, run, wait_until
from tui import formatting as fmt
from tui.app import RqtopApp
from tui.commands import PALETTE_COMMANDS, DashboardCommands
from tui.data.actions import DashboardActions
from tui.data.jobs_page import JobsPage
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.screens.queue_jobs import QueueJobDetailScreen, QueueJobsScreen
from tui.widgets.page_rows import page_header, page_row


def text_of(screen: Any, selector: str) -> str:
    """What a label on ``screen`` says."""
    return str(screen.query_one(selector, Label).render())


def header(screen: Any) -> str:
    """The page header line."""
    return text_of(screen, "#queue-jobs-header")


def row_text(table: DataTable[Any], row: int) -> list[str]:
    """The plain text of one table row."""
    return [str(getattr(cell, "plain", cell)) for cell in table.get_row_at(row)]


async def open_queue(app: Any, pilot: Any, down: int) -> QueueJobsScreen:
    """Workers tab, the queue ``down`` rows below the first, Enter; returns the screen once its page is shown."""
    await loaded(app, pilot)
    await pilot.press("2")
    app.workers_pane.queues_table.focus()
    await pilot.press(*["down"] * down, "enter")
    await wait_until(lambda: isinstance(app.screen, QueueJobsScreen) and app.screen.page is not None, pilot)
    await pilot.pause()
    return app.screen


def test_enter_on_a_queue_pages_through_its_lists_and_shows_a_jobs_detail() -> None:
    async def body() -> None:
        reader = FakeReader()
        app = make_app(reader)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_queue(app, pilot, down=1)
            assert screen.queue == "default" and screen.query_one("#queue-jobs-dialog").border_title == "Queue default"
            assert reader.page_calls == [("default", "pending", 0, 50)]
            assert header(screen) == "default · pending · 1–50 of 1,000,000"
            assert screen.table.row_count == 50
            first = page_job("default", "pending", 0)
            assert row_text(screen.table, 0)[:3] == [first.id[:8] + "…", "catalog_sync", ""], \
                "a pending job's state is the list's own: the cell names only the jobs that differ"
            assert row_text(screen.table, 3)[1:3] == ["unreadable", "unreadable"]

            async def shows(expected: str) -> None:
                await wait_until(lambda: header(screen) == expected, pilot)

            await pilot.press("pagedown")
            await shows("default · pending · 51–100 of 1,000,000")
            assert reader.page_calls[-1] == ("default", "pending", 50, 50)
            await pilot.press("n")
            await shows("default · pending · 101–150 of 1,000,000")
            await pilot.press("pageup")
            await shows("default · pending · 51–100 of 1,000,000")
            assert reader.page_calls[-1] == ("default", "pending", 50, 50)
            await pilot.press("end")
            await shows("default · pending · 999,951–1,000,000 of 1,000,000")
            assert reader.page_calls[-1] == ("default", "pending", -1, 50)
            calls = len(reader.page_calls)
            await pilot.press("n")
            await pilot.pause(0.05)
            assert len(reader.page_calls) == calls, "nothing is read past the last page"
            await pilot.press("home")
            await shows("default · pending · 1–50 of 1,000,000")
            assert reader.page_calls[-1] == ("default", "pending", 0, 50)

            await pilot.press("tab")
            await shows("default · active · 1–2 of 2")
            assert reader.page_calls[-1] == ("default", "active", 0, 50)
            assert screen.table.row_count == 2 and screen.table.cursor_row == 0
            await pilot.press("down", "enter")
            await wait_until(lambda: isinstance(app.screen, QueueJobDetailScreen), pilot)
            job = page_job("default", "active", 1)
            assert reader.detail_calls == [job.id]
            fields = {row_text(app.screen.query_one(DataTable), i)[0]: row_text(app.screen.query_one(DataTable), i)[1]
                      for i in range(app.screen.query_one(DataTable).row_count)}
            assert fields["Job id"] == job.id and fields["State"] == "Running  (RQ status: started)"
            assert fields["Error"] == f"ValueError: bad row in {job.id[:8]} (password=***)"
            assert fields["Retries"] == "1 (2 left)"
            await pilot.press("escape")
            assert app.screen is screen
            await pilot.press("escape")
            assert not isinstance(app.screen, (QueueJobsScreen, QueueJobDetailScreen))
            assert app.tabs.active == "workers"

    run(body)


def test_source_keys_cycle_every_list_both_ways_and_r_reads_the_same_page() -> None:
    async def body() -> None:
        reader = FakeReader()
        app = make_app(reader)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_queue(app, pilot, down=0)
            for key, source in (("right_square_bracket", "active"), ("tab", "completed"), ("tab", "failed"),
                                ("tab", "scheduled"), ("tab", "deferred"), ("tab", "canceled"), ("tab", "pending"),
                                ("shift+tab", "canceled"), ("left_square_bracket", "deferred")):
                await pilot.press(key)
                await wait_until(lambda source=source: screen.page.source == source, pilot)
            assert [call[1] for call in reader.page_calls[1:]] == [
                "active", "completed", "failed", "scheduled", "deferred", "canceled", "pending", "canceled", "deferred"]
            assert header(screen) == "low · deferred · no jobs"
            assert screen.query_one("#queue-jobs-empty").display and not screen.table.display
            await pilot.press("r")
            await wait_until(lambda: len(reader.page_calls) == 11, pilot)
            assert reader.page_calls[-1] == ("low", "deferred", 0, 50)

    run(body)


def test_a_failed_read_says_why_in_one_line_and_keeps_the_last_page() -> None:
    async def body() -> None:
        reader = FakeReader()
        app = make_app(reader)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_queue(app, pilot, down=1)
            reader.page_fail_with = ConnectionError("Error 111 connecting to cache.internal:6379.\nConnection refused.")
            await pilot.press("tab")
            await wait_until(lambda: bool(screen.error), pilot)
            await pilot.pause()
            assert screen.query_one("#queue-jobs-error").display
            assert text_of(screen, "#queue-jobs-error") == (
                "⚠ Could not read default · active: ConnectionError: Error 111 connecting to cache.internal:6379. "
                "(r to retry)")
            assert header(screen) == "default · pending · 1–50 of 1,000,000" and screen.table.row_count == 50
            assert screen.source == "pending", "the list shown is the list named"
            await pilot.press("enter")
            await wait_until(lambda: "Could not read job" in screen.error, pilot)
            assert app.screen is screen
            reader.page_fail_with = None
            await pilot.press("r")
            await wait_until(lambda: not screen.error, pilot)
            assert not screen.query_one("#queue-jobs-error").display
            assert reader.page_calls[-1] == ("default", "pending", 0, 50)

    run(body)


def test_a_slow_page_that_was_overtaken_never_replaces_the_newer_one() -> None:
    async def body() -> None:
        reader = FakeReader()
        fast = reader.jobs_page

        def slow_second_page(queue: str, source: str = "pending", offset: int = 0, limit: int | None = None) -> Any:
            if offset == 50:
                time.sleep(0.3)
            return fast(queue, source, offset, limit)

        reader.jobs_page = slow_second_page  # type: ignore[method-assign]
        app = make_app(reader)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_queue(app, pilot, down=1)
            await pilot.press("n", "tab")
            await wait_until(lambda: screen.page.source == "active", pilot)
            await pilot.pause(0.5)
            assert header(screen) == "default · active · 1–2 of 2"
            assert sorted(call[1:3] for call in reader.page_calls) == [("active", 0), ("pending", 0), ("pending", 50)]

    run(body)


def test_a_page_past_the_end_of_a_shrunk_list_shows_the_last_page() -> None:
    async def body() -> None:
        reader = FakeReader()
        app = make_app(reader)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_queue(app, pilot, down=1)
            await pilot.press("n")
            await wait_until(lambda: screen.page.offset == 50, pilot)
            reader.page_totals["pending"] = 30
            await pilot.press("r")
            await wait_until(lambda: header(screen) == "default · pending · 1–30 of 30", pilot)
            assert [call[2] for call in reader.page_calls] == [0, 50, 50, -1]

    run(body)


def test_the_palette_opens_the_first_queue_and_every_binding_has_an_id_and_a_tooltip() -> None:
    async def body() -> None:
        reader = FakeReader()
        app = make_app(reader, read_only=True)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            titles = [hit.text for hit in [h async for h in DashboardCommands(app.screen).discover()]]
            assert "queues: Browse queue jobs" not in titles, "offered where the queues are: the Workers tab"
            await pilot.press("2")
            titles = [hit.text for hit in [h async for h in DashboardCommands(app.screen).discover()]]
            assert "queues: Browse queue jobs" in titles, "browsing never writes, so read-only offers it"
            await app.run_action("browse_queue")
            await wait_until(lambda: isinstance(app.screen, QueueJobsScreen) and app.screen.page is not None, pilot)
            assert reader.page_calls == [("low", "pending", 0, 50)]

    run(body)
    assert ("queues: Browse queue jobs", "browse_queue") in {entry[:2] for entry in PALETTE_COMMANDS}
    for owner in (QueueJobsScreen, QueueJobDetailScreen):
        for binding in owner.BINDINGS:
            assert binding.id and binding.tooltip, (owner.__name__, binding)


def test_rows_and_header_show_pages_unreadable_jobs_and_short_ids() -> None:
    job = page_job("default", "failed", 7)
    key, cells = page_row("failed:7", job, NOW, "failed", "KeyError: 'sku'")
    assert key == "failed:7"
    assert [cell.plain for cell in cells] == [job.id[:8] + "…", "cache_warm", "", "7 min ago  10:59:30",
                                              "KeyError: 'sku'", "host-a.1201", "cache_warm(batch=7, token='***')"]
    assert page_row("x", job, NOW, "active")[1][2].plain == "Failed", "a state other than the list's is named"
    unreadable = page_row("pending:3", page_job("default", "pending", 3), NOW)[1]
    assert unreadable[1].plain == "unreadable" and unreadable[2].plain == "unreadable"
    assert page_header(JobsPage("low", "failed", 0, 50, 0)) == "low · failed · no jobs"
    assert page_header(JobsPage("low", "failed", 50, 50, 1_200_000, (job,))) == "low · failed · 51–51 of 1,200,000"
    assert fmt.short_id("3f2a9c1e0b7d4c2a9e8f6a5b4c3d2e1f") == "3f2a9c1e…"
    assert fmt.short_id("sched--catalog_sync--abc123def456") == "abc123def456"
    assert fmt.short_id("job-001") == "job-001"


def test_the_app_and_its_screens_never_import_redis() -> None:
    code = ("import sys, tui.app, tui.screens.queue_jobs, tui.widgets.page_rows; "
            "assert 'redis' not in sys.modules, 'redis imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr


def test_paging_a_real_queue_of_120_rq_jobs_to_its_last_page(conn: Any, redis_url: str) -> None:
    queue = Queue("default", connection=conn)
    for batch in range(120):
        queue.enqueue("worker.demo_tasks.cache_warm", batch, description=f"cache_warm(batch={batch})")
    settings = Settings(refresh_s=60.0)
    app = RqtopApp(reader=DashboardReader(conn, settings), actions=DashboardActions(conn, settings),
                   settings=settings, url_label=redis_url)

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(lambda: app.snapshot is not None, pilot)
            assert [row.name for row in app.snapshot.queues] == ["default"]
            screen = await open_queue(app, pilot, down=0)
            assert header(screen) == "default · pending · 1–50 of 120"
            await pilot.press("end")
            await wait_until(lambda: header(screen) == "default · pending · 101–120 of 120", pilot)
            assert screen.table.row_count == 20
            assert {row_text(screen.table, i)[1] for i in range(20)} == {"cache_warm"}
            assert row_text(screen.table, 19)[-1] == "cache_warm(batch=119)"
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, QueueJobDetailScreen), pilot)
            assert app.screen.detail.task == "worker.demo_tasks.cache_warm"
            assert app.screen.detail.state == "pending" and app.screen.detail.error is None

    run(body)
    assert conn.llen("rq:queue:default") == 120, "browsing never takes a job off the queue"
