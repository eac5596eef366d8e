"""Fail Active Jobs as one destructive action: ``plan`` reads the running executions, ``execute`` ends them.

A live worker's execution is stopped by that worker (RQ's ``stop-execution`` pub/sub command names the planned
execution; the worker kills its horse and marks the job stopped), so the job ends in exactly one state whatever
the horse was doing. Only an execution whose worker is provably gone (``worker.liveness``: on this host its pid,
also when the worker is frozen and its RQ hash expired) is failed from outside, through
``worker.recovery.fail_dead_executions``. Each execution is claimed with a short ``SET NX`` first, so two
concurrent runs never act on or count the same execution twice, and ``stopped`` counts only the executions that
really ended stopped (job status ``stopped`` with the newest result naming that execution).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace

import redis

from worker import keys
from worker.liveness import workers_alive
from worker.plans import ExecutionRef, FailActivePlan
from worker.records import as_text
from worker.recovery import fail_dead_executions, running_executions

DEAD_WORKER_REASON = "Failed by operator: its worker is gone"
STOP_CONFIRM_S = 3.0
"""How long ``execute`` waits for workers to confirm the stops (their started entries disappear)."""
CLAIM_TTL_S = 30
"""How long one run's claim on an execution lasts (longer than a run takes, short enough to retry soon)."""
COUNT_NAMES = ("stopped", "ended_otherwise", "stop_unconfirmed", "not_delivered", "failed_dead", "already_ended",
               "dead_left", "claimed_elsewhere")
"""Every count ``execute`` returns."""


def plan(conn: redis.Redis, now: float | None = None) -> FailActivePlan:
    """Every running execution, with its worker and whether that worker is alive (reads only)."""
    refs = running_executions(conn)
    alive = workers_alive(conn, [ref.worker for ref in refs if ref.worker], now)
    return FailActivePlan(targets=tuple(replace(ref, worker_alive=bool(ref.worker and alive.get(ref.worker)))
                                        for ref in refs))


def execute(
    conn: redis.Redis, fail_plan: FailActivePlan, now: float | None = None, confirm_s: float = STOP_CONFIRM_S
) -> dict[str, int]:
    """Stop the planned executions on live workers, fail those of gone workers; one count per outcome."""
    counts = dict.fromkeys(COUNT_NAMES, 0)
    current = still_running(conn, fail_plan.targets)
    counts["already_ended"] = fail_plan.total - len(current)
    mine = _claim(conn, current)
    counts["claimed_elsewhere"] = len(current) - len(mine)
    alive = workers_alive(conn, [t.worker for t in mine if t.worker], now)
    live = [t for t in mine if t.worker and alive.get(t.worker)]
    dead = [t for t in mine if not (t.worker and alive.get(t.worker))]
    sent = []
    for target in live:
        payload = {"command": "stop-execution", "job_id": target.job_id, "execution_id": target.execution_id}
        if conn.publish(keys.rq_pubsub(target.worker or ""), json.dumps(payload)):
            sent.append(target)
        else:
            counts["not_delivered"] += 1
    if dead:
        counts["failed_dead"] = fail_dead_executions(conn, dead, DEAD_WORKER_REASON)
        counts["dead_left"] = len(dead) - counts["failed_dead"]
    remaining = _wait_gone(conn, sent, confirm_s)
    counts["stop_unconfirmed"] = len(remaining)
    ended = [t for t in sent if t not in remaining]
    counts["stopped"] = len(ended_stopped(conn, ended))
    counts["ended_otherwise"] = len(ended) - counts["stopped"]
    return counts


def still_running(conn: redis.Redis, targets: tuple[ExecutionRef, ...] | list[ExecutionRef]) -> list[ExecutionRef]:
    """The executions whose started-registry entry is still there."""
    if not targets:
        return []
    pipe = conn.pipeline(transaction=False)
    for t in targets:
        pipe.zscore(keys.rq_registry("wip", t.queue), t.member)
    return [t for t, score in zip(targets, pipe.execute(), strict=True) if score is not None]


def ended_stopped(conn: redis.Redis, targets: list[ExecutionRef]) -> list[ExecutionRef]:
    """The executions that ended stopped: the job's status is ``stopped`` and its newest result is that execution's."""
    if not targets:
        return []
    pipe = conn.pipeline(transaction=False)
    for t in targets:
        pipe.hget(keys.rq_job(t.job_id), "status")
        pipe.xrevrange(keys.rq_results(t.job_id), "+", "-", count=1)
    replies = pipe.execute()
    stopped = []
    for index, target in enumerate(targets):
        status, latest = replies[2 * index], replies[2 * index + 1]
        if as_text(status) != "stopped":
            continue
        execution = as_text(latest[0][1].get(b"execution_id")) if latest else ""
        if execution in ("", target.execution_id):
            stopped.append(target)
    return stopped


def _claim(conn: redis.Redis, targets: list[ExecutionRef]) -> list[ExecutionRef]:
    """The targets this run claimed (``SET NX``); another run holds the rest."""
    if not targets:
        return []
    pipe = conn.pipeline(transaction=False)
    for t in targets:
        pipe.set(keys.fail_claim(t.member), "1", nx=True, ex=CLAIM_TTL_S)
    return [t for t, won in zip(targets, pipe.execute(), strict=True) if won]


def _wait_gone(conn: redis.Redis, targets: list[ExecutionRef], timeout_s: float) -> list[ExecutionRef]:
    """Poll until the targets' started entries disappear or ``timeout_s`` passes; the ones left."""
    deadline = time.monotonic() + timeout_s
    remaining = list(targets)
    while remaining and time.monotonic() < deadline:
        time.sleep(0.05)
        remaining = still_running(conn, remaining)
    return remaining
