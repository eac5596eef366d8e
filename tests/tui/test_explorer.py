"""The Jobs tab driven from keys on a real Redis with real RQ jobs: filter, warnings, paging, marks, drawer."""

from __future__ import annotations

from typing import Any

import redis
from rq import Queue, SimpleWorker
from textual.widgets import Input, Label

from tests import jobs
from tests.tui.fakes import run, wait_until
from tui.app import RqtopApp
from tui.data.actions import DashboardActions
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.screens.explorer_detail import ExplorerDetailScreen
from tui.widgets.explorer_pane import ExplorerPane


def label(app: Any, selector: str) -> str:
    """What a label says."""
    return str(app.query_one(selector, Label).render())


def make(conn: redis.Redis, url: str, **overrides: Any) -> RqtopApp:
    """The app as the CLI builds it, on the real reader."""
    settings = Settings(refresh_s=60.0, **overrides)
    return RqtopApp(reader=DashboardReader(conn, settings), actions=DashboardActions(conn, settings),
                    settings=settings, url_label=url)


def populate(conn: redis.Redis) -> dict[str, list[str]]:
    """Three failed imports on 'high', one completed hello and 60 pending oks on 'default'."""
    high, default = Queue("high", connection=conn), Queue("default", connection=conn)
    failed = [high.enqueue(jobs.boom, f"import {i} timed out").id for i in range(3)]
    done = [default.enqueue(jobs.say_hello).id]
    SimpleWorker([high, default], connection=conn, name="tui-w").work(burst=True)
    pending = [default.enqueue(jobs.ok, i).id for i in range(60)]
    return {"failed": failed, "done": done, "pending": pending}


async def open_tab(app: RqtopApp, pilot: Any) -> ExplorerPane:
    """Key 4, then wait for the first page."""
    await wait_until(lambda: app.snapshot is not None, pilot)
    await pilot.pause()  # the tabs take their initial tab after the first refresh
    await pilot.press("4")
    pane = app.explorer_pane
    await wait_until(lambda: pane.page is not None, pilot, 10)
    await pilot.pause()
    return pane


async def query(pilot: Any, pane: ExplorerPane, text: str) -> list[str]:
    """Type a query in the bar and wait for its page; the toasts shown right after Enter."""
    request = pane._request
    await pilot.press("slash")
    bar = pane.query_one("#explorer-query", Input)
    assert bar.display and bar.has_focus
    bar.value = text
    await pilot.press("enter")
    toasts = [str(n.message) for n in pilot.app._notifications]
    await wait_until(lambda: pane._request > request and not pane._reading, pilot, 20)
    await pilot.pause()
    return toasts


def test_filter_page_mark_and_back_out(conn: redis.Redis, redis_url: str) -> None:
    made = populate(conn)
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            assert app.tabs.active == "explorer"
            assert pane.page is not None and pane.page.total == 63  # 60 pending + 3 failed; completed hidden
            assert "1–50 of 63" in label(app, "#explorer-header")
            await pilot.press("n")
            await wait_until(lambda: pane.page is not None and pane.page.offset == 50, pilot)
            assert pane.table.row_count == 13 and "51–63 of 63" in label(app, "#explorer-header")
            await pilot.press("n")  # past the end: nothing
            await pilot.pause()
            assert pane.page.offset == 50
            await pilot.press("g")
            await wait_until(lambda: pane.page is not None and pane.page.offset == 0, pilot)
            await pilot.press("c")
            await wait_until(lambda: pane.page is not None and pane.page.total == 64, pilot)

            await query(pilot, pane, "state:failed")
            assert {row.id for row in pane.page.rows} == set(made["failed"])
            assert all(row.error and "timed out" in row.error for row in pane.page.rows)
            await pilot.press("space")
            assert pane.selected_ids() == (pane.page.rows[0].redis_id,)
            await pilot.press("A")
            assert set(pane.selected_ids()) == set(made["failed"])
            await pilot.press("A")  # all marked: A unmarks the page
            assert len(pane.selected_ids()) == 1 and not pane.marks

            app.action_show_tab("workers")  # the filter survives a tab switch and a refresh
            await pilot.pause()
            await pilot.press("4", "r")
            await pilot.pause(0.3)
            assert pane.filter.states == ("failed",) and {row.id for row in pane.page.rows} == set(made["failed"])

            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ExplorerDetailScreen), pilot)
            drawer = app.screen
            assert drawer.detail.state == "failed" and drawer.history.attempts[0].outcome == "failed"
            assert "ConnectionError" in (drawer.history.traceback or "")
            await pilot.press("y")
            await pilot.press("escape")
            await wait_until(lambda: not isinstance(app.screen, ExplorerDetailScreen), pilot)

    run(body)
    assert conn.llen("rq:queue:default") == 60 and conn.zcard("rq:failed:high") == 3, "browsing changes nothing"


