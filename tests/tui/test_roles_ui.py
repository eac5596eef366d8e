"""Pilot tests: the dashboard hides and refuses what its role may not do, and says which role when a key is pressed."""

from __future__ import annotations

from typing import Any

import redis
from textual.widgets import Button, Label

from tests.rq_support import contents as snapshot
from tests.tui.fakes import FakeActions, frozen_settings, loaded, make_app, run
from tests.tui.test_job_action_keys import _failed, _open
from tui.commands import DashboardCommands
from tui.data.actions import DashboardActions
from tui.screens.confirm import ConfirmScreen


def _toasts(app: Any) -> list[str]:
    """Capture every toast the app shows."""
    toasts: list[str] = []
    app.notify = lambda message, **_: toasts.append(message)
    return toasts


def test_an_operator_sees_no_admin_action_and_is_told_why_a_key_does_nothing() -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions, role="operator")
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            toasts = _toasts(app)
            badge = app.query_one("#status-badge")
            assert badge.display and "ROLE: OPERATOR" in str(badge.render())
            buttons = {button.id: button.disabled for button in app.query_one("#job-management").query(Button)}
            assert buttons == {"btn-janitor": True, "btn-fail_active": True, "btn-cancel_pending": True}
            shown = {binding.action for (_, binding, enabled, _) in app.screen.active_bindings.values() if enabled}
            assert not shown & {"janitor", "fail_active", "cancel_pending"}
            await pilot.press("J", "F", "C")
            await pilot.pause(0.1)
            assert actions.calls == [] and not isinstance(app.screen, ConfirmScreen)
            assert toasts and all("not allowed for role operator" in toast for toast in toasts)
            titles = [hit.text for hit in [h async for h in DashboardCommands(app.screen).discover()]]
            assert "jobs: Run Janitor Now" not in titles and "jobs: Cancel All Pending" not in titles

    run(body)


def test_an_admin_keeps_every_action() -> None:
    async def body() -> None:
        app = make_app(role="admin")
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            assert not app.query_one("#status-badge").display
            assert not any(button.disabled for button in app.query_one("#job-management").query(Button))
            titles = [hit.text for hit in [h async for h in DashboardCommands(app.screen).discover()]]
            assert "jobs: Run Janitor Now" in titles

    run(body)


def test_a_job_detail_offers_an_operator_only_the_operators_keys(conn: redis.Redis) -> None:
    job_id = _failed(conn)
    before = snapshot(conn)

    async def body() -> None:
        settings = frozen_settings(role="operator")
        app = make_app(actions=DashboardActions(conn, settings, who="pilot@host"), role="operator")
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await _open(app, pilot, job_id)
            hint = str(screen.query_one("#detail-hint", Label).render())
            assert "R retry" in hint and "C cancel" in hint and "X dismiss" not in hint and "D dead-letter" not in hint
            toasts = _toasts(app)
            await pilot.press("X")
            await pilot.pause(0.2)
            assert app.screen is screen
            assert toasts == ["dismiss: not allowed for role operator (see `rqtop acl print --role operator`)"]
            await app.screen.run_action("job_action('dismiss')")  # hidden: Textual does not run it
            screen.action_job_action("dismiss")  # and the action itself refuses, naming the role
            await pilot.pause(0.2)
            assert app.screen is screen and toasts and "dismiss: not allowed for role operator" in toasts[-1]

    run(body)
    assert snapshot(conn) == before
