"""Fail Active against a worker that starts a new job every few milliseconds: the worker itself must survive."""

from __future__ import annotations

import time

import redis
from rq import Queue

from tests import jobs
from tests.e2e.procs import WorkerPool
from tests.e2e.states import placements
from tests.waiting import wait_for
from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import keys

HAMMER_S = 5.0


def test_fail_active_on_a_fast_worker_never_kills_the_worker(conn: redis.Redis, pool: WorkerPool) -> None:
    """Stops landing around the fork or the horse's exit neither kill the worker nor leave a job in two states."""
    worker = pool.rqtop("fast")
    wait_for(lambda: conn.exists(keys.worker(worker.name)), 15, "the worker to register")
    queue = Queue("default", connection=conn)
    ids = [job.id for job in queue.enqueue_many([Queue.prepare_data(jobs.recorded_ok) for _ in range(2000)])]
    actions = DashboardActions(conn, Settings(), who="e2e@race")
    rounds = stopped = 0
    deadline = time.monotonic() + HAMMER_S
    while time.monotonic() < deadline and worker.alive() and conn.llen(keys.rq_queue("default")):
        plan = actions.plan_fail_active()
        if plan.targets:
            result = actions.fail_active(plan)
            rounds += 1
            stopped += result.counts["stopped"]
    assert worker.alive(), f"Fail Active killed the worker itself after {rounds} rounds:\n{worker.log()[-1500:]}"
    assert rounds >= 5 and stopped > 0, (rounds, stopped)

    actions.cancel_pending(actions.plan_cancel_pending())
    intermediate = keys.rq_queue("default") + ":intermediate"

    def idle() -> bool:  # a job just moved into the intermediate list is not yet in wip: wait out both
        return (conn.zcard("rq:wip:default") == 0 and conn.llen(intermediate) == 0
                and conn.hget(keys.worker(worker.name), "current_job_id") == b"")

    wait_for(idle, 5, "the last job to end and no stopped id left in RQ's intermediate list")
    jobs_now = placements(conn, [(job_id, "default") for job_id in ids])
    unsettled = [job for job in jobs_now if not job.settled]
    assert not unsettled, f"{len(unsettled)} job(s) not in exactly one state, e.g. {unsettled[:3]}"
    statuses = [job.status for job in jobs_now]
    assert set(statuses) <= {"finished", "stopped", "canceled"}, set(statuses)
    ran = sum(1 for status in statuses if status != "canceled")
    record = conn.hgetall(keys.worker(worker.name))
    assert int(record[b"processed"]) == ran and int(record[b"failed"]) == statuses.count("stopped")
    assert worker.terminate() == 0
