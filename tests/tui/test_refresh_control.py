"""Pilot tests for issue 15 items 16 and 17: `+`/`-` step the refresh interval, `f` freezes polling with a
PAUSED badge, and read-only mode says why an action key does nothing."""

from __future__ import annotations

from typing import Any

from tests.tui.fakes import FakeActions, FakeReader, loaded, make_app, run, wait_until
from tui.data.settings import REFRESH_STEPS_S, step_interval


def toasts(app: Any) -> list[str]:
    """The texts of the toasts shown so far."""
    return [str(notification.message) for notification in app._notifications]


def test_step_interval_walks_the_steps_and_stays_in_range() -> None:
    assert step_interval(2.0, slower=True) == 5.0
    assert step_interval(2.0, slower=False) == 1.0
    assert step_interval(3.0, slower=False) == 2.0  # an interval between steps goes to the nearer step below
    assert step_interval(REFRESH_STEPS_S[-1], slower=True) == REFRESH_STEPS_S[-1]
    assert step_interval(REFRESH_STEPS_S[0], slower=False) == REFRESH_STEPS_S[0]


def test_plus_and_minus_change_the_interval_and_say_so() -> None:
    async def body() -> None:
        app = make_app(refresh_s=2.0)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("plus")
            assert app.refresh_s == 5.0
            assert any("every 5 s" in text for text in toasts(app))
            await pilot.press("minus", "minus")
            assert app.refresh_s == 1.0

    run(body)


def test_f_freezes_polling_with_a_paused_badge_and_f_again_resumes() -> None:
    async def body() -> None:
        reader = FakeReader()
        app = make_app(reader, refresh_s=0.2)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            badge = app.query_one("#status-paused")
            assert not badge.display
            await pilot.press("f")
            assert badge.display and app.frozen
            await pilot.pause(0.1)
            frozen_at = reader.calls
            await pilot.pause(0.8)  # four intervals: no read while frozen
            assert reader.calls == frozen_at
            await pilot.press("r")  # r still reads once
            await wait_until(lambda: reader.calls == frozen_at + 1, pilot)
            await pilot.pause(0.6)
            assert reader.calls == frozen_at + 1
            await pilot.press("f")
            assert not badge.display
            await wait_until(lambda: reader.calls >= frozen_at + 3, pilot)

    run(body)


def test_read_only_says_why_an_action_key_does_nothing() -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions, read_only=True)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("C")
            await pilot.pause(0.1)
            assert "Read-only: actions are disabled." in toasts(app)
            assert actions.calls == []
            count = len(toasts(app))
            await pilot.press("n")
            await pilot.pause(0.1)
            assert len(toasts(app)) == count + 1

    run(body)


def test_read_write_mode_has_no_read_only_toast() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("n")
            await pilot.pause(0.1)
            assert "Read-only: actions are disabled." not in toasts(app)

    run(body)
