"""Redis dies and comes back: the reader fails fast and recovers by itself, a worker rides it out and keeps working."""

from __future__ import annotations

import signal
import time

import pytest
import redis
from rq import Queue

from tests import jobs
from tests.e2e.procs import WorkerPool
from tests.waiting import wait_for
from tui.data.connection import connect
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from worker import keys
from worker.embedded_redis import EmbeddedRedis

OUTAGE_ERRORS = (redis.ConnectionError, redis.TimeoutError)
LOST, BACK = "Redis unreachable", "Redis reachable again"
"""The two lines worker.outage.RedisHealth logs, once per change."""


def test_reader_fails_fast_while_down_and_the_same_reader_recovers(private_redis: EmbeddedRedis) -> None:
    """Each read raises a redis outage error in < 2.5 s while down; the same reader reads again < 2 s after."""
    seed = redis.Redis.from_url(private_redis.url)
    Queue("default", connection=seed).enqueue(jobs.recorded_ok)
    reader = DashboardReader(connect(private_redis.url), Settings())
    assert reader.read().totals.pending == 1

    private_redis.kill()
    for _ in range(3):
        began = time.monotonic()
        with pytest.raises(OUTAGE_ERRORS):
            reader.read()
        assert time.monotonic() - began < 2.5, "no hidden retries while Redis is down"

    private_redis.start()
    back = time.monotonic()
    failures = 0
    snapshot = None
    while snapshot is None and time.monotonic() - back < 2.0:
        try:
            snapshot = reader.read()
        except OUTAGE_ERRORS:
            failures += 1
            time.sleep(0.1)
    assert snapshot is not None, f"the reader did not recover within 2 s ({failures} failed reads)"
    assert snapshot.totals.pending == 0, "a fresh server (no persistence) is read as it is now"
    seed = redis.Redis.from_url(private_redis.url)
    Queue("default", connection=seed).enqueue(jobs.recorded_ok)
    assert reader.read().totals.pending == 1
    seed.close()


def test_cli_worker_rides_out_a_restart_logs_once_each_way_and_keeps_working(
    private_redis: EmbeddedRedis, pool: WorkerPool
) -> None:
    """`python -m tui worker` through kill + start: one "unreachable", one "reachable again", jobs run after."""
    worker = pool.cli("survivor", url=private_redis.url)
    conn = redis.Redis.from_url(private_redis.url)
    wait_for(lambda: conn.exists(keys.worker(worker.name)), 15, "the worker record")
    before = Queue("default", connection=conn).enqueue(jobs.recorded_ok)
    wait_for(lambda: conn.hget(keys.rq_job(before.id), "status") == b"finished", 10, "a job before the outage")

    private_redis.kill()
    wait_for(lambda: LOST in worker.log(), 12, "the worker to notice the outage")
    deadline = time.monotonic() + 1.5  # stay down a while: the worker must keep waiting, not exit
    while time.monotonic() < deadline:
        assert worker.alive(), worker.log()
        time.sleep(0.1)
    private_redis.start()
    conn = redis.Redis.from_url(private_redis.url)
    after = Queue("default", connection=conn).enqueue(jobs.recorded_ok, "after")
    wait_for(lambda: conn.hget(keys.rq_job(after.id), "status") == b"finished", 20, "a job after the outage")
    wait_for(lambda: BACK in worker.log(), 5, "the worker to log that Redis is back")
    assert conn.hget(keys.rq_job(after.id), "worker_name") == worker.name.encode()
    reader = DashboardReader(conn, Settings(offline_after_s=15))
    row = wait_for(lambda: next((w for w in reader.read().workers if w.name == worker.name), None), 12,
                   "the worker row to come back after the restart")
    assert (row.status, row.mode, row.pid) == ("online", "worker", worker.pid)

    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=15) == 0
    log = worker.log()
    assert log.count(LOST) == 1 and log.count(BACK) == 1, log
    assert "Traceback" not in log, log
    conn.close()
