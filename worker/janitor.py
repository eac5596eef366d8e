"""The queue janitor: a read-only plan of bounded clean-up steps, then execution on exactly the planned ids.

Every step reads at most ``scan_limit`` entries per queue, so a plan costs a few pipelined round trips even
with 200k jobs in Redis. Execution re-checks each id (still in the planned state, still old) before acting
and never deletes a schedule template (an id in ``rq:scheduler:scheduled_jobs`` or with
``keys.SCHEDULE_TEMPLATE_PREFIX``): deleting one silently drops its schedule.
Step ids: ``<queue>:<job_id>:<execution_id>`` (abandoned, stuck), ``<queue>:<job_id>`` (job steps; job ids
never contain a colon), worker names (reap), ``rqtop:active:<name>`` keys (tokens) and task names (metric index). The
metric index step acts on a score range, not on the names: one ZREMRANGEBYSCORE forgets every task not run for
``keys.METRIC_TTL_S`` (its buckets have expired), and a task that runs again meanwhile is kept by its new score.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import redis
from redis.exceptions import WatchError
from rq import get_current_job

from worker import audit, keys
from worker.cancel import cancel_listed
from worker.liveness import workers_alive
from worker.plans import ExecutionRef, JanitorPlan, JanitorStep
from worker.queues import queue_names
from worker.records import as_text, to_epoch
from worker.recovery import fail_dead_executions, reconcile_history, running_executions, stale_history
from worker.tokens import release_token

TERMINAL = {"finished", "failed", "stopped", "canceled"}
STUCK_REASON = "Janitor: the worker running it is gone"
ABANDONED_REASON = "the worker running it stopped sending heartbeats"
"""Recorded as ``AbandonedJobError: <this>``, the error RQ's own cleanup gives an entry past its deadline."""


@dataclass(frozen=True)
class JanitorSettings:
    """Thresholds (seconds) and bounds of one janitor pass."""

    stuck_active_after_s: float = 900
    pending_older_than_s: float = 3600
    completed_older_than_s: float = 3600
    failed_older_than_s: float = 7 * 86400
    canceled_older_than_s: float = 7 * 86400
    dead_worker_after_s: float = 300
    token_max_age_s: float = 300
    scan_limit: int = 10_000
    batch: int = 500


@dataclass(frozen=True)
class PassContext:
    """What every step's planner reads from: the connection, the thresholds, the clock and the queues."""

    conn: redis.Redis
    settings: JanitorSettings
    now: float
    queues: list[str]


Executor = Callable[[redis.Redis, Iterable[str], JanitorSettings, float], int]


@dataclass(frozen=True)
class StepRecord:
    """One janitor step: its name, what it does (worded from the thresholds), how it plans and how it acts."""

    name: str
    describe: Callable[[JanitorSettings], str]
    plan: Callable[[PassContext], tuple[str, ...]]
    """The ids the step would act on (reads only)."""
    execute: Executor
    """Acts on the planned ids, each re-checked; returns how many were handled."""


def plan(conn: redis.Redis, settings: JanitorSettings, now: float | None = None) -> JanitorPlan:
    """What a pass would do right now, one step per record of ``STEPS``; issues reads only."""
    context = PassContext(conn, settings, time.time() if now is None else now, queue_names(conn))
    return JanitorPlan(steps=tuple(
        JanitorStep(step.name, step.describe(settings), step.plan(context)) for step in STEPS
    ))


def execute(
    conn: redis.Redis, plan: JanitorPlan, settings: JanitorSettings, now: float | None = None
) -> dict[str, int]:
    """Act on the planned ids (each re-checked), record the pass in ``rqtop:janitor:last``; counts per step.

    A planned step whose name is not in ``STEPS`` raises ValueError before anything is written.
    """
    now = time.time() if now is None else now
    records = [step_record(step.name) for step in plan.steps]
    counts = {}
    for record, step in zip(records, plan.steps, strict=True):
        counts[step.name] = record.execute(conn, step.ids, settings, now) if step.ids else 0
    conn.hset(keys.JANITOR_LAST, mapping={"at": f"{now:.6f}", **{name: str(n) for name, n in counts.items()}})
    return counts


def step_record(name: str) -> StepRecord:
    """The record of the step called ``name``; ValueError for a name no record has (a renamed or misspelt step)."""
    for record in STEPS:
        if record.name == name:
            return record
    raise ValueError(f"unknown janitor step {name!r} (known: {', '.join(step.name for step in STEPS)})")


