"""Random ``kill -9`` of a real forking rqtop worker, restart, drain: every job ends in exactly one state (issue 14.2).

A kill can land anywhere: between the dequeue and the horse's start (the id in the intermediate list, or a wip
entry still ``queued``), mid-job, mid-bookkeeping. The next worker on the host recovers all of it at start-up.
"""

from __future__ import annotations

import random
import time

import redis
from rq import Queue

from tests import jobs
from tests.e2e.procs import WorkerPool
from tests.e2e.states import placements
from tests.waiting import wait_for
from worker import keys

JOBS = 150
KILLS = 8
HISTORY_OF = {"finished": "completed", "failed": "failed"}
"""The rqtop history state that agrees with each RQ end status."""


def test_random_kills_lose_nothing_and_history_matches_rq(conn: redis.Redis, pool: WorkerPool) -> None:
    rng = random.Random(14_2)
    queue = Queue("default", connection=conn)
    ids = [queue.enqueue(jobs.sleep_then, rng.choice((0.0, 0.005, 0.02)), result_ttl=600).id for _ in range(JOBS)]
    deadline = time.monotonic() + 45
    kills = 0
    worker = pool.rqtop("kill-loop")
    while kills < KILLS and time.monotonic() < deadline:
        wait_for(lambda w=worker: conn.exists(keys.rq_worker(w.name)), 20, f"{worker.name} to register")
        time.sleep(rng.uniform(0.05, 0.6))
        worker.kill_hard()
        kills += 1
        worker = pool.rqtop("kill-loop")
    assert kills == KILLS, "the kill loop ran out of time"

    def drained() -> bool:
        return all(p.settled and p.status in HISTORY_OF for p in placements(conn, [(i, "default") for i in ids]))

    wait_for(drained, 45, "every job to end", interval=0.25)
    found = placements(conn, [(job_id, "default") for job_id in ids])
    assert len(found) == JOBS and all(p.settled for p in found), [p for p in found if not p.settled][:5]
    mismatched = [p for p in found if p.history != HISTORY_OF[p.status]]
    assert not mismatched, mismatched[:5]
    assert conn.llen(keys.rq_intermediate("default")) == 0
    assert conn.zcard(keys.rq_registry("wip", "default")) == 0
    assert sum(p.status == "finished" for p in found) >= JOBS - KILLS, "at most one job is failed per kill"
