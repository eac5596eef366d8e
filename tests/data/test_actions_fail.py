"""Fail Active Jobs against real forking workers: live jobs are stopped by their worker, dead workers' are failed."""

from __future__ import annotations

import os
import signal
import threading
import zlib
from base64 import b64decode
from collections.abc import Iterator

import pytest
import redis
from rq import Queue

from tests.jobs import started
from tests.rq_support import kill_pid, spawn_worker, stop_worker
from tests.waiting import wait_for
from tui.data import actions as actions_module
from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import audit, keys


@pytest.fixture
def workers(redis_url: str) -> Iterator[list]:
    """Worker processes started by a test; all stopped and reaped afterwards."""
    procs: list = []
    yield procs
    for proc in procs:
        stop_worker(proc)


def _states(conn: redis.Redis, job_id: str, queue: str = "default") -> tuple[str, bool, bool, bool]:
    """Status, and membership in the failed, finished and started registries."""
    wip = [m.decode().split(":")[0] for m in conn.zrange(f"rq:wip:{queue}", 0, -1)]
    return (
        (conn.hget(keys.rq_job(job_id), "status") or b"").decode(),
        conn.zscore(f"rq:failed:{queue}", job_id) is not None,
        conn.zscore(f"rq:finished:{queue}", job_id) is not None,
        job_id in wip,
    )


def test_fail_active_stops_live_job_and_spares_job_started_after_plan(
    redis_url: str, conn: redis.Redis, workers: list
) -> None:
    workers.append(spawn_worker(redis_url, "live-a", "default"))
    workers.append(spawn_worker(redis_url, "live-b", "later"))
    first = Queue("default", connection=conn).enqueue("tests.jobs.nap", 30)
    wait_for(lambda: first.id in started(conn), 10, "first job to start")
    actions = DashboardActions(conn, Settings(), who="tester@host")
    plan = actions.plan_fail_active()
    assert [(t.job_id, t.worker, t.worker_alive) for t in plan.targets] == [(first.id, "live-a", True)]

    later = Queue("later", connection=conn).enqueue("tests.jobs.nap", 1.0)
    wait_for(lambda: later.id in started(conn), 10, "later job to start")
    result = actions.fail_active(plan)

    assert result.ok and result.counts["stopped"] == 1 and result.counts["failed_dead"] == 0
    status, failed, finished, running = _states(conn, first.id)
    assert status == "stopped" and failed and not finished and not running
    wait_for(lambda: _states(conn, later.id, "later")[0] == "finished", 10, "later job to finish")
    assert _states(conn, later.id, "later") == ("finished", False, True, False)
    assert workers[0].poll() is None, "the worker itself must survive the stop"
    entry, intent = audit.read(conn)
    assert (entry.who, entry.action, entry.counts["stopped"]) == ("tester@host", "fail_active", 1)
    assert (entry.phase, entry.intent, intent.phase) == ("outcome", intent.id, "intent")


def test_fail_active_fails_dead_workers_job_and_releases_schedule(
    redis_url: str, conn: redis.Redis, workers: list
) -> None:
    proc = spawn_worker(redis_url, "doomed", "default")
    workers.append(proc)
    job_id = keys.run_id("nightly", "abc123def456")
    conn.set(keys.active("nightly"), job_id)
    conn.hset(keys.sched_state("nightly"), mapping={"last_job_id": job_id, "last_status": "running"})
    conn.hset(keys.history_item(job_id), mapping={"state": "running", "task": "tests.jobs.nap"})
    Queue("default", connection=conn).enqueue("tests.jobs.nap", 30, job_id=job_id)
    wait_for(lambda: job_id in started(conn), 10, "job to start")
    os.kill(proc.pid, signal.SIGKILL)  # the machine dies: worker and horse
    proc.wait(5)
    kill_pid(started(conn)[job_id])

    actions = DashboardActions(conn, Settings(), who="tester@host")
    plan = actions.plan_fail_active()
    assert [(t.job_id, t.worker, t.worker_alive) for t in plan.targets] == [(job_id, "doomed", False)]
    result = actions.fail_active(plan)

    assert result.counts["failed_dead"] == 1 and result.ok
    assert _states(conn, job_id) == ("failed", True, False, False)
    (_entry_id, fields), *_ = conn.xrevrange(f"rq:results:{job_id}", count=1)
    assert fields[b"worker_name"] == b"doomed"
    assert zlib.decompress(b64decode(fields[b"exc_string"])).decode().startswith("AbandonedJobError: Failed by")
    assert conn.xlen(f"rq:results:{job_id}") == 1
    assert conn.get(keys.active("nightly")) is None
    assert conn.hget(keys.sched_state("nightly"), "last_status") == b"failed"
    assert conn.hget(keys.history_item(job_id), "state") == b"failed"