def run_janitor_job() -> dict[str, int]:
    """The RQ job the built-in ``janitor`` schedule runs: plan, execute, audit as "janitor"."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("run_janitor_job must run inside an RQ worker")
    conn = job.connection
    settings = JanitorSettings()
    now = time.time()
    todo = plan(conn, settings, now)
    if not todo.total:  # a pass with nothing to do is counted, not logged: a 5-minute schedule must not flood
        audit.refused(conn, "janitor", "nothing_planned")
        return execute(conn, todo, settings, now)
    with audit.recorded(conn, "janitor", "janitor", "all queues") as outcome:
        outcome.counts = execute(conn, todo, settings, now)
    return outcome.counts


# Planning (reads only).

def _plan_abandoned(conn: redis.Redis, s: JanitorSettings, now: float) -> tuple[str, ...]:
    """Executions past their heartbeat deadline (the wip score) whose worker is not alive, whatever their age:
    what RQ's cleanup fails, which never runs on a queue no live worker serves."""
    refs = running_executions(conn, limit=s.scan_limit, deadline_before=now)
    return _unattended(conn, refs, now, lambda status, started, deadline: status in ("started", "queued"))


def _plan_stuck(conn: redis.Redis, s: JanitorSettings, cutoff: float, now: float) -> tuple[str, ...]:
    """Executions whose worker is not alive that started before ``cutoff`` and are not yet past their heartbeat
    deadline (those are ``fail_abandoned``'s): a worker that died mid-beat on any host."""
    refs = running_executions(conn, limit=s.scan_limit)
    return _unattended(conn, refs, now, lambda status, started, deadline: (
        status == "started" and (started or now) < cutoff and deadline >= now))


def _unattended(
    conn: redis.Redis, refs: list[ExecutionRef], now: float, chosen: Callable[[str, float | None, float], bool]
) -> tuple[str, ...]:
    """Ids of the executions ``chosen(job status, started epoch, wip score)`` keeps whose worker is not alive."""
    pipe = conn.pipeline(transaction=False)
    for ref in refs:
        pipe.hmget(keys.rq_job(ref.job_id), "status", "started_at")
        pipe.zscore(keys.rq_registry("wip", ref.queue), ref.member)
    replies = pipe.execute() if refs else []
    picked = [ref for index, ref in enumerate(refs)
              if replies[2 * index + 1] is not None
              and chosen(as_text(replies[2 * index][0]), to_epoch(replies[2 * index][1]), replies[2 * index + 1])]
    alive = workers_alive(conn, [ref.worker for ref in picked if ref.worker], now)
    return tuple(f"{ref.queue}:{ref.job_id}:{ref.execution_id}" for ref in picked
                 if not (ref.worker and alive.get(ref.worker)))


def _plan_history(conn: redis.Redis, s: JanitorSettings, now: float) -> tuple[str, ...]:
    """History rows still "running" whose job RQ has ended (or that a dead worker never recorded)."""
    return tuple(stale_history(conn, now=now))


def _plan_pending(conn: redis.Redis, queues: list[str], s: JanitorSettings, cutoff: float) -> tuple[str, ...]:
    """Per queue, the head run of jobs enqueued before ``cutoff`` (ids with no hash are included as garbage)."""
    found: list[str] = []
    for queue in queues:
        position = 0
        while position < s.scan_limit:
            batch = [as_text(raw) for raw in
                     conn.lrange(keys.rq_queue(queue), position, position + min(s.batch, s.scan_limit - position) - 1)]
            if not batch:
                break
            pipe = conn.pipeline(transaction=False)
            for job_id in batch:
                pipe.hmget(keys.rq_job(job_id), "status", "enqueued_at")
            replies = pipe.execute()
            protected = _protected(conn, batch)
            young = False
            for job_id, (status, enqueued) in zip(batch, replies, strict=True):
                if job_id in protected or (status is not None and (to_epoch(enqueued) or cutoff) >= cutoff):
                    young = True
                    break
                found.append(f"{queue}:{job_id}")
            if young:
                break
            position += len(batch)
    return tuple(found)


def _plan_registry(
    conn: redis.Redis, queues: list[str], kind: str, s: JanitorSettings, cutoff: float
) -> tuple[str, ...]:
    """Members of ``rq:<kind>:<queue>`` that ended before ``cutoff`` (or whose hash is gone), templates excluded."""
    found: list[str] = []
    for queue in queues:
        key = keys.rq_registry(kind, queue)
        if kind == "canceled":  # scored by cancel time, so the old ones are a score range
            members = conn.zrangebyscore(key, "-inf", cutoff, start=0, num=s.scan_limit)
        else:  # scored by expiry time, not end time: read the job's own timestamps
            members = conn.zrange(key, 0, s.scan_limit - 1)
        ids = [as_text(raw) for raw in members]
        verdicts = _deletable(conn, kind, ids, cutoff)
        found.extend(f"{queue}:{job_id}" for job_id in ids if verdicts.get(job_id))
    return tuple(found)


