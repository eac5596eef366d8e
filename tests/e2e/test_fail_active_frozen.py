"""Fail Active against a frozen (SIGSTOPped) forking worker: its job ends in exactly one state, whatever comes next."""

from __future__ import annotations

import os
import signal

import pytest
import redis
from rq import Queue

from tests.e2e.procs import WorkerPool
from tests.e2e.states import placements
from tests.jobs import started
from tests.waiting import wait_for
from tui.data import actions as actions_module
from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import keys


def test_fail_active_on_a_frozen_worker_leaves_its_job_in_one_state(
    conn: redis.Redis, pool: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14.13: the worker is frozen past its RQ hash's TTL (the expiry is compressed by deleting the hash);
    its horse runs on. Judged dead by the hash's absence, the job used to be failed and then finished as well."""
    monkeypatch.setattr(actions_module, "STOP_CONFIRM_S", 1.0)
    worker = pool.rqtop("frozen")
    wait_for(lambda: conn.exists(keys.worker(worker.name)), 15, "the worker to register")
    job = Queue("default", connection=conn).enqueue("tests.jobs.nap", 4)
    wait_for(lambda: job.id in started(conn), 10, "the job to start")
    os.kill(worker.pid, signal.SIGSTOP)  # the worker only: its horse (own process group) keeps running the job
    try:
        conn.delete(keys.rq_worker(worker.name))
        actions = DashboardActions(conn, Settings(), who="tester@host")
        plan = actions.plan_fail_active()
        assert [(t.job_id, t.worker_alive) for t in plan.targets] == [(job.id, True)], "a frozen worker is alive"
        result = actions.fail_active(plan)
        assert result.counts["failed_dead"] == 0 and result.counts["stop_unconfirmed"] == 1, result.counts
    finally:
        os.kill(worker.pid, signal.SIGCONT)

    wait_for(lambda: not conn.zcard("rq:wip:default") and job.get_status(refresh=True) in ("finished", "stopped"),
             15, "the job to end")
    wait_for(lambda: conn.hget(keys.worker(worker.name), "current_job_id") == b"", 5, "the worker to be idle")
    assert worker.alive()
    (placement,) = placements(conn, [(job.id, "default")])
    assert placement.settled, placement
    in_failed = conn.zscore("rq:failed:default", job.id) is not None
    in_finished = conn.zscore("rq:finished:default", job.id) is not None
    assert in_failed != in_finished, placement
