"""The operator actions as one table: each row says how to plan, confirm, run and reach one action.

The App (keys, palette, buttons) and the CLI (``rqtop <verb>``) are both built from ``ACTIONS``, so adding an
action is adding a row here plus its plan and execute functions. Rows hold callables, never method names.
Textual-free: the CLI imports this without loading the UI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tui import formatting as fmt
from tui.data.models import ScheduleRow
from tui.keyspec import KeySpec
from tui.protocols import OperatorActions
from worker.display_text import safe_text
from worker.plans import (
    ActionResult,
    CancelPendingPlan,
    FailActivePlan,
    JanitorPlan,
    JobActionPlan,
    PauseResult,
    RunNowResult,
)

Outcome = RunNowResult | PauseResult | ActionResult
"""What executing a row returns; the App turns it into a toast, the CLI prints it."""

T = TypeVar("T")
"""What a row's execute acts on: the confirmed plan, or the highlighted schedule for row actions."""


@dataclass(frozen=True)
class Confirmation:
    """The wording of one confirmation: title, what will happen (exact counts), and the confirm button."""

    title: str
    body: str
    button: str


@dataclass(frozen=True)
class CliVerb:
    """One ``rqtop <verb>`` twin of a row."""

    verb: str
    help: str
    on_schedule: Callable[[OperatorActions, str], Outcome] | None = None
    """Row actions: what the verb does to the named schedule; None when the verb plans, confirms and executes."""
    group: str = ""
    """The ``rqtop <group>`` the verb lives in, built by its own module (its flags are the form's fields); "" for
    the verbs ``add_action_verbs`` builds at the top level."""


@dataclass(frozen=True)
class OperatorAction(Generic[T]):
    """One operator action: its key, how to plan it (None: it acts on the highlighted schedule), how to run it."""

    name: str
    """The App action name; the row's key must name the same action."""
    key: KeySpec
    execute: Callable[[OperatorActions, T], Outcome]
    plan: Callable[[OperatorActions], T] | None = None
    nothing_to_do: str = ""
    """The toast when the plan is empty (planned rows only)."""
    confirm: Callable[[T], Confirmation] | None = None
    """The confirmation's wording built from the plan (planned rows only)."""
    cli: tuple[CliVerb, ...] = ()
    writes: bool = True
    """Hidden and refused in read-only mode."""
    act_title: Callable[[T], str] | None = None
    refuse: Callable[[T], str | None] | None = None
    """Row actions: why this target cannot take the action (a toast, nothing sent), or None."""
    form: str = ""
    """"edit": the App asks for the highlighted schedule's new values in the schedule form first; "create": the
    same form, empty, for a new run-time schedule (no highlighted schedule needed); execute gets a ScheduleEdit."""
    """Row actions: the verb a failure toast names for this target ("Pause" or "Resume"); else ``title``."""

    def __post_init__(self) -> None:
        """A row whose key names another action, or a planned row without its wording, fails at import."""
        if self.key.name != self.name:
            raise ValueError(f"action row {self.name!r}: its key runs {self.key.action!r}")
        if self.plan is not None and (self.confirm is None or not self.nothing_to_do):
            raise ValueError(f"action row {self.name!r}: a planned action needs confirm wording and nothing_to_do")

    @property
    def title(self) -> str:
        """The action's title: palette entry, button label, confirmation title and failure toast."""
        return self.key.title

    def refusal(self, target: T) -> str | None:
        """Why the action cannot run on ``target``, or None when it can."""
        return self.refuse(target) if self.refuse is not None else None

    def title_for(self, target: T) -> str:
        """The title of this action on ``target`` (a failure toast says what was tried)."""
        return self.act_title(target) if self.act_title is not None else self.title


_EXPIRED_NOTE = "also counts expired entries: ids left in RQ's {} list after their job data expired"
JANITOR_NOTES = {
    "delete_old_completed": _EXPIRED_NOTE.format("completed"),
    "delete_old_failed": _EXPIRED_NOTE.format("failed"),
}
"""What a janitor step's count holds when its one-line description alone would mislead, by step name."""


