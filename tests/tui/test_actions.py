"""Pilot tests for operator actions: row actions, confirmed destructive actions, read-only and the palette."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.widgets import Button

from tests.tui.fakes import (
    CANCEL_PLAN,
    FAIL_PLAN,
    JANITOR_PLAN,
    SCHEDULES,
    FakeActions,
    FakeReader,
    loaded,
    make_app,
    run,
    wait_until,
)
from tui.action_table import TARGET_ACTIONS
from tui.commands import PALETTE_COMMANDS, DashboardCommands
from tui.data.models import HistoryRow
from tui.screens.confirm import ConfirmScreen
from tui.screens.keys import KeysScreen
from worker.plans import CancelPendingPlan, QueueCut

DESTRUCTIVE = [
    ("J", "plan_janitor", "run_janitor", JANITOR_PLAN, "3 items",
     "Janitor cleaned up 3 items: Orphaned started jobs to fail: 2; Dead worker records to remove: 1."),
    ("F", "plan_fail_active", "fail_active", FAIL_PLAN, "3 running jobs",
     "Failed 3 running jobs (2 stopped on their live workers, 1 on a worker that is gone)."),
    ("C", "plan_cancel_pending", "cancel_pending", CANCEL_PLAN, "21 pending jobs",
     "Canceled 21 pending jobs in high, default, low."),
]


def record_toasts(app: Any) -> list[str]:
    """Capture every toast the app shows."""
    toasts: list[str] = []
    app.notify = lambda message, **_: toasts.append(message)
    return toasts


def confirm_text(app: Any) -> str:
    """Everything the confirmation modal says."""
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    return screen._body + " " + screen._confirm_label


@pytest.mark.parametrize(("key", "plan_call", "run_call", "plan", "stated", "counts"), DESTRUCTIVE)
def test_confirming_runs_exactly_the_plan_that_was_shown(key: str, plan_call: str, run_call: str, plan: Any,
                                                          stated: str, counts: str) -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            toasts = record_toasts(app)
            await pilot.press(key)
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            assert stated in confirm_text(app)
            assert app.screen.focused is not None and app.screen.focused.id == "cancel"
            actions.plans = {name: CancelPendingPlan((QueueCut("x", 999, "z"),)) for name in actions.plans}
            await pilot.press("y")
            await wait_until(lambda: bool(actions.called(run_call)), pilot)
            assert actions.called(run_call) == [plan]
            assert actions.called(run_call)[0] is plan
            assert len(actions.called(plan_call)) == 1, "the plan is never re-read at confirm time"
            await wait_until(lambda: bool(toasts), pilot)
            assert any(counts in toast for toast in toasts), toasts

    run(body)


@pytest.mark.parametrize(("key", "plan_call", "run_call", "plan", "stated", "counts"), DESTRUCTIVE)
def test_escape_backs_out_without_running(key: str, plan_call: str, run_call: str, plan: Any, stated: str,
                                          counts: str) -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press(key)
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            await pilot.press("escape")
            await pilot.pause(0.1)
            assert not isinstance(app.screen, ConfirmScreen)
            assert actions.called(run_call) == []
            await pilot.press(key)
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            await pilot.press("enter")  # Enter on the focused Cancel button
            await pilot.pause(0.1)
            assert actions.called(run_call) == []
            assert len(actions.called(plan_call)) == 2

    run(body)


def test_management_buttons_open_the_same_confirmation() -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.click("#btn-cancel_pending")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            assert "21 pending jobs" in confirm_text(app)
            await pilot.click("#confirm")
            await wait_until(lambda: bool(actions.called("cancel_pending")), pilot)
            assert actions.called("cancel_pending") == [CANCEL_PLAN]

    run(body)


def test_an_empty_plan_asks_nothing() -> None:
    async def body() -> None:
        actions = FakeActions()
        actions.plans["cancel_pending"] = CancelPendingPlan(())
        app = make_app(actions=actions)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            toasts = record_toasts(app)
            await pilot.press("C")
            await wait_until(lambda: bool(toasts), pilot)
            assert "nothing to cancel" in toasts[0]
            assert not isinstance(app.screen, ConfirmScreen)

    run(body)


def test_n_runs_the_highlighted_schedule_now() -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            toasts = record_toasts(app)
            await pilot.press("down", "down", "n")
            await wait_until(lambda: bool(toasts), pilot)
            assert actions.called("run_now") == [SCHEDULES[2].name]
            assert toasts == [f"Queued sched--{SCHEDULES[2].name}--abc123def456"]
            actions.run_now_status = "already_queued"
            await pilot.press("n")
            await wait_until(lambda: len(toasts) == 2, pilot)
            assert toasts[1].startswith("Already queued sched--cache_warm--")

    run(body)


def test_p_pauses_a_running_schedule_and_resumes_a_paused_one() -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("p")
            await wait_until(lambda: bool(actions.called("pause")), pilot)
            assert actions.called("pause") == ["catalog_sync"]
            await pilot.press("down", "down", "down", "p")  # soft_delete_cleanup is paused
            await wait_until(lambda: bool(actions.called("resume")), pilot)
            assert actions.called("resume") == ["soft_delete_cleanup"]

    run(body)


def test_read_only_hides_and_refuses_every_action() -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions, read_only=True)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            assert app.query_one("#status-badge").display
            strip = app.query_one("#job-management")
            assert not strip.display and strip.disabled
            assert all(button.disabled for button in strip.query(Button))
            shown = {binding.action for (_, binding, enabled, _) in app.screen.active_bindings.values() if enabled}
            assert not shown & {"run_now", "toggle_pause", "janitor", "fail_active", "cancel_pending"}
            await pilot.press("n", "p", "J", "F", "C")
            for action in ("run_now", "toggle_pause", "janitor", "fail_active", "cancel_pending"):
                await app.run_action(action)
            await pilot.pause(0.1)
            assert actions.calls == []
            assert not isinstance(app.screen, ConfirmScreen)
            titles = [hit.text for hit in [h async for h in DashboardCommands(app.screen).discover()]]
            assert "jobs: Cancel All Pending" not in titles and "schedule: Run now" not in titles
            assert "view: Refresh now" in titles
            await pilot.press("question_mark")
            assert isinstance(app.screen, KeysScreen)
            listed = {row[1] for row in app.screen._keys}
            assert "Refresh" in listed and not listed & {"Janitor", "Run now", "Cancel pending", "Fail active"}

    run(body)


def test_palette_offers_every_action_titled_namespace_colon_action() -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            titles = [hit.text for hit in [h async for h in DashboardCommands(app.screen).discover()]]
            assert all(": " in title for title in titles)
            for expected in ("jobs: Run Janitor Now", "jobs: Fail Active Jobs", "jobs: Cancel All Pending",
                             "schedule: Run now", "schedule: Pause/Resume", "tabs: Workers", "view: Refresh now"):
                assert expected in titles
            # sort, reverse, browse queue and the Workers-tab actions are hidden on Background Jobs; so is the
            # profile switcher without profiles
            assert len(PALETTE_COMMANDS) == len(titles) + 4 + len(TARGET_ACTIONS)
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"Cancel All Pending")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            assert "21 pending jobs" in confirm_text(app)

    run(body)


def test_run_now_outcome_is_toasted_when_the_worker_reports_no_active_work() -> None:
    async def body() -> None:
        actions = FakeActions()
        reader = FakeReader()
        app = make_app(reader=reader, actions=actions)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            toasts = record_toasts(app)
            await pilot.press("down", "down", "n")
            await wait_until(lambda: bool(toasts), pilot)
            name = SCHEDULES[2].name
            job_id = f"sched--{name}--abc123def456"
            done = HistoryRow(id=job_id, task="app.tasks.alerts", queue="high", state="completed",
                              created_at=None, ended_at=None, retries=0, schedule=name, note="no active work")
            base = reader.snapshots[-1]
            reader.snapshots = [replace(base, history=(done, *base.history))]
            await pilot.press("r")
            await wait_until(lambda: len(toasts) >= 2, pilot)
            assert toasts[1] == f"{name}: No active work"
            await pilot.press("r")
            await pilot.pause(0.3)
            assert len(toasts) == 2, "each outcome is told once"

    run(body)
