"""Fail executions whose worker is gone, through RQ's own started-registry cleanup, so nothing stays "running".

The path (RQ_FACTS, "Dead worker's job"): under the queue's maintenance lock, ``ZADD rq:wip:<q> XX 0
<job>:<exec>`` for each target, then ``StartedJobRegistry.cleanup(timestamp=0)``, which fails (or retries,
when retries are left) exactly the entries scored 0 and runs RQ's failure callbacks and dependents. A live
worker's entry is never touched: every target is re-checked (entry present, job status ``started``, job
owned by that worker, worker not alive) right before its score is zeroed, and a worker that heartbeats in
between re-scores its entry (``XX``) so the cleanup skips it.

RQ's cleanup cannot carry a reason: it records ``Moved to FailedJobRegistry, due to AbandonedJobError``
with an empty worker name. After it, the failure result it wrote (the newest entry of ``rq:results:<id>``)
is replaced by one saved through RQ's own ``Result`` writer with ``AbandonedJobError: <reason>``, the dead
worker's name and the execution id, so the dashboard and ``job.latest_result()`` show why.

The cleanup loads jobs with ``worker.safe_decoding.SafeSerializer``: its ``loads`` only rebuilds plain data
(dicts, lists, numbers, strings, datetimes) and refuses anything else, so a hostile ``meta`` pickle cannot run
code in the dashboard's process; RQ keeps an unreadable ``meta`` byte-for-byte when it saves the job back.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timezone

import redis
from rq import Queue
from rq.defaults import DEFAULT_FAILURE_TTL
from rq.registry import StartedJobRegistry
from rq.results import Result

from worker import keys
from worker.liveness import pid_alive, workers_alive
from worker.plans import ExecutionRef
from worker.queues import queue_names
from worker.records import as_int, as_text, to_epoch
from worker.safe_decoding import SafeSerializer, error_text
from worker.tokens import release_token

log = logging.getLogger(__name__)

LOCK_WAIT_S = 5.0
"""How long to wait for a queue's maintenance lock (a worker holds it while it cleans registries)."""

STARTUP_REASON = "Worker restarted during execution"


def fail_dead_executions(conn: redis.Redis, refs: Iterable[ExecutionRef], reason: str) -> int:
    """Fail (or retry) the given executions whose worker is not alive; return how many RQ moved."""
    by_queue: dict[str, list[ExecutionRef]] = defaultdict(list)
    for ref in refs:
        by_queue[ref.queue].append(ref)
    return sum(_fail_in_queue(conn, queue, group, reason) for queue, group in sorted(by_queue.items()))


def fail_orphaned_for_host(conn: redis.Redis, hostname: str, reason: str = STARTUP_REASON) -> int:
    """Fail running executions of workers on ``hostname`` whose process is gone; call before registering."""
    orphans = _orphaned_workers(conn, hostname)
    if not orphans:
        return 0
    refs = [ref for ref in running_executions(conn) if ref.worker in orphans]
    return fail_dead_executions(conn, refs, reason)


def running_executions(conn: redis.Redis, limit: int = 10_000) -> list[ExecutionRef]:
    """Every member of every ``rq:wip:<queue>`` (at most ``limit`` per queue), with the worker running it."""
    queues = queue_names(conn)
    pipe = conn.pipeline(transaction=False)
    for queue in queues:
        pipe.zrange(keys.rq_registry("wip", queue), 0, limit - 1)
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
    """Zero the eligible entries' scores and run the started-registry cleanup under the maintenance lock."""
    queue = Queue(queue_name, connection=conn, serializer=SafeSerializer)
    deadline = time.monotonic() + LOCK_WAIT_S
    while not queue.acquire_maintenance_lock():
        if time.monotonic() > deadline:
            log.warning("queue %s: maintenance lock busy, %d execution(s) not failed", queue_name, len(refs))
            return 0
        time.sleep(0.05)
    try:
        eligible = _eligible(conn, queue_name, refs)
        if not eligible:
            return 0
        wip = keys.rq_registry("wip", queue_name)
        pipe = conn.pipeline(transaction=False)
        for ref, _started in eligible:
            pipe.zadd(wip, {ref.member: 0}, xx=True)
        pipe.execute()
        StartedJobRegistry(queue_name, conn, serializer=SafeSerializer).cleanup(timestamp=0)
    finally:
        queue.release_maintenance_lock()
    return _record_outcomes(conn, eligible, reason)


