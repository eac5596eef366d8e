"""The job action keys (R P C K S T D E X) as one mixin, so the detail screens and the Jobs tab act the same way.

A key plans the action on the mixer's ids off the UI thread (reads only), shows the exact confirmation, and on
confirm hands exactly that plan to the App's action flow (one toast, then a refresh); E opens the edit-and-replay
editor on one job instead (``tui.screens.edit_replay``). Backing out changes nothing.
Read-only mode, an unreachable Redis or a confirmation already open refuse the key with a toast (the App's
``_refused``), and read-only hides the keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

from textual.binding import Binding
from textual.dom import DOMNode

from tui import formatting as fmt
from tui.action_table import JOB_ACTIONS, JobAction, confirm_job_action, find_job_action
from tui.messages import action_finished
from tui.screens.edit_replay import start_edit_flow
from tui.screens.job_confirm import JobConfirmScreen
from worker.plans import JobActionPlan


def job_binding(row: JobAction) -> Binding:
    """The key of one job action (uppercase: each asks first)."""
    return Binding(row.key, f"job_action('{row.name}')", row.title, id=row.binding_id, tooltip=row.help)


JOB_BINDINGS: list[Binding | tuple[str, str] | tuple[str, str, str]] = [job_binding(row) for row in JOB_ACTIONS]
"""One binding per job action, in the action table's order."""
KEYS_HINT = "  ".join(f"{row.key} {row.verb}" for row in JOB_ACTIONS)
"""The keys as one hint line: "R retry  P replay  C cancel …"."""


class JobActionKeys:
    """Mixin for a widget or screen: each job action key acts on ``job_action_ids()`` after confirmation."""

    def job_action_ids(self) -> tuple[str, ...]:
        """The ids the keys act on now (the highlighted job, the marked ones …)."""
        raise NotImplementedError

    def job_action_scope(self, ids: tuple[str, ...]) -> str:
        """One line for the confirmation saying where the ids came from ("" says nothing)."""
        return ""

    def job_action_confirmed(self, plan: JobActionPlan) -> None:
        """Called on the UI thread once the operator confirmed ``plan`` (before it runs)."""

    def _app(self) -> Any:
        """The running App (typed loosely: the mixin sits on widgets and screens alike)."""
        return cast(DOMNode, self).app

    def job_actions_hidden(self) -> bool:
        """True when the keys are hidden: read-only mode."""
        settings = getattr(self._app(), "settings", None)
        return bool(settings is not None and settings.read_only)

    def action_job_action(self, name: str) -> None:
        """Plan ``name`` on the current ids (reads only), then confirm."""
        app = self._app()
        row = find_job_action(name)
        if app._refused(row.name):  # read-only, the role, Redis unreachable, a confirmation already open
            return
        ids = self.job_action_ids()
        if not ids:
            app.notify("No job is highlighted or marked.", severity="warning")
            return
        if row.editor:  # Edit and replay: one job's arguments in the editor, not a plan over the ids
            if len(ids) > 1:
                app.notify(f"{row.title} edits one job: unmark all but one (u clears the marks).", severity="warning")
                return
            start_edit_flow(cast(DOMNode, self), row, ids[0])
            return
        start_job_flow(cast(DOMNode, self), row, lambda: app.actions.plan_job_action(row.name, list(ids)),
                       self.job_action_scope(ids), on_confirmed=self.job_action_confirmed)


def start_job_flow(node: DOMNode, row: JobAction, plan_call: Callable[[], JobActionPlan], scope: str = "",
                   typed: str = "", on_confirmed: Callable[[JobActionPlan], None] | None = None) -> None:
    """Plan off the UI thread (``plan_call`` reads only), confirm with the exact counts, then run exactly that plan
    through the App's action flow. ``typed`` (a queue name) must be typed to confirm; the caller has checked
    ``app._refused()``. One confirmation at a time: the App's ``_flow_busy`` is held until it closes."""
    app: Any = node.app
    app._flow_busy = True

    def plan() -> None:
        try:
            made = plan_call()
        except Exception as exc:
            app.call_from_thread(_plan_failed, app, row, fmt.one_line(exc))
            return
        app.call_from_thread(_confirm, app, row, made, scope, typed, on_confirmed)

    node.run_worker(plan, thread=True, group="job-plan", exit_on_error=False)


def _plan_failed(app: Any, row: JobAction, error: str) -> None:
    """Nothing was asked; say why."""
    app._flow_busy = False
    app.notify(f"Could not prepare {row.title}: {error}", severity="error")


def _confirm(app: Any, row: JobAction, plan: JobActionPlan, scope: str, typed: str,
             on_confirmed: Callable[[JobActionPlan], None] | None) -> None:
    """Ask; on yes run exactly this plan through the App's action flow."""
    if not plan.total:
        app._flow_busy = False
        app.notify(_nothing_applies(row, plan), severity="warning")
        return

    def decided(reason: str | None) -> None:
        app._flow_busy = False
        if reason is None:
            app.notify("Nothing was changed.")
            return
        confirmed = replace(plan, reason=reason) if row.name == "dead_letter" else plan
        if on_confirmed is not None:
            on_confirmed(confirmed)
        app._act(lambda: action_finished(row.name, app.actions.job_action(confirmed)), row.title)

    wording = confirm_job_action(row, plan, scope=scope)
    if typed:
        lines = [line for line in wording.body.split("\n") if not line.startswith("Type ")]
        wording = replace(wording, body="\n".join([*lines, f"Type the queue name ({typed}) to confirm."]),
                          typed=typed)
    app.push_screen(JobConfirmScreen(wording, ask_reason=row.name == "dead_letter"), decided)


def _nothing_applies(row: JobAction, plan: JobActionPlan) -> str:
    """The toast when no asked-for job is in a state the action applies to, with the states they are in."""
    if len(plan.skipped) == 1:
        return f"{row.title} does not apply to this job (it is {plan.skipped[0][1]})."
    states: dict[str, int] = {}
    for _, status in plan.skipped:
        states[status] = states.get(status, 0) + 1
    said = ", ".join(f"{n:,} {status}" for status, n in sorted(states.items()))
    return f"{row.title} applies to none of the {len(plan.skipped):,} jobs ({said}); nothing was changed."
