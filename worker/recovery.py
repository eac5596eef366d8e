"""End executions whose worker is gone with rqtop's own script (``worker.abandon_script``), never RQ's cleanup.

RQ's ``StartedJobRegistry.cleanup`` imports and calls the ``failure_callback_name`` a job hash names, in the
calling process: run from the dashboard or CLI, job data would run code there. So the dashboard, the CLI and the
janitor never call it. Per queue, under RQ's maintenance lock (so a worker's own cleanup never races ours),
each target is re-checked (entry present, job ``queued`` or ``started``, owned by that worker, worker not alive)
and handed to one atomic script with the wip score it was judged at: a worker that heartbeats in between
re-scores its entry and the script leaves it alone. A job that never started goes back to its queue; one that
started is retried when it has retries left (as RQ would) or failed with ``AbandonedJobError: <reason>``, the
dead worker's name and the execution id. Failure callbacks are left to workers: a job failed here gets none.

Start-up recovery (``fail_orphaned_for_host``) also puts back ids a dead worker had taken into a queue's
intermediate list but never started, and forgets the executions set members it left.
"""

from __future__ import annotations

import logging
import os
import time
import zlib
from base64 import b64encode
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone

import redis
from rq import Queue
from rq.defaults import DEFAULT_FAILURE_TTL
from rq.job import Job
from rq.rate_limit import release_slot

from worker import keys, records
from worker.abandon_script import ABANDON_LUA
from worker.finish_script import FINISH_LUA
from worker.liveness import pid_alive, workers_alive
from worker.plans import ExecutionRef
from worker.queues import queue_names
from worker.records import ERROR_MAX, as_int, as_text, epoch_text, to_epoch
from worker.safe_decoding import SafeSerializer
from worker.tokens import release_token

log = logging.getLogger(__name__)

LOCK_WAIT_S = 5.0
"""How long to wait for a queue's maintenance lock (a worker holds it while it cleans registries)."""

RECONCILE_AFTER_S = 60.0
"""A job RQ ended this long ago whose history row still says running will not be recorded by its worker."""

INTERMEDIATE_GRACE_S = 1.0
"""An intermediate-list id not started after this long (seen twice) was taken by a worker that died."""

STARTUP_REASON = "Worker restarted during execution"

OUTCOMES = ("failed", "retried", "requeued")
"""What the script reports for an execution it ended (anything else: it left the entry alone)."""


def fail_dead_executions(conn: redis.Redis, refs: Iterable[ExecutionRef], reason: str) -> int:
    """End the given executions whose worker is not alive (fail, retry or requeue); return how many ended."""
    by_queue: dict[str, list[ExecutionRef]] = defaultdict(list)
    for ref in refs:
        by_queue[ref.queue].append(ref)
    return sum(_fail_in_queue(conn, queue, group, reason) for queue, group in sorted(by_queue.items()))


def fail_orphaned_for_host(conn: redis.Redis, hostname: str, reason: str = STARTUP_REASON) -> int:
    """End what workers on ``hostname`` whose process is gone left behind; call before registering."""
    orphans = _orphaned_workers(conn, hostname)
    if not orphans:
        return requeue_untaken(conn)
    refs = [ref for ref in running_executions(conn) if ref.worker in orphans]
    ended = fail_dead_executions(conn, refs, reason)
    _forget_executions(conn, orphans)
    reconcile_history(conn, stale_history(conn))
    return ended + requeue_untaken(conn)


def stale_history(conn: redis.Redis, limit: int = keys.HISTORY_KEEP, now: float | None = None) -> list[str]:
    """Ids of history rows still "running" that RQ says are not: the worker is gone, or the job ended long ago.

    A live worker marks its row running a moment before RQ's status says ``started`` and records the outcome a
    moment after RQ's says ``finished``: those rows are left to it (``RECONCILE_AFTER_S``)."""
    now = time.time() if now is None else now
    ids = [as_text(raw) for raw in conn.zrevrange(keys.HISTORY, 0, limit - 1)]
    pipe = conn.pipeline(transaction=False)
    for job_id in ids:
        pipe.hmget(keys.history_item(job_id), "state", "worker")
        pipe.hmget(keys.rq_job(job_id), "status", "ended_at")
    replies = pipe.execute() if ids else []
    candidates = []
    for index, job_id in enumerate(ids):
        (state, worker), (status, ended) = replies[2 * index], replies[2 * index + 1]
        if as_text(state) == "running" and as_text(status) != "started":
            candidates.append((job_id, as_text(worker), as_text(status), to_epoch(ended)))
    alive = workers_alive(conn, [worker for _id, worker, _status, _ended in candidates], now)
    return [job_id for job_id, worker, status, ended in candidates
            if not alive.get(worker) or (status in _TERMINAL and ended is not None and now - ended > RECONCILE_AFTER_S)]