def _eligible(
    conn: redis.Redis, queue_name: str, refs: list[ExecutionRef]
) -> list[tuple[ExecutionRef, datetime | None]]:
    """Targets still in the registry, still ``started`` by the same worker, whose worker is not alive."""
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
        if score is None or as_text(status) != "started":
            continue
        if ref.worker and owner_name and owner_name != ref.worker:
            continue  # the job runs again, elsewhere: not the execution that was planned
        started = to_epoch(created)
        candidates.append((ref, ref.worker or owner_name, datetime.fromtimestamp(started, timezone.utc)
                           if started is not None else None))
    alive = workers_alive(conn, [worker for _ref, worker, _at in candidates if worker])
    return [(ExecutionRef(ref.job_id, ref.execution_id, ref.queue, worker), started)
            for ref, worker, started in candidates if not (worker and alive.get(worker))]


def _record_outcomes(
    conn: redis.Redis, eligible: list[tuple[ExecutionRef, datetime | None]], reason: str
) -> int:
    """Count what the cleanup moved; give failures the reason and update rqtop's history and schedule state."""
    pipe = conn.pipeline(transaction=False)
    for ref, _started in eligible:
        pipe.hmget(keys.rq_job(ref.job_id), "status", "failure_ttl")
        pipe.xrevrange(keys.rq_results(ref.job_id), "+", "-", count=1)
        pipe.zscore(keys.rq_registry("wip", ref.queue), ref.member)
    replies = pipe.execute()
    moved = 0
    now = time.time()
    error = f"AbandonedJobError: {reason}"
    for index, (ref, started) in enumerate(eligible):
        (status, failure_ttl), latest, still_there = replies[3 * index : 3 * index + 3]
        if still_there is not None:
            continue  # a heartbeat re-scored it: the worker was alive after all
        moved += 1
        if as_text(status) != "failed":
            continue  # retried (re-queued or scheduled) by RQ
        ttl = as_int(failure_ttl) or DEFAULT_FAILURE_TTL
        _replace_reason(conn, ref, latest, error, ttl, started)
        _mark_failed(conn, ref.job_id, error, now)
        if ref.worker:
            _forget_current(conn, ref.worker, ref.job_id, ref.execution_id)
    return moved


_FORGET_CURRENT = """
if redis.call('HGET', KEYS[1], 'current_job_id') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'current_job_id', '', 'current_task', '', 'current_started', '')
end
return redis.call('SREM', KEYS[2], ARGV[2])
"""


def _forget_current(conn: redis.Redis, worker: str, job_id: str, execution_id: str) -> None:
    """The dead worker no longer runs the failed job: clear it from rqtop's record and RQ's executions set."""
    conn.eval(_FORGET_CURRENT, 2, keys.worker(worker), keys.rq_worker_executions(worker), job_id,
              f"{job_id}:{execution_id}")


def _replace_reason(
    conn: redis.Redis, ref: ExecutionRef, latest: list, error: str, ttl: int, started: datetime | None
) -> None:
    """Swap the cleanup's anonymous failure result for one that names the reason, worker and execution."""
    tx = conn.pipeline(transaction=True)
    if latest:
        entry_id, fields = latest[0]
        if as_text(fields.get(b"type")) == "2" and not fields.get(b"worker_name") and "AbandonedJobError" in (
            error_text(fields.get(b"exc_string"), base64_wrapped=True) or ""
        ):
            tx.xdel(keys.rq_results(ref.job_id), entry_id)
    Result(
        job_id=ref.job_id, type=Result.Type.FAILED, connection=conn, exc_string=error,
        worker_name=ref.worker or "", execution_id=ref.execution_id, execution_started_at=started,
        execution_ended_at=datetime.now(timezone.utc),
    ).save(ttl=ttl, pipeline=tx)
    tx.execute()


def _mark_failed(conn: redis.Redis, job_id: str, error: str, now: float) -> None:
    """Record the failure in rqtop's history hash (if any) and, for a schedule run, its schedule state."""
    stamp = f"{now:.6f}"
    history = keys.history_item(job_id)
    if conn.exists(history):
        conn.hset(history, mapping={"state": "failed", "ended_at": stamp, "error": error[:200]})
        conn.expire(history, keys.HISTORY_TTL_S)
    if not job_id.startswith(keys.SCHEDULE_RUN_PREFIX):
        return
    name = keys.schedule_of(job_id)
    if not name:
        return
    release_token(conn, name, job_id)
    state = keys.sched_state(name)
    if as_text(conn.hget(state, "last_job_id")) in ("", job_id):
        conn.hset(state, mapping={"last_status": "failed", "last_ended": stamp})
