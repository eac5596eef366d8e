"""Operator actions for the App: row actions at once, destructive ones planned, confirmed, then run on that plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import App
from textual.screen import Screen

from tui import formatting as fmt
from tui.data.models import ScheduleRow
from tui.data.settings import Settings
from tui.messages import (
    ActionFinished,
    PlanFailed,
    PlanReady,
    action_finished,
    pause_finished,
    run_now_finished,
)
from tui.protocols import OperatorActions
from tui.run_followups import RunFollowups
from tui.screens.confirm import ConfirmScreen, describe_plan
from tui.widgets.jobs_pane import JobsPane
from tui.widgets.status_bar import FAILING

OPERATOR_ACTIONS = frozenset({"run_now", "toggle_pause", "janitor", "fail_active", "cancel_pending"})
"""Actions that write to Redis: hidden and refused in read-only mode."""

PLANS = {
    "janitor": ("plan_janitor", "run_janitor", "The janitor has nothing to clean up."),
    "fail_active": ("plan_fail_active", "fail_active", "No job is running: nothing to fail."),
    "cancel_pending": ("plan_cancel_pending", "cancel_pending", "No job is pending: nothing to cancel."),
}
"""Destructive action -> (plan method, run method, toast when the plan is empty)."""


class OperatorFlow(App[None]):
    """The App's write side; every write runs in a thread worker and ends in one ActionFinished toast."""

    settings: Settings
    actions: OperatorActions
    connection: str
    jobs_pane: JobsPane
    run_followups: RunFollowups
    _flow_busy: bool = False
    """True from a destructive key until its confirmation closes: one confirmation at a time."""

    def _push_modal(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> None:
        """Open a modal (the App brings the visible tab up to date when it closes)."""
        raise NotImplementedError

    def _start_poll(self) -> None:
        """Read Redis again (the App's poll loop)."""
        raise NotImplementedError

    # Operator actions: refused with a toast when read-only, unreachable or mid-confirmation.

    def _refused(self) -> bool:
        """True (and a toast says why) when no write may start now."""
        if self.settings.read_only:
            self.notify("Read-only mode: actions are disabled.", severity="warning")
        elif self.connection == FAILING:
            self.notify("Redis is unreachable: action refused. Retrying…", severity="error")
        elif self._flow_busy:
            self.notify("Another action is waiting for confirmation.", severity="warning")
        else:
            return False
        return True

    def _target_schedule(self) -> ScheduleRow | None:
        """The highlighted schedule when a row action may start now; otherwise a toast says why and None."""
        row = self.jobs_pane.selected_schedule()
        if self._refused():
            return None
        if row is None:
            self.notify("No schedule is highlighted.", severity="warning")
        return row

    def action_run_now(self) -> None:
        """Queue one run of the highlighted schedule."""
        row = self._target_schedule()
        if row is None:
            return
        if row.source != "rqtop" and not row.run_now_allowed:
            self.notify(f"Run now is not available for {row.name}: {row.run_now_reason}", severity="warning")
            return
        name = row.name
        self._act(lambda: run_now_finished(self.actions.run_now(name)), "Run now")

    def action_toggle_pause(self) -> None:
        """Pause the highlighted schedule, or resume it when it is paused."""
        row = self._target_schedule()
        if row is None:
            return
        name, paused = row.name, row.paused
        if paused:
            self._act(lambda: pause_finished(self.actions.resume(name)), "Resume")
        else:
            self._act(lambda: pause_finished(self.actions.pause(name)), "Pause")

    def action_janitor(self) -> None:
        """Plan the janitor, then confirm."""
        self._start_plan("janitor")

    def action_fail_active(self) -> None:
        """Plan Fail Active Jobs, then confirm."""
        self._start_plan("fail_active")

    def action_cancel_pending(self) -> None:
        """Plan Cancel All Pending, then confirm."""
        self._start_plan("cancel_pending")

    def _start_plan(self, action: str) -> None:
        """Read the plan off the UI thread; the confirmation shows its exact count."""
        if self._refused():
            return
        self._flow_busy = True
        self._make_plan(action)

    @work(thread=True, exit_on_error=False, group="plan")
    def _make_plan(self, action: str) -> None:
        """Ask the actions for a plan and post it."""
        try:
            plan = getattr(self.actions, PLANS[action][0])()
        except Exception as exc:
            self.post_message(PlanFailed(action, fmt.one_line(exc)))
        else:
            self.post_message(PlanReady(action, plan))

    def on_plan_failed(self, message: PlanFailed) -> None:
        """Nothing was asked; say why."""
        self._flow_busy = False
        self.notify(f"Could not prepare the action: {message.error}", severity="error")

    def on_plan_ready(self, message: PlanReady) -> None:
        """Ask the operator; on yes, run exactly this plan."""
        action, plan = message.action, message.plan
        if plan.total == 0:
            self._flow_busy = False
            self.notify(PLANS[action][2])
            return
        title, body, confirm_label = describe_plan(plan)

        def decided(confirmed: bool | None) -> None:
            self._flow_busy = False
            if confirmed:
                run = getattr(self.actions, PLANS[action][1])
                self._act(lambda: action_finished(action, run(plan)), title)
            else:
                self.notify("Nothing was changed.")

        self._push_modal(ConfirmScreen(title, body, confirm_label), decided)

    @work(thread=True, exit_on_error=False, group="action")
    def _act(self, call: Callable[[], ActionFinished], title: str) -> None:
        """Run one write off the UI thread and post its outcome."""
        try:
            outcome = call()
        except Exception as exc:
            outcome = ActionFinished(title, False, f"{title} failed: {fmt.one_line(exc)}", "error")
        self.post_message(outcome)

    def on_action_finished(self, message: ActionFinished) -> None:
        """Toast the outcome and refresh so the screen shows its effect."""
        severity: Any = message.severity
        self.notify(message.message, severity=severity, timeout=6)
        if message.job_id:
            self.run_followups.watch(message.job_id, message.schedule or message.job_id)
        self._start_poll()
