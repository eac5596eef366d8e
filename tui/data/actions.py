"""The dashboard's only writes: operator actions, each confirmed first, refused when read-only, and audited.

Destructive actions come in two calls: ``plan_*`` reads what would be touched (no writes) and the action
itself acts on exactly that plan, so a job that appeared after the operator confirmed is left alone.
Nothing here unpickles job data: stop commands go out as RQ's pub/sub payload (``stop-execution``, which
names the planned execution), and dead workers' jobs go through ``worker.recovery`` (plain-data loads only).
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
import time

import redis

from tui.data.settings import Settings
from worker import audit, janitor, keys
from worker.cancel import cancel_through
from worker.dispatch import enqueue_run, read_entry, set_paused
from worker.foreign_runs import copy_rq_scheduler_job, enqueue_cron_job
from worker.liveness import workers_alive
from worker.plans import (
    ActionResult,
    CancelPendingPlan,
    ExecutionRef,
    FailActivePlan,
    JanitorPlan,
    PauseResult,
    QueueCut,
    RunNowResult,
)
from worker.queues import queue_names
from worker.records import as_text
from worker.recovery import fail_dead_executions

logging.getLogger("rq").addHandler(logging.NullHandler())  # RQ's cleanup warnings must not print over the TUI

READ_ONLY_MESSAGE = "read-only mode: actions are disabled (started with --read-only or RQTOP_READ_ONLY)"
DEAD_WORKER_REASON = "Failed by operator: its worker is gone"
STOP_CONFIRM_S = 3.0
"""How long Fail Active waits for workers to confirm the stops (their started entries disappear)."""


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

    def run_now(self, name: str) -> RunNowResult:
        """Enqueue one manual run of a schedule (deduplicated by its token); for a row of another scheduler
        (``rq-scheduler/<id>``, ``rq-cron/<scheduler>/<job>``) a fresh copy on its queue, schedule untouched."""
        if self.settings.read_only:
            return RunNowResult(name, "not_allowed", None, READ_ONLY_MESSAGE)
        entry, problem = (None, f"no schedule named {name!r}") if "/" in name else read_entry(self.conn, name)
        if name.startswith(keys.RQ_SCHEDULER_ROW):
            result = copy_rq_scheduler_job(self.conn, name[len(keys.RQ_SCHEDULER_ROW):], name)
        elif name.startswith(keys.RQ_CRON_ROW):
            scheduler, _, job = name[len(keys.RQ_CRON_ROW):].partition("/")
            result = enqueue_cron_job(self.conn, scheduler, job, name)
        elif entry is None:
            result = RunNowResult(name, "unknown", None, problem)
        else:
            result = enqueue_run(self.conn, entry, trigger="manual")
        self._audit("run_now", name, {result.status: 1}, result.status == "queued")
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
        counts = janitor.execute(self.conn, plan, self.janitor_settings, self.settings.clock())
        done, planned = sum(counts.values()), plan.total
        message = f"janitor: {done} of {planned} planned item(s) handled" + (
            f" ({planned - done} had changed meanwhile)" if done < planned else "")
        self._audit("janitor", "all queues", counts, True)
        return ActionResult("janitor", True, message, counts)

    # Fail Active Jobs.

    def plan_fail_active(self) -> FailActivePlan:
        """Every running execution, with its worker and whether that worker is alive (reads only)."""
        pipe = self.conn.pipeline(transaction=False)
        queues = queue_names(self.conn)
        for queue in queues:
            pipe.zrange(keys.rq_registry("wip", queue), 0, -1)
        members = [(queue, as_text(raw)) for queue, found in zip(queues, pipe.execute(), strict=True)
                   for raw in found]
        parsed = [(queue, *member.split(":", 1)) for queue, member in members if ":" in member]
        for _queue, job_id, execution_id in parsed:
            pipe.hget(keys.rq_execution(f"{job_id}:{execution_id}"), "worker_name")
            pipe.hget(keys.rq_job(job_id), "worker_name")
        replies = pipe.execute() if parsed else []
        workers = [as_text(replies[2 * i]) or as_text(replies[2 * i + 1]) or None for i in range(len(parsed))]
        alive = workers_alive(self.conn, [w for w in workers if w], self.settings.clock())
        return FailActivePlan(targets=tuple(
            ExecutionRef(job_id, execution_id, queue, worker, bool(worker and alive.get(worker)))
            for (queue, job_id, execution_id), worker in zip(parsed, workers, strict=True)
        ))

    def fail_active(self, plan: FailActivePlan) -> ActionResult:
        """Stop planned executions on live workers (they fail the job) and fail dead workers' via RQ's cleanup."""
        if self.settings.read_only:
            return ActionResult("fail_active", False, READ_ONLY_MESSAGE)
        counts = {"stopped": 0, "stop_unconfirmed": 0, "not_delivered": 0, "failed_dead": 0, "already_ended": 0}
        current = self._still_running(plan.targets)
        alive = workers_alive(self.conn, [t.worker for t in current if t.worker], self.settings.clock())
        live = [t for t in current if t.worker and alive.get(t.worker)]
        dead = [t for t in current if not (t.worker and alive.get(t.worker))]
        counts["already_ended"] = len(plan.targets) - len(current)
        sent = []
        for target in live:
            payload = {"command": "stop-execution", "job_id": target.job_id, "execution_id": target.execution_id}
            receivers = self.conn.publish(keys.rq_pubsub(target.worker), json.dumps(payload))
            if receivers:
                sent.append(target)
            else:
                counts["not_delivered"] += 1
        if dead:
            counts["failed_dead"] = fail_dead_executions(self.conn, dead, DEAD_WORKER_REASON)
        remaining = self._wait_gone(sent, STOP_CONFIRM_S)
        counts["stop_unconfirmed"] = len(remaining)
        counts["stopped"] = len(sent) - len(remaining)
        ok = counts["not_delivered"] == 0 and counts["failed_dead"] == len(dead)
        message = (f"fail active: {counts['stopped']} stopped, {counts['failed_dead']} of {len(dead)} on dead "
                   f"workers failed, {counts['already_ended']} had already ended")
        if counts["stop_unconfirmed"] or counts["not_delivered"]:
            message += (f", {counts['stop_unconfirmed']} stop(s) not yet confirmed, "
                        f"{counts['not_delivered']} worker(s) not listening (if gone, retry once their "
                        "heartbeat expires)")
        self._audit("fail_active", f"{plan.total} execution(s)", counts, ok)
        return ActionResult("fail_active", ok, message, counts)

    # Cancel All Pending.

    def plan_cancel_pending(self) -> CancelPendingPlan:
        """Per queue: how many jobs are pending and the id at the tail, the boundary (reads only)."""
        queues = queue_names(self.conn)
        pipe = self.conn.pipeline(transaction=False)
        for queue in queues:
            pipe.llen(keys.rq_queue(queue))
            pipe.lindex(keys.rq_queue(queue), -1)
        replies = pipe.execute() if queues else []
        cuts = [QueueCut(queue, int(replies[2 * i]), as_text(replies[2 * i + 1]) or None)
                for i, queue in enumerate(queues)]
        return CancelPendingPlan(cuts=tuple(cut for cut in cuts if cut.size and cut.last_id))

    def cancel_pending(self, plan: CancelPendingPlan) -> ActionResult:
        """Cancel each queue's pending jobs up to its planned boundary; later jobs stay."""
        if self.settings.read_only:
            return ActionResult("cancel_pending", False, READ_ONLY_MESSAGE)
        counts = {"canceled": 0, "missing": 0, "skipped": 0, "taken": 0}
        for cut in plan.cuts:
            if not cut.last_id or cut.size <= 0:
                continue
            for name, value in cancel_through(self.conn, cut.queue, cut.last_id, cut.size).items():
                counts[name] += value
        message = f"cancel pending: {counts['canceled']} of {plan.total} canceled"
        if counts["taken"]:
            message += f", {counts['taken']} started by workers first"
        self._audit("cancel_pending", ", ".join(cut.queue for cut in plan.cuts) or "no queues", counts, True)
        return ActionResult("cancel_pending", True, message, counts)

    # Helpers.

    def _set_paused(self, name: str, paused: bool) -> PauseResult:
        """Pause or resume through the dispatcher, audited."""
        verb = "pause" if paused else "resume"
        if name.startswith((keys.RQ_SCHEDULER_ROW, keys.RQ_CRON_ROW)):
            source = "rq-scheduler" if name.startswith(keys.RQ_SCHEDULER_ROW) else "rq cron"
            return PauseResult(name, False, False, f"{name}: {verb} is not available: {source} has no pause "
                               "rqtop could set (only rqtop's own schedules can be paused)", ok=False)
        if self.settings.read_only:
            return PauseResult(name, bool(self.conn.sismember(keys.PAUSED, name)), False, READ_ONLY_MESSAGE, ok=False)
        if not self.conn.hexists(keys.SCHEDULES, name):
            result = PauseResult(name, bool(self.conn.sismember(keys.PAUSED, name)), False,
                                 f"no schedule named {name!r}", ok=False)
        else:
            changed = bool(set_paused(self.conn, name, paused))
            state = "paused" if paused else "resumed"
            message = f"{name} {state}" if changed else f"{name} was already {'paused' if paused else 'active'}"
            result = PauseResult(name, paused, changed, message)
        self._audit(verb, name, {"changed": int(result.changed)}, result.changed)
        return result

    def _still_running(self, targets: tuple[ExecutionRef, ...]) -> list[ExecutionRef]:
        """The planned executions whose started-registry entry is still there."""
        if not targets:
            return []
        pipe = self.conn.pipeline(transaction=False)
        for t in targets:
            pipe.zscore(keys.rq_registry("wip", t.queue), t.member)
        return [t for t, score in zip(targets, pipe.execute(), strict=True) if score is not None]

    def _wait_gone(self, targets: list[ExecutionRef], timeout_s: float) -> list[ExecutionRef]:
        """Poll until the targets' started entries disappear or ``timeout_s`` passes; the ones left."""
        deadline = time.monotonic() + timeout_s
        remaining = list(targets)
        while remaining and time.monotonic() < deadline:
            time.sleep(0.05)
            remaining = self._still_running(tuple(remaining))
        return remaining

    def _audit(self, action: str, target: str, counts: dict[str, int], ok: bool) -> None:
        """Append to the audit stream."""
        audit.append(self.conn, self.who, action, target, counts, ok, now=self.settings.clock())
