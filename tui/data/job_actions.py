"""Job-level operator actions: plan exactly which jobs an action touches (reads only), then act on that set.

``plan_jobs`` reads the named ids' status and queue in one pipelined round trip; ``plan_selection`` lists one
registry (or the pending list) of one queue. ``execute`` hands the confirmed (id, status) pairs to
``worker.job_ops`` (one Lua script, chunked: a job that changed state since the plan is skipped and counted);
Stop goes through ``worker.fail_active`` on just the planned executions (RQ's ``stop-execution`` pub/sub command to
a live worker; a gone worker's execution is failed through the registry). Worker actions are RQ's own: the
``rq:suspended`` key (``rq suspend``/``rq resume``) and the ``shutdown`` pub/sub command.
Nothing here unpickles job data or imports a name read from Redis.
"""

from __future__ import annotations

import json
from typing import Any

import redis

from worker import fail_active, job_ops, job_states, keys
from worker.cancel_request import request_cancel
from worker.plans import ExecutionRef, FailActivePlan, JobActionPlan, JobRef, WorkerActionPlan
from worker.records import as_text

JOB_ACTIONS = ("rerun", "replay", "cancel", "stop", "cancel_running", "retry_now", "dead_letter", "dismiss")
"""Every job-level action, by name."""
APPLIES, SOURCES = job_states.APPLIES, job_states.SOURCES
"""The RQ statuses each action applies to; where ``plan_selection`` lists a state's ids."""
AUDIT_IDS = 100
"""How many ids one audit entry names (the count is always exact)."""
TYPED_ABOVE = 1000
"""Above this many jobs the confirmation asks for the count to be typed."""
DEFAULT_REASON = "sent to dead letter by an operator"


def plan_jobs(conn: redis.Redis, action: str, job_ids: list[str], reason: str = "",
              retries: int | None = None) -> JobActionPlan:
    """The named jobs the action applies to now, and the others with their status (reads only)."""
    applies = APPLIES[_known(action)]
    unique = list(dict.fromkeys(job_ids))
    pipe = conn.pipeline(transaction=False)
    for job_id in unique:
        pipe.hmget(keys.rq_job(job_id), "status", "origin")
    replies = pipe.execute() if unique else []
    jobs: list[JobRef] = []
    skipped: list[tuple[str, str]] = []
    for job_id, reply in zip(unique, replies, strict=True):
        status, origin = (as_text(raw) if raw is not None else "" for raw in reply)
        if status in applies and origin:
            jobs.append(JobRef(job_id, origin, status))
        else:
            skipped.append((job_id, status or "missing"))
    stops = _stops(conn, jobs) if action == "stop" else ()
    if action == "stop":
        running = {ref.job_id for ref in stops}
        skipped += [(job.job_id, "no execution") for job in jobs if job.job_id not in running]
        jobs = [job for job in jobs if job.job_id in running]
    return JobActionPlan(action, tuple(jobs), tuple(skipped), reason, retries, stops)


def plan_selection(conn: redis.Redis, action: str, queue: str, state: str, reason: str = "",
                   retries: int | None = None) -> JobActionPlan:
    """Every job of one queue's ``state`` list or registry that the action applies to (reads only)."""
    if state not in SOURCES:
        raise ValueError(f"unknown state {state!r} (known: {', '.join(SOURCES)})")
    raw: list[Any] = (conn.lrange(keys.rq_queue(queue), 0, -1) if state == "queued"
                      else conn.zrange(keys.rq_registry(SOURCES[state], queue), 0, -1))
    ids = [as_text(member).split(":", 1)[0] if state == "started" else as_text(member) for member in raw]
    return plan_jobs(conn, action, ids, reason, retries)