def _plan_workers(conn: redis.Redis, cutoff: float) -> tuple[str, ...]:
    """Workers whose rqtop record is older than ``cutoff`` or whose RQ registration outlived its hash."""
    ours = {as_text(raw) for raw in conn.zrangebyscore(keys.WORKERS, "-inf", cutoff)}
    prefix = keys.rq_worker("")
    registered = {as_text(raw)[len(prefix):] for raw in conn.smembers(keys.RQ_WORKERS)}
    names = sorted(name for name in ours | registered if name)
    exists = _exists(conn, [keys.rq_worker(name) for name in names])
    return tuple(name for name, live in zip(names, exists, strict=True) if not live)


def _plan_tokens(conn: redis.Redis, s: JanitorSettings, now: float) -> tuple[str, ...]:
    """Schedule tokens whose job ended, or is gone while the schedule last ran over ``token_max_age_s`` ago."""
    names = sorted(as_text(raw) for raw in conn.hkeys(keys.SCHEDULES))
    stale = _stale_tokens(conn, names, s, now)
    return tuple(keys.active(name) for name in names if stale.get(name))


def _plan_metric_tasks(conn: redis.Redis, s: JanitorSettings, cutoff: float) -> tuple[str, ...]:
    """Tasks of the metrics index whose last run ended before ``cutoff``, oldest first."""
    return tuple(as_text(raw) for raw in conn.zrangebyscore(keys.METRIC_TASKS, "-inf", f"({cutoff}",
                                                            start=0, num=s.scan_limit))


def _stale_tokens(conn: redis.Redis, names: list[str], s: JanitorSettings, now: float) -> dict[str, str]:
    """Schedule name -> token value, for tokens that no longer guard a pending or running job."""
    pipe = conn.pipeline(transaction=False)
    for name in names:
        pipe.get(keys.active(name))
        pipe.hget(keys.sched_state(name), "last_run")
    replies = pipe.execute() if names else []
    tokens = {name: as_text(replies[2 * i]) for i, name in enumerate(names) if replies[2 * i]}
    last_run = {name: to_epoch(replies[2 * i + 1]) for i, name in enumerate(names)}
    for job_id in tokens.values():
        pipe.hget(keys.rq_job(job_id), "status")
    statuses = dict(zip(tokens, pipe.execute(), strict=True)) if tokens else {}
    stale = {}
    for name, job_id in tokens.items():
        status = statuses[name]
        ran = last_run.get(name)
        if (status is not None and as_text(status) in TERMINAL) or (
            status is None and (ran is None or now - ran > s.token_max_age_s)
        ):
            stale[name] = job_id
    return stale


def _deletable(conn: redis.Redis, kind: str, job_ids: list[str], cutoff: float) -> dict[str, bool]:
    """Per id: True when its hash is gone, or its status fits the registry and it ended before ``cutoff``."""
    if not job_ids:
        return {}
    statuses = {"finished": {"finished"}, "failed": {"failed", "stopped"}, "canceled": {"canceled"}}[kind]
    pipe = conn.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hmget(keys.rq_job(job_id), "status", "ended_at", "started_at", "enqueued_at")
    protected = _protected(conn, job_ids)
    verdicts = {}
    for job_id, (status, *stamps) in zip(job_ids, pipe.execute(), strict=True):
        if job_id in protected:
            verdicts[job_id] = False
        elif status is None:
            verdicts[job_id] = True
        else:
            ended = next((t for t in map(to_epoch, stamps) if t is not None), None)
            in_range = kind == "canceled" or (ended is not None and ended < cutoff)
            verdicts[job_id] = as_text(status) in statuses and in_range
    return verdicts


def _protected(conn: redis.Redis, job_ids: list[str]) -> set[str]:
    """Ids that are schedule templates: the rqtop prefix, or a member of rq-scheduler's zset."""
    if not job_ids:
        return set()
    scores = conn.zmscore(keys.RQ_SCHEDULED_JOBS, job_ids)
    return {job_id for job_id, score in zip(job_ids, scores, strict=True)
            if score is not None or job_id.startswith(keys.SCHEDULE_TEMPLATE_PREFIX)}


