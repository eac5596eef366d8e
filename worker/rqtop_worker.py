"""The rqtop worker classes: RQ's forking Worker and SimpleWorker with rqtop's bookkeeping mixed in.

Cost per job over plain RQ: at most 2 extra round trips: one pipelined round trip marks the job running
before it starts (worker current_*, history), one EVALSHA (``worker.finish_script``) reads the outcome from
RQ's job hash after it ends and updates history, metrics, worker counters, schedule state and the dedupe
token atomically. The error line and the "no active work" note ride along in RQ's own terminal pipeline
(no extra round trip). Heartbeats carry our last-seen record (``worker.presence``) in the same round trip
as RQ's own (RQ's three commands are pipelined into one), so an idle worker costs no more than plain RQ.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError
from rq.exceptions import StopRequested
from rq.job import JobStatus
from rq.registry import CanceledJobRegistry
from rq.timeouts import TimerDeathPenalty
from rq.utils import utcformat
from rq.worker import SimpleWorker, Worker, WorkerStatus

from worker import __version__, keys, records
from worker.finish_script import NOTIFY_FINISH_LUA
from worker.outage import HEALTH, MAX_BACKOFF_S, OUTAGE_ERRORS, probe_write, wait_for_redis
from worker.presence import PresenceRecord
from worker.progress import cancel_requested
from worker.records import WORKER_MODES, epoch_text, one_line, sanitize_exc, sanitize_text
from worker.tasks import NO_ACTIVE_WORK, is_no_active_work

log = logging.getLogger("rqtop.worker")

WORKER_TTL_S = 25
"""RQ worker_ttl: an idle worker blocks for ttl - 15 = 10 s per dequeue, so it beats every ~10 s."""

JOB_MONITORING_INTERVAL_S = 10
"""A busy forking worker beats every 10 s while it waits for the horse."""


def task_name(job: Any) -> str:
    """The job's function name as RQ stores it, or "unknown" when it cannot be read."""
    try:
        name = job.func_name
    except Exception:  # noqa: BLE001 - a payload we cannot read is recorded as unknown
        return "unknown"
    return name if isinstance(name, str) and name else "unknown"


def run_schedule(job_id: str) -> str:
    """The schedule a job id is a run of, or "" for an ad-hoc job."""
    if job_id.startswith(keys.SCHEDULE_RUN_PREFIX):
        return keys.schedule_of(job_id) or ""
    return ""


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; exit now if the parent is already gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux: the horse outlives a killed worker, as plain RQ's does
    if parent_pid and os.getppid() != parent_pid:
        os._exit(1)


class _StopRequestedFlag:
    """A worker's stop request shaped like a ``threading.Event`` for ``wait_for_redis`` (a plain sleep)."""

    def __init__(self, worker: Any) -> None:
        self._worker = worker

    def is_set(self) -> bool:
        return bool(self._worker._stop_requested)

    def wait(self, timeout: float | None = None) -> bool:
        time.sleep(timeout or 0)
        return self.is_set()


if TYPE_CHECKING:  # the mixin is only ever mixed into RQ's Worker: type-check it as one
    _WorkerBase = Worker
else:
    _WorkerBase = object


