"""The dashboard's only writes: operator actions, each confirmed first, refused when read-only, and audited.

Every action that acts records its intent in the audit stream before its first write and its outcome after
(a failure included, then re-raised); a refused no-op only bumps a counter (``worker.audit.refused``).

Destructive actions come in two calls: ``plan_*`` reads what would be touched (no writes) and the action
itself acts on exactly that plan, so a job that appeared after the operator confirmed is left alone.
Nothing here unpickles job data: stop commands go out as RQ's pub/sub payload (``stop-execution``, which
names the planned execution), and dead workers' jobs go through ``worker.recovery`` (plain-data loads only).
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import redis

from tui.data import job_actions, job_edit, schedule_edits
from tui.data.masking import resolve
from tui.data.settings import Settings
from worker import audit, cancel, fail_active, janitor, keys
from worker.cancel_request import CANCEL_NOTE, request_cancel
from worker.dispatch import already_queued, enqueue_run, pending_run, read_entry, set_paused
from worker.foreign_runs import copy_rq_scheduler_job, enqueue_cron_job
from worker.notify.outbox import request_notify
from worker.plans import (
    ActionResult,
    CancelPendingPlan,
    FailActivePlan,
    JanitorPlan,
    JobActionPlan,
    PauseResult,
    RunNowResult,
    WorkerActionPlan,
)

logging.getLogger("rq").addHandler(logging.NullHandler())  # RQ's cleanup warnings must not print over the TUI

READ_ONLY_MESSAGE = "read-only mode: actions are disabled (started with --read-only or RQTOP_READ_ONLY)"
STOP_CONFIRM_S = fail_active.STOP_CONFIRM_S
"""How long Fail Active waits for workers to confirm the stops (tests may shorten it)."""
_Result = TypeVar("_Result")


def default_who() -> str:
    """``user@host`` of the operator: the sudo caller when there is one."""
    user = os.environ.get("SUDO_USER") or os.environ.get("USER")
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
    return f"{user}@{socket.gethostname()}"


def os_user() -> str:
    """The login name this process runs as (not the sudo caller)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "")


def ssh_client() -> str:
    """The SSH client's address when this runs in an SSH session (``SSH_CLIENT``, else ``SSH_CONNECTION``)."""
    for name in ("SSH_CLIENT", "SSH_CONNECTION"):
        words = os.environ.get(name, "").split()
        if words:
            return words[0]
    return ""


def default_actor(who: str, redis_user: str, role: str) -> audit.Actor:
    """Who acts, as the audit records it: ``user@host``, OS user, sudo caller, SSH client, Redis ACL user, role."""
    return audit.Actor(who, os_user(), os.environ.get("SUDO_USER", ""), ssh_client(), redis_user, role)


