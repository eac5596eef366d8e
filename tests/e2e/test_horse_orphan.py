"""``kill -9`` of a worker's process group: its horse (in a group of its own) dies too, and history says so (14.14)."""

from __future__ import annotations

import os
import signal

import redis

from tests import jobs
from tests.e2e.procs import WorkerPool, start_holding
from tests.waiting import wait_for
from worker import keys
from worker.liveness import pid_alive


def test_killing_the_workers_group_ends_its_horse_and_the_heir_records_it(conn: redis.Redis, pool: WorkerPool) -> None:
    worker, job_id = start_holding(pool, conn, "group-kill")
    horse = jobs.starts(conn)[job_id][0][0]
    assert os.getpgid(horse) != worker.pid, "RQ's horse runs in a process group of its own"
    os.killpg(worker.pid, signal.SIGKILL)
    worker.process.wait(timeout=5)
    wait_for(lambda: not pid_alive(horse), 5, "the horse to die with its worker")
    heir = pool.rqtop("group-heir")
    wait_for(lambda: conn.hget(keys.history_item(job_id), "state") == b"failed", 20, heir.log)
    assert conn.hget(keys.rq_job(job_id), "status") == b"failed"
    assert conn.hget(keys.worker(worker.name), "current_job_id") in (None, b"")