def _exists(conn: redis.Redis, names: list[str]) -> list[bool]:
    """EXISTS for each key, pipelined."""
    pipe = conn.pipeline(transaction=False)
    for name in names:
        pipe.exists(name)
    return [bool(n) for n in pipe.execute()] if names else []


# Execution (each id re-checked).

def _run_failing(reason: str) -> Executor:
    """An executor failing the planned executions with ``reason`` through the registry path (it re-checks
    status and liveness)."""

    def run(conn: redis.Redis, ids: Iterable[str], s: JanitorSettings, now: float) -> int:
        refs = []
        for item in ids:
            queue, job_id, execution_id = item.rsplit(":", 2)
            refs.append(ExecutionRef(job_id, execution_id, queue))
        return fail_dead_executions(conn, refs, reason)

    return run


def _run_history(conn: redis.Redis, ids: Iterable[str], s: JanitorSettings, now: float) -> int:
    """Record RQ's outcome in each planned history row still running (re-checked atomically)."""
    return reconcile_history(conn, ids)


def _run_pending(conn: redis.Redis, ids: Iterable[str], s: JanitorSettings, now: float) -> int:
    """Cancel the planned ids, each only while still at its queue's head and still queued."""
    done = 0
    for queue, job_ids in _by_queue(ids).items():
        counts = cancel_listed(conn, queue, job_ids, chunk=s.batch)
        done += counts["canceled"] + counts["missing"]
    return done


def _run_delete(kind: str, older_than: Callable[[JanitorSettings], float]) -> Executor:
    """An executor deleting the planned jobs of one registry."""

    def run(conn: redis.Redis, ids: Iterable[str], s: JanitorSettings, now: float) -> int:
        done = 0
        for queue, job_ids in _by_queue(ids).items():
            for start in range(0, len(job_ids), 100):
                done += _delete_batch(conn, kind, queue, job_ids[start:start + 100], now - older_than(s))
        return done

    return run


def _delete_batch(conn: redis.Redis, kind: str, queue: str, job_ids: list[str], cutoff: float) -> int:
    """Delete the ids that still qualify, in one WATCHed transaction (retried when a job changes meanwhile)."""
    registry = keys.rq_registry(kind, queue)
    for _attempt in range(3):
        with conn.pipeline(transaction=True) as tx:
            try:
                tx.watch(*[keys.rq_job(job_id) for job_id in job_ids])
                verdicts = _deletable(conn, kind, job_ids, cutoff)
                chosen = [job_id for job_id in job_ids if verdicts.get(job_id)]
                extras = conn.pipeline(transaction=False)
                for job_id in chosen:
                    extras.hmget(keys.rq_job(job_id), "group_id", "rate_limit_key")
                    extras.zscore(registry, job_id)
                replies = extras.execute() if chosen else []
                tx.multi()
                count = 0
                for index, job_id in enumerate(chosen):
                    (group, limit), member = replies[2 * index], replies[2 * index + 1]
                    if member is None:
                        continue  # already removed from the registry by someone else
                    _delete_job(tx, job_id, registry, as_text(group), as_text(limit))
                    count += 1
                tx.execute()
                return count
            except WatchError:
                continue
    return 0


def _delete_job(tx: redis.client.Pipeline, job_id: str, registry: str, group: str, limit: str) -> None:
    """The keys ``Job.delete`` removes for a terminal job, written without unpickling anything."""
    tx.zrem(registry, job_id)
    tx.delete(keys.rq_job(job_id), keys.rq_dependents(job_id), keys.rq_dependencies(job_id), keys.rq_results(job_id),
              keys.rq_executions(job_id))
    if group:
        tx.srem(keys.rq_group(group), job_id)
    if limit:
        tx.zrem(keys.rq_rate_limited(limit), job_id)


def _run_workers(conn: redis.Redis, names: Iterable[str], s: JanitorSettings, now: float) -> int:
    """Forget each planned worker that still has no RQ hash: old rqtop record, stale RQ registrations."""
    names = list(names)
    cutoff = now - s.dead_worker_after_s
    queues = queue_names(conn)
    live = _exists(conn, [keys.rq_worker(name) for name in names])
    pipe = conn.pipeline(transaction=False)
    for name in names:
        pipe.zscore(keys.WORKERS, name)
        pipe.sismember(keys.RQ_WORKERS, keys.rq_worker(name))
    replies = pipe.execute() if names else []
    count = 0
    for index, (name, alive) in enumerate(zip(names, live, strict=True)):
        seen, registered = replies[2 * index], replies[2 * index + 1]
        if alive:
            continue
        acted = False
        if seen is not None and seen < cutoff:
            pipe.zrem(keys.WORKERS, name)
            pipe.delete(keys.worker(name))
            acted = True
        if registered:
            pipe.srem(keys.RQ_WORKERS, keys.rq_worker(name))
            for queue in queues:
                pipe.srem(keys.rq_queue_workers(queue), keys.rq_worker(name))
            acted = True
        count += acted
    if count:
        pipe.execute()
    return count


