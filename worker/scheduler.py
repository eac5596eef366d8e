"""Schedules on rq-scheduler: templates that never run themselves, one fresh deduplicated job per tick."""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import redis
from rq.job import Job
from rq.scheduler import RQScheduler
from rq_scheduler import Scheduler

from worker import keys, overrides
from worker.dispatch import enqueue_run, is_paused, load_entry
from worker.notify.config import effective_policy
from worker.notify.outbox import write_policies
from worker.outage import HEALTH, OUTAGE_ERRORS, Backoff
from worker.presence import PresenceRecord
from worker.records import as_text
from worker.schedules import ScheduleEntry

log = logging.getLogger("rqtop.scheduler")

TICK_INTERVAL_S = 5.0
"""Seconds between scheduler ticks: a cron minute fires at most this late."""

ORPHAN_RETRY_S = 3600.0
"""A template whose definition is gone is looked at again this much later (it is never deleted here)."""


@dataclass(frozen=True)
class RegisterResult:
    """Names of the schedules register_schedules added, updated, left unchanged and removed."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """One line for the log."""
        return (
            f"schedules: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed"
        )


class ScheduledJobPromoter:
    """Moves due jobs from RQ's scheduled registries (delayed retries, enqueue_in) to their queues, in-thread.

    RQ's own ``--with-scheduler`` forks a process that dies with a traceback on a Redis outage; this runs
    RQ's scheduler logic (per-queue locks, so one promoter per queue cluster-wide) inside our tick loop.
    """

    def __init__(self, connection: redis.Redis, queues: Iterable[str], interval: float = TICK_INTERVAL_S) -> None:
        self.rq_scheduler = RQScheduler(list(queues), connection=connection, interval=max(1, int(interval)))
        self._born = False

    def promote(self) -> None:
        """One pass: (re)take the queue locks when due, refresh them, enqueue every due scheduled job."""
        scheduler = self.rq_scheduler
        if scheduler.should_reacquire_locks:
            scheduler.acquire_locks()
        if not scheduler.acquired_locks:
            return
        if not self._born:
            scheduler.register_birth()
            self._born = True
        scheduler.heartbeat()
        scheduler.enqueue_scheduled_jobs()

    def release(self) -> None:
        """Give the queue locks back (clean shutdown)."""
        try:
            self.rq_scheduler.release_locks()
            if self._born:
                self.rq_scheduler.register_death()
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)


class RqtopScheduler(Scheduler):
    """rq-scheduler whose due templates dispatch a fresh run (or are skipped) and are rescheduled by croniter."""

    def __init__(
        self, connection: redis.Redis, entries: Iterable[ScheduleEntry] = (), interval: float = TICK_INTERVAL_S,
        promoter: ScheduledJobPromoter | None = None, templates: bool = True, apply_overrides: bool = False,
        notify_global: bool | None = None, **kwargs: Any,
    ) -> None:
        super().__init__(connection=connection, interval=interval, **kwargs)
        self.file_entries = tuple(entries)
        """The schedules file's entries, as loaded; ``entries`` are the effective ones (run-time edits applied)."""
        self.entries = {entry.name: entry for entry in self.file_entries}
        self.promoter = promoter
        self.templates = templates
        self.apply_overrides = apply_overrides
        """Whether each tick applies the run-time edits (the schedules file's own scheduler: modes all, scheduler)."""
        self.notify_global = notify_global
        """Whether a global alert target is configured (None: leave the notify policies alone)."""
        self._seen_overrides: dict[Any, Any] | None = None

    def sync_overrides(self) -> bool:
        """Apply the run-time edits when the overrides hash changed since the last tick (one HGETALL otherwise);
        True when they were (re)applied."""
        raw = self.connection.hgetall(keys.SCHEDULE_OVERRIDES)
        if raw == self._seen_overrides:
            return False
        result, entries = register_effective(self.connection, self.file_entries, raw, self.notify_global)
        self.entries = {entry.name: entry for entry in entries}
        self._seen_overrides = raw
        log.info("run-time edits applied: %s", result.summary)
        return True

    def entry(self, name: str) -> ScheduleEntry | None:
        """The definition this scheduler was given, else the one registered in Redis."""
        return self.entries.get(name) or load_entry(self.connection, name)

    def enqueue_job(self, job: Any) -> None:
        """Dispatch one run for a due template (unless paused), then move the template to its next run."""
        if not job.id.startswith(keys.SCHEDULE_TEMPLATE_PREFIX):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                super().enqueue_job(job)
            return
        name = keys.schedule_of(job.id) or ""
        now = time.time()
        entry = self.entry(name)
        if entry is None:
            log.warning("schedule %s: no definition registered; template left alone", name)
            self.connection.zadd(self.scheduled_jobs_key, {job.id: now + ORPHAN_RETRY_S}, xx=True)
            return
        if is_paused(self.connection, name):
            log.info("schedule %s: paused, tick skipped", name)
        else:
            enqueue_run(self.connection, entry, trigger="tick", now=now)
        self.connection.zadd(self.scheduled_jobs_key, {job.id: entry.next_run(now)}, xx=True)

    def cancel(self, job: Any) -> None:
        """rq-scheduler cancels ids whose hash is gone; for our templates, rebuild the hash instead."""
        job_id = job if isinstance(job, str) else job.id
        entry = self.entry(keys.schedule_of(job_id) or "") if job_id.startswith(keys.SCHEDULE_TEMPLATE_PREFIX) else None
        if entry is None:
            super().cancel(job)
            return
        log.warning("schedule %s: template hash was missing; rebuilt it", entry.name)
        _create_template(self, entry, entry.next_run(time.time()))

    def tick(self) -> int:
        """Promote due RQ scheduled jobs, then handle every due template under rq-scheduler's lock."""
        if self.promoter is not None:
            self.promoter.promote()
        if self.apply_overrides and self.templates:
            self.sync_overrides()
        if not self.templates or not self.acquire_lock():
            return 0
        try:
            due = 0
            for job in self.get_jobs_to_queue():
                self.enqueue_job(job)
                due += 1
            return due
        finally:
            self.remove_lock()

    def run_until(self, stop: threading.Event, presence: PresenceRecord | None = None) -> None:
        """Tick every interval until ``stop`` is set; Redis outages back off and log once per change."""
        delay = float(self._interval)
        backoff = Backoff(first=max(delay, 0.5) * 2)
        was_down = False
        while not stop.is_set():
            try:
                if was_down and self.templates and self.apply_overrides:
                    self._seen_overrides = None  # Redis may come back empty: this tick re-registers file and edits
                elif was_down and self.entries and self.templates:
                    log.info(register_schedules(self.connection, self.entries.values()).summary)
                was_down = False
                self.tick()
                if presence is not None:
                    with self.connection.pipeline(transaction=False) as pipe:
                        presence.beat_commands(pipe, time.time())
                        pipe.execute()
                HEALTH.back()
                delay = float(self._interval)
                backoff.reset()
            except OUTAGE_ERRORS as exc:
                HEALTH.lost(exc)
                was_down = True  # Redis may come back empty: re-register (idempotent) before the next tick
                delay = backoff.next()
            except redis.RedisError as exc:
                log.warning("scheduler tick failed: %s", exc)
            stop.wait(delay)
        if self.promoter is not None:
            self.promoter.release()