def test_an_invalid_filter_is_a_toast_and_a_marked_term(conn: redis.Redis, redis_url: str) -> None:
    made = populate(conn)
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            pane = await open_tab(app, pilot)
            toasts = await query(pilot, pane, "state:nope task:boom")
            assert {row.id for row in pane.page.rows} == set(made["failed"])
            assert pane.page.mode == "scan" and "scanned" in label(app, "#explorer-header")
            warnings = pane.query_one("#explorer-warnings", Label)
            assert warnings.display and "unknown state 'nope'" in str(warnings.render())
            assert any("unknown state 'nope'" in toast for toast in toasts)
            await query(pilot, pane, f"id:{made['pending'][5]}")
            assert [row.id for row in pane.page.rows] == [made["pending"][5]] and not warnings.display

    run(body)


def test_pinned_to_newest_unless_the_cursor_moved(conn: redis.Redis, redis_url: str) -> None:
    queue = Queue("q", connection=conn)
    for i in range(5):
        queue.enqueue(jobs.ok, i)
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            pane = await open_tab(app, pilot)
            await pilot.press("down", "down")
            kept = pane.table.highlighted_key
            for i in range(3):
                queue.enqueue(jobs.ok, 100 + i, at_front=True)
            await pilot.press("r")
            await wait_until(lambda: pane.table.row_count == 8, pilot)
            await pilot.pause()
            assert pane.table.highlighted_key == kept
            assert label(app, "#explorer-newer") == "↑ 3 newer"
            await pilot.press("g")
            await pilot.press("up", "up", "up", "up", "up")
            await pilot.pause()
            assert not pane.query_one("#explorer-newer").display

    run(body)


def test_an_id_in_two_lists_is_listed_once(conn: redis.Redis, redis_url: str) -> None:
    job = Queue("q", connection=conn).enqueue(jobs.ok, 1)
    conn.zadd("rq:failed:q", {job.id: 1e10})  # RQ can leave an id in two places; the table keys rows by id
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            pane = await open_tab(app, pilot)
            assert pane.page is not None and len(pane.page.rows) == 2
            assert pane.table.row_count == 1 and pane.table.highlighted_key == job.id

    run(body)


def test_a_full_page_at_80x24_keeps_the_whole_failure_of_the_highlighted_job_on_screen(conn: redis.Redis,
                                                                                       redis_url: str) -> None:
    """At 80 columns the Failure column shows a few characters; the line under the table says the highlighted
    job's whole failure, follows the cursor, and with a 50-row page the table scrolls in what it leaves (the line
    and the hints stay on screen)."""
    high = Queue("high", connection=conn)
    reasons = [f"import {i} timed out after {30 + i} s talking to billing" for i in range(55)]
    for reason in reasons:
        high.enqueue(jobs.boom, reason)
    SimpleWorker([high], connection=conn, name="tui-w80").work(burst=True)
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            pane = await open_tab(app, pilot)
            assert pane.table.row_count == 50
            failure = pane.query_one("#explorer-failure", Label)
            first = label(app, "#explorer-failure")
            assert failure.display and first.startswith("Failure of ") and "ConnectionError: import" in first
            shown = pane._rows[pane.table.highlighted_key]
            assert shown.error is not None and first.endswith(shown.error) and len(shown.error) > 48
            await pilot.press("down")
            await pilot.pause()
            second = pane._rows[pane.table.highlighted_key]
            assert label(app, "#explorer-failure").endswith(second.error or "") and second.error != shown.error
            bottom = app.screen.size.height - 1  # the footer's row
            for selector in ("#explorer-failure", "#explorer-hint", "#explorer-action-hint"):
                region = pane.query_one(selector).region
                assert region.height >= 1 and region.bottom <= bottom, (selector, region)
            assert pane.table.region.height < 50, "the page scrolls within the table"

    run(body)
