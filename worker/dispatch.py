"""Enqueue one fresh run of a schedule, deduplicated atomically by the schedule's active token."""

from __future__ import annotations

import logging
import time
from uuid import uuid4

import redis
from rq import Queue

from worker import keys
from worker.notify.outbox import request_notify
from worker.plans import RunNowResult
from worker.records import as_text, epoch_text
from worker.schedules import ScheduleEntry

log = logging.getLogger("rqtop.dispatch")

ACTIVE_STATUSES = frozenset({b"queued", b"started", b"scheduled", b"deferred"})
"""RQ job statuses that mean a run is still pending or running."""

MAX_ATTEMPTS = 50
"""WATCH retries before giving up; contention on one schedule's token is short-lived."""


def enqueue_run(
    conn: redis.Redis, entry: ScheduleEntry, trigger: str = "manual", now: float | None = None, notify: str = ""
) -> RunNowResult:
    """Enqueue one new job for ``entry`` unless its previous run is still pending or running; with ``notify``
    an email goes to that address when the run ends (the request is written in the same transaction)."""
    if trigger == "manual" and not entry.run_now:
        reason = entry.run_now_reason or "this schedule cannot be run on demand"
        return RunNowResult(entry.name, "not_allowed", None, f"{entry.name}: cannot run now: {reason}")
    queue = Queue(entry.queue, connection=conn)
    active_key = keys.active(entry.name)
    for _ in range(MAX_ATTEMPTS):
        stamp = time.time() if now is None else now
        job_id = keys.run_id(entry.name, uuid4().hex[:12])
        with conn.pipeline() as pipe:
            try:
                pipe.watch(active_key)
                current = pending_run(pipe, entry.name)
                if current:
                    pipe.unwatch()
                    if trigger == "tick":
                        record_skip(conn, entry.name, stamp)
                    return already_queued(entry.name, current)
                job = queue.create_job(
                    entry.task,
                    kwargs=dict(entry.kwargs),
                    timeout=entry.timeout,
                    ttl=entry.ttl_s,
                    description=f"{entry.name} ({trigger})",
                    job_id=job_id,
                    meta={"schedule": entry.name, "trigger": trigger},
                )
                pipe.multi()
                pipe.set(active_key, job_id)
                if notify:
                    request_notify(pipe, job_id, notify)
                queue.enqueue_job(job, pipeline=pipe)
                write_pending(pipe, entry, job_id, stamp)
                pipe.execute()
            except redis.WatchError:
                continue
        log.info("schedule %s: queued %s (%s)", entry.name, job_id, trigger)
        return RunNowResult(entry.name, "queued", job_id, f"{entry.name}: queued ({trigger})")
    raise RuntimeError(f"{entry.name}: could not enqueue a run after {MAX_ATTEMPTS} attempts (contention)")


def pending_run(client: redis.Redis | redis.client.Pipeline, name: str) -> str | None:
    """The id of the schedule's previous run while it is still pending or running, else None (reads only)."""
    current = as_text(client.get(keys.active(name)))
    if current and client.hget(keys.rq_job(current), "status") in _active_statuses():
        return current
    return None


def already_queued(name: str, job_id: str) -> RunNowResult:
    """The result of a run refused because ``job_id`` is still pending or running."""
    return RunNowResult(name, "already_queued", job_id, f"{name}: a run is already pending or running")


def _active_statuses() -> frozenset[bytes | str]:
    """Active statuses as both bytes and text, whatever the client decodes to."""
    return ACTIVE_STATUSES | {status.decode() for status in ACTIVE_STATUSES}


def write_pending(pipe: redis.client.Pipeline, entry: ScheduleEntry, job_id: str, stamp: float) -> None:
    """Queue the history "pending" record and the schedule's last-run fields onto ``pipe``."""
    item = keys.history_item(job_id)
    pipe.zadd(keys.HISTORY, {job_id: stamp})
    pipe.zremrangebyrank(keys.HISTORY, 0, -(keys.HISTORY_KEEP + 1))
    pipe.hset(
        item,
        mapping={
            "task": entry.task, "queue": entry.queue, "state": "pending", "created_at": epoch_text(stamp),
            "started_at": "", "ended_at": "", "retries": 0, "schedule": entry.name, "worker": "",
            "error": "", "note": "",
        },
    )
    pipe.expire(item, keys.HISTORY_TTL_S)
    pipe.hset(
        keys.sched_state(entry.name),
        mapping={"last_run": epoch_text(stamp), "last_job_id": job_id, "last_status": "pending"},
    )


def record_skip(conn: redis.Redis, name: str, stamp: float) -> None:
    """Count a tick that found the previous run still pending or running; last_status is left alone."""
    with conn.pipeline(transaction=False) as pipe:
        pipe.hincrby(keys.sched_state(name), "skipped", 1)
        pipe.hset(keys.sched_state(name), "last_skipped", epoch_text(stamp))
        pipe.execute()
    log.info("schedule %s: tick skipped, previous run still pending or running", name)


def read_entry(conn: redis.Redis, name: str) -> tuple[ScheduleEntry | None, str]:
    """The registered definition of a schedule, or None and a one-line reason (unknown or unreadable)."""
    raw = conn.hget(keys.SCHEDULES, name)
    if raw is None:
        return None, f"no schedule named {name!r}"
    try:
        return ScheduleEntry.from_json(raw), ""
    except (ValueError, TypeError) as exc:
        return None, f"schedule {name!r} has an unreadable definition ({type(exc).__name__})"


def load_entry(conn: redis.Redis, name: str) -> ScheduleEntry | None:
    """The registered definition of a schedule, or None when it is unknown or unreadable."""
    return read_entry(conn, name)[0]


def run_now(conn: redis.Redis, name: str, now: float | None = None, notify: str = "") -> RunNowResult:
    """Run now by schedule name: the registered entry, dispatched with trigger "manual" (``notify``: an address
    to email when the run ends)."""
    entry = load_entry(conn, name)
    if entry is None:
        return RunNowResult(name, "unknown", None, f"{name}: no such schedule")
    return enqueue_run(conn, entry, trigger="manual", now=now, notify=notify)


def set_paused(conn: redis.Redis, name: str, paused: bool) -> bool:
    """Pause or resume a schedule; True when that changed anything."""
    changed = conn.sadd(keys.PAUSED, name) if paused else conn.srem(keys.PAUSED, name)
    return bool(changed)


def is_paused(conn: redis.Redis, name: str) -> bool:
    """Whether a schedule is paused (its ticks emit nothing)."""
    return bool(conn.sismember(keys.PAUSED, name))
