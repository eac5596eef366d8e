"""DashboardReader fills every Snapshot field from real RQ states and rqtop records."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta, timezone

import redis
import rq
from rq import Queue, Retry, SimpleWorker, Worker
from rq.executions import prepare_execution
from rq.suspension import suspend

from tests import jobs
from tests.data.reader_support import put_history, put_run, put_worker_record, settings, start_worker, wait_until
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from worker import keys, records
from worker.schedules import ScheduleEntry


def test_queue_rows_and_totals_cover_every_rq_state(conn: redis.Redis) -> None:
    default, high = Queue("default", connection=conn), Queue("high", connection=conn)
    default.enqueue(jobs.say_hello)
    default.enqueue(jobs.boom_with_secret)
    default.enqueue(jobs.boom_with_secret, retry=Retry(max=2, interval=300))
    SimpleWorker([default], connection=conn).work(burst=True)
    enqueued_at = time.time()
    first = default.enqueue(jobs.say_hello)
    default.enqueue(jobs.say_hello)
    default.enqueue(jobs.say_hello, depends_on=first)
    default.enqueue_in(timedelta(hours=1), jobs.say_hello)
    default.enqueue(jobs.say_hello).cancel()
    high.enqueue(jobs.say_hello)

    snapshot = DashboardReader(conn, settings(now=enqueued_at + 30)).read()

    assert [q.name for q in snapshot.queues] == ["high", "default"]
    row = snapshot.queues[1]
    assert (row.pending, row.active, row.completed, row.failed) == (2, 0, 1, 1)
    assert (row.retry, row.scheduled, row.deferred, row.canceled) == (1, 1, 1, 1), "a retry apart from enqueue_in"
    assert (row.abandoned, row.retry_unknown) == (0, 0)
    assert row.oldest_pending_age_s is not None and 29 <= row.oldest_pending_age_s <= 31
    assert snapshot.totals.pending == 3 and snapshot.totals.retry == 1
    assert (snapshot.totals.completed, snapshot.totals.failed, snapshot.totals.active) == (1, 1, 0)
    assert abs(snapshot.taken_at.timestamp() - (enqueued_at + 30)) < 1e-3
    assert 1 <= snapshot.round_trips <= 4


def test_running_job_and_plain_rq_worker_row(conn: redis.Redis, redis_url: str) -> None:
    queue = Queue("default", connection=conn)
    queue.enqueue(jobs.say_hello)
    running = queue.enqueue(jobs.hold, "test:release")
    process = start_worker(redis_url, name="forked-1")
    reader = DashboardReader(conn, Settings())
    try:
        snapshot = wait_until(
            lambda: (s := reader.read()).totals.active == 1 and any(w.current_job_id == running.id for w in s.workers)
            and s,
            what="the forked worker to run hold",
        )
        worker = next(w for w in snapshot.workers if w.name == "forked-1")
        assert (worker.mode, worker.status, worker.version) == ("rq", "online", rq.__version__)
        assert (worker.processed, worker.failed) == (1, 0)
        assert worker.current_job == "tests.jobs.hold" and worker.current_job_id == running.id
        assert (elapsed := worker.elapsed_at(snapshot.taken_at.timestamp())) is not None and 0 <= elapsed < 30
        assert (worker.pid, worker.hostname, worker.queues) == (process.pid, socket.gethostname(), ("default",))
        assert worker.up_since is not None and worker.last_seen is not None and not worker.unreadable
        assert snapshot.queues[0].active == 1 and snapshot.queues[0].completed == 1
    finally:
        conn.set("test:release", 1)
        process.wait(timeout=30)
    after = reader.read()
    assert after.totals.completed == 2 and after.totals.active == 0
    assert all(w.name != "forked-1" for w in after.workers), "a clean shutdown leaves rq:workers"


def test_a_plain_workers_elapsed_counts_from_its_execution_not_an_earlier_runs_started_at(conn: redis.Redis) -> None:
    """Before the horse writes started_at the job holds none (or a retried run's old one); RQ's execution has it."""
    queue = Queue("default", connection=conn)
    job = queue.enqueue(jobs.say_hello)
    job.started_at = datetime.now(timezone.utc) - timedelta(hours=1)  # a previous run's, as a retried job keeps it
    job.save()
    plain = Worker([queue], connection=conn, name="plain-run")
    plain.register_birth()
    execution = prepare_execution(plain, job)  # what RQ's worker writes before it forks the horse
    reader = DashboardReader(conn, settings(now=execution.created_at.timestamp() + 7))
    row = next(w for w in reader.read().workers if w.name == "plain-run")
    assert (row.current_job_id, row.current_job) == (job.id, "tests.jobs.say_hello")
    assert (elapsed := row.elapsed_at(execution.created_at.timestamp() + 7)) is not None and abs(elapsed - 7) < 0.01


def test_workers_online_offline_suspended_from_both_records(conn: redis.Redis) -> None:
    now = time.time()
    put_worker_record(conn, "rqtop-busy", now - 5, current_job_id="j-1", current_task="app.tasks.sync",
                      current_started=f"{now - 42:.6f}")
    put_worker_record(conn, "rqtop-gone", now - 600, mode="worker")
    plain = Worker([Queue("default", connection=conn)], connection=conn, name="plain-1")
    plain.register_birth()
    reader = DashboardReader(conn, settings(now=now))

    rows = {w.name: w for w in reader.read().workers}
    assert set(rows) == {"rqtop-busy", "rqtop-gone", "plain-1"}
    busy, gone, rq_row = rows["rqtop-busy"], rows["rqtop-gone"], rows["plain-1"]
    assert (busy.status, busy.mode, busy.version, busy.processed, busy.failed) == ("online", "all", "0.1.0", 12, 3)
    assert busy.current_job == "app.tasks.sync" and busy.current_job_id == "j-1"
    assert abs((busy.elapsed_at(now) or 0) - 42) < 0.01 and abs((busy.uptime_at(now) or 0) - 3605) < 0.01
    assert (busy.hostname, busy.pid, busy.queues) == ("host-a", 4242, ("high", "default", "low"))
    assert (gone.status, gone.mode, gone.up_since) == ("offline", "worker", None)
    assert gone.last_seen is not None and abs(gone.last_seen.timestamp() - (now - 600)) < 0.01
    assert (rq_row.mode, rq_row.status, rq_row.processed, rq_row.current_job) == ("rq", "online", 0, None)

    suspend(conn)
    snapshot = reader.read()
    statuses = {w.name: w.status for w in snapshot.workers}
    assert snapshot.suspended
    assert statuses == {"rqtop-busy": "suspended", "rqtop-gone": "offline", "plain-1": "suspended"}
    later = DashboardReader(conn, settings(now=now + 3600)).read()
    assert {w.status for w in later.workers} == {"offline"}, "nobody seen for an hour is offline, still listed"


def test_schedules_with_live_state_and_an_unreadable_definition(conn: redis.Redis) -> None:
    now = time.time()
    nightly = ScheduleEntry(name="nightly", task="tests.jobs.say_hello", cron="0 6 * * *",
                            description="Rotate the api_key=abc123 daily", priority="high", expires_after_min=30)
    sync = ScheduleEntry(name="sync", task="tests.jobs.say_hello", interval=900, run_now=False,
                         run_now_reason="runs every 15 min anyway")
    conn.hset(keys.SCHEDULES, mapping={"nightly": nightly.to_json(), "sync": sync.to_json(), "broken": "{not json"})
    conn.sadd(keys.PAUSED, "sync")
    run_id = keys.run_id("nightly", "0123456789ab")
    Queue("high", connection=conn).enqueue(jobs.say_hello, job_id=run_id)
    conn.set(keys.active("nightly"), run_id)
    conn.hset(keys.sched_state("nightly"), mapping={"last_run": f"{now - 60:.6f}", "last_job_id": run_id,
                                                     "last_status": "pending", "skipped": 2})
    conn.zadd(keys.RQ_SCHEDULED_JOBS, {keys.template_id("nightly"): now + 3600, keys.template_id("sync"): now + 900})

    rows = {r.name: r for r in DashboardReader(conn, settings(now=now)).read().schedules}

    assert list(rows) == ["broken", "nightly", "sync"]
    row = rows["nightly"]
    assert (row.task, row.cron, row.priority, row.queue, row.timezone) == (
        "tests.jobs.say_hello", "0 6 * * *", "high", "high", "UTC")
    assert row.schedule_text == "At 06:00 UTC" and row.description == "Rotate the api_key=*** daily"
    assert (row.pending, row.active_job_id, row.last_status, row.skipped, row.paused) == (1, run_id, "pending", 2,
                                                                                           False)
    assert row.next_run is not None and abs(row.next_run.timestamp() - (now + 3600)) < 0.01
    assert row.last_run is not None and abs(row.last_run.timestamp() - (now - 60)) < 0.01
    assert row.expires_after_s == 1800 and row.run_now_allowed
    paused = rows["sync"]
    assert (paused.paused, paused.pending, paused.interval_s, paused.schedule_text) == (True, 0, 900,
                                                                                        "Every 15 minutes")
    assert not paused.run_now_allowed and paused.run_now_reason == "runs every 15 min anyway"
    assert rows["broken"].description == "unreadable" and rows["broken"].task == "unreadable"


def test_history_is_the_newest_limit_with_masked_errors(conn: redis.Redis) -> None:
    for i in range(60):
        put_history(conn, f"job-{i:02d}", 1_000 + i)
    put_history(conn, "job-59", 1_059, state="failed", retries=2, schedule="nightly",
                error="ConnectionError: redis://app:s3cret@db:6379 refused token=abc")
    put_history(conn, "job-58", 1_058, state="exploded")
    conn.delete(keys.history_item("job-57"))

    history = DashboardReader(conn, settings(history_limit=50)).read().history

    assert [h.id for h in history][:3] == ["job-59", "job-58", "job-56"]
    assert len(history) == 49, "50 newest ids, one of them expired"
    top = history[0]
    assert (top.state, top.retries, top.schedule, top.worker, top.queue) == ("failed", 2, "nightly", "w1", "default")
    assert top.error == "ConnectionError: redis://app:***@db:6379 refused token=***"
    assert top.created_at is not None and top.created_at.timestamp() == 1_059
    assert top.started_at is not None and top.ended_at is not None and top.ended_at.timestamp() == 1_062
    assert history[1].state == "unreadable"
    assert history[2].error is None and history[2].schedule is None


def test_metrics_rows_over_24_hourly_buckets(conn: redis.Redis) -> None:
    now = records.window_hours(time.time())[-1] * 3600 + 1800.0
    for i in range(19):
        put_run(conn, "app.tasks.fast", now - 60 - i, 0.1 + i * 0.01)
    put_run(conn, "app.tasks.fast", now - 7200, 2.5, failed=True)
    put_run(conn, "app.tasks.fast", now - 30 * 3600, 99.0, failed=True)  # outside the window
    put_run(conn, "app.tasks.flaky", now - 10, 1.0, failed=True)
    put_run(conn, "app.tasks.flaky", now - 3 * 3600, 1.0)
    put_run(conn, "app.tasks.old", now - 40 * 3600, 1.0)

    rows = DashboardReader(conn, settings(now=now)).read().metrics

    assert [r.task for r in rows] == ["app.tasks.flaky", "app.tasks.fast"], "app.tasks.old last ran before the window"
    flaky, fast = rows
    assert (flaky.runs, flaky.failures, flaky.success_rate) == (2, 1, 50.0)
    assert (fast.runs, fast.failures, fast.success_rate) == (20, 1, 95.0)
    assert fast.max_s == 2.5
    assert fast.p50_s is not None and abs(fast.p50_s - 0.19) / 0.19 < 0.01
    assert fast.p95_s is not None and abs(fast.p95_s - 0.28) / 0.28 < 0.01
    assert len(fast.hourly_runs) == 24 and fast.hourly_runs[-1] == 19 and fast.hourly_runs[-3] == 1
    assert fast.hourly_failures[-3] == 1 and sum(fast.hourly_failures) == 1
    assert fast.last_run is not None and abs(fast.last_run.timestamp() - (now - 60)) < 0.01


def test_an_idle_plain_rq_worker_is_online_for_rqs_whole_heartbeat_window(conn: redis.Redis) -> None:
    now = time.time()
    plain = Worker([Queue("default", connection=conn)], connection=conn, name="plain-idle")
    plain.register_birth()
    conn.hset(keys.rq_worker("plain-idle"), "last_heartbeat", datetime.fromtimestamp(now - 300, timezone.utc)
              .strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    row = next(w for w in DashboardReader(conn, settings(now=now)).read().workers if w.name == "plain-idle")
    assert row.status == "online", "RQ's default idle beat comes every ~405 s; 5 min of quiet is healthy"
    later = next(w for w in DashboardReader(conn, settings(now=now + 300)).read().workers if w.name == "plain-idle")
    assert later.status == "offline", "past RQ's 480 s hash lifetime it is offline"
