"""Pilot tests: the dashboard hides and refuses what its role may not do, and says which role when a key is pressed."""

from __future__ import annotations

from typing import Any

from textual.widgets import Button

from tests.tui.fakes import FakeActions, loaded, make_app, run
from tui.commands import DashboardCommands
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
            assert not any(button.disabled for button in app.query_one("#job-management").query(Button))
            titles = [hit.text for hit in [h async for h in DashboardCommands(app.screen).discover()]]
            assert "jobs: Run Janitor Now" in titles

    run(body)
