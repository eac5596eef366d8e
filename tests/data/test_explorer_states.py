"""The explorer's state filters not covered elsewhere, each on jobs a real RQ worker put in that state: running,
abandoned and stuck (a forking worker process), stopped (RQ's stop command), scheduled, deferred, canceled and
completed; attention retry and stuck; and the ``until:`` end bound of a time range."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from rq import Queue, Retry, SimpleWorker
from rq.command import send_stop_job_command
from rq.job import Job

from tests import jobs
from tests.rq_support import spawn_worker, stop_worker
from tests.waiting import wait_for
from tui.data.explorer.pages import ExplorerReader
from tui.data.explorer.query import parse_query


def ids(reader: ExplorerReader, query: str) -> set[str]:
    """The ids every page of ``query`` lists (the scan continued to its end)."""
    flt = parse_query(query)
    page = reader.page(flt, 0, 200)
    while not page.complete:
        page = reader.page(flt, 0, 200)
    return {row.id for row in page.rows}


def later(conn: redis.Redis, seconds: float) -> ExplorerReader:
    """A reader whose clock is ``seconds`` ahead (a job ages without the test waiting)."""
    return ExplorerReader(conn, clock=lambda: time.time() + seconds)


@pytest.fixture
def busy(conn: redis.Redis, redis_url: str) -> Iterator[tuple[Job, Job]]:
    """A forking worker running a job (timeout 60 s) that holds until released, and a job it was stopped in."""
    queue = Queue("busy", connection=conn)
    stopped = queue.enqueue(jobs.hold, "never-released", 30.0)
    running = queue.enqueue(jobs.hold, "release-busy", 30.0, job_timeout=60)
    worker = spawn_worker(redis_url, "states-w", "busy")
    try:
        wait_for(lambda: Job.fetch(stopped.id, connection=conn).get_status() == "started", 15.0, "the first job")
        send_stop_job_command(conn, stopped.id)
        wait_for(lambda: Job.fetch(running.id, connection=conn).get_status() == "started", 15.0, "the second job")
        yield running, stopped
    finally:
        conn.set("release-busy", 1)
        stop_worker(worker)


def test_running_stopped_abandoned_and_stuck_with_a_real_worker(conn: redis.Redis, busy: tuple[Job, Job]) -> None:
    running, stopped = busy
    now = ExplorerReader(conn)
    assert ids(now, "state:running") == {running.id}
    assert ids(now, "state:stopped") == {stopped.id} and stopped.id in ids(now, "state:failed")
    assert ids(now, "state:abandoned") == set() and ids(now, "attention:stuck") == set()
    # 90 s on: past its 60 s timeout while the heartbeat is still recent enough: running, and stuck.
    assert ids(later(conn, 90), "attention:stuck") == {running.id}
    assert ids(later(conn, 90), "state:abandoned") == set()
    # 10 min on: no heartbeat for longer than rows.ABANDONED_AFTER_S: abandoned, still stuck, still listed as running.
    assert ids(later(conn, 600), "state:abandoned") == {running.id}
    assert ids(later(conn, 600), "attention:stuck") == {running.id}
    assert running.id in ids(later(conn, 600), "state:running")


def test_scheduled_deferred_canceled_and_completed(conn: redis.Redis) -> None:
    queue = Queue("mixed", connection=conn)
    done = queue.enqueue(jobs.ok, 1)
    SimpleWorker([queue], connection=conn, name="states-simple").work(burst=True)
    scheduled = queue.enqueue_in(timedelta(hours=1), jobs.ok, 2)
    parent = queue.enqueue(jobs.ok, 3)
    child = queue.enqueue(jobs.ok, 4, depends_on=parent)
    doomed = queue.enqueue(jobs.ok, 5)
    Job.fetch(doomed.id, connection=conn).cancel()
    reader = ExplorerReader(conn)
    assert ids(reader, "state:scheduled") == {scheduled.id}
    assert ids(reader, "state:deferred") == {child.id}
    assert ids(reader, "state:canceled") == {doomed.id}
    assert ids(reader, "state:completed") == {done.id}
    assert done.id not in ids(reader, "") and done.id in ids(reader, "completed:yes")
    assert ids(reader, "state:pending") == {parent.id}
    assert ids(reader, "state:scheduled task:ok") == {scheduled.id}  # the scan path agrees with the paged one


def test_attention_retry_pressure(conn: redis.Redis) -> None:
    queue = Queue("retries", connection=conn)
    last_chance = queue.enqueue(jobs.boom, "flaky", retry=Retry(max=2, interval=600))
    roomy = queue.enqueue(jobs.boom, "flaky", retry=Retry(max=5, interval=600))
    SimpleWorker([queue], connection=conn, name="states-retry").work(burst=True)
    reader = ExplorerReader(conn)
    assert ids(reader, "state:retrying") == {last_chance.id, roomy.id}
    assert ids(reader, "attention:retry") == {last_chance.id}  # 1 retry left; the other has 4


def test_until_bounds_a_time_range(conn: redis.Redis) -> None:
    queue = Queue("range", connection=conn)
    made = [queue.enqueue(jobs.ok, i).id for i in range(3)]
    reader = later(conn, 3600)  # every job's last event is an hour old
    assert ids(reader, "task:ok since:2h until:30m") == set(made)
    assert ids(reader, "task:ok since:2h until:90m") == set()
    assert ids(reader, "task:ok until:2h") == set()
    assert ids(ExplorerReader(conn), "task:ok until:30m") == set()
    flt = parse_query("since:1h until:2h")
    assert flt.until_s is None and [w.term for w in flt.warnings] == ["until:2h"]
    assert parse_query("since:3h until:90m").to_query() == "since:3h until:90m"