class DashboardActions:
    """Run now, pause/resume, janitor, Fail Active and Cancel All Pending against one Redis."""

    def __init__(self, conn: redis.Redis, settings: Settings, who: str | None = None,
                 janitor_settings: janitor.JanitorSettings | None = None, redis_user: str = ""):
        self.conn = conn
        self.settings = settings
        self.who = who or default_who()
        self.actor = default_actor(self.who, redis_user, settings.role)
        """Who acts, as every audit entry records it."""
        self.janitor_settings = janitor_settings or janitor.JanitorSettings()

    def refusal(self, action: str) -> str | None:
        """Why this dashboard may not take ``action`` now (read-only, or its role), or None."""
        return READ_ONLY_MESSAGE if self.settings.read_only else self.settings.refusal(action)

    # Schedules.

    def run_now(self, name: str, notify: str = "") -> RunNowResult:
        """Enqueue one manual run of a schedule (deduplicated by its token); for a row of another scheduler
        (``rq-scheduler/<id>``, ``rq-cron/<scheduler>/<job>``) a fresh copy on its queue, schedule untouched.
        With ``notify``, that address gets an email when the run ends."""
        refusal = self.refusal("run_now_notify" if notify else "run_now")
        if refusal:
            return RunNowResult(name, "not_allowed", None, refusal)
        if name.startswith((keys.RQ_SCHEDULER_ROW, keys.RQ_CRON_ROW)):
            with self._recorded("run_now", name) as outcome:
                if name.startswith(keys.RQ_SCHEDULER_ROW):
                    result = copy_rq_scheduler_job(self.conn, name[len(keys.RQ_SCHEDULER_ROW):], name)
                else:
                    scheduler, _, job = name[len(keys.RQ_CRON_ROW):].partition("/")
                    result = enqueue_cron_job(self.conn, scheduler, job, name)
                outcome.counts, outcome.ok = {result.status: 1}, result.status == "queued"
                if notify and result.job_id and result.status == "queued":
                    request_notify(self.conn, result.job_id, notify)
            return result
        entry, problem = (None, f"no schedule named {name!r}") if "/" in name else read_entry(self.conn, name)
        if entry is None:
            return self._refuse("run_now", "unknown", RunNowResult(name, "unknown", None, problem))
        if not entry.run_now:
            return self._refuse("run_now", "not_allowed", enqueue_run(self.conn, entry, trigger="manual"))
        pending = pending_run(self.conn, name)
        if pending:
            return self._refuse("run_now", "already_queued", already_queued(name, pending))
        with self._recorded("run_now", name) as outcome:
            result = enqueue_run(self.conn, entry, trigger="manual", notify=notify)
            outcome.counts, outcome.ok = {result.status: 1}, result.status == "queued"
        return result

    def pause(self, name: str) -> PauseResult:
        """Stop a schedule from enqueuing runs until resumed (kept in Redis, so it survives restarts)."""
        return self._set_paused(name, True)

    def resume(self, name: str) -> PauseResult:
        """Let a paused schedule enqueue runs again."""
        return self._set_paused(name, False)

    # Run-time schedule edits (issue 19): one whole override document per schedule, applied from the next tick.

    def set_schedule(self, name: str, fields: dict[str, Any]) -> ActionResult:
        """Override fields of a file schedule, or edit a run-time schedule (validated as the file is)."""
        return self._schedule_edit("schedule_set", name, lambda dry: schedule_edits.set_fields(
            self.conn, name, fields, self.who, self.settings.clock, dry))

    def reset_schedule(self, name: str) -> ActionResult:
        """Remove a schedule's override: the file's definition applies again."""
        return self._schedule_edit("schedule_reset", name, lambda dry: schedule_edits.reset(self.conn, name, dry))

    def create_schedule(self, table: dict[str, Any]) -> ActionResult:
        """Add a run-time schedule from a whole ``[[schedule]]`` table."""
        name = str(table.get("name", ""))
        return self._schedule_edit("schedule_create", name, lambda dry: schedule_edits.create(
            self.conn, table, self.who, self.settings.clock, dry))

    def delete_schedule(self, name: str) -> ActionResult:
        """Remove a run-time schedule."""
        return self._schedule_edit("schedule_delete", name, lambda dry: schedule_edits.delete(self.conn, name, dry))

    def _schedule_edit(self, action: str, name: str,
                       edit: Callable[[bool], schedule_edits.EditOutcome]) -> ActionResult:
        """Refused in read-only mode; a refused edit changes nothing and is counted, not logged; an edit is audited
        with its before and after shapes."""
        if self.settings.read_only:
            return ActionResult(action, False, READ_ONLY_MESSAGE)
        try:
            edit(True)
        except schedule_edits.EditRefused as exc:
            return self._refuse(action, "not_allowed", ActionResult(action, False, str(exc)))
        try:
            with self._recorded(action, name) as outcome:
                result = edit(False)
                outcome.counts = {"changed": int(result.before != result.after)}
                outcome.before = self.settings.audit_shape(result.shape("before"), _task_of(result.before))
                outcome.after = self.settings.audit_shape(result.shape("after"), _task_of(result.after))
        except schedule_edits.EditRefused as exc:
            return ActionResult(action, False, str(exc))
        return ActionResult(action, True, result.message, {"changed": int(result.before != result.after)})

    # Janitor.

    def plan_janitor(self) -> JanitorPlan:
        """What a janitor pass would do now (reads only)."""
        return janitor.plan(self.conn, self.janitor_settings, self.settings.clock())

    def run_janitor(self, plan: JanitorPlan) -> ActionResult:
        """Run the confirmed janitor plan; counts per step."""
        refusal = self.refusal("janitor")
        if refusal:
            return ActionResult("janitor", False, refusal)
        if not plan.total:
            return self._refuse("janitor", "nothing_planned", ActionResult(
                "janitor", True, "janitor: nothing to clean up", {step.name: 0 for step in plan.steps}))
        return self._audited("janitor", "all queues", lambda: self._run_janitor(plan))

    def _run_janitor(self, plan: JanitorPlan) -> ActionResult:
        """The janitor pass itself."""
        counts = janitor.execute(self.conn, plan, self.janitor_settings, self.settings.clock())
        done, planned = sum(counts.values()), plan.total
        message = f"janitor: {done} of {planned} planned item(s) handled" + (
            f" ({planned - done} had changed meanwhile)" if done < planned else "")
        return ActionResult("janitor", True, message, counts)

    # Fail Active Jobs.

    def plan_fail_active(self) -> FailActivePlan:
        """Every running execution, with its worker and whether that worker is alive (reads only)."""
        return fail_active.plan(self.conn, self.settings.clock())

    def fail_active(self, plan: FailActivePlan) -> ActionResult:
        """Stop planned executions on live workers (they fail the job) and fail gone workers' executions."""
        refusal = self.refusal("fail_active")
        if refusal:
            return ActionResult("fail_active", False, refusal)
        if not plan.total:
            return self._refuse("fail_active", "nothing_planned", ActionResult(
                "fail_active", True, "fail active: nothing was running", dict.fromkeys(fail_active.COUNT_NAMES, 0)))
        return self._audited("fail_active", f"{plan.total} execution(s)", lambda: self._fail_active(plan))

    def _fail_active(self, plan: FailActivePlan) -> ActionResult:
        """Fail Active itself."""
        counts = fail_active.execute(self.conn, plan, self.settings.clock(), STOP_CONFIRM_S)
        ok = counts["not_delivered"] == 0 and counts["dead_left"] == 0
        message = (f"fail active: {counts['stopped']} stopped, {counts['failed_dead']} of "
                   f"{counts['failed_dead'] + counts['dead_left']} on dead workers failed, "
                   f"{counts['already_ended']} had already ended")
        if counts["ended_otherwise"]:
            message += f", {counts['ended_otherwise']} ended on their own before the stop"
        if counts["claimed_elsewhere"]:
            message += f", {counts['claimed_elsewhere']} being failed by another operator"
        if counts["stop_unconfirmed"] or counts["not_delivered"]:
            message += (f", {counts['stop_unconfirmed']} stop(s) not yet confirmed (a frozen worker acts when it "
                        f"resumes), {counts['not_delivered']} worker(s) not listening (if gone, retry once their "
                        "heartbeat expires)")
        return ActionResult("fail_active", ok, message, counts)

    # Cancel All Pending.

    def plan_cancel_pending(self) -> CancelPendingPlan:
        """Per queue: how many jobs are pending, the boundary at the tail and the planned head (reads only)."""
        return cancel.plan(self.conn)

    def cancel_pending(self, plan: CancelPendingPlan) -> ActionResult:
        """Cancel each queue's pending jobs up to its planned boundary; later jobs (tail or head) stay."""
        refusal = self.refusal("cancel_pending")
        if refusal:
            return ActionResult("cancel_pending", False, refusal)
        if not plan.total:
            return self._refuse("cancel_pending", "nothing_planned", ActionResult(
                "cancel_pending", True, "cancel pending: nothing was pending", dict.fromkeys(cancel.COUNT_NAMES, 0)))
        target = ", ".join(cut.queue for cut in plan.cuts)
        return self._audited("cancel_pending", target, lambda: self._cancel_pending(plan))

    def _cancel_pending(self, plan: CancelPendingPlan) -> ActionResult:
        """Cancel All Pending itself."""
        counts = cancel.execute(self.conn, plan)
        message = f"cancel pending: {counts['canceled']} of {plan.total} canceled"
        if counts["taken"]:
            message += f", {counts['taken']} started by workers first"
        if counts["skipped"]:
            message += f", {counts['skipped']} skipped (no longer queued, or unreadable and left at the tail)"
        return ActionResult("cancel_pending", True, message, counts)

    # Job-level actions (issue 13): on exactly the confirmed ids.

    def plan_job_action(self, action: str, job_ids: list[str], reason: str = "",
                        retries: int | None = None) -> JobActionPlan:
        """The named jobs ``action`` applies to now, the others listed with their status (reads only)."""
        return job_actions.plan_jobs(self.conn, action, job_ids, reason, retries)

    def plan_queue_job_action(self, action: str, queue: str, state: str, reason: str = "",
                              retries: int | None = None) -> JobActionPlan:
        """Every job in one queue's ``state`` that ``action`` applies to (reads only)."""
        return job_actions.plan_selection(self.conn, action, queue, state, reason, retries)

    def job_action(self, plan: JobActionPlan) -> ActionResult:
        """Run the confirmed job action on exactly its planned jobs; one audit entry naming the ids."""
        refusal = self.refusal(plan.action)
        if refusal:
            return ActionResult(plan.action, False, refusal)
        if not plan.total:
            return self._refuse(plan.action, "nothing_planned", ActionResult(
                plan.action, True, f"{_JOB_VERB[plan.action]}: no job to act on", {}))
        counts, changed = self._job_audited(plan)
        if plan.action == "cancel_running":
            message = _cancel_running_words(counts, plan.total)
        elif plan.action == "stop":
            message = (f"stop: {counts['stopped']} stopped, {counts['failed_dead']} on gone workers failed, "
                       f"{counts['already_ended']} had already ended")
            if counts["stop_unconfirmed"] or counts["not_delivered"]:
                message += (f", {counts['stop_unconfirmed']} stop(s) not yet confirmed, "
                            f"{counts['not_delivered']} worker(s) not listening")
        else:
            message = f"{_JOB_VERB[plan.action]}: {counts['done']} of {plan.total} done"
            if counts["changed"]:
                message += f", {counts['changed']} skipped (changed state since you confirmed)"
            if counts["missing"]:
                message += f", {counts['missing']} gone"
            if counts["protected"]:
                message += f", {counts['protected']} kept (a scheduler's template)"
        if plan.skipped:
            message += f", {len(plan.skipped)} left alone (not in a state {_JOB_VERB[plan.action]} applies to)"
        return ActionResult(plan.action, True, message, counts)

    def _job_audited(self, plan: JobActionPlan) -> tuple[dict[str, int], list[str]]:
        """Intent naming the planned ids, then the outcome naming exactly the ids changed (a failure recorded)."""
        intent = audit.record_intent(self.conn, self.actor, plan.action, job_actions.audit_target(plan),
                                     now=self.settings.clock())
        try:
            counts, changed = job_actions.execute(self.conn, plan, self.settings.clock(), STOP_CONFIRM_S)
        except Exception as exc:
            audit.append(self.conn, self.actor, plan.action, job_actions.audit_target(plan), {}, False,
                         now=self.settings.clock(), phase="outcome", intent=intent,
                         error=f"{type(exc).__name__}: {exc}")
            raise
        audit.append(self.conn, self.actor, plan.action, job_actions.audit_target(plan, changed), counts, True,
                     now=self.settings.clock(), phase="outcome", intent=intent)
        return counts, changed

    def edit_form(self, job_id: str) -> job_edit.EditForm:
        """The dashboard editor's masked JSON document of a dead-letter job's arguments (reads only);
        ``job_edit.NotReplayable`` says why a job cannot be edited."""
        return job_edit.read_form(self.conn, job_id, self.settings.mask_rules)

    def edit_replay(self, job_id: str, args_json: str | None = None, kwargs_json: str | None = None,
                    keep_masked: bool = False) -> ActionResult:
        """Enqueue a new job from a dead-letter job's plain-data payload with edited args/kwargs; original kept.
        With ``keep_masked`` (the dashboard's editor), every value left as the masked editor showed it keeps the
        original's value."""
        refusal = self.refusal("edit_replay")
        if refusal:
            return ActionResult("edit_replay", False, refusal)
        try:
            payload = job_edit.read_call(self.conn, job_id)
            args, kwargs = job_edit.parse_arguments(args_json, kwargs_json, payload)
            if keep_masked:
                rules = resolve(self.settings.mask_rules, payload.func_name)
                args = job_edit.unmask(args, payload.args, rules)
                kwargs = job_edit.unmask(kwargs, payload.kwargs, rules)
        except job_edit.NotReplayable as exc:
            return self._refuse("edit_replay", "not_allowed", ActionResult("edit_replay", False, str(exc)))
        with self._recorded("edit_replay", f"{job_id} on {payload.queue}") as outcome:
            new_id = job_edit.replay_edited(self.conn, payload, args, kwargs, self.settings.clock())
            outcome.counts = {"enqueued": 1}
        return ActionResult("edit_replay", True, f"edit and replay: {job_id} replayed as {new_id} on "
                            f"{payload.queue} (the original is kept)", {"enqueued": 1})

    def plan_worker_action(self, action: str, names: list[str] | None = None) -> WorkerActionPlan:
        """Suspend/resume (every worker) or shutdown of the named workers RQ knows (reads only)."""
        return job_actions.plan_workers(self.conn, action, list(names or []))

    def worker_action(self, plan: WorkerActionPlan) -> ActionResult:
        """Suspend or resume every RQ worker, or ask the planned workers to shut down; audited."""
        refusal = self.refusal(plan.action)
        if refusal:
            return ActionResult(plan.action, False, refusal)
        if plan.action == "shutdown" and not plan.workers:
            return self._refuse("shutdown", "unknown", ActionResult("shutdown", False, "shutdown: no such worker"))
        target = ", ".join(plan.workers) or "all workers"
        with self._recorded(plan.action, target) as outcome:
            if plan.action == "shutdown":
                counts = job_actions.shutdown(self.conn, plan)
                message = f"shutdown: asked {counts['sent']} worker(s) to stop after their current job"
                if counts["not_listening"]:
                    message += f", {counts['not_listening']} not listening (gone, or a worker without pub/sub)"
            elif plan.action == "suspend":
                counts = {"changed": int(job_actions.suspend(self.conn))}
                message = "workers suspended: they finish their current job and take no new one"
            else:
                counts = {"changed": int(job_actions.resume(self.conn))}
                message = "workers resumed" if counts["changed"] else "workers were not suspended"
            outcome.counts = counts
        return ActionResult(plan.action, True, message, counts)

    # Helpers.

    def _set_paused(self, name: str, paused: bool) -> PauseResult:
        """Pause or resume through the dispatcher, audited."""
        verb = "pause" if paused else "resume"
        if name.startswith((keys.RQ_SCHEDULER_ROW, keys.RQ_CRON_ROW)):
            source = "rq-scheduler" if name.startswith(keys.RQ_SCHEDULER_ROW) else "rq cron"
            return self._refuse(verb, "not_allowed", PauseResult(
                name, False, False, f"{name}: {verb} is not available: {source} has no pause rqtop could set "
                "(only rqtop's own schedules can be paused)", ok=False))
        refusal = self.refusal("toggle_pause")
        if refusal:
            return PauseResult(name, bool(self.conn.sismember(keys.PAUSED, name)), False, refusal, ok=False)
        known = self.conn.hexists(keys.SCHEDULES, name)
        was_paused = bool(self.conn.sismember(keys.PAUSED, name))
        if not known:
            return self._refuse(verb, "unknown", PauseResult(name, was_paused, False, f"no schedule named {name!r}",
                                                             ok=False))
        if was_paused == paused:
            return self._refuse(verb, "unchanged", PauseResult(name, paused, False, _unchanged(name, paused)))
        with self._recorded(verb, name) as outcome:
            changed = bool(set_paused(self.conn, name, paused))
            outcome.counts, outcome.ok = {"changed": int(changed)}, changed
        message = f"{name} {'paused' if paused else 'resumed'}" if changed else _unchanged(name, paused)
        return PauseResult(name, paused, changed, message)

    # Cooperative cancel.

    def cancel_running(self, job_id: str) -> ActionResult:
        """Ask a running job to stop at its next checkpoint (``worker.cancel_request``), audited; a job that is not
        running is refused (counted, not logged). A task without checkpoints finishes first, then ends canceled."""
        refusal = self.refusal("cancel_running")
        if refusal:
            return ActionResult("cancel_running", False, refusal)
        status = self.conn.hget(keys.rq_job(job_id), "status")
        if status != b"started":
            reason: audit.Refusal = "unknown" if status is None else "not_allowed"
            request = request_cancel(self.conn, job_id, who=self.who, now=self.settings.clock())
            return self._refuse("cancel_running", reason, ActionResult("cancel_running", False, request.message))
        with self._recorded("cancel_running", job_id) as outcome:
            request = request_cancel(self.conn, job_id, who=self.who, now=self.settings.clock())
            outcome.counts, outcome.ok = {request.status: 1}, request.ok
        return ActionResult("cancel_running", request.ok, request.message, {request.status: 1})

    def _recorded(self, action: str, target: str) -> AbstractContextManager[audit.Outcome]:
        """Intent now, outcome when the block ends (failed, with the error, when it raises)."""
        return audit.recorded(self.conn, self.actor, action, target, clock=self.settings.clock)

    def _audited(self, action: str, target: str, act: Callable[[], ActionResult]) -> ActionResult:
        """Run ``act`` between its intent and its outcome entries."""
        with self._recorded(action, target) as outcome:
            result = act()
            outcome.counts, outcome.ok = dict(result.counts), result.ok
        return result

    def _refuse(self, action: str, reason: audit.Refusal, result: _Result) -> _Result:
        """A refused no-op: counted, not logged as an entry; ``result`` is passed through."""
        audit.refused(self.conn, action, reason)
        return result


_JOB_VERB = {"rerun": "re-run", "replay": "replay", "cancel": "cancel", "stop": "stop", "retry_now": "retry now",
             "dead_letter": "dead letter", "dismiss": "dismiss", "cancel_running": "cancel running"}
"""How a job action's result message names it."""


def _cancel_running_words(counts: dict[str, int], total: int) -> str:
    """How many running jobs were asked to stop at their next checkpoint, and what became of the others."""
    message = f"cancel running: {counts['requested']} of {total} asked to stop at their next checkpoint"
    if counts["already_requested"]:
        message += f", {counts['already_requested']} already asked"
    if counts["not_running"] or counts["unknown"]:
        message += f", {counts['not_running'] + counts['unknown']} no longer running"
    return f"{message} ({CANCEL_NOTE})"


def _unchanged(name: str, paused: bool) -> str:
    """The message when a schedule already is in the asked state."""
    return f"{name} was already {'paused' if paused else 'active'}"


def _task_of(table: dict[str, Any]) -> str | None:
    """The task a schedule table runs (its per-task mask patterns apply to its shape), or None."""
    task = table.get("task") if isinstance(table, dict) else None
    return task if isinstance(task, str) else None
