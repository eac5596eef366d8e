"""The runner: burst and stop_event runs in-process, bad schedules, and a real forking worker's heartbeats."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from rq import Queue, Retry
from rq.command import send_stop_job_command

from tests.waiting import wait_for
from tests.worker import jobs
from tests.worker.conftest import make_due, text
from worker import keys
from worker.embedded_redis import EmbeddedRedis
from worker.rqtop_worker import RqtopSimpleWorker
from worker.runner import run
from worker.scheduler import register_schedules
from worker.schedules import ScheduleEntry, ScheduleError, load_schedules

REPO = Path(__file__).resolve().parents[2]
SCHEDULES = """
[[schedule]]
name = "nightly"
task = "tests.worker.jobs.ok"
interval = 3600
"""


@pytest.fixture
def schedules_file(tmp_path: Path) -> Path:
    path = tmp_path / "schedules.toml"
    path.write_text(SCHEDULES)
    return path


def _in_thread(**kwargs: object) -> threading.Thread:
    thread = threading.Thread(target=run, kwargs=kwargs, daemon=True)
    thread.start()
    return thread


def test_bad_schedules_file_fails_before_redis(tmp_path: Path) -> None:
    """A bad file raises ScheduleError; the URL is never contacted."""
    bad = tmp_path / "schedules.toml"
    bad.write_text('[[schedule]]\nname = "x"\ntask = "tests.worker.jobs.ok"\ncron = "nope"\n')
    with pytest.raises(ScheduleError, match="field 'cron'"):
        run("redis://127.0.0.1:1/0", mode="all", schedules_path=bad)


def test_burst_all_registers_ticks_and_works(conn: redis.Redis, redis_url: str, schedules_file: Path) -> None:
    """Mode all in burst: schedules registered, the due one dispatched and run, then the runner returns."""
    (entry,) = load_schedules(schedules_file)
    register_schedules(conn, [entry])
    make_due(conn, "nightly")
    thread = _in_thread(url=redis_url, mode="all", schedules_path=schedules_file, burst=True,
                        worker_class=RqtopSimpleWorker, queues=("default",))
    thread.join(timeout=20)
    assert not thread.is_alive()
    state = conn.hgetall(keys.sched_state("nightly"))
    assert state[b"last_status"] == b"completed"
    history = conn.hgetall(keys.history_item(text(state[b"last_job_id"]) or ""))
    assert history[b"state"] == b"completed"


def test_stop_event_ends_mode_all(conn: redis.Redis, redis_url: str, schedules_file: Path) -> None:
    """Mode all with a stop event: ticks run, delayed retries are promoted, stop ends worker and scheduler."""
    (entry,) = load_schedules(schedules_file)
    register_schedules(conn, [entry])
    make_due(conn, "nightly")
    stop = threading.Event()
    thread = _in_thread(url=redis_url, mode="all", schedules_path=schedules_file, stop_event=stop, name="allw",
                        worker_class=RqtopSimpleWorker, worker_ttl=16, scheduler_interval=0.2)
    wait_for(lambda: conn.hget(keys.sched_state("nightly"), "last_status") == b"completed", 15, "the tick's run")
    assert conn.hget(keys.worker("allw"), "mode") == b"all"
    delayed = Queue("default", connection=conn).enqueue(jobs.boom, retry=Retry(max=1, interval=[1]))
    wait_for(lambda: conn.hget(keys.history_item(delayed.id), "state") == b"retry", 10, "the first attempt")
    wait_for(lambda: conn.hget(keys.history_item(delayed.id), "state") == b"failed", 10, "the promoted retry")
    assert conn.hget(keys.history_item(delayed.id), "retries") == b"1"
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert not conn.exists(keys.worker("allw"))


def test_scheduler_mode_keeps_a_presence_record(conn: redis.Redis, redis_url: str, schedules_file: Path) -> None:
    """Mode scheduler heartbeats an rqtop:worker record with mode "scheduler" and removes it on stop."""
    stop = threading.Event()
    thread = _in_thread(url=redis_url, mode="scheduler", schedules_path=schedules_file, stop_event=stop,
                        name="sched-only", scheduler_interval=0.2)
    wait_for(lambda: conn.hget(keys.worker("sched-only"), "mode") == b"scheduler", 10, "the scheduler record")
    first = float(conn.hget(keys.worker("sched-only"), "last_seen") or 0)
    wait_for(lambda: float(conn.hget(keys.worker("sched-only"), "last_seen") or 0) > first, 5, "a second beat")
    assert conn.hexists(keys.SCHEDULES, "nightly")
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert not conn.exists(keys.worker("sched-only"))


def test_forking_worker_heartbeats_and_stops_cleanly(conn: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    """A real forking RqtopWorker: last_seen advances idle and busy, a stopped job fails, SIGTERM cleans up."""
    code = (
        "import sys; from worker.runner import run; "
        "run(sys.argv[1], mode='worker', queues=('default',), name='forky', worker_ttl=16, job_monitoring_interval=1)"
    )
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-c", code, redis_url], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        record = keys.worker("forky")

        def seen() -> float:
            return float(conn.hget(record, "last_seen") or 0)

        wait_for(lambda: conn.exists(record), 15, "the worker record")
        idle = seen()
        wait_for(lambda: seen() > idle, 5, "an idle heartbeat")
        assert conn.zscore(keys.WORKERS, "forky") == pytest.approx(seen(), abs=2)

        job = Queue("default", connection=conn).enqueue(jobs.sleep_for, 2.5)
        wait_for(lambda: conn.hget(record, "current_job_id") == job.id.encode(), 10, "the job to start")
        busy = seen()
        wait_for(lambda: seen() > busy and conn.hget(record, "current_job_id") == job.id.encode(), 4, "a busy beat")
        wait_for(lambda: conn.hget(keys.history_item(job.id), "state") == b"completed", 10, "the job to complete")
        assert conn.hget(record, "current_job_id") == b""

        slow = Queue("default", connection=conn).enqueue(jobs.sleep_for, 30)
        wait_for(lambda: conn.hget(record, "current_job_id") == slow.id.encode(), 10, "the slow job to start")
        # rqtop names the job before the horse forks; RQ's stop command needs the horse's own start
        wait_for(lambda: conn.hget(keys.rq_job(slow.id), "worker_name"), 10, "the horse to start the slow job")
        send_stop_job_command(conn, slow.id)
        wait_for(lambda: conn.hget(keys.history_item(slow.id), "state") == b"failed", 10, "the stopped job")
        assert b"stopped" in (conn.hget(keys.history_item(slow.id), "error") or b"")
        assert conn.hget(record, "processed") == b"2" and conn.hget(record, "failed") == b"1"

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert not conn.exists(record)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def test_sigterm_during_rqs_bootstrap_still_stops_cleanly(conn: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    """SIGTERM after the worker is visible but before RQ installs its handlers: exit 0 and no record left."""
    code = (  # RQ registers the birth, subscribes, then installs its handlers: a slow subscribe widens that window
        "import sys, time; from worker.runner import run; from worker.rqtop_worker import RqtopWorker\n"
        "class SlowBoot(RqtopWorker):\n"
        "    def subscribe(self):\n"
        "        time.sleep(1.5)\n"
        "        super().subscribe()\n"
        "run(sys.argv[1], mode='worker', queues=('default',), name='early', worker_class=SlowBoot)\n"
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", code, redis_url], cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        wait_for(lambda: conn.exists(keys.worker("early")), 15, "the worker's birth")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, log_path.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    assert not conn.exists(keys.worker("early")) and conn.zscore(keys.WORKERS, "early") is None
    assert conn.hget(keys.rq_worker("early"), "death") is not None, "RQ's own record is closed too"
    assert "Traceback" not in log_path.read_text()


def test_entries_fixture_is_usable(entry: Callable[..., ScheduleEntry]) -> None:
    """The shared entry factory builds valid entries (guards the fixtures the other tests rely on)."""
    assert entry().queue == "default" and entry(priority="low").queue == "low"


def test_redis_outage_is_ridden_out_with_one_line_per_change(tmp_path: Path) -> None:
    """Redis dies and returns: the worker logs "unreachable" and "reachable again" once each, no traceback."""
    server = EmbeddedRedis(directory=str(tmp_path / "redis")).start()
    code = (
        "import sys; from worker.runner import run; "
        "run(sys.argv[1], mode='worker', queues=('default',), name='survivor', worker_ttl=16, "
        "job_monitoring_interval=1)"
    )
    log_path = tmp_path / "worker.log"
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-c", code, server.url], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        conn = redis.Redis.from_url(server.url)
        wait_for(lambda: conn.exists(keys.worker("survivor")), 15, "the worker record")
        server.kill()
        time.sleep(2.0)
        server.start()
        conn = redis.Redis.from_url(server.url)
        job = Queue("default", connection=conn).enqueue(jobs.ok)
        wait_for(lambda: conn.hget(keys.history_item(job.id), "state") == b"completed", 20, "a job after the outage")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        log.close()
        server.stop()
    output = log_path.read_text()
    assert output.count("Redis unreachable") == 1, output
    assert output.count("Redis reachable again") == 1, output
    assert "Traceback" not in output, output


def test_rqs_own_traceback_for_a_lost_redis_is_dropped_but_other_errors_stay() -> None:
    import logging

    import redis as redis_lib

    from worker import runner

    runner._setup_logging()
    rq_log = logging.getLogger("rq.worker")

    def record_for(exc: BaseException) -> logging.LogRecord:
        return rq_log.makeRecord("rq.worker", logging.ERROR, __file__, 1, "found an unhandled exception", (),
                                 (type(exc), exc, None))

    assert not rq_log.filter(record_for(redis_lib.exceptions.ConnectionError("Connection reset by peer")))
    assert rq_log.filter(record_for(ValueError("a real bug")))