def confirm_janitor(plan: JanitorPlan) -> Confirmation:
    """Each step the janitor will take, with its exact count."""
    lines = [f"The janitor will touch {fmt.plural(plan.total, 'item')}:"]
    for step in plan.steps:
        if step.total:
            lines.append(f"  • {safe_text(step.description)}: {fmt.exact(step.total)}")
            note = JANITOR_NOTES.get(step.name)
            if note:
                lines.append(f"    {note}")
    lines.append("Only the items listed when you pressed J are touched.")
    return Confirmation("Run Janitor Now", "\n".join(lines), f"Run janitor ({fmt.exact(plan.total)})")


def confirm_fail_active(plan: FailActivePlan) -> Confirmation:
    """The running jobs per queue that will be failed, and how many belong to workers that are gone."""
    per_queue: dict[str, int] = {}
    for target in plan.targets:
        per_queue[target.queue] = per_queue.get(target.queue, 0) + 1
    dead = sum(1 for target in plan.targets if not target.worker_alive)
    lines = [f"{fmt.plural(plan.total, 'running job')} will be marked failed; live workers are told to stop them:"]
    lines += [f"  • {safe_text(queue)}: {fmt.exact(n)}" for queue, n in sorted(per_queue.items())]
    if dead:
        verb = "belongs to a worker that is" if dead == 1 else "belong to workers that are"
        lines.append(f"{fmt.plural(dead, 'job')} {verb} gone: failed through the registry.")
    lines.append("Jobs that start after you pressed F are not touched.")
    return Confirmation("Fail Active Jobs", "\n".join(lines), f"Fail {fmt.plural(plan.total, 'job')}")


def confirm_cancel_pending(plan: CancelPendingPlan) -> Confirmation:
    """The pending jobs per queue that will be canceled."""
    lines = [f"{fmt.plural(plan.total, 'pending job')} will be canceled and taken off their queues:"]
    lines += [f"  • {safe_text(cut.queue)}: {fmt.exact(cut.size)}" for cut in plan.cuts if cut.size]
    lines.append("Jobs queued after you pressed C are not touched.")
    return Confirmation("Cancel All Pending", "\n".join(lines), f"Cancel {fmt.plural(plan.total, 'job')}")


GLOBAL_TABS = ("jobs",)
"""Where the whole-Redis hammers (J, F, C) are offered: the Background Jobs tab with its Job Management buttons.
On the Jobs tab C cancels the highlighted or marked job(s); on the Workers tab it cancels one queue's pending."""


def _toggle_pause(actions: OperatorActions, row: ScheduleRow) -> PauseResult:
    """Resume a paused schedule, pause a running one."""
    return actions.resume(row.name) if row.paused else actions.pause(row.name)