def test_fail_active_leaves_jobs_that_ended_since_the_plan(
    redis_url: str, conn: redis.Redis, workers: list
) -> None:
    workers.append(spawn_worker(redis_url, "brief", "default"))
    job = Queue("default", connection=conn).enqueue("tests.jobs.nap", 1.5)
    wait_for(lambda: job.id in started(conn), 10, "job to start")
    actions = DashboardActions(conn, Settings())
    plan = actions.plan_fail_active()
    assert plan.total == 1
    wait_for(lambda: _states(conn, job.id)[0] == "finished", 10, "job to finish")
    result = actions.fail_active(plan)
    assert result.counts["already_ended"] == 1 and result.counts["stopped"] == 0
    assert _states(conn, job.id) == ("finished", False, True, False)


def test_fail_active_does_not_count_a_job_that_finished_normally_as_stopped(
    redis_url: str, conn: redis.Redis, workers: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14.15: the stop reaches a frozen worker whose horse finishes the job; that job was counted stopped."""
    monkeypatch.setattr(actions_module, "STOP_CONFIRM_S", 15.0)  # room for the horse on a loaded machine
    proc = spawn_worker(redis_url, "sleepy", "default")
    workers.append(proc)
    job = Queue("default", connection=conn).enqueue("tests.jobs.nap", 1.0)
    wait_for(lambda: job.id in started(conn), 10, "job to start")
    os.kill(proc.pid, signal.SIGSTOP)  # the stop waits in its pub/sub buffer while the horse finishes
    try:
        actions = DashboardActions(conn, Settings())
        result = actions.fail_active(actions.plan_fail_active())
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    assert _states(conn, job.id) == ("finished", False, True, False)
    assert result.counts["stopped"] == 0 and result.counts["ended_otherwise"] == 1, result.counts
    assert "1 ended on their own" in result.message


def test_two_concurrent_fail_active_runs_count_each_stop_once(
    redis_url: str, conn: redis.Redis, workers: list
) -> None:
    """Issue 14.15: two operators confirming the same plan at once each counted the one stop."""
    workers.append(spawn_worker(redis_url, "shared", "default"))
    job = Queue("default", connection=conn).enqueue("tests.jobs.nap", 30)
    wait_for(lambda: job.id in started(conn), 10, "job to start")
    plan = DashboardActions(conn, Settings()).plan_fail_active()
    gate = threading.Barrier(2)
    results: list = []

    def operator(who: str) -> None:
        client = redis.Redis.from_url(redis_url)
        try:
            gate.wait(5)
            results.append(DashboardActions(client, Settings(), who=who).fail_active(plan))
        finally:
            client.close()

    threads = [threading.Thread(target=operator, args=(f"op{index}@host",)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert len(results) == 2
    assert sum(result.counts["stopped"] for result in results) == 1, [result.counts for result in results]
    assert sorted(result.counts.get("claimed_elsewhere", 0) for result in results) == [0, 1]
    assert _states(conn, job.id)[:3] == ("stopped", True, False)