def _template_job(scheduler: RqtopScheduler, entry: ScheduleEntry) -> Job:
    """The template job for ``entry``, built in memory as rq-scheduler's cron()/schedule() would store it."""
    job = scheduler._create_job(  # noqa: SLF001 - rq-scheduler's own builder, without its immediate save
        entry.task, kwargs=dict(entry.kwargs), commit=False, result_ttl=-1, id=keys.template_id(entry.name),
        description=f"{entry.name} (schedule)", queue_name=entry.queue, timeout=entry.timeout,
        meta={"schedule": entry.name},
    )
    if entry.cron:
        job.meta.update(cron_string=entry.cron, use_local_timezone=False)
    else:
        job.meta["interval"] = int(entry.interval or 0)
    return job


def _create_template(scheduler: RqtopScheduler, entry: ScheduleEntry, next_run: float) -> None:
    """Write the template job hash for ``entry`` (its id carries the schedule name), due at ``next_run``."""
    job = _template_job(scheduler, entry)
    with scheduler.connection.pipeline() as pipe:
        job.save(pipeline=pipe)
        pipe.zadd(keys.RQ_SCHEDULED_JOBS, {job.id: next_run})
        pipe.execute()


def register_schedules(conn: redis.Redis, entries: Iterable[ScheduleEntry], now: float | None = None) -> RegisterResult:
    """Make Redis match the given entries, all or nothing: every entry is built first (a bad one raises
    ValueError with nothing written), then every change goes in one MULTI/EXEC; idempotent, and unchanged
    schedules keep their next runs."""
    entries = tuple(entries)
    now = time.time() if now is None else now
    scheduler = RqtopScheduler(conn, entries)
    stored = {as_text(name): as_text(doc) for name, doc in conn.hgetall(keys.SCHEDULES).items()}
    templates = {
        as_text(member) for member in conn.zrange(keys.RQ_SCHEDULED_JOBS, 0, -1)
        if as_text(member).startswith(keys.SCHEDULE_TEMPLATE_PREFIX)
    }
    with conn.pipeline(transaction=False) as pipe:
        for entry in entries:
            pipe.exists(keys.rq_job(keys.template_id(entry.name)))
        present = [bool(found) for found in pipe.execute()]
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    writes: list[tuple[str, Job, float, str]] = []
    for entry, has_hash in zip(entries, present, strict=True):
        try:
            document = entry.to_json()
            if stored.get(entry.name) == document and has_hash and keys.template_id(entry.name) in templates:
                unchanged.append(entry.name)
                continue
            next_run = entry.next_run(now)
            datetime.fromtimestamp(next_run, tz=timezone.utc)  # a next run Python cannot represent is refused here
            writes.append((entry.name, _template_job(scheduler, entry), next_run, document))
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            raise ValueError(f"schedule {entry.name!r}: cannot be registered ({exc}); nothing was changed") from None
        (updated if entry.name in stored else added).append(entry.name)
    wanted = {entry.name for entry in entries}
    leftover = set(stored) | {keys.schedule_of(template) or "" for template in templates}
    removed = sorted(name for name in leftover - wanted if name)
    with conn.pipeline() as pipe:
        for name, job, next_run, document in writes:
            job.save(pipeline=pipe)
            pipe.zadd(keys.RQ_SCHEDULED_JOBS, {job.id: next_run})
            pipe.hset(keys.SCHEDULES, name, document)
        for name in removed:
            _unregister_commands(pipe, name)
        pipe.execute()
    for name in removed:
        log.info("schedule %s: unregistered", name)
    return RegisterResult(tuple(added), tuple(updated), tuple(unchanged), tuple(removed))


