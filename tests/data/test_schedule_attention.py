"""Attention on the schedule rows, on real Redis with real RQ workers: "Running now" with its elapsed time while a
run executes (a forking worker process), "Needs attention" while runs of the schedule sit in RQ's failed
registry, cleared once each is re-run (requeued) or dismissed (deleted)."""

from __future__ import annotations

import time

import redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import FailedJobRegistry

from tests import jobs
from tests.data.reader_support import settings
from tests.rq_support import spawn_worker, stop_worker
from tests.waiting import wait_for
from tui.data.reader import DashboardReader
from worker import keys
from worker.schedules import ScheduleEntry


def nightly(reader: DashboardReader) -> object:
    """The 'nightly' schedule row of a fresh snapshot."""
    return next(row for row in reader.read(include_metrics=False).schedules if row.name == "nightly")


def test_needs_attention_counts_unresolved_failed_runs_until_re_run_or_dismissed(conn: redis.Redis) -> None:
    entry = ScheduleEntry(name="nightly", task="tests.jobs.boom", cron="0 6 * * *", priority="low")
    conn.hset(keys.SCHEDULES, "nightly", entry.to_json())
    queue = Queue(entry.queue, connection=conn)
    runs = [queue.enqueue(jobs.boom, f"run {i}", job_id=f"{keys.SCHEDULE_RUN_PREFIX}nightly--{i:04x}").id
            for i in range(2)]
    queue.enqueue(jobs.boom, "not a schedule run")
    SimpleWorker([queue], connection=conn).work(burst=True)
    reader = DashboardReader(conn, settings(now=time.time()))
    row = nightly(reader)
    assert row.failures == 2 and row.needs_attention and row.latest_failure in runs  # type: ignore[attr-defined]
    assert not row.running  # type: ignore[attr-defined]
    FailedJobRegistry(queue.name, connection=conn).requeue(runs[0])  # re-run: out of the failed registry
    row = nightly(reader)
    assert row.failures == 1 and row.latest_failure == runs[1]  # type: ignore[attr-defined]
    Job.fetch(runs[1], connection=conn).delete()  # dismissed
    row = nightly(reader)
    assert row.failures == 0 and not row.needs_attention and row.latest_failure is None  # type: ignore[attr-defined]


def test_running_now_with_its_elapsed_time_from_a_real_worker(conn: redis.Redis, redis_url: str) -> None:
    entry = ScheduleEntry(name="nightly", task="tests.jobs.hold", interval=3600)
    conn.hset(keys.SCHEDULES, "nightly", entry.to_json())
    run = Queue(entry.queue, connection=conn).enqueue(jobs.hold, "release-nightly",
                                                      job_id=f"{keys.SCHEDULE_RUN_PREFIX}nightly--beef")
    conn.set(keys.active("nightly"), run.id)
    reader = DashboardReader(conn, settings(now=time.time()))
    row = nightly(reader)
    assert row.pending == 1 and not row.running and row.running_since is None  # type: ignore[attr-defined]
    worker = spawn_worker(redis_url, "attention-w", entry.queue)
    try:
        wait_for(lambda: Job.fetch(run.id, connection=conn).get_status() == "started", 15.0, "the run to start")
        row = nightly(reader)
        assert row.running and row.pending == 0 and row.running_since is not None  # type: ignore[attr-defined]
        assert abs(row.running_since.timestamp() - time.time()) < 30  # type: ignore[attr-defined]
        assert not row.needs_attention  # type: ignore[attr-defined]
    finally:
        conn.set("release-nightly", 1)
        stop_worker(worker)