def execute(conn: redis.Redis, plan: JobActionPlan, now: float | None = None,
            stop_confirm_s: float = fail_active.STOP_CONFIRM_S) -> tuple[dict[str, int], list[str]]:
    """Act on exactly the planned jobs; counts and the ids changed (for Stop: the ids whose stop was handled)."""
    if plan.action == "stop":
        counts = fail_active.execute(conn, FailActivePlan(plan.stops), now, stop_confirm_s)
        return counts, [ref.job_id for ref in plan.stops]
    if plan.action == "cancel_running":
        return _cancel_running(conn, plan, now)
    arg = ""
    if plan.action in ("rerun", "replay") and plan.retries is not None:
        arg = str(max(plan.retries, 0))
    elif plan.action == "dead_letter":
        arg = job_ops.exc_blob(f"DeadLetter: {plan.reason or DEFAULT_REASON}")
    return job_ops.apply(conn, plan.action, [(job.job_id, job.status) for job in plan.jobs], arg, now)


def _cancel_running(conn: redis.Redis, plan: JobActionPlan, now: float | None) -> tuple[dict[str, int], list[str]]:
    """Set the cooperative cancel flag of each planned job still running; counts per outcome and the ids flagged."""
    counts = {"requested": 0, "already_requested": 0, "not_running": 0, "unknown": 0}
    flagged: list[str] = []
    for job in plan.jobs:
        request = request_cancel(conn, job.job_id, who="", now=now)
        counts[request.status] += 1
        if request.status == "requested":
            flagged.append(job.job_id)
    return counts, flagged


def audit_target(plan: JobActionPlan, ids: list[str] | None = None) -> str:
    """The audit target: the queues and the first ``AUDIT_IDS`` ids (of ``ids`` when given, else planned)."""
    named = [job.job_id for job in plan.jobs] if ids is None else ids
    shown = ", ".join(named[:AUDIT_IDS]) + (f" (+{len(named) - AUDIT_IDS} more)" if len(named) > AUDIT_IDS else "")
    queues = ", ".join(plan.per_queue()) or "-"
    return f"{len(named)} job(s) on {queues}: {shown}"


def suspend(conn: redis.Redis, ttl_s: int | None = None) -> bool:
    """``rq suspend``: every RQ worker stops taking jobs (the running ones finish); True when newly set."""
    return bool(conn.set(keys.RQ_SUSPENDED, 1, ex=ttl_s, nx=True)) or bool(ttl_s and conn.expire(keys.RQ_SUSPENDED,
                                                                                                 ttl_s))


def resume(conn: redis.Redis) -> bool:
    """``rq resume``: workers take jobs again; True when they had been suspended."""
    return bool(conn.delete(keys.RQ_SUSPENDED))


def shutdown(conn: redis.Redis, plan: WorkerActionPlan) -> dict[str, int]:
    """Send RQ's ``shutdown`` pub/sub command to each named worker (it finishes its job, then exits)."""
    counts = {"sent": 0, "not_listening": 0}
    for name in plan.workers:
        delivered = conn.publish(keys.rq_pubsub(name), json.dumps({"command": "shutdown"}))
        counts["sent" if delivered else "not_listening"] += 1
    return counts


def plan_workers(conn: redis.Redis, action: str, names: list[str]) -> WorkerActionPlan:
    """The named workers that RQ knows (``rq:workers``); suspend/resume name none (they act on every worker)."""
    if action != "shutdown":
        return WorkerActionPlan(action)
    known = {as_text(raw) for raw in conn.smembers(keys.RQ_WORKERS)}
    return WorkerActionPlan(action, tuple(name for name in names if keys.rq_worker(name) in known))


def _known(action: str) -> str:
    """``action`` when it is a job action, else ValueError naming the known ones."""
    if action not in APPLIES:
        raise ValueError(f"unknown job action {action!r} (known: {', '.join(JOB_ACTIONS)})")
    return action


def _stops(conn: redis.Redis, jobs: list[JobRef]) -> tuple[ExecutionRef, ...]:
    """The running executions of these jobs, with their workers and whether each is alive."""
    wanted = {job.job_id for job in jobs}
    if not wanted:
        return ()
    return tuple(ref for ref in fail_active.plan(conn).targets if ref.job_id in wanted)
