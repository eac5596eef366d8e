"""Ground truth: a state built with a real plain ``rq worker`` (its jobs recorded by ``rqtop collect``), a backlog,
an abandoned job and an rq-scheduler cron job, scraped from a real ``rqtop exporter`` over loopback HTTP as a
read-only ACL user, every value checked against what Redis and the jobs themselves say."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import redis
from rq import Queue
from rq_scheduler import Scheduler

from tests import jobs
from tests.cli_support import rqtop
from tests.exporter.support import names, running_exporter, scrape, value
from tests.rq_support import plant_running, spawn_worker, stop_worker
from tests.waiting import wait_for
from worker import keys

ENDED = (b"finished", b"failed")


def epoch(raw: Any) -> float:
    """An RQ ISO timestamp of a job hash as epoch seconds."""
    return datetime.fromisoformat(raw.decode().replace("Z", "+00:00")).timestamp()


def test_every_exported_value_matches_the_state_redis_holds(conn: redis.Redis, redis_url: str,
                                                             read_only_url: str) -> None:
    """rq-exporter's metrics (every rq_jobs status), queue latency and abandoned, per-task counters and
    histogram, a schedule's next run."""
    gt = Queue("gt", connection=conn)
    ran = [gt.enqueue(jobs.ok, 1) for _ in range(3)] + [gt.enqueue(jobs.boom) for _ in range(2)]
    ran += [gt.enqueue(jobs.sleep_for, 0.3) for _ in range(2)]
    worker = spawn_worker(redis_url, "plain-gt", "gt")
    try:
        wait_for(lambda: all(conn.hget(keys.rq_job(j.id), "status") in ENDED for j in ran), 30, "seven jobs to end")
        wait_for(lambda: conn.hget(keys.rq_worker("plain-gt"), "state") == b"idle"
                 and int(conn.hget(keys.rq_worker("plain-gt"), "successful_job_count") or 0) == 5, 15, "worker idle")
        backlog = Queue("backlog", connection=conn)
        waiting = [backlog.enqueue(jobs.ok) for _ in range(2)]
        backlog.enqueue(jobs.ok, depends_on=waiting[0])  # deferred behind a job that has not run
        backlog.enqueue_in(timedelta(hours=1), jobs.ok)  # scheduled
        backlog.enqueue(jobs.ok).cancel()  # canceled: out of the queue, into RQ's canceled registry
        plant_running(conn, "ghost-worker", queue="stale")
        (member,) = conn.zrange("rq:wip:stale", 0, -1)
        conn.zadd("rq:wip:stale", {member: time.time() - 120})  # past its deadline, its worker never existed
        cron = Scheduler(connection=conn).cron("*/5 * * * *", func=jobs.ok, queue_name="cron")
        conn.zadd(keys.RQ_SCHEDULED_JOBS, {cron.id: time.time() - 600})  # missed: no rqscheduler runs
        collected = rqtop("collect", "--once", url=redis_url)
        assert collected.returncode == 0, collected.stderr

        with running_exporter(read_only_url, "--min-interval", "0.5") as port:
            s = scrape(port)
        worker_hash = conn.hgetall(keys.rq_worker("plain-gt"))
    finally:
        stop_worker(worker)

    assert value(s, "rqtop_up") == 1
    assert 0 < value(s, "rqtop_read_round_trips") <= 3 and value(s, "rqtop_read_commands") > 0
    read_at = value(s, "rqtop_last_read_timestamp_seconds")
    assert abs(read_at - time.time()) < 60

    # rq-exporter's metrics, its names and labels
    assert value(s, "rq_workers", name="plain-gt", state="idle", queues="gt") == 1
    assert value(s, "rq_workers_success_total", name="plain-gt", queues="gt") == 5
    assert value(s, "rq_workers_failed_total", name="plain-gt", queues="gt") == 2
    assert value(s, "rq_workers_working_time_total", name="plain-gt", queues="gt") == float(
        worker_hash[b"total_working_time"])
    assert {k: value(s, "rq_jobs", queue="gt", status=k) for k in ("queued", "started", "finished", "failed")} == {
        "queued": 0, "started": 0, "finished": 5, "failed": 2}
    assert {k: value(s, "rq_jobs", queue="backlog", status=k) for k in (
        "queued", "deferred", "scheduled", "canceled", "finished")} == {
        "queued": 2, "deferred": 1, "scheduled": 1, "canceled": 1, "finished": 0}
    assert value(s, "rq_jobs", queue="stale", status="started") == 0

    # rqtop's queue metrics
    oldest = epoch(conn.hget(keys.rq_job(waiting[0].id), "enqueued_at"))
    assert abs(value(s, "rqtop_queue_oldest_pending_age_seconds", queue="backlog") - (read_at - oldest)) < 1.0
    assert value(s, "rqtop_queue_oldest_pending_age_seconds", queue="gt") == 0
    assert value(s, "rqtop_queue_abandoned_jobs", queue="stale") == 1
    assert value(s, "rqtop_queue_abandoned_jobs", queue="gt") == 0
    assert value(s, "rqtop_queue_workers", queue="gt") == 1 and value(s, "rqtop_queue_workers", queue="backlog") == 0

    # per-task metrics from rqtop's hourly aggregates (written by `rqtop collect` from the plain worker's runs)
    assert value(s, "rqtop_metrics_from_rqtop") == 1
    expected = {"tests.jobs.ok": (3, 0), "tests.jobs.boom": (2, 2), "tests.jobs.sleep_for": (2, 0)}
    for task, (runs, failures) in expected.items():
        assert (value(s, "rqtop_task_runs_24h", task=task), value(s, "rqtop_task_failures_24h", task=task)) == (
            runs, failures), task
        assert (value(s, "rqtop_task_runs_total", task=task), value(s, "rqtop_task_failures_total", task=task)) == (
            runs, failures), task
        assert value(s, "rqtop_task_duration_seconds_bucket", task=task, le="+Inf") == runs, task
        assert value(s, "rqtop_task_canceled_total", task=task) == value(s, "rqtop_task_canceled_24h", task=task) == 0
        ends = [epoch(conn.hget(keys.rq_job(j.id), "ended_at")) for j in ran if j.func_name == task]
        assert abs(value(s, "rqtop_task_last_run_timestamp_seconds", task=task) - max(ends)) < 1.0, task
    assert value(s, "rqtop_task_duration_seconds_bucket", task="tests.jobs.sleep_for", le="0.1") == 0
    assert value(s, "rqtop_task_duration_seconds_bucket", task="tests.jobs.sleep_for", le="0.5") == 2
    assert value(s, "rqtop_task_duration_seconds_bucket", task="tests.jobs.ok", le="0.1") == 3
    assert 0.55 < value(s, "rqtop_task_duration_seconds_gsum", task="tests.jobs.sleep_for") < 1.0

    # the rq-scheduler cron job: its next run is the score rq-scheduler keeps, 10 min overdue: no scheduler alive
    (schedule,) = [dict(labels) for name, labels in s if name == "rqtop_schedule_next_run_timestamp_seconds"
                   and dict(labels)["source"] == "rq-scheduler"]
    next_run = conn.zscore(keys.RQ_SCHEDULED_JOBS, cron.id)
    assert next_run is not None
    assert abs(value(s, "rqtop_schedule_next_run_timestamp_seconds", **schedule) - next_run) < 1e-3  # datetime: µs
    assert value(s, "rqtop_scheduler_up", source="rq-scheduler", name=keys.RQ_SCHEDULED_JOBS) == 0
    assert {"rq_request_processing_seconds_count", "rqtop_suspended", "rqtop_reads_total"} <= names(s)


def test_collector_liveness_follows_its_heartbeat(conn: redis.Redis, redis_url: str) -> None:
    """No collector: rqtop_collector_up 0; one pass of `rqtop collect --interval`: 1 and its last-seen time."""
    import threading

    from worker.collector import run_collector

    with running_exporter(redis_url, "--min-interval", "0.2") as port:
        before = scrape(port)
        assert value(before, "rqtop_collector_up") == 0
        assert "rqtop_collector_last_seen_timestamp_seconds" not in names(before)
        stop = threading.Event()
        thread = threading.Thread(target=run_collector, args=(conn, 0.2, stop), daemon=True)
        thread.start()
        try:
            wait_for(lambda: conn.exists(keys.COLLECT_HEARTBEAT), 5, "the first heartbeat")
            time.sleep(0.3)  # past the exporter's min interval: the next scrape reads again
            after = scrape(port)
        finally:
            stop.set()
            thread.join(5)
        assert value(after, "rqtop_collector_up") == 1
        seen = value(after, "rqtop_collector_last_seen_timestamp_seconds")
        assert abs(seen - float(conn.hget(keys.COLLECT_HEARTBEAT, "at"))) < 1.0