def _unregister_commands(pipe: redis.client.Pipeline, name: str) -> None:
    """Queue the commands removing one schedule: template (rqtop's prefix only), definition, run state, pause."""
    template = keys.template_id(name)
    pipe.zrem(keys.RQ_SCHEDULED_JOBS, template)
    pipe.delete(keys.rq_job(template))
    pipe.hdel(keys.SCHEDULES, name)
    pipe.delete(keys.sched_state(name))
    pipe.srem(keys.PAUSED, name)



def register_effective(
    conn: redis.Redis, file_entries: Iterable[ScheduleEntry], raw_overrides: dict[Any, Any] | None = None,
    notify_global: bool | None = None,
) -> tuple[RegisterResult, tuple[ScheduleEntry, ...]]:
    """Register the effective schedules (the file's, with run-time edits applied; tasks import-checked here, in the
    worker), record the file's own definitions and why any edit was not applied; the result and the entries."""
    file_entries = tuple(file_entries)
    raw = conn.hgetall(keys.SCHEDULE_OVERRIDES) if raw_overrides is None else raw_overrides
    entries, errors = overrides.effective_entries(file_entries, raw, check_imports=True)
    for name, problem in sorted(errors.items()):
        log.warning("schedule %s: %s", name, problem)
    result = register_schedules(conn, entries)
    with conn.pipeline() as pipe:
        pipe.delete(keys.FILE_SCHEDULES, keys.OVERRIDE_ERRORS)
        if file_entries:
            pipe.hset(keys.FILE_SCHEDULES, mapping={entry.name: entry.to_json() for entry in file_entries})
        if errors:
            pipe.hset(keys.OVERRIDE_ERRORS, mapping={name: line for name, line in errors.items()})
        pipe.execute()
    if notify_global is not None:
        write_policies(conn, {e.name: effective_policy(e.notify, e.webhook, notify_global) for e in entries})
    return result, entries
