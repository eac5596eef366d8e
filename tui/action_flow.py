"""Operator actions for the App, one flow for every row of the action table: row actions at once, planned
ones read, confirmed, then run on exactly that plan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding

from tui import formatting as fmt
from tui.action_table import ACTIONS, TARGET_ACTIONS, OperatorAction, find
from tui.bindings import key_specs
from tui.data.models import ScheduleRow
from tui.data.settings import Settings
from tui.keyspec import KeySpec
from tui.messages import ActionFinished, PlanFailed, PlanReady, finished
from tui.protocols import OperatorActions
from tui.run_followups import RunFollowups
from tui.screens.confirm import ConfirmScreen
from tui.widgets.jobs_pane import JobsPane
from tui.widgets.status_bar import FAILING
from worker.display_text import safe_text

OPERATOR_ACTIONS = frozenset(row.name for row in ACTIONS if row.writes)
"""Actions that write to Redis: hidden and refused in read-only mode."""


def to_binding(spec: KeySpec) -> Binding:
    """The Textual Binding of one key of the spec."""
    return Binding(spec.key, spec.action, spec.description, show=spec.show, key_display=spec.key_display,
                   id=spec.id, tooltip=spec.tooltip)


def _app_action(row: OperatorAction[Any]) -> Callable[[OperatorFlow], None]:
    """The ``action_<name>`` method of one row: start its flow."""

    def action(self: OperatorFlow) -> None:
        self.start_action(row)

    action.__name__ = f"action_{row.name}"
    action.__doc__ = f"{row.title}: the action table's row {row.name!r}."
    return action


class OperatorFlow(App[None]):
    """The App's write side; every write runs in a thread worker and ends in one ActionFinished toast.

    A subclass's ``ACTION_TABLE`` is all it takes: its keys (``KEY_SPECS``, ``BINDINGS``), the palette, the
    buttons, read-only gating and one ``action_<name>`` per row are derived from it when the class is made.
    """

    ACTION_TABLE: ClassVar[tuple[OperatorAction[Any], ...]] = ACTIONS
    KEY_SPECS: ClassVar[tuple[KeySpec, ...]] = ()
    WRITE_ACTIONS: ClassVar[frozenset[str]] = frozenset()

    settings: Settings
    actions: OperatorActions
    connection: str
    jobs_pane: JobsPane
    run_followups: RunFollowups
    _flow_busy: bool = False
    """True from a destructive key until its confirmation closes: one confirmation at a time."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        table = cls.ACTION_TABLE
        cls.KEY_SPECS = key_specs(table)
        cls.BINDINGS = [to_binding(spec) for spec in cls.KEY_SPECS]  # before Textual merges the bindings
        cls.WRITE_ACTIONS = (frozenset(row.name for row in table if row.writes)
                             | frozenset(row.name for row in TARGET_ACTIONS))
        for row in table:
            setattr(cls, f"action_{row.name}", _app_action(row))
        super().__init_subclass__(**kwargs)

    def _start_poll(self) -> None:
        """Read Redis again (the App's poll loop)."""
        raise NotImplementedError

    def action_row(self, name: str) -> OperatorAction[Any]:
        """The table row called ``name``; KeyError for a name the table does not have."""
        return find(self.ACTION_TABLE, name)

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every toast is plain text, never markup (``markup`` is ignored): toasts quote schedule names and error
        texts read from Redis, and each line is made safe display text (``safe_text``)."""
        text = "\n".join(safe_text(line) for line in message.split("\n"))
        super().notify(text, title=safe_text(title), severity=severity, timeout=timeout, markup=False)

    # Operator actions: refused with a toast when read-only, unreachable or mid-confirmation.

    def _refused(self, action: str = "") -> bool:
        """True (and a toast says why) when no write may start now, or this role may not take ``action``."""
        refusal = self.settings.refusal(action) if action else None
        if self.settings.read_only:
            self.notify("Read-only: actions are disabled.", severity="warning")
        elif refusal:
            self.notify(refusal, severity="warning")
        elif self.connection == FAILING:
            self.notify("Redis is unreachable: action refused. Retrying…", severity="error")
        elif self._flow_busy:
            self.notify("Another action is waiting for confirmation.", severity="warning")
        else:
            return False
        return True

    def start_action(self, row: OperatorAction[Any], schedule: ScheduleRow | None = None) -> None:
        """A row action runs at once on ``schedule`` (a palette entry names it), else on the highlighted one; a
        planned one reads its plan, then confirms."""
        if row.form == "create":
            if not self._refused(row.name):
                self._edit_form(row, None)
            return
        if row.plan is None:
            self._run_on_schedule(row, schedule)
            return
        if self._refused(row.name):
            return
        self._flow_busy = True
        self._make_plan(row)

    def _run_on_schedule(self, row: OperatorAction[Any], named: ScheduleRow | None = None) -> None:
        """Run a row action on ``named`` or the highlighted schedule (a toast says why not when it may not start)."""
        schedule = named or self.jobs_pane.selected_schedule()
        if self._refused(row.name):
            return
        if schedule is None:
            self.notify("No schedule is highlighted.", severity="warning")
            return
        refusal = row.refusal(schedule)
        if refusal:
            self.notify(refusal, severity="warning")
            return
        if row.form:
            self._edit_form(row, schedule)
            return
        self._act(lambda: finished(row.name, row.execute(self.actions, schedule)), row.title_for(schedule))

    def _edit_form(self, row: OperatorAction[Any], schedule: Any) -> None:
        """Ask for the schedule's new fields in the schedule form (empty for a new one: its task picked from the
        file's tasks on screen); act on what it returns for that schedule."""
        from tui.screens.schedule_edit import ScheduleEditScreen, file_tasks

        self._flow_busy = True

        def decided(edit: Any) -> None:
            self._flow_busy = False
            if edit is None:
                self.notify("Nothing was changed.")
                return
            self._act(lambda: finished(row.name, row.execute(self.actions, edit)), row.title)

        snapshot = getattr(self, "snapshot", None)
        tasks = file_tasks(snapshot.schedules if snapshot is not None else ())
        self.push_screen(ScheduleEditScreen(schedule, tasks), decided)

    @work(thread=True, exit_on_error=False, group="plan")
    def _make_plan(self, row: OperatorAction[Any]) -> None:
        """Ask the actions for a plan and post it."""
        assert row.plan is not None
        try:
            plan = row.plan(self.actions)
        except Exception as exc:
            self.post_message(PlanFailed(row, fmt.one_line(exc)))
        else:
            self.post_message(PlanReady(row, plan))

    def on_plan_failed(self, message: PlanFailed) -> None:
        """Nothing was asked; say why."""
        self._flow_busy = False
        self.notify(f"Could not prepare the action: {message.error}", severity="error")

    def on_plan_ready(self, message: PlanReady) -> None:
        """Ask the operator; on yes, run exactly this plan."""
        row, plan = message.row, message.plan
        if plan.total == 0:
            self._flow_busy = False
            self.notify(row.nothing_to_do)
            return
        assert row.confirm is not None
        wording = row.confirm(plan)

        def decided(confirmed: bool | None) -> None:
            self._flow_busy = False
            if confirmed:
                self._act(lambda: finished(row.name, row.execute(self.actions, plan), plan), wording.title)
            else:
                self.notify("Nothing was changed.")

        self.push_screen(ConfirmScreen(wording.title, wording.body, wording.button), decided)

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
