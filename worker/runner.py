"""`rqtop worker`: register schedules, run the scheduler and/or an RqtopWorker, and ride out Redis outages."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from uuid import uuid4

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from worker import keys
from worker.masking import install_log_masking
from worker.notify.config import NotifyConfig, check_smtp, load_config
from worker.notify.sender import start_thread as start_notify_sender
from worker.outage import HEALTH, OUTAGE_ERRORS, wait_for_redis
from worker.presence import PresenceRecord
from worker.records import DEFAULT_QUEUES, WORKER_MODES, as_text
from worker.rqtop_worker import JOB_MONITORING_INTERVAL_S, WORKER_TTL_S, RqtopWorker
from worker.scheduler import TICK_INTERVAL_S, RqtopScheduler, ScheduledJobPromoter, register_effective
from worker.schedules import ScheduleEntry, load_notify_table, load_schedules

log = logging.getLogger("rqtop.runner")

RESTART_REASON = "Worker restarted during execution"


def connect_worker(url: str) -> redis.Redis:
    """A client for workers: fails fast on connect, no hidden retries (our loops own the backoff)."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0), health_check_interval=0
    )


Connector = Callable[[], redis.Redis]
"""Makes one of the worker's clients: ``connect_worker`` of a URL, or the CLI's client for its connection flags
(TLS files, a password file, Sentinel: each new connection of a Sentinel client asks the sentinels for the master,
so the outage loop's reconnect follows a failover)."""


def connector(url: str | Connector) -> Connector:
    """The worker's client factory for a URL or an already-built factory."""
    if callable(url):
        return url
    return lambda: connect_worker(url)


def recover_orphans(conn: redis.Redis) -> int:
    """Fail runs left "running" by a dead worker process on this host (worker.recovery, when present)."""
    try:
        from worker import recovery
    except ImportError:
        return 0
    try:
        failed = recovery.fail_orphaned_for_host(conn, socket.gethostname(), reason=RESTART_REASON)
    except redis.RedisError as exc:
        log.warning("stale-run recovery skipped: %s", exc)
        return 0
    if failed:
        log.warning("failed %d run(s) orphaned by a previous worker on this host", failed)
    return failed


class _OutageTracebackFilter(logging.Filter):
    """Drops RQ's own "unhandled exception" traceback when the cause is Redis going away: the runner logs
    that state change itself, once, and keeps retrying."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, OUTAGE_ERRORS)


def _setup_logging() -> None:
    """One plain log format for rqtop's own loggers unless the application configured logging."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    rq_log = logging.getLogger("rq.worker")
    if not any(isinstance(f, _OutageTracebackFilter) for f in rq_log.filters):
        rq_log.addFilter(_OutageTracebackFilter())
    # RQ logs each job's description (its arguments) and each failure's exception text: mask them, and rqtop's own
    install_log_masking("rq.worker", "rq.queue", "rq.registry", "rqtop.worker", "rqtop.runner", "rqtop.scheduler",
                        "rqtop.dispatch", "worker.recovery")


def default_name(mode: str) -> str:
    """A worker name an operator can read: host, mode and pid (unique per live process on a host)."""
    host = socket.gethostname().split(".")[0] or "host"
    return f"{host}-{mode}-{os.getpid()}"


def run(
    url: str | Connector,
    mode: str = "all",
    queues: Sequence[str] = DEFAULT_QUEUES,
    schedules_path: str | Path = "schedules.toml",
    burst: bool = False,
    name: str | None = None,
    stop_event: threading.Event | None = None,
    *,
    worker_ttl: int = WORKER_TTL_S,
    job_monitoring_interval: int = JOB_MONITORING_INTERVAL_S,
    scheduler_interval: float = TICK_INTERVAL_S,
    worker_class: type[Any] | None = None,
) -> None:
    """Run until stopped (SIGTERM/SIGINT or ``stop_event``), or until the queues are empty with ``burst``; ``url``
    is a Redis URL or a factory of clients (``Connector``).

    Raises ScheduleError (one line) when the schedules file is bad, before anything touches Redis.
    """
    if mode not in WORKER_MODES:
        raise ValueError(f"mode must be one of {', '.join(WORKER_MODES)}, got {mode!r}")
    entries = load_schedules(schedules_path) if mode in ("all", "scheduler") else ()
    notify = notify_config(entries, schedules_path) if mode in ("all", "scheduler") else NotifyConfig()
    name = name or default_name(mode)
    _setup_logging()
    stop = stop_event or threading.Event()
    _stop_on_signals(stop)  # a SIGTERM before RQ's own handlers are in still stops cleanly, never kills
    connect = connector(url)
    conn = connect()
    if not wait_for_redis(conn, stop):
        return
    recover_orphans(conn)
    if mode in ("all", "scheduler"):
        _register(conn, entries, stop, notify)
        if notify.active:
            start_notify_sender(connect(), notify, name, stop)
    if mode == "scheduler":
        _run_scheduler_only(connect, entries, tuple(queues), name, burst, stop, scheduler_interval, notify)
        return
    scheduler_stop = threading.Event()
    thread: threading.Thread | None = None
    side = connect()
    promoter = ScheduledJobPromoter(side, queues, scheduler_interval)
    scheduler = RqtopScheduler(side, entries, interval=scheduler_interval, templates=mode == "all", promoter=promoter,
                               apply_overrides=mode == "all", notify_global=_has_global(notify))
    if burst:
        scheduler.tick()
        promoter.release()
    else:
        thread = threading.Thread(
            target=scheduler.run_until, args=(scheduler_stop,), name="rqtop-scheduler", daemon=True
        )
        thread.start()
    try:
        _run_worker(conn, mode, tuple(queues), burst, name, stop, worker_ttl, job_monitoring_interval,
                    worker_class or RqtopWorker)
    finally:
        scheduler_stop.set()
        if thread is not None:
            thread.join(timeout=5)


