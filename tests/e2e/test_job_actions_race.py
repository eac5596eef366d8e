"""Job actions racing a busy forking worker and a producer: afterwards every job id is in exactly one state,
nothing canceled or dismissed ever runs, and the audit outcome names exactly the ids that changed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from rq import Queue

from tests import jobs
from tests.e2e.procs import WorkerPool, WorkerProcess, start_holding
from tests.e2e.states import placements
from tests.waiting import wait_for
from tui.data import actions as actions_module
from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import audit, keys


@contextmanager
def producing(url: str, queue: str = "default", every_s: float = 0.005) -> Iterator[list[str]]:
    """A producer enqueueing short jobs until the block ends; the ids it enqueued."""
    ids: list[str] = []
    stop = threading.Event()
    client = redis.Redis.from_url(url)

    def produce() -> None:
        target = Queue(queue, connection=client)
        while not stop.is_set():
            ids.append(target.enqueue(jobs.nap, 0.01).id)
            time.sleep(every_s)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    try:
        yield ids
    finally:
        stop.set()
        thread.join(5)
        client.close()


def _idle(conn: redis.Redis, worker: WorkerProcess, queue: str = "default") -> None:
    """Wait until the worker drained the queue and runs nothing."""
    wait_for(lambda: conn.llen(keys.rq_queue(queue)) == 0 and conn.zcard(keys.rq_registry("wip", queue)) == 0
             and conn.llen(keys.rq_intermediate(queue)) == 0, 60, "the worker to drain the queue")
    assert worker.alive(), worker.log()[-1500:]


def _outcome(conn: redis.Redis) -> audit.AuditEntry:
    """The newest audit entry, asserted to be an outcome."""
    entry = audit.read(conn, 1)[0]
    assert entry.phase == "outcome", entry
    return entry


def _named(entry: audit.AuditEntry) -> set[str]:
    """The ids an audit target names."""
    ids = entry.target.split(": ", 1)[1]
    return set() if ids == "" else set(ids.split(", "))


@pytest.mark.parametrize("action", ["cancel", "dismiss", "dead_letter"])
def test_pending_actions_race_a_busy_worker_and_a_producer(conn: redis.Redis, redis_url: str, pool: WorkerPool,
                                                           action: str) -> None:
    worker = pool.rqtop("triage")
    wait_for(lambda: conn.exists(keys.worker(worker.name)), 15, "the worker to register")
    queue = Queue("default", connection=conn)
    seeded = [job.id for job in queue.enqueue_many([Queue.prepare_data(jobs.nap, (0.01,)) for _ in range(90)])]
    actions = DashboardActions(conn, Settings(), who="e2e@race")
    with producing(redis_url) as made:
        wait_for(lambda: jobs.starts(conn), 15, "the worker to start on the queue")
        plan = actions.plan_queue_job_action(action, "default", "queued", reason="race test")
        result = actions.job_action(plan)
    _idle(conn, worker)
    planned = {job.job_id for job in plan.jobs}
    assert planned and result.counts["done"] + result.counts["changed"] + result.counts["missing"] == len(planned)
    ran = set(jobs.starts(conn))
    target = {"cancel": "canceled", "dead_letter": "failed", "dismiss": ""}[action]
    acted = {job_id for job_id in planned if (conn.hget(keys.rq_job(job_id), "status") or b"").decode() == target
             and job_id not in ran}
    assert len(acted) == result.counts["done"] > 0
    assert not acted & ran, "a canceled, dismissed or dead-lettered job ran"
    assert _named(_outcome(conn)) == acted or len(acted) > actions_module.job_actions.AUDIT_IDS
    everyone = [(job_id, "default") for job_id in [*seeded, *made]]
    for place in placements(conn, everyone):
        if action == "dismiss" and place.job_id in acted:
            assert place.homes == () and place.status == "", place
        else:
            assert place.settled, place
            assert place.starts == (0 if place.job_id in acted else 1), place


def test_rerun_of_failed_jobs_races_a_busy_worker_and_a_producer(conn: redis.Redis, redis_url: str,
                                                                 pool: WorkerPool) -> None:
    worker = pool.rqtop("rerun")
    wait_for(lambda: conn.exists(keys.worker(worker.name)), 15, "the worker to register")
    queue = Queue("default", connection=conn)
    failed = [queue.enqueue(jobs.recorded_boom).id for _ in range(30)]
    wait_for(lambda: conn.zcard(keys.rq_registry("failed", "default")) == 30, 30, "30 failed jobs")
    actions = DashboardActions(conn, Settings(), who="e2e@race")
    with producing(redis_url) as made:
        plan = actions.plan_queue_job_action("rerun", "default", "failed")
        result = actions.job_action(plan)
    _idle(conn, worker)
    assert result.counts["done"] == 30 and _named(_outcome(conn)) == set(failed)
    runs = jobs.starts(conn)
    assert all(len(runs[job_id]) == 2 for job_id in failed), "each re-run job ran exactly once more"
    for place in placements(conn, [(job_id, "default") for job_id in [*failed, *made]]):
        assert place.settled, place


@pytest.mark.parametrize("kind", ["rqtop", "plain_rq"])
def test_stop_a_running_job(conn: redis.Redis, pool: WorkerPool, kind: str) -> None:
    if kind == "rqtop":
        worker, job_id = start_holding(pool, conn, "stop")
    else:
        worker = pool.plain_rq("stop-plain")
        job_id = Queue("default", connection=conn).enqueue(jobs.hold, "e2e:never").id
        wait_for(lambda: conn.hget(keys.rq_job(job_id), "status") == b"started", 15, "the job to start")
    other = Queue("default", connection=conn).enqueue(jobs.nap, 0.01).id
    actions = DashboardActions(conn, Settings(), who="e2e@stop")
    plan = actions.plan_job_action("stop", [job_id, other])
    assert [job.job_id for job in plan.jobs] == [job_id] and dict(plan.skipped) == {other: "queued"}
    result = actions.job_action(plan)
    assert result.counts["stopped"] == 1, result
    _idle(conn, worker)
    assert conn.hget(keys.rq_job(job_id), "status") == b"stopped"
    assert [p.homes for p in placements(conn, [(job_id, "default")])] == [("failed",)]
    assert conn.hget(keys.rq_job(other), "status") == b"finished"


def test_retry_now_and_dead_letter_on_scheduled_retries(conn: redis.Redis, pool: WorkerPool) -> None:
    worker = pool.rqtop("retry")
    wait_for(lambda: conn.exists(keys.worker(worker.name)), 15, "the worker to register")
    queue = Queue("default", connection=conn)
    from rq import Retry
    ids = [queue.enqueue(jobs.recorded_boom, retry=Retry(max=3, interval=3600)).id for _ in range(4)]
    wait_for(lambda: conn.zcard(keys.rq_registry("scheduled", "default")) == 4, 30, "4 scheduled retries")
    actions = DashboardActions(conn, Settings(), who="e2e@retry")
    now_ids, dead_ids = ids[:2], ids[2:]
    actions.job_action(actions.plan_job_action("retry_now", now_ids))
    actions.job_action(actions.plan_job_action("dead_letter", dead_ids, reason="broken upstream"))
    wait_for(lambda: conn.zcard(keys.rq_registry("scheduled", "default")) == 2
             and all(len(jobs.starts(conn)[job_id]) == 2 for job_id in now_ids), 30, "the retried jobs to run")
    _idle(conn, worker)
    for job_id in now_ids:  # ran again and its budget went on as RQ counts it: scheduled for its next retry
        assert conn.hget(keys.rq_job(job_id), "retries_left") == b"1"
    for place in placements(conn, [(job_id, "default") for job_id in dead_ids]):
        assert place.status == "failed" and place.homes == ("failed",) and place.starts == 1, place



@pytest.mark.parametrize("action", ["dead_letter", "dismiss", "cancel"])
def test_a_deferred_job_acted_on_never_runs_when_its_parent_finishes(conn: redis.Redis, pool: WorkerPool,
                                                                     action: str) -> None:
    queue = Queue("default", connection=conn)
    parent = queue.enqueue(jobs.recorded_ok, 1)
    child = queue.enqueue(jobs.recorded_ok, 2, depends_on=parent)
    kept = queue.enqueue(jobs.recorded_ok, 3, depends_on=parent)
    assert conn.hget(keys.rq_job(child.id), "status") == b"deferred"
    actions = DashboardActions(conn, Settings(), who="e2e@deferred")
    assert actions.job_action(actions.plan_job_action(action, [child.id], reason="x")).counts["done"] == 1
    worker = pool.rqtop("deferred")
    wait_for(lambda: kept.id in jobs.starts(conn), 30, "the parent and the kept dependent to run")
    _idle(conn, worker)
    assert child.id not in jobs.starts(conn), f"a {action} deferred job ran when its parent finished"
    status = {"dead_letter": b"failed", "cancel": b"canceled", "dismiss": None}[action]
    assert conn.hget(keys.rq_job(child.id), "status") == status
