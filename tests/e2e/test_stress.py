"""Two busy forking workers, a producer and an operator hammering Fail Active, Cancel All Pending and the janitor."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
import redis
from rq import Queue

from tests import jobs
from tests.e2e.procs import WorkerPool
from tests.e2e.states import placements
from tests.waiting import wait_for
from tui.data.actions import DashboardActions
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from worker import keys
from worker.janitor import JanitorSettings

QUEUES = ("default", "low")
RUN_S = 7.0
"""How long the producer and the operator run together (the whole test stays under 25 s by its deadlines)."""

HISTORY_STATE = {"finished": "completed", "failed": "failed", "stopped": "failed"}


def _guarded(body: Callable[[], None], errors: list[BaseException]) -> Callable[[], None]:
    """Run ``body`` and keep any exception for the test to raise."""

    def run() -> None:
        try:
            body()
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    return run


@pytest.mark.timeout(60)
def test_every_job_ends_in_exactly_one_state_under_operator_chaos(
    conn: redis.Redis, redis_url: str, pool: WorkerPool
) -> None:
    """Producer + 2 forking workers + repeated Fail Active / Cancel All Pending / janitor: one state per job."""
    # one single-queue worker (RQ moves ids through rq:queue:<q>:intermediate) and one on both queues (BLPOP)
    workers = [pool.rqtop("stress-a", QUEUES[0]), pool.rqtop("stress-b", ",".join(QUEUES))]
    wait_for(lambda: all(conn.exists(keys.worker(w.name)) for w in workers), 15, "both workers to register")
    enqueued: list[tuple[str, str]] = []
    tallies: Counter[str] = Counter()
    errors: list[BaseException] = []
    stop_producer, stop_operator = threading.Event(), threading.Event()

    def produce() -> None:
        client = redis.Redis.from_url(redis_url)
        queues = [Queue(name, connection=client) for name in QUEUES]
        n = 0
        while not stop_producer.is_set():
            queue = queues[n % len(queues)]
            kind = n % 10
            job = (queue.enqueue(jobs.nap, 0.02) if kind < 6 else queue.enqueue(jobs.recorded_boom) if kind < 8
                   else queue.enqueue(jobs.nap, 0.5))
            enqueued.append((job.id, queue.name))
            n += 1
            time.sleep(0.01)
        client.close()

    def operate() -> None:
        client = redis.Redis.from_url(redis_url)
        actions = DashboardActions(client, Settings(), who="e2e@chaos",
                                   janitor_settings=JanitorSettings(pending_older_than_s=0.3, stuck_active_after_s=5))
        while not stop_operator.wait(0.15):
            failed = actions.fail_active(actions.plan_fail_active())
            tallies["stopped"] += failed.counts["stopped"] + failed.counts["stop_unconfirmed"]
            tallies["failed_dead"] += failed.counts["failed_dead"]
            tallies["not_delivered"] += failed.counts["not_delivered"]
            tallies["janitor_canceled"] += actions.run_janitor(actions.plan_janitor()).counts["cancel_old_pending"]
            if tallies["rounds"] % 2:  # every other round, so the janitor also finds jobs pending over 0.3 s
                tallies["canceled"] += actions.cancel_pending(actions.plan_cancel_pending()).counts["canceled"]
            tallies["rounds"] += 1
        client.close()

    threads = [threading.Thread(target=_guarded(produce, errors)), threading.Thread(target=_guarded(operate, errors))]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + RUN_S  # the run itself; a dead worker or thread ends it early
        while time.monotonic() < deadline and not errors and all(w.alive() for w in workers):
            time.sleep(0.1)
    finally:
        stop_producer.set()
        threads[0].join(5)
        stop_operator.set()
        threads[1].join(8)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    assert all(w.alive() for w in workers), [w.log()[-3000:] for w in workers if not w.alive()]

    drain = DashboardActions(conn, Settings(), who="e2e@drain")
    tallies["canceled"] += drain.cancel_pending(drain.plan_cancel_pending()).counts["canceled"]
    wait_for(lambda: all(p.homes and p.homes[0] != "queue" and "wip" not in p.homes
                         for p in placements(conn, enqueued)), 8, "every job to settle")
    for name in QUEUES:
        assert conn.llen(keys.rq_queue(name)) == 0
        leftovers = [(raw.decode(), conn.hget(keys.rq_job(raw.decode()), "status"))
                     for raw in conn.lrange(keys.rq_queue(name) + ":intermediate", 0, -1)]
        assert leftovers == [], f"ids left in RQ's intermediate list: {leftovers}"
        assert conn.zcard(keys.rq_registry("wip", name)) == 0

    assert len({job_id for job_id, _ in enqueued}) == len(enqueued)
    states: Counter[str] = Counter()
    for job in placements(conn, enqueued):
        assert job.settled, job
        states[job.status] += 1
        if job.status == "canceled":
            assert job.starts == 0, f"{job.job_id} ran although it was canceled while queued"
            assert job.history == "", "a job that never started has no history record"
        else:  # a stop can land after the fork but before the function began
            assert job.starts == 1 or (job.status == "stopped" and job.starts == 0), job
            assert job.history == HISTORY_STATE[job.status], job
    assert sum(states.values()) == len(enqueued)
    assert states["canceled"] == tallies["canceled"] + tallies["janitor_canceled"], (states, tallies)
    assert 0 < states["stopped"] <= tallies["stopped"], (states, tallies)
    assert states["finished"] > 0 and states["failed"] > 0 and states["canceled"] > 0, states
    assert tallies["failed_dead"] == 0 and tallies["not_delivered"] == 0, tallies
    assert tallies["canceled"] > 0 and tallies["janitor_canceled"] > 0, tallies

    snapshot = DashboardReader(conn, Settings()).read()
    assert (snapshot.totals.completed, snapshot.totals.failed) == (states["finished"],
                                                                    states["failed"] + states["stopped"])
    assert (snapshot.totals.active, snapshot.totals.pending) == (0, 0)
    assert sum(row.canceled for row in snapshot.queues) == states["canceled"]
    rows_by_name = {row.name: row for row in snapshot.workers}
    ran = len(enqueued) - states["canceled"]
    assert sum(rows_by_name[w.name].attempts or 0 for w in workers) == ran, "attempts count every run once"
    assert sum(rows_by_name[w.name].processed or 0 for w in workers) == states["finished"], "RQ counts successes"
    assert sum(rows_by_name[w.name].failed or 0 for w in workers) == states["failed"] + states["stopped"]
    for worker in workers:
        assert worker.terminate() == 0, worker.log()
    print(f"\nstress: {len(enqueued)} jobs {dict(states)} operator {dict(tallies)}")
