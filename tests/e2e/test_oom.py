"""Redis at ``maxmemory`` (noeviction) refuses writes: a real forking worker waits it out and loses nothing."""

from __future__ import annotations

import signal
import time

import pytest
import redis
from redis.exceptions import OutOfMemoryError
from rq import Queue

from tests import jobs
from tests.e2e.procs import WorkerPool
from tests.e2e.states import placements
from tests.waiting import wait_for
from worker import keys
from worker.embedded_redis import EmbeddedRedis

REFUSED, ACCEPTED = "Redis refuses writes", "Redis accepts writes again"
"""The two lines worker.outage.RedisHealth logs, once per change, when Redis is out of memory."""

FILLER = "test:oom-filler"
FILLER_BYTES = 8 * 1024 * 1024
HEADROOM_BYTES = 2 * 1024 * 1024
"""maxmemory is set this far above what Redis used before the filler: over it with the filler, under it without."""


def _fill(conn: redis.Redis) -> None:
    """Push Redis over maxmemory with one big key, so noeviction refuses every write that allocates."""
    used = int(conn.info("memory")["used_memory"])
    conn.set(FILLER, b"x" * FILLER_BYTES)
    conn.config_set("maxmemory-policy", "noeviction")
    conn.config_set("maxmemory", str(used + HEADROOM_BYTES))
    with pytest.raises(OutOfMemoryError):
        conn.set("test:oom-probe", "1", ex=5)


def test_worker_rides_out_maxmemory_says_so_once_each_way_and_loses_no_job(
    private_redis: EmbeddedRedis, pool: WorkerPool
) -> None:
    """Writes refused mid-job: the worker stays up, logs the refusal once and no traceback; memory freed, every
    job ends finished (one place, history agrees), and the worker logs once that writes are accepted again."""
    conn = redis.Redis.from_url(private_redis.url)
    worker = pool.cli("oom", url=private_redis.url)
    wait_for(lambda: conn.exists(keys.worker(worker.name)), 15, "the worker record")
    queue = Queue("default", connection=conn)
    enqueued = [queue.enqueue(jobs.sleep_for, 0.6) for _ in range(8)]
    first = enqueued[0]
    wait_for(lambda: conn.hget(keys.rq_job(first.id), "status") == b"started", 10, "the first job to start")

    _fill(conn)
    deadline = time.monotonic() + 4.0  # refused for a while: the worker must wait, not exit or spin in the log
    while time.monotonic() < deadline:
        assert worker.alive(), worker.log()
        time.sleep(0.1)
    log = worker.log()
    assert log.count(REFUSED) == 1, log
    assert "Traceback" not in log, log
    assert conn.hget(keys.rq_job(first.id), "status") == b"started", "its outcome waits for memory"
    assert conn.llen(keys.rq_queue("default")) >= 6, "nothing is taken while writes are refused"

    conn.delete(FILLER)
    ids = [(job.id, "default") for job in enqueued]
    try:
        wait_for(lambda: all(p.status == "finished" and p.history == "completed" for p in placements(conn, ids)), 30,
                 "every job to finish once memory is freed")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {placements(conn, ids)}\n{worker.log()}") from None
    for placement in placements(conn, ids):
        assert placement.settled and placement.homes == ("finished",), placement
    wait_for(lambda: ACCEPTED in worker.log(), 10, "the worker to log that writes are accepted again")

    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=15) == 0, worker.log()
    log = worker.log()
    assert log.count(REFUSED) == 1 and log.count(ACCEPTED) == 1, log
    assert "Traceback" not in log, log
    conn.close()