def reconcile_history(conn: redis.Redis, job_ids: Iterable[str]) -> int:
    """Record RQ's outcome for history rows left "running" (the worker died, or RQ ended the job elsewhere), with
    the worker's own end-of-job script, only while the row is still running and the job not; how many changed."""
    script = conn.register_script(_RECONCILE_LUA)
    done = 0
    for job_id in job_ids:
        task, worker, schedule, started = (as_text(v) for v in conn.hmget(
            keys.history_item(job_id), "task", "worker", "schedule", "started_at"))
        name = schedule or "-"
        state = script(keys=[
            keys.rq_job(job_id), keys.history_item(job_id), keys.worker(worker), keys.METRIC_TASKS,
            keys.sched_state(name), keys.active(name),
        ], args=[
            job_id, task or "unknown", keys.PREFIX + "m:", repr(time.time()), started or repr(time.time()),
            keys.HISTORY_TTL_S, keys.METRIC_TTL_S, repr(records.BIN_FLOOR_S), repr(records.BIN_RATIO), schedule,
            keys.METRIC_BUCKET_S,
        ])
        done += bool(as_text(state))
    if done:
        log.warning("history: recorded the outcome of %d run(s) whose worker never did", done)
    return done


_TERMINAL = ("finished", "failed", "stopped", "canceled")

_RECONCILE_LUA = """
if redis.call('HGET', KEYS[2], 'state') ~= 'running' then return '' end
if redis.call('HGET', KEYS[1], 'status') == 'started' then return '' end
""" + FINISH_LUA


def running_executions(
    conn: redis.Redis, limit: int = 10_000, deadline_before: float | None = None
) -> list[ExecutionRef]:
    """Every member of every ``rq:wip:<queue>`` (at most ``limit`` per queue), with the worker running it; with
    ``deadline_before``, only the members whose heartbeat deadline (their score) is at or before it."""
    queues = queue_names(conn)
    pipe = conn.pipeline(transaction=False)
    for queue in queues:
        if deadline_before is None:
            pipe.zrange(keys.rq_registry("wip", queue), 0, limit - 1)
        else:
            pipe.zrangebyscore(keys.rq_registry("wip", queue), "-inf", deadline_before, start=0, num=limit)
    members = [(queue, as_text(raw)) for queue, found in zip(queues, pipe.execute(), strict=True) for raw in found]
    parsed = [(queue, *member.split(":", 1)) for queue, member in members if ":" in member]
    for _queue, job_id, execution_id in parsed:
        pipe.hget(keys.rq_execution(f"{job_id}:{execution_id}"), "worker_name")
        pipe.hget(keys.rq_job(job_id), "worker_name")
    replies = pipe.execute()
    refs = []
    for index, (queue, job_id, execution_id) in enumerate(parsed):
        worker = as_text(replies[2 * index]) or as_text(replies[2 * index + 1]) or None
        refs.append(ExecutionRef(job_id, execution_id, queue, worker))
    return refs


def requeue_untaken(conn: redis.Redis, grace_s: float = INTERMEDIATE_GRACE_S) -> int:
    """Put back ids left in a queue's intermediate list by a worker that died before starting them.

    A live worker holds an id there only for the moment between its BLMOVE and the execution it creates next,
    so an id still there, still ``queued``, with no execution, on two reads ``grace_s`` apart was orphaned.
    """
    first = _untaken(conn)
    if not first:
        return 0
    time.sleep(grace_s)
    second = _untaken(conn)
    moved = 0
    for queue, job_id in sorted(first & second):
        moved += int(conn.eval(_REQUEUE_UNTAKEN, 4, keys.rq_intermediate(queue), keys.rq_queue(queue),
                               keys.rq_job(job_id), keys.rq_executions(job_id), job_id))
    if moved:
        log.warning("put back %d job(s) a dead worker had taken but not started", moved)
    return moved


