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
from typing import TypeVar

import redis

from tui.data import job_actions, job_edit
from tui.data.settings import Settings
from worker import audit, cancel, fail_active, janitor, keys
from worker.cancel_request import request_cancel
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


class DashboardActions:
    """Run now, pause/resume, janitor, Fail Active and Cancel All Pending against one Redis."""

    def __init__(self, conn: redis.Redis, settings: Settings, who: str | None = None,
                 janitor_settings: janitor.JanitorSettings | None = None):
        self.conn = conn
        self.settings = settings
        self.who = who or default_who()
        self.janitor_settings = janitor_settings or janitor.JanitorSettings()

    # Schedules.

    def run_now(self, name: str, notify: str = "") -> RunNowResult:
        """Enqueue one manual run of a schedule (deduplicated by its token); for a row of another scheduler
        (``rq-scheduler/<id>``, ``rq-cron/<scheduler>/<job>``) a fresh copy on its queue, schedule untouched.
        With ``notify``, that address gets an email when the run ends."""
        if self.settings.read_only:
            return RunNowResult(name, "not_allowed", None, READ_ONLY_MESSAGE)
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

    # Janitor.

    def plan_janitor(self) -> JanitorPlan:
        """What a janitor pass would do now (reads only)."""
        return janitor.plan(self.conn, self.janitor_settings, self.settings.clock())

    def run_janitor(self, plan: JanitorPlan) -> ActionResult:
        """Run the confirmed janitor plan; counts per step."""
        if self.settings.read_only:
            return ActionResult("janitor", False, READ_ONLY_MESSAGE)
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
        if self.settings.read_only:
            return ActionResult("fail_active", False, READ_ONLY_MESSAGE)
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
        if self.settings.read_only:
            return ActionResult("cancel_pending", False, READ_ONLY_MESSAGE)
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
        if self.settings.read_only:
            return ActionResult(plan.action, False, READ_ONLY_MESSAGE)
        if not plan.total:
            return self._refuse(plan.action, "nothing_planned", ActionResult(
                plan.action, True, f"{_JOB_VERB[plan.action]}: no job to act on", {}))
        counts, changed = self._job_audited(plan)
        if plan.action == "stop":
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
        intent = audit.record_intent(self.conn, self.who, plan.action, job_actions.audit_target(plan),
                                     now=self.settings.clock())
        try:
            counts, changed = job_actions.execute(self.conn, plan, self.settings.clock(), STOP_CONFIRM_S)
        except Exception as exc:
            audit.append(self.conn, self.who, plan.action, job_actions.audit_target(plan), {}, False,
                         now=self.settings.clock(), phase="outcome", intent=intent,
                         error=f"{type(exc).__name__}: {exc}")
            raise
        audit.append(self.conn, self.who, plan.action, job_actions.audit_target(plan, changed), counts, True,
                     now=self.settings.clock(), phase="outcome", intent=intent)
        return counts, changed

    def edit_replay(self, job_id: str, args_json: str | None = None, kwargs_json: str | None = None) -> ActionResult:
        """Enqueue a new job from a dead-letter job's plain-data payload with edited args/kwargs; original kept."""
        if self.settings.read_only:
            return ActionResult("edit_replay", False, READ_ONLY_MESSAGE)
        try:
            payload = job_edit.read_payload(self.conn, job_id)
            args, kwargs = job_edit.parse_arguments(args_json, kwargs_json, payload)
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
        if self.settings.read_only:
            return ActionResult(plan.action, False, READ_ONLY_MESSAGE)
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
        if self.settings.read_only:
            return PauseResult(name, bool(self.conn.sismember(keys.PAUSED, name)), False, READ_ONLY_MESSAGE, ok=False)
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
        if self.settings.read_only:
            return ActionResult("cancel_running", False, READ_ONLY_MESSAGE)
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
        return audit.recorded(self.conn, self.who, action, target, clock=self.settings.clock)

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
             "dead_letter": "dead letter", "dismiss": "dismiss"}
"""How a job action's result message names it."""


def _unchanged(name: str, paused: bool) -> str:
    """The message when a schedule already is in the asked state."""
    return f"{name} was already {'paused' if paused else 'active'}"
