"""Issue 15 item 13: the queue browser's lists have their own columns (errors on the failed list), counted and
clickable tabs, a "read at" stamp, and re-read themselves at the app's interval with the cursor kept."""

from __future__ import annotations

import threading
import time
from typing import Any

from textual.widgets import Label

from tests.tui.fakes import FakeReader, make_app, run, wait_until
from tests.tui.test_queue_jobs import open_queue, row_text
from tui.screens.queue_jobs import QueueJobDetailScreen, QueueJobsScreen
from tui.widgets.list_tabs import ListTab


def labels(screen: QueueJobsScreen) -> list[str]:
    """The table's column headers, as shown."""
    return [str(column.label) for column in screen.table.columns.values()]


def tabs(screen: QueueJobsScreen) -> dict[str, str]:
    """Each list tab's text, the highlighted one marked with a star."""
    return {tab.source: str(tab.render()) + ("*" if tab.has_class("-active") else "") for tab in screen.query(ListTab)}


def test_each_list_has_its_own_columns_and_the_failed_list_shows_errors() -> None:
    async def body() -> None:
        reader = FakeReader()
        app = make_app(reader)
        async with app.run_test(size=(160, 50)) as pilot:
            screen = await open_queue(app, pilot, down=1)
            assert labels(screen) == ["Job id", "Job type", "State", "Enqueued", "Description"], \
                "a pending job has not started: no Started, Ended, Worker or Error column"
            assert row_text(screen.table, 0)[-1] == "catalog_sync(batch=0, token='***')"
            read_at = str(screen.query_one("#queue-jobs-read-at", Label).render())
            assert read_at == "read at 11:06:40 UTC · every 60 s"
            assert tabs(screen) == {"pending": "pending 1.0M*", "active": "active 2", "completed": "completed 8,311",
                                    "failed": "failed 41", "scheduled": "scheduled 0", "deferred": "deferred 0",
                                    "canceled": "canceled 3"}
            await pilot.press("tab", "tab", "tab")
            await wait_until(lambda: screen.page.source == "failed", pilot)
            await pilot.pause()
            assert labels(screen) == ["Job id", "Job type", "State", "Ended", "Error", "Worker", "Description"]
            cells = row_text(screen.table, 0)
            assert cells[3] == "10 s ago  11:06:30", "relative with the exact time to the second"
            assert cells[4].startswith("ValueError: bad row in ") and cells[4].endswith("(password=***)")
            assert tabs(screen)["failed"] == "failed 41*" and tabs(screen)["pending"] == "pending 1.0M"
            await pilot.press("tab")
            await wait_until(lambda: screen.page.source == "scheduled", pilot)
            await pilot.pause()
            assert labels(screen) == ["Job id", "Job type", "State", "Created", "Description"]

    run(body)


def test_a_click_on_a_list_name_shows_that_list() -> None:
    async def body() -> None:
        reader = FakeReader()
        app = make_app(reader)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await open_queue(app, pilot, down=1)
            await pilot.click("#list-failed")
            await wait_until(lambda: screen.page.source == "failed", pilot)
            assert reader.page_calls[-1] == ("default", "failed", 0, 50)
            await pilot.click("#list-canceled")
            await wait_until(lambda: screen.page.source == "canceled", pilot)
            assert tabs(screen)["canceled"] == "canceled 3*"
            assert app.screen is screen and screen.table.has_focus

    run(body)


def test_the_80_column_browser_keeps_the_description_on_screen() -> None:
    async def body() -> None:
        app = make_app(FakeReader())
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_queue(app, pilot, down=1)
            await pilot.pause()
            assert labels(screen) == ["Job type", "State", "Enqueued", "Description"], "the detail has the id"
            description = next(c for c in screen.table.columns.values() if str(c.label) == "Description")
            left = sum(c.get_render_width(screen.table) for c in screen.table.columns.values()) - \
                description.get_render_width(screen.table)
            assert left + 12 <= screen.table.size.width, "at least 10 cells of description are visible"

    run(body)


def test_the_page_rereads_itself_at_the_apps_interval_keeps_the_cursor_and_stops_when_closed() -> None:
    async def body() -> None:
        reader = FakeReader()
        fast = reader.jobs_page
        lock = threading.Lock()
        in_flight = {"now": 0, "most": 0}

        def slow_page(queue: str, source: str = "pending", offset: int = 0, limit: int | None = None) -> Any:
            with lock:
                in_flight["now"] += 1
                in_flight["most"] = max(in_flight["most"], in_flight["now"])
            try:
                time.sleep(0.15)  # longer than the interval: a timer that did not wait would stack reads
                return fast(queue, source, offset, limit)
            finally:
                with lock:
                    in_flight["now"] -= 1

        reader.jobs_page = slow_page  # type: ignore[method-assign]
        app = make_app(reader)
        async with app.run_test(size=(160, 50)) as pilot:
            screen = await open_queue(app, pilot, down=1)
            await pilot.press("down", "down", "down")
            key = screen.table.highlighted_key
            assert key == "pending:3"
            app.refresh_s = 0.1  # what `-` sets; the next re-read uses it
            await pilot.press("r")
            calls = len(reader.page_calls)
            reader.page_totals["pending"] = 999_999
            await wait_until(lambda: len(reader.page_calls) >= calls + 3, pilot)
            await wait_until(lambda: "of 999,999" in str(screen.query_one("#queue-jobs-header", Label).render()),
                             pilot)
            assert screen.table.highlighted_key == key and screen.table.cursor_row == 3, "the cursor stays"
            assert screen.table.row_count == 50
            assert in_flight["most"] == 1, "a re-read starts only once the last one has answered"
            assert "every 0.1 s" in str(screen.query_one("#queue-jobs-read-at", Label).render())

            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, QueueJobDetailScreen), pilot)
            await pilot.pause(0.3)
            covered = len(reader.page_calls)
            await pilot.pause(0.5)
            assert len(reader.page_calls) == covered, "no re-read while a job's detail covers the list"
            await pilot.press("escape")
            await wait_until(lambda: len(reader.page_calls) > covered, pilot)

            await pilot.press("escape")
            assert not isinstance(app.screen, QueueJobsScreen)
            await pilot.pause(0.3)
            closed = len(reader.page_calls)
            await pilot.pause(0.6)
            assert len(reader.page_calls) == closed, "the re-reads stop with the screen"

    run(body)
