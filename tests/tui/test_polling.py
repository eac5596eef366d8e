"""Pilot tests for the poll loop: failures keep stale data on screen, recovery, and polls that never overlap."""

from __future__ import annotations

import time

from textual.widgets import Label

from tests.tui.fakes import FakeActions, FakeReader, FrozenClock, loaded, make_app, run, wait_until
from tui.screens.confirm import ConfirmScreen
from tui.widgets.status_bar import CONNECTED, FAILING


def test_unreachable_redis_turns_the_status_red_keeps_stale_data_then_recovers() -> None:
    async def body() -> None:
        reader = FakeReader()
        actions = FakeActions()
        clock = FrozenClock()
        app = make_app(reader, actions, clock=clock)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            reader.fail_with = ConnectionError("Error 111 connecting to cache.internal:6379. Connection refused.")
            clock.now += 95
            await pilot.press("r")
            await wait_until(lambda: app.connection == FAILING, pilot)
            await pilot.pause()
            bar = app.query_one("#status-bar")
            assert bar.has_class("-failing")
            assert "Redis unreachable — retrying" in str(bar.query_one("#status-conn", Label).render())
            banner = str(app.query_one("#stale-banner", Label).render())
            assert app.query_one("#stale-banner").display
            assert "STALE" in banner and "1 min ago" in banner and "Connection refused" in banner
            assert app.jobs_pane.schedules_table.row_count == 5, "the last data stays on screen"
            await pilot.press("2")
            assert app.tabs.active == "workers", "keys keep working"
            assert app.workers_pane.workers_table.row_count == 4
            toasts: list[str] = []
            app.notify = lambda message, **_: toasts.append(message)  # type: ignore[method-assign]
            await pilot.press("U")  # a Workers-tab action (suspend): refused while Redis is unreachable
            assert toasts and "unreachable" in toasts[0]
            assert actions.calls == [] and not isinstance(app.screen, ConfirmScreen)
            failed_at = time.monotonic()
            reader.fail_with = None
            await wait_until(lambda: app.connection == CONNECTED, pilot, timeout_s=2.0)
            assert time.monotonic() - failed_at < 2.0
            await pilot.pause()
            assert not bar.has_class("-failing")
            assert not app.query_one("#stale-banner").display

    run(body)


def test_a_failing_first_read_shows_no_data_and_keeps_retrying() -> None:
    async def body() -> None:
        reader = FakeReader()
        reader.fail_with = TimeoutError("Timeout reading from socket")
        app = make_app(reader)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(lambda: reader.calls >= 2, pilot, timeout_s=3.0)
            assert app.connection == FAILING and app.snapshot is None
            assert "No data yet" in str(app.query_one("#stale-banner", Label).render())
            reader.fail_with = None
            await wait_until(lambda: app.snapshot is not None, pilot, timeout_s=2.0)

    run(body)


def test_polls_never_overlap_even_when_refresh_is_mashed() -> None:
    async def body() -> None:
        reader = FakeReader(delay_s=0.15)
        app = make_app(reader, refresh_s=0.2)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            for _ in range(10):
                await pilot.press("r")
                await pilot.pause(0.03)
            await wait_until(lambda: reader.calls >= 5, pilot, timeout_s=5.0)
            assert reader.max_active == 1
            calls = reader.calls
            await pilot.pause(0.5)
            assert reader.calls <= calls + 3, "one read at a time, then refresh_s apart"
            assert reader.max_active == 1

    run(body)


def test_a_reader_bug_is_shown_as_a_failed_read_not_a_crash() -> None:
    async def body() -> None:
        reader = FakeReader()
        app = make_app(reader)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            reader.fail_with = ValueError("unexpected field")
            await pilot.press("r")
            await wait_until(lambda: app.connection == FAILING, pilot)
            assert "ValueError: unexpected field" in app.last_error
            assert app.is_running

    run(body)
