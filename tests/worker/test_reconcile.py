"""History and Now running follow RQ's state after crashes: the janitor reconciles them (issue 14.14)."""

from __future__ import annotations

import time

import redis
from rq import Queue, SimpleWorker

from tests.jobs import ok
from tests.rq_support import plant_running
from worker import janitor, keys


def _pass(conn: redis.Redis) -> dict[str, int]:
    settings = janitor.JanitorSettings()
    now = time.time()
    return janitor.execute(conn, janitor.plan(conn, settings, now), settings, now)


def _left_running(conn: redis.Redis, job_id: str, worker: str) -> None:
    """rqtop's history row and worker record as a worker leaves them when it dies mid-job."""
    conn.hset(keys.history_item(job_id), mapping={"task": "tests.jobs.ok", "queue": "default", "state": "running",
                                                  "started_at": f"{time.time() - 5:.6f}", "worker": worker})
    conn.zadd(keys.HISTORY, {job_id: time.time() - 5})
    conn.hset(keys.worker(worker), mapping={"name": worker, "current_job_id": job_id, "current_task": "t"})


def test_a_job_rq_ended_elsewhere_is_no_longer_running_in_history(conn: redis.Redis) -> None:
    """The worker died after the horse finished (or RQ's maintenance on another host failed the job)."""
    queue = Queue("default", connection=conn)
    done, failed = queue.enqueue(ok, 1), queue.enqueue("tests.jobs.boom")
    SimpleWorker([queue], connection=conn).work(burst=True)
    _left_running(conn, done.id, "dead-a")
    _left_running(conn, failed.id, "dead-b")
    counts = _pass(conn)
    assert counts["reconcile_history"] == 2
    assert conn.hget(keys.history_item(done.id), "state") == b"completed"
    assert conn.hget(keys.history_item(failed.id), "state") == b"failed"
    assert conn.hget(keys.worker("dead-a"), "current_job_id") == b"", "an offline worker keeps no Now running"
    assert _pass(conn)["reconcile_history"] == 0, "a second pass changes nothing"


def test_a_live_workers_row_is_left_to_it(conn: redis.Redis) -> None:
    job_id, _ = plant_running(conn, "live-w")
    conn.hset(keys.rq_worker("live-w"), mapping={"last_heartbeat": "2999-01-01T00:00:00Z", "hostname": "far"})
    conn.hset(keys.rq_job(job_id), "status", "queued")  # marked running a moment before RQ says started
    _left_running(conn, job_id, "live-w")
    assert _pass(conn)["reconcile_history"] == 0
    assert conn.hget(keys.history_item(job_id), "state") == b"running"


def test_a_dead_remote_workers_job_is_failed_at_the_next_pass(conn: redis.Redis) -> None:
    """Its worker's hash expired and the heartbeat deadline passed: failed now, not after RQ's 10 minutes."""
    job_id, execution_id = plant_running(conn, "remote-dead", started_at=time.time() - 30)
    conn.zadd("rq:wip:default", {f"{job_id}:{execution_id}": time.time() - 1})
    _left_running(conn, job_id, "remote-dead")
    counts = _pass(conn)
    assert counts["fail_abandoned"] == 1 and counts["fail_stuck_active"] == 0
    assert conn.hget(keys.rq_job(job_id), "status") == b"failed"
    history = conn.hgetall(keys.history_item(job_id))
    assert history[b"state"] == b"failed" and janitor.ABANDONED_REASON.encode() in history[b"error"]
    assert conn.hget(keys.worker("remote-dead"), "current_job_id") == b""