RUN_NOW: OperatorAction[ScheduleRow] = OperatorAction(
    "run_now",
    KeySpec("n", "run_now", "Run now", "schedule.run_now", "Queue one run of the highlighted schedule",
            "schedule", "Run now", "Queue one run of the highlighted schedule now (n)", tabs=("jobs",)),
    execute=lambda actions, row: actions.run_now(row.name),
    refuse=lambda row: (f"Run now is not available for {row.name}: {row.run_now_reason}"
                        if row.source != "rqtop" and not row.run_now_allowed else None),
    cli=(CliVerb("run-now", "Queue one run of a schedule now", lambda actions, name: actions.run_now(name)),),
)
TOGGLE_PAUSE: OperatorAction[ScheduleRow] = OperatorAction(
    "toggle_pause",
    KeySpec("p", "toggle_pause", "Pause/Resume", "schedule.pause", "Pause or resume the highlighted schedule",
            "schedule", "Pause/Resume", "Pause or resume the highlighted schedule (p)", tabs=("jobs",)),
    execute=_toggle_pause,
    act_title=lambda row: "Resume" if row.paused else "Pause",
    cli=(CliVerb("pause", "Stop a schedule from queueing runs", lambda actions, name: actions.pause(name)),
         CliVerb("resume", "Let a paused schedule queue runs again", lambda actions, name: actions.resume(name))),
)
JANITOR: OperatorAction[JanitorPlan] = OperatorAction(
    "janitor",
    KeySpec("J", "janitor", "Janitor", "jobs.janitor", "Run the janitor now (asks first)",
            "jobs", "Run Janitor Now", "Clean up orphaned jobs, stale workers and tokens; asks first (J)",
            button="primary", tabs=GLOBAL_TABS),
    plan=lambda actions: actions.plan_janitor(),
    execute=lambda actions, plan: actions.run_janitor(plan),
    nothing_to_do="The janitor has nothing to clean up.",
    confirm=confirm_janitor,
    cli=(CliVerb("janitor", "Run the janitor now"),),
)
FAIL_ACTIVE: OperatorAction[FailActivePlan] = OperatorAction(
    "fail_active",
    KeySpec("F", "fail_active", "Fail active", "jobs.fail_active", "Fail every running job (asks first)",
            "jobs", "Fail Active Jobs", "Mark every running job failed; asks first (F)", button="warning",
            tabs=GLOBAL_TABS),
    plan=lambda actions: actions.plan_fail_active(),
    execute=lambda actions, plan: actions.fail_active(plan),
    nothing_to_do="No job is running: nothing to fail.",
    confirm=confirm_fail_active,
    cli=(CliVerb("fail-active", "Fail every active job"),),
)
CANCEL_PENDING: OperatorAction[CancelPendingPlan] = OperatorAction(
    "cancel_pending",
    KeySpec("C", "cancel_pending", "Cancel pending", "jobs.cancel_pending", "Cancel every pending job (asks first)",
            "jobs", "Cancel All Pending", "Cancel every job waiting in a queue; asks first (C)", button="error",
            tabs=GLOBAL_TABS),
    plan=lambda actions: actions.plan_cancel_pending(),
    execute=lambda actions, plan: actions.cancel_pending(plan),
    nothing_to_do="No job is pending: nothing to cancel.",
    confirm=confirm_cancel_pending,
    cli=(CliVerb("cancel-pending", "Cancel every pending job"),),
)



def _run_now_notify(actions: OperatorActions, name: str) -> RunNowResult:
    """Run now, and email the operator's default address (``RQTOP_NOTIFY_EMAIL``, else the config file's
    ``notify_email``) when that run ends."""
    from worker.notify.config import NotifyConfigError, default_notify_address

    settings = getattr(actions, "settings", None)  # DashboardActions carries the loaded config; fakes need not
    try:
        address = default_notify_address(configured=getattr(settings, "notify_email", "") or "")
    except NotifyConfigError as exc:
        return RunNowResult(name, "not_allowed", None, str(exc))
    if not address:
        return RunNowResult(name, "not_allowed", None, "Run now + notify: set notify_email in the config file "
                            "(or RQTOP_NOTIFY_EMAIL) to the address to email")
    return actions.run_now(name, notify=address)


RUN_NOW_NOTIFY: OperatorAction[ScheduleRow] = OperatorAction(
    "run_now_notify",
    KeySpec("N", "run_now_notify", "Run + notify", "schedule.run_now_notify",
            "Queue one run, email me when it ends", "schedule", "Run now and notify me",
            "Queue one run of the highlighted schedule; email me when it ends (N)", show=False, tabs=("jobs",)),
    execute=lambda actions, row: _run_now_notify(actions, row.name),
    refuse=lambda row: (f"Run now + notify is for rqtop's own schedules; {row.name} is not one"
                        if row.source != "rqtop" else None),
    cli=(CliVerb("run-now-notify", "Queue one run of a schedule now and email your default address "
                 "($RQTOP_NOTIFY_EMAIL, else the config file's notify_email) when it ends",
                 _run_now_notify),),
)

@dataclass(frozen=True)
class ScheduleEdit:
    """What the edit form returned for one schedule: the fields to change, or Reset to file."""

    name: str
    fields: dict[str, Any]
    """The changed fields; for a new schedule, its whole table."""
    reset: bool = False
    create: bool = False
    delete: bool = False
    """Delete a run-time schedule (confirmed in the form)."""