_REQUEUE_UNTAKEN = """
if redis.call('LPOS', KEYS[1], ARGV[1]) == false then return 0 end
if redis.call('HGET', KEYS[3], 'status') ~= 'queued' or redis.call('ZCARD', KEYS[4]) > 0 then return 0 end
redis.call('LREM', KEYS[1], 0, ARGV[1])
if redis.call('LPOS', KEYS[2], ARGV[1]) == false then redis.call('LPUSH', KEYS[2], ARGV[1]) end
return 1
"""


def _untaken(conn: redis.Redis) -> set[tuple[str, str]]:
    """(queue, job id) of intermediate-list ids whose job is ``queued`` and has no execution."""
    queues = queue_names(conn)
    pipe = conn.pipeline(transaction=False)
    for queue in queues:
        pipe.lrange(keys.rq_intermediate(queue), 0, 999)
    found = [(queue, as_text(raw)) for queue, ids in zip(queues, pipe.execute(), strict=True) for raw in ids]
    for _queue, job_id in found:
        pipe.hget(keys.rq_job(job_id), "status")
        pipe.zcard(keys.rq_executions(job_id))
    replies = pipe.execute() if found else []
    return {item for index, item in enumerate(found)
            if as_text(replies[2 * index]) == "queued" and not replies[2 * index + 1]}


def _forget_executions(conn: redis.Redis, workers: set[str]) -> None:
    """Drop a dead worker's executions set members whose wip entry is gone (nothing runs them)."""
    for name in sorted(workers):
        key = keys.rq_worker_executions(name)
        members = [as_text(raw) for raw in conn.smembers(key)]
        for member in members:
            job_id = member.split(":", 1)[0]
            origin = as_text(conn.hget(keys.rq_job(job_id), "origin"))
            if not origin or conn.zscore(keys.rq_registry("wip", origin), member) is None:
                conn.srem(key, member)


def _orphaned_workers(conn: redis.Redis, hostname: str) -> set[str]:
    """Worker names (rqtop records and RQ hashes) on ``hostname`` whose pid no longer runs here."""
    names = {as_text(raw) for raw in conn.zrange(keys.WORKERS, 0, -1)}
    rq_prefix = keys.rq_worker("")
    names |= {as_text(raw)[len(rq_prefix) :] for raw in conn.smembers(keys.RQ_WORKERS)}
    ordered = sorted(name for name in names if name)
    pipe = conn.pipeline(transaction=False)
    for name in ordered:
        pipe.hmget(keys.worker(name), "hostname", "pid")
        pipe.hmget(keys.rq_worker(name), "hostname", "pid")
    replies = pipe.execute()
    orphans = set()
    for index, name in enumerate(ordered):
        for host, pid in (replies[2 * index], replies[2 * index + 1]):
            number = as_int(pid)
            if as_text(host) == hostname and number and number != os.getpid() and not pid_alive(number):
                orphans.add(name)
    return orphans


def _fail_in_queue(conn: redis.Redis, queue_name: str, refs: list[ExecutionRef], reason: str) -> int:
    """Run the script for each eligible target under the queue's maintenance lock; count what it ended."""
    queue = Queue(queue_name, connection=conn, serializer=SafeSerializer)
    deadline = time.monotonic() + LOCK_WAIT_S
    while not queue.acquire_maintenance_lock():
        if time.monotonic() > deadline:
            log.warning("queue %s: maintenance lock busy, %d execution(s) not failed", queue_name, len(refs))
            return 0
        time.sleep(0.05)
    try:
        eligible = _eligible(conn, queue_name, refs)
        outcomes = _run_script(conn, eligible, reason) if eligible else []
    finally:
        queue.release_maintenance_lock()
    for (ref, _score, _started), outcome in zip(eligible, outcomes, strict=True):
        if outcome == "failed":
            _after_failure(conn, queue, ref)
    return sum(outcome in OUTCOMES for outcome in outcomes)