def notify_config(entries: tuple[ScheduleEntry, ...], schedules_path: str | Path, check: bool = True) -> NotifyConfig:
    """The notification config of a scheduling process; NotifyConfigError (one line) when it is bad or, with
    ``check``, when the SMTP server cannot be reached now."""
    config = load_config(entries, load_notify_table(schedules_path))
    if check and config.smtp is not None:
        check_smtp(config.smtp)
    return config


def _register(conn: redis.Redis, entries: tuple[ScheduleEntry, ...], stop: threading.Event,
              notify: NotifyConfig | None = None) -> None:
    """Register schedules (and their notify policies), waiting out a Redis outage."""
    while not stop.is_set():
        try:
            log.info(register_effective(conn, entries, notify_global=_has_global(notify))[0].summary)
            return
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)
            wait_for_redis(conn, stop)


def _has_global(notify: NotifyConfig | None) -> bool:
    """Whether a global alert target (email or webhook) is configured: a schedule without ``notify`` then notifies."""
    return notify is not None and bool(notify.alert_email or notify.webhook)


def _run_scheduler_only(
    connect: Connector, entries: tuple[ScheduleEntry, ...], queues: tuple[str, ...], name: str | None, burst: bool,
    stop: threading.Event, interval: float, notify: NotifyConfig | None = None,
) -> None:
    """Mode scheduler: tick in this thread and keep an rqtop:worker record (mode "scheduler") alive."""
    conn = connect()
    presence = PresenceRecord(name=name or uuid4().hex, mode="scheduler", queues=())
    promoter = ScheduledJobPromoter(conn, queues, interval)
    scheduler = RqtopScheduler(conn, entries, interval=interval, promoter=promoter, apply_overrides=True,
                               notify_global=_has_global(notify))
    while not stop.is_set():
        try:
            with conn.pipeline(transaction=False) as pipe:
                presence.birth_commands(pipe, time.time())
                pipe.execute()
            break
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)
            wait_for_redis(conn, stop, pause_first=True)
    log.info("scheduler %s: ticking every %.0fs", presence.name, interval)
    try:
        if burst:
            scheduler.tick()
            promoter.release()
        else:
            scheduler.run_until(stop, presence)
    finally:
        try:
            with conn.pipeline(transaction=False) as pipe:
                presence.death_commands(pipe)
                pipe.execute()
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)


def _stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM/SIGINT set ``stop`` (main thread only; elsewhere the caller's event is the only way)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())


def _run_worker(
    conn: redis.Redis, mode: str, queues: tuple[str, ...], burst: bool, name: str | None,
    stop: threading.Event, worker_ttl: int, monitoring: int, worker_class: type[Any],
) -> None:
    """Run the RQ worker; when it quits on its own (Redis trouble), wait for Redis and start a fresh one."""
    while not stop.is_set():
        worker = worker_class(
            list(queues), name=name, connection=conn, mode=mode, worker_ttl=worker_ttl,
            job_monitoring_interval=monitoring,
        )
        worker.stop_event = stop
        finished = threading.Event()
        threading.Thread(target=_relay_stop, args=(stop, finished, worker), daemon=True).start()
        try:
            _clear_own_stale_record(conn, worker)
            worker.work(burst=burst, logging_level="INFO")
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)
        except ValueError as exc:  # RQ refuses a name another live worker holds
            raise SystemExit(f"rqtop: error: {exc}") from None
        finally:
            finished.set()
        if burst or worker._shutdown_requested_date is not None or worker._stop_requested:
            return
        if not wait_for_redis(conn, stop):
            return


def _relay_stop(stop: threading.Event, finished: threading.Event, worker: Any) -> None:
    """Ask ``worker`` to stop after its current job once ``stop`` is set (it notices at its next dequeue)."""
    while not finished.wait(0.2):
        if stop.is_set():
            worker._stop_requested = True
            return


def _clear_own_stale_record(conn: redis.Redis, worker: Any) -> None:
    """Drop RQ's record of this very process left alive by an outage, or a partial one (a stall or data loss left
    only ``last_heartbeat``, no identity), so re-registering the name works instead of RQ refusing it."""
    key = keys.rq_worker(worker.name)
    host, pid, death = conn.hmget(key, ["hostname", "pid", "death"])
    if death is not None:
        return
    if host is None:
        if conn.exists(key):
            log.warning("worker %s: its RQ record was partial (no hostname); registering afresh", worker.name)
            conn.delete(key)
        return
    if as_text(host) == (worker.hostname or "") and pid is not None and int(pid) == worker.pid:
        conn.delete(key)