def _apply_edit(actions: OperatorActions, edit: ScheduleEdit) -> ActionResult:
    """Save the form's fields as a run-time edit or a new run-time schedule; remove an override or a run-time
    schedule."""
    if edit.create:
        return actions.create_schedule(edit.fields)
    if edit.delete:
        return actions.delete_schedule(edit.name)
    return actions.reset_schedule(edit.name) if edit.reset else actions.set_schedule(edit.name, edit.fields)


def _edit_refusal(row: ScheduleRow) -> str | None:
    """Only rqtop's own, readable schedules are edited at run time."""
    if row.source != "rqtop":
        return f"Edit is for rqtop's own schedules; {row.name} belongs to {row.source}"
    if row.unreadable:
        return f"{row.name} has an unreadable definition: fix the schedules file"
    return None


EDIT_SCHEDULE: OperatorAction[Any] = OperatorAction(
    "edit_schedule",
    KeySpec("E", "edit_schedule", "Edit", "schedule.edit", "Edit the highlighted schedule at run time (a form)",
            "schedule", "Edit schedule", "Change the highlighted schedule's timing, queue, timeout, kwargs or notify "
            "at run time, or reset it to the file (E)", show=False, tabs=("jobs",)),
    execute=_apply_edit,
    form="edit",
    refuse=_edit_refusal,
    cli=(CliVerb("set", "Override fields of a file schedule (or edit a run-time one) from the scheduler's next tick",
                 group="schedules"),
         CliVerb("reset", "Remove a schedule's run-time override: the file's definition applies from the next tick",
                 group="schedules")),
)

CREATE_SCHEDULE: OperatorAction[Any] = OperatorAction(
    "create_schedule",
    KeySpec("A", "create_schedule", "Add", "schedule.create", "Add a run-time schedule (a form)",
            "schedule", "Add run-time schedule", "Create a schedule at run time from one of the file's tasks; "
            "exported by 'rqtop schedules export' (A)", show=False, tabs=("jobs",)),
    execute=_apply_edit,
    form="create",
    cli=(CliVerb("create", "Add a run-time schedule (exported by 'schedules export', removed by 'schedules delete')",
                 group="schedules"),
         CliVerb("delete", "Remove a run-time schedule (schedules from the file are never deleted at run time)",
                 group="schedules")),
)

ACTIONS: tuple[OperatorAction[Any], ...] = (RUN_NOW, TOGGLE_PAUSE, JANITOR, FAIL_ACTIVE, CANCEL_PENDING,
                                            RUN_NOW_NOTIFY, EDIT_SCHEDULE, CREATE_SCHEDULE)
"""Every operator action, in footer order."""


def find(table: tuple[OperatorAction[Any], ...], name: str) -> OperatorAction[Any]:
    """The row called ``name``; KeyError naming it when no row has that name."""
    for row in table:
        if row.name == name:
            return row
    raise KeyError(f"no operator action {name!r} (known: {', '.join(row.name for row in table)})")


# Job-level actions (issue 13): they act on a confirmed set of job ids, not on a whole-Redis plan, so they are
# rows of their own type; the job detail screens bind their keys and ``tui.cli_job_actions`` builds their verbs.

TYPED_ABOVE = 1000
"""A confirmation touching more jobs than this (or every queue) asks for the count to be typed."""


@dataclass(frozen=True)
class JobConfirmation:
    """The wording of a job action's confirmation; ``typed`` is what the operator must type first ("" = no)."""

    title: str
    body: str
    button: str
    keep: str = "Keep jobs"
    typed: str = ""