class BookkeepingMixin(_WorkerBase):
    """Adds rqtop's records to an RQ worker class; put it first in the bases."""

    def __init__(self, queues: Any, *args: Any, mode: str = "all", **kwargs: Any) -> None:
        if mode not in WORKER_MODES:
            raise ValueError(f"mode must be one of {', '.join(WORKER_MODES)}, got {mode!r}")
        kwargs.setdefault("worker_ttl", WORKER_TTL_S)
        kwargs.setdefault("job_monitoring_interval", JOB_MONITORING_INTERVAL_S)
        super().__init__(queues, *args, **kwargs)
        self.rqtop_mode = mode
        self.rqtop_version = __version__
        self._rqtop_errors: dict[str, str] = {}
        self._finish_script = self.connection.register_script(NOTIFY_FINISH_LUA)
        self.max_connection_wait_time = MAX_BACKOFF_S
        self.stop_event: threading.Event | None = None  # the runner's; set by a signal that came before RQ's handlers

    @property
    def presence(self) -> PresenceRecord:
        """Our record's static fields, from RQ's own view of this worker."""
        birth = self.birth_date.timestamp() if getattr(self, "birth_date", None) and self.birth_date else time.time()
        return PresenceRecord(
            name=self.name, mode=self.rqtop_mode, queues=tuple(self.queue_names()),
            hostname=self.hostname or socket.gethostname(), pid=self.pid or os.getpid(), birth=birth,
        )

    # --- presence -------------------------------------------------------------------------------
    def register_birth(self) -> None:
        """RQ's birth, then our full record (counters at zero) in one more round trip."""
        super().register_birth()
        with self.connection.pipeline(transaction=False) as pipe:
            self.presence.birth_commands(pipe, time.time())
            pipe.execute()

    def register_death(self) -> None:
        """RQ's death, then our record removed: a clean shutdown leaves nothing to show as offline."""
        try:
            super().register_death()
            with self.connection.pipeline(transaction=False) as pipe:
                self.presence.death_commands(pipe)
                pipe.execute()
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        """RQ's heartbeat plus our last-seen record, in one pipelined round trip."""
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)
            self._repair_commands(pipeline)
            self.presence.beat_commands(pipeline, time.time())
            return
        if self._stop_requested and not self.is_horse and self.get_state() != WorkerStatus.BUSY:
            raise StopRequested()  # a stop asked from another thread ends an idle worker at its next beat
        while True:
            try:
                with self.connection.pipeline(transaction=False) as pipe:
                    super().heartbeat(timeout, pipeline=pipe)
                    self._repair_commands(pipe)
                    self.presence.beat_commands(pipe, time.time())
                    pipe.execute()
                HEALTH.back()
                return
            except OUTAGE_ERRORS as exc:
                HEALTH.lost(exc)
                if self.get_state() == WorkerStatus.BUSY:
                    return  # never block while a horse runs; the monitor loop beats again soon
                self.wait_for_redis()

    def _repair_commands(self, pipe: Any) -> None:
        """Queue HSETNX of RQ's identity fields and the registration sets: a record that a stall or data loss cut
        down to ``last_heartbeat`` heals at the next beat (same round trip), so RQ never refuses our own name."""
        if getattr(self, "birth_date", None) is None or getattr(self, "last_heartbeat", None) is None:
            return  # not registered yet: register_birth writes the whole record
        key = keys.rq_worker(self.name)
        fields = self.serialize()
        for name in ("birth", "hostname", "pid", "queues", "ip_address", "version", "python_version"):
            if fields.get(name) not in (None, ""):
                pipe.hsetnx(key, name, fields[name])
        pipe.sadd(keys.RQ_WORKERS, key)
        for queue in self.queue_names():
            pipe.sadd(keys.rq_queue_workers(queue), key)

    def wait_for_redis(self) -> None:
        """Block with bounded backoff until Redis answers PING; a stop request ends the wait."""
        if not wait_for_redis(self.connection, _StopRequestedFlag(self), pause_first=True):
            raise StopRequested()

    def check_for_suspension(self, burst: bool) -> None:
        """RQ's suspension check, waiting out a Redis outage instead of quitting with a traceback."""
        try:
            super().check_for_suspension(burst)
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)
            self.wait_for_redis()

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        """RQ's dequeue, waiting while Redis refuses writes (its BLMOVE is a write: nothing is taken meanwhile)."""
        while True:
            try:
                return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            except OutOfMemoryError as exc:
                HEALTH.lost(exc)
                self.wait_for_redis()

    def set_state(self, state: str, pipeline: Any = None) -> None:
        """RQ's state write; on its own (no pipeline) it waits while Redis refuses writes."""
        if pipeline is not None:
            super().set_state(state, pipeline=pipeline)
            return
        self._ride_out_oom(super().set_state, state)

    def _ride_out_oom(self, step: Callable[..., Any], *args: Any, done: Callable[[], bool] | None = None,
                      **kwargs: Any) -> Any:
        """Run one write step; while Redis refuses writes (OOM) wait with backoff and run it again, unless ``done``
        says, once writes are accepted, that the refused try went through after all. Other errors propagate."""
        while True:
            try:
                return step(*args, **kwargs)
            except OutOfMemoryError as exc:
                HEALTH.lost(exc)
            self.wait_for_redis()
            if done is not None and done():
                return None

    def _outcome_written(self, job: Any, execution: Any) -> Callable[[], bool]:
        """Whether RQ's terminal transaction for ``execution`` went through: it removes the execution from the
        queue's wip registry (success, failure, retry and stop alike), all or nothing."""
        def written() -> bool:
            if execution is None:
                return job.get_status(refresh=True) != JobStatus.STARTED
            member = f"{job.id}:{execution.id}"
            return self.connection.zscore(keys.rq_registry("wip", job.origin), member) is None
        return written

    def run_maintenance_tasks(self) -> None:
        """RQ's registry maintenance, skipped (and retried next loop) while Redis is away."""
        try:
            super().run_maintenance_tasks()
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)

    def maintain_heartbeats(self, job: Any, execution: Any) -> None:
        """RQ's busy heartbeats; an outage is noted but never abandons the running horse."""
        try:
            super().maintain_heartbeats(job, execution)
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)
        else:
            HEALTH.back()

    def _pubsub_exception_handler(self, exc: Exception, pubsub: Any, pubsub_thread: Any) -> None:
        """Keep the command listener retrying through an outage without a log line per retry."""
        if not isinstance(exc, RedisConnectionError):
            raise exc
        HEALTH.lost(exc)
        time.sleep(2.0)

    def _install_signal_handlers(self) -> None:
        """RQ's SIGTERM/SIGINT handling (main thread only); a stop signalled during RQ's bootstrap is honoured now."""
        if threading.current_thread() is threading.main_thread():
            super()._install_signal_handlers()
        if self.stop_event is not None and self.stop_event.is_set():
            self._stop_requested = True  # the work loop checks this before its first dequeue

    # --- stop commands ----------------------------------------------------------------------------
    def kill_horse(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Kill the horse's group, never our own (RQ's os.getpgid(0) with no horse, or a horse not yet setpgrp'd)."""
        pid = self.horse_pid
        if pid <= 0:
            return
        with contextlib.suppress(ProcessLookupError):
            group = os.getpgid(pid)
            if group == os.getpgrp():
                os.kill(pid, sig)
            else:
                os.killpg(group, sig)

    def fork_work_horse(self, job: Any, queue: Any) -> None:
        """RQ's fork; a stop that arrived between prepare_execution and the fork is carried out now."""
        self._rqtop_parent_pid = os.getpid()
        super().fork_work_horse(job, queue)
        if self._stopped_job_id == job.id:
            self.kill_horse()

    def setup_work_horse_signals(self) -> None:
        """RQ's horse signals, and the horse dies with its worker: RQ's horse leaves the worker's process group, so
        a ``kill -9`` of the worker (or its group) would leave it running unsupervised, its outcome recorded by
        nobody; killed with it, its job is failed (or put back, if it never started) by recovery instead."""
        super().setup_work_horse_signals()
        _die_with_parent(getattr(self, "_rqtop_parent_pid", 0))

    def _handle_stopped_job(self, job: Any, queue: Any, execution: Any) -> None:
        """Fail a stopped job once: not when its horse had already ended it, and never left in the intermediate list."""
        if job.get_status(refresh=True) in (JobStatus.FINISHED, JobStatus.FAILED):
            return
        super()._handle_stopped_job(job, queue, execution)
        self.connection.lrem(keys.rq_intermediate(queue.name), 1, job.id)

    # --- a job's writes ride out OOM: nothing is lost, the outcome is written once memory frees -----
    def prepare_execution(self, job: Any) -> Any:
        """RQ's execution record (one transaction: refused whole or written whole), waiting while writes are
        refused; the job meanwhile stays in the queue's intermediate list, where recovery would find it."""
        def attempt() -> Any:
            known = set(self.executions)
            try:
                return super(BookkeepingMixin, self).prepare_execution(job)
            except OutOfMemoryError:
                for execution_id in set(self.executions) - known:
                    self.executions.pop(execution_id, None)
                raise
        return self._ride_out_oom(attempt)

    def prepare_job_execution(self, job: Any, remove_from_intermediate_queue: bool = False) -> None:
        """RQ's start of the job in the horse (one transaction), waiting while writes are refused."""
        self._ride_out_oom(super().prepare_job_execution, job, remove_from_intermediate_queue)

    def handle_execution_ended(self, job: Any, queue: Any, heartbeat_ttl: int) -> None:
        """RQ's end-of-run heartbeat, waiting while writes are refused (a refusal must not fail a job that ran)."""
        self._ride_out_oom(super().handle_execution_ended, job, queue, heartbeat_ttl)

    def handle_job_success(self, job: Any, queue: Any, started_job_registry: Any, execution: Any) -> None:
        """RQ's success transaction, run again once writes are accepted unless it went through; a run whose
        cooperative cancel was asked (``worker.cancel_request``) ends as canceled instead, checkpoints or not."""
        if self._ride_out_oom(cancel_requested, self.connection, job.id):
            self._ride_out_oom(self._handle_job_canceled, job, queue, execution,
                               done=self._outcome_written(job, execution))
            return
        self._ride_out_oom(super().handle_job_success, job, queue, started_job_registry,
                           execution, done=self._outcome_written(job, execution))

    def _handle_job_canceled(self, job: Any, queue: Any, execution: Any) -> None:
        """One transaction: status canceled, the run's end time, RQ's canceled registry, the execution cleaned
        up as RQ's own terminal steps do (dependents stay deferred, as RQ's cancel leaves them by default)."""
        with self.connection.pipeline() as pipe:
            job.set_status(JobStatus.CANCELED, pipeline=pipe)
            if job.ended_at:
                pipe.hset(job.key, "ended_at", utcformat(job.ended_at))
            CanceledJobRegistry(job.origin, self.connection, job_class=type(job), serializer=job.serializer).add(
                job, pipeline=pipe)
            self.cleanup_execution(job, pipeline=pipe, execution=execution)
            pipe.execute()
        log.info("job %s canceled at the operator's request (cooperative cancel)", job.id)

    def _until_outcome_written(self, job: Any, execution: Any, step: Callable[[], None]) -> None:
        """Run an RQ failure step that swallows its own write error; while its transaction did not go through
        (Redis refused writes), wait and run it again with the in-memory state it started from."""
        written = self._outcome_written(job, execution)
        stopped_id, retries_left = self._stopped_job_id, job.retries_left
        accepted_once = False
        while True:
            step()
            if written():
                return
            self._stopped_job_id, job.retries_left = stopped_id, retries_left
            try:
                probe_write(self.connection)
            except OutOfMemoryError as exc:
                HEALTH.lost(exc)
                self.wait_for_redis()
                continue
            if accepted_once:
                return  # writes go through yet this one did not: RQ logged why, recovery ends the execution
            accepted_once = True  # memory may have been freed just after the refused try: one more

    # --- per job --------------------------------------------------------------------------------
    def execute_job(self, job: Any, queue: Any) -> None:
        """Mark the job running, run it as RQ does, then record its outcome (one round trip each side)."""
        started = time.time()
        task, schedule = task_name(job), run_schedule(job.id)
        self._safely(self._mark_running, job, queue.name, task, schedule, started)
        try:
            super().execute_job(job, queue)
        finally:
            self._safely(self.record_outcome, job.id, task, schedule, started)
            self._rqtop_errors.pop(job.id, None)

    def _safely(self, func: Any, *args: Any) -> None:
        """Run one bookkeeping step (each is idempotent, or one script: refused whole); while Redis refuses writes
        it waits and runs it again; other Redis trouble is logged (once) and never breaks the job itself."""
        try:
            self._ride_out_oom(func, *args)
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)
        except redis.RedisError as exc:
            log.warning("rqtop bookkeeping failed: %s", one_line(exc))

    def _mark_running(self, job: Any, queue: str, task: str, schedule: str, now: float) -> None:
        """One pipelined round trip: the worker's current job and the history record in state running."""
        item = keys.history_item(job.id)
        created = job.created_at.timestamp() if getattr(job, "created_at", None) else now
        with self.connection.pipeline(transaction=False) as pipe:
            pipe.hset(keys.worker(self.name), mapping={
                "current_job_id": job.id, "current_task": task, "current_started": epoch_text(now),
            })
            pipe.hset(item, mapping={
                "task": task, "queue": queue, "state": "running", "started_at": epoch_text(now),
                "ended_at": "", "worker": self.name, "schedule": schedule, "note": "",
            })
            for name, value in (("created_at", epoch_text(created)), ("retries", 0), ("error", "")):
                pipe.hsetnx(item, name, value)
            pipe.expire(item, keys.HISTORY_TTL_S)
            pipe.zadd(keys.HISTORY, {job.id: created}, nx=True)
            pipe.zremrangebyrank(keys.HISTORY, 0, -(keys.HISTORY_KEEP + 1))
            if schedule:
                pipe.hset(keys.sched_state(schedule), "last_status", "running")
            pipe.execute()

    def record_outcome(self, job_id: str, task: str, schedule: str, started: float) -> str:
        """One EVALSHA: outcome from the job hash into history, metrics, worker and schedule records, and the
        notification outbox when asked."""
        name = schedule or "-"
        state = self._finish_script(
            keys=[
                keys.rq_job(job_id), keys.history_item(job_id), keys.worker(self.name), keys.METRIC_TASKS,
                keys.sched_state(name), keys.active(name), keys.NOTIFY_POLICY, keys.NOTIFY_OUTBOX,
                keys.notify_trigger(job_id),
            ],
            args=[
                job_id, task, keys.PREFIX + "m:", repr(time.time()), repr(started), keys.HISTORY_TTL_S,
                keys.METRIC_TTL_S, repr(records.BIN_FLOOR_S), repr(records.BIN_RATIO), schedule,
                keys.METRIC_BUCKET_S, self.name,
            ],
        )
        return state.decode() if isinstance(state, bytes) else str(state or "")

    # --- capture error and note in-process, write them in RQ's own terminal pipeline -------------
    def handle_exception(self, job: Any, *exc_info: Any) -> None:
        """Keep the sanitized error line for the terminal pipeline; RQ logs the traceback as usual."""
        self._rqtop_errors[job.id] = sanitize_exc(exc_info[0], exc_info[1])
        super().handle_exception(job, *exc_info)

    def handle_job_failure(self, job: Any, queue: Any, started_job_registry: Any = None, exc_string: str = "",
                           execution: Any = None) -> None:
        """Keep an error line for failures RQ handles without an exception (killed or stopped horse)."""
        self._rqtop_errors.setdefault(job.id, sanitize_text(exc_string) or "Job failed")
        error = self._rqtop_errors[job.id]

        def step() -> None:
            self._rqtop_errors.setdefault(job.id, error)  # the terminal pipeline pops it: put back for a retry
            super(BookkeepingMixin, self).handle_job_failure(
                job, queue, started_job_registry=started_job_registry, exc_string=exc_string, execution=execution
            )
        self._until_outcome_written(job, execution, step)

    def handle_job_retry(self, job: Any, queue: Any, retry: Any, started_job_registry: Any, execution: Any) -> None:
        """Give a run that returned Retry once too often a readable error."""
        if job.number_of_retries and job.number_of_retries >= retry.max:
            self._rqtop_errors[job.id] = f"Retry limit reached: the job returned Retry {job.number_of_retries} times"
        error = self._rqtop_errors.get(job.id)

        def step() -> None:
            if error is not None:
                self._rqtop_errors.setdefault(job.id, error)
            with contextlib.suppress(OutOfMemoryError):  # not written: _until_outcome_written runs it again
                super(BookkeepingMixin, self).handle_job_retry(
                    job, queue, retry, started_job_registry, execution
                )
        self._until_outcome_written(job, execution, step)

    def cleanup_execution(self, job: Any, pipeline: Any, execution: Any = None) -> None:
        """Ride RQ's terminal pipeline to store the error line and note (no extra round trip)."""
        super().cleanup_execution(job, pipeline, execution)
        note = NO_ACTIVE_WORK if is_no_active_work(getattr(job, "_result", None)) else ""
        error = self._rqtop_errors.pop(job.id, "")
        pipeline.hset(keys.history_item(job.id), mapping={"error": error, "note": note})
        pipeline.delete(keys.progress(job.id), keys.cancel_flag(job.id))  # the run is over: its progress too


class RqtopWorker(BookkeepingMixin, Worker):
    """RQ's forking worker with rqtop's records: the production worker (stop commands need a fork)."""


class RqtopSimpleWorker(BookkeepingMixin, SimpleWorker):
    """RQ's in-process worker with rqtop's records, for tests and debugging."""

    def __init__(self, queues: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(queues, *args, **kwargs)
        if threading.current_thread() is not threading.main_thread():
            self.death_penalty_class = TimerDeathPenalty  # SIGALRM timeouts only work in the main thread