def _eligible(
    conn: redis.Redis, queue_name: str, refs: list[ExecutionRef]
) -> list[tuple[ExecutionRef, float, float | None]]:
    """(target, wip score, started epoch) still in the registry, ``queued``/``started`` by the same worker,
    whose worker is not alive."""
    wip = keys.rq_registry("wip", queue_name)
    pipe = conn.pipeline(transaction=False)
    for ref in refs:
        pipe.zscore(wip, ref.member)
        pipe.hmget(keys.rq_job(ref.job_id), "status", "worker_name")
        pipe.hget(keys.rq_execution(ref.member), "created_at")
    replies = pipe.execute()
    candidates = []
    for index, ref in enumerate(refs):
        score, (status, owner), created = replies[3 * index : 3 * index + 3]
        owner_name = as_text(owner) or None
        if score is None or as_text(status) not in ("started", "queued"):
            continue
        if ref.worker and owner_name and owner_name != ref.worker:
            continue  # the job runs again, elsewhere: not the execution that was planned
        started = as_text(created)
        try:
            started_at = float(started) if started else None
        except ValueError:
            started_at = None
        candidates.append((ref, ref.worker or owner_name, score, started_at))
    alive = workers_alive(conn, [worker for _ref, worker, _score, _at in candidates if worker])
    return [(ExecutionRef(ref.job_id, ref.execution_id, ref.queue, worker), score, started)
            for ref, worker, score, started in candidates if not (worker and alive.get(worker))]


def _run_script(
    conn: redis.Redis, eligible: list[tuple[ExecutionRef, float, float | None]], reason: str
) -> list[str]:
    """One pipelined round trip: the abandon script for each target; the outcome word of each."""
    error = f"AbandonedJobError: {reason}"
    exc_string = b64encode(zlib.compress(error.encode())).decode()
    now = time.time()
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    script = conn.register_script(ABANDON_LUA)
    pipe = conn.pipeline(transaction=False)
    for ref, score, started in eligible:
        worker = ref.worker or ""
        script(keys=[
            keys.rq_registry("wip", ref.queue), keys.rq_job(ref.job_id), keys.rq_execution(ref.member),
            keys.rq_executions(ref.job_id), keys.rq_worker_executions(worker), keys.rq_registry("failed", ref.queue),
            keys.rq_results(ref.job_id), keys.rq_queue(ref.queue), keys.rq_intermediate(ref.queue),
            keys.rq_registry("scheduled", ref.queue), keys.RQ_QUEUES, keys.worker(worker),
            keys.history_item(ref.job_id), keys.rq_dependents(ref.job_id), keys.rq_dependencies(ref.job_id),
        ], args=[
            ref.member, ref.execution_id, ref.job_id, worker, repr(score), repr(now), stamp, exc_string,
            repr(started) if started is not None else "", DEFAULT_FAILURE_TTL, keys.rq_queue(ref.queue),
            keys.HISTORY_TTL_S, error[:ERROR_MAX], worker,
        ], client=pipe)
    return [as_text(outcome) for outcome in pipe.execute()]


def _after_failure(conn: redis.Redis, queue: Queue, ref: ExecutionRef) -> None:
    """What follows a failure outside the job hash: the schedule's state and token, dependents that allow
    failures, a freed rate-limit slot (RQ code that imports nothing named by the job)."""
    _mark_schedule_failed(conn, ref.job_id, time.time())
    dependents, limit = conn.scard(keys.rq_dependents(ref.job_id)), conn.hget(keys.rq_job(ref.job_id), "rate_limit_key")
    if not dependents and not limit:
        return
    try:
        job = Job.fetch(ref.job_id, connection=conn, serializer=SafeSerializer)
        if dependents:
            queue.enqueue_dependents(job, refresh_job_status=False)
        if limit:
            release_slot(job)
    except Exception as exc:  # noqa: BLE001 - the failure itself is recorded; its follow-ups are best effort
        log.warning("job %s failed; its dependents or rate-limit slot were not handled: %s", ref.job_id, exc)


def _mark_schedule_failed(conn: redis.Redis, job_id: str, now: float) -> None:
    """For a schedule run: release its token and record the failure in the schedule's state."""
    if not job_id.startswith(keys.SCHEDULE_RUN_PREFIX):
        return
    name = keys.schedule_of(job_id)
    if not name:
        return
    release_token(conn, name, job_id)
    state = keys.sched_state(name)
    if as_text(conn.hget(state, "last_job_id")) in ("", job_id):
        conn.hset(state, mapping={"last_status": "failed", "last_ended": epoch_text(now)})