def _run_tokens(conn: redis.Redis, token_keys: Iterable[str], s: JanitorSettings, now: float) -> int:
    """Release each planned token that is still stale (compare-and-delete on its current value)."""
    names = [key[len(keys.active("")):] for key in token_keys]
    stale = _stale_tokens(conn, names, s, now)
    return sum(release_token(conn, name, job_id) for name, job_id in stale.items())


def _run_metric_tasks(conn: redis.Redis, names: Iterable[str], s: JanitorSettings, now: float) -> int:
    """Forget every task whose last run is still older than the bucket retention (atomic, so a new run wins)."""
    return int(conn.zremrangebyscore(keys.METRIC_TASKS, "-inf", f"({now - keys.METRIC_TTL_S}"))


def _by_queue(ids: Iterable[str]) -> dict[str, list[str]]:
    """``<queue>:<job_id>`` ids grouped by queue, order kept."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for item in ids:
        queue, job_id = item.rsplit(":", 1)
        grouped[queue].append(job_id)
    return grouped


def _age(seconds: float) -> str:
    """3600 -> "1 h", 604800 -> "7 d"."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


STEPS: tuple[StepRecord, ...] = (
    StepRecord("fail_abandoned",
               lambda s: "Fail abandoned jobs: past their heartbeat deadline on workers that are gone",
               lambda c: _plan_abandoned(c.conn, c.settings, c.now),
               _run_failing(ABANDONED_REASON)),
    StepRecord("fail_stuck_active",
               lambda s: f"Fail jobs running over {_age(s.stuck_active_after_s)} on workers that are gone",
               lambda c: _plan_stuck(c.conn, c.settings, c.now - c.settings.stuck_active_after_s, c.now),
               _run_failing(STUCK_REASON)),
    StepRecord("reconcile_history", lambda s: "Show RQ's outcome for runs whose worker never recorded it",
               lambda c: _plan_history(c.conn, c.settings, c.now),
               _run_history),
    StepRecord("cancel_old_pending", lambda s: f"Cancel jobs pending over {_age(s.pending_older_than_s)}",
               lambda c: _plan_pending(c.conn, c.queues, c.settings, c.now - c.settings.pending_older_than_s),
               _run_pending),
    StepRecord("delete_old_completed",
               lambda s: f"Delete completed jobs older than {_age(s.completed_older_than_s)}",
               lambda c: _plan_registry(c.conn, c.queues, "finished", c.settings,
                                        c.now - c.settings.completed_older_than_s),
               _run_delete("finished", lambda s: s.completed_older_than_s)),
    StepRecord("delete_old_failed", lambda s: f"Delete failed jobs older than {_age(s.failed_older_than_s)}",
               lambda c: _plan_registry(c.conn, c.queues, "failed", c.settings,
                                        c.now - c.settings.failed_older_than_s),
               _run_delete("failed", lambda s: s.failed_older_than_s)),
    StepRecord("delete_old_canceled",
               lambda s: f"Delete canceled jobs older than {_age(s.canceled_older_than_s)}",
               lambda c: _plan_registry(c.conn, c.queues, "canceled", c.settings,
                                        c.now - c.settings.canceled_older_than_s),
               _run_delete("canceled", lambda s: s.canceled_older_than_s)),
    StepRecord("reap_dead_workers", lambda s: f"Forget workers gone for over {_age(s.dead_worker_after_s)}",
               lambda c: _plan_workers(c.conn, c.now - c.settings.dead_worker_after_s),
               _run_workers),
    StepRecord("expire_tokens", lambda s: "Release schedule tokens whose run has ended",
               lambda c: _plan_tokens(c.conn, c.settings, c.now),
               _run_tokens),
    StepRecord("trim_metric_tasks", lambda s: f"Forget metric tasks not run for over {_age(keys.METRIC_TTL_S)}",
               lambda c: _plan_metric_tasks(c.conn, c.settings, c.now - keys.METRIC_TTL_S),
               _run_metric_tasks),
)
"""Every janitor step, in the order a pass plans and runs them: plan() and execute() both iterate this."""