@dataclass(frozen=True)
class JobAction:
    """One job-level action: its key on the job detail screens, its CLI verb and what it does, in words."""

    name: str
    """The action ``DashboardActions.plan_job_action`` takes (``rerun``, ``cancel`` …)."""
    key: str
    title: str
    verb: str
    help: str
    effect: str
    """What happens to each job, for the confirmation."""
    note: str = ""
    """What the operator should know beyond the counts (irreversible, best effort …)."""
    own_cli: str = ""
    """The module holding the verb when it is a command of its own (not built by ``tui.cli_job_actions``' loop)."""
    editor: bool = False
    """The key opens the edit-and-replay editor on one job instead of planning the action on the ids."""

    @property
    def binding_id(self) -> str:
        """The binding id of the key on the detail screens."""
        return f"job.{self.name}"


JOB_ACTIONS: tuple[JobAction, ...] = (
    JobAction("rerun", "R", "Re-run", "retry", "Re-run failed, stopped or completed jobs (same id and payload)",
              "queued again at the tail of its queue with its attempt counter reset",
              "Same payload; if it relied on state that has changed since, the re-run may not be valid."),
    JobAction("replay", "P", "Replay", "replay", "Replay dead-letter (failed) jobs with a fresh attempt counter",
              "taken from the dead letter and queued again with its attempt counter reset"),
    JobAction("cancel", "C", "Cancel", "cancel", "Cancel pending, scheduled, deferred or retrying jobs",
              "moved into RQ's canceled registry; it will not run"),
    JobAction("stop", "S", "Stop", "stop", "Stop running jobs (RQ's stop command, best effort)",
              "stopped by its worker (the horse is killed; the job lands in failed as stopped)",
              "A job whose worker is gone is failed through the registry; a worker that does not listen (frozen, "
              "or a SimpleWorker without a horse) lets the job run to its end."),
    JobAction("cancel_running", "K", "Cancel running", "cancel-running",
              "Ask running jobs to stop at their next checkpoint (cooperative cancel; they end canceled)",
              "asked to stop at its next is_cancelled() checkpoint, then ends as canceled (not failed)",
              "A task without checkpoints runs to completion and is then marked canceled. The hard stop (RQ's stop "
              "command) is its own action: S.", own_cli="tui.cli_wait"),
    JobAction("retry_now", "T", "Retry now", "retry-now", "Bring scheduled (retrying) jobs forward to now",
              "moved from the scheduled registry to the tail of its queue; its retry budget is not consumed"),
    JobAction("dead_letter", "D", "Send to dead letter", "dead-letter", "Stop retries: move jobs into failed",
              "moved into failed with your reason; no further retries run"),
    JobAction("edit_replay", "E", "Edit and replay", "edit-replay",
              "Edit a dead-letter job's arguments as JSON and enqueue them as a new job (the original is kept)",
              "left where it is, linked to a new job that runs the same function with the edited arguments",
              "Plain-data payloads only: a pickle holding objects is refused, never executed.",
              own_cli="tui.cli_job_actions", editor=True),
    JobAction("dismiss", "X", "Dismiss", "dismiss", "Delete jobs and their registry entries (irreversible)",
              "deleted with its results and registry entries",
              "Irreversible: the audit log keeps the ids, nothing else."),
)
"""Every job-level action, in the order the detail screens list their keys."""


def find_job_action(name: str) -> JobAction:
    """The job action row called ``name``; KeyError naming it when none is."""
    for row in JOB_ACTIONS:
        if row.name == name:
            return row
    raise KeyError(f"no job action {name!r} (known: {', '.join(row.name for row in JOB_ACTIONS)})")


def confirm_job_action(row: JobAction, plan: JobActionPlan, every_queue: bool = False,
                       scope: str = "") -> JobConfirmation:
    """The exact count per queue, what happens to each job, and what is skipped; typed above 1,000 or on all.

    ``scope`` is one line saying where the ids came from (the marked rows, the jobs matching a filter)."""
    lines = [safe_text(scope)] if scope else []
    lines.append(f"{plan.total:,} job(s) will be acted on; each is {row.effect}:")
    lines += [f"  • {safe_text(queue)}: {n:,}" for queue, n in plan.per_queue().items()]
    if plan.skipped:
        states: dict[str, int] = {}
        for _, status in plan.skipped:
            states[status] = states.get(status, 0) + 1
        said = ", ".join(f"{n:,} {safe_text(status)}" for status, n in sorted(states.items()))
        lines.append(f"{len(plan.skipped):,} job(s) asked for are left alone (not in a state {row.title} "
                     f"applies to, or gone): {said}.")
    if row.name == "dead_letter":
        lines.append(f"Reason: {safe_text(plan.reason) or '(none given)'}")
    if row.note:
        lines.append(row.note)
    lines.append("A job that changes state before it is reached is skipped and counted.")
    typed = str(plan.total) if plan.total > TYPED_ABOVE or every_queue else ""
    if typed:
        lines.append(f"Type {typed} to confirm.")
    return JobConfirmation(row.title, "\n".join(lines), f"{row.title} {plan.total:,} job(s)", typed=typed)


# Workers-tab actions (issue 13): on the highlighted queue row, the highlighted worker row, or every worker. Each
# names its CLI twin; a queue action is a job action planned on one of the queue's lists, confirmed with the
# queue name typed (as ``rqtop queues …`` asks).


@dataclass(frozen=True)
class TargetAction:
    """One Workers-tab action: its key, what it plans and its CLI twin."""

    key: KeySpec
    target: str
    """"queue" (the highlighted queue row), "worker" (the highlighted worker row) or "workers" (every worker)."""
    job_action: str = ""
    """Queue actions: the job action planned on the queue's list (``cancel``, ``rerun``, ``dismiss``)."""
    state: str = ""
    """Queue actions: the list planned (RQ status: ``queued``, ``failed``); "" asks which."""
    cli: str = ""
    """The CLI twin, as the operator types it."""

    @property
    def name(self) -> str:
        """The App action name."""
        return self.key.name

    @property
    def title(self) -> str:
        """The palette entry's and the confirmation's title."""
        return self.key.title


def _target_key(key: str, name: str, short: str, title: str, help_text: str, namespace: str) -> KeySpec:
    """The KeySpec of a Workers-tab action."""
    return KeySpec(key, name, short, f"{namespace}.{name}", help_text, namespace, title, f"{help_text} ({key})",
                   tabs=("workers",))


TARGET_ACTIONS: tuple[TargetAction, ...] = (
    TargetAction(_target_key("C", "cancel_queue", "Cancel queue", "Cancel pending in this queue",
                             "Cancel every pending job of the highlighted queue; asks first", "queues"),
                 "queue", "cancel", "queued", "rqtop jobs cancel --queue QUEUE --state queued"),
    TargetAction(_target_key("R", "requeue_failed", "Requeue failed", "Requeue failed of this queue",
                             "Re-run every failed job of the highlighted queue; asks first", "queues"),
                 "queue", "rerun", "failed", "rqtop queues requeue-failed QUEUE"),
    TargetAction(_target_key("E", "empty_registry", "Empty", "Empty a registry of this queue",
                             "Delete every job of one list of the highlighted queue; asks which, then asks first",
                             "queues"),
                 "queue", "dismiss", "", "rqtop queues empty QUEUE STATE"),
    TargetAction(_target_key("U", "toggle_suspend", "Suspend/resume", "Suspend or resume all workers",
                             "Suspend every RQ worker (rq suspend), or resume them; asks first", "workers"),
                 "workers", cli="rqtop workers suspend | rqtop workers resume"),
    TargetAction(_target_key("K", "shutdown_worker", "Shut down", "Shut down this worker",
                             "Ask the highlighted worker to shut down after its current job; asks first", "workers"),
                 "worker", cli="rqtop workers shutdown NAME"),
)
"""Every Workers-tab action, in footer order."""
EMPTYABLE = ("queued", "failed", "finished", "canceled", "deferred", "scheduled")
"""The lists Empty offers (RQ status names; ``queued`` is the pending list)."""


def find_target_action(name: str) -> TargetAction:
    """The Workers-tab action called ``name``; KeyError naming it when none is."""
    for row in TARGET_ACTIONS:
        if row.name == name:
            return row
    raise KeyError(f"no workers-tab action {name!r}")
