"""A refresh writes nothing and costs a fixed, small number of round trips whatever Redis holds."""

from __future__ import annotations

import time

import redis
from rq import Queue, Retry, SimpleWorker, Worker
from rq.suspension import suspend

from tests import jobs
from tests.data.reader_support import (
    CountingClient,
    put_history,
    put_run,
    put_worker_record,
    settings,
    write_calls,
)
from tests.redis_commands import command_calls
from tui.data.reader import DashboardReader
from worker import keys
from worker.schedules import ScheduleEntry

BUDGET = 4


def populate(conn: redis.Redis, queued: int = 10, workers: int = 1) -> None:
    """Every kind of state the reader looks at: jobs in each registry, workers, schedules, history, metrics."""
    queue = Queue("default", connection=conn)
    queue.enqueue(jobs.say_hello)
    queue.enqueue(jobs.boom_with_secret)
    queue.enqueue(jobs.boom_with_secret, retry=Retry(max=1, interval=600))
    SimpleWorker([queue], connection=conn).work(burst=True)
    queue.enqueue_many([Queue.prepare_data(jobs.say_hello, args=(str(i),)) for i in range(queued)])
    Queue("low", connection=conn).enqueue(jobs.say_hello)
    now = time.time()
    for i in range(workers):
        if i % 2:
            put_worker_record(conn, f"rqtop-{i}", now, current_job_id=f"j{i}", current_task="app.tasks.x",
                              current_started=f"{now:.6f}")
        else:
            Worker([queue], connection=conn, name=f"plain-{i}").register_birth()
            conn.sadd(keys.rq_worker_executions(f"plain-{i}"), f"{queue.get_job_ids()[0]}:exec{i}")
    entry = ScheduleEntry(name="nightly", task="tests.jobs.say_hello", cron="0 6 * * *")
    conn.hset(keys.SCHEDULES, "nightly", entry.to_json())
    conn.set(keys.active("nightly"), queue.get_job_ids()[0])
    conn.zadd(keys.RQ_SCHEDULED_JOBS, {keys.template_id("nightly"): now + 60})
    for i in range(5):
        put_history(conn, f"h{i}", now - i)
        put_run(conn, f"app.tasks.t{i}", now - 60, 0.5)


def test_a_refresh_issues_no_write_command(conn: redis.Redis, redis_url: str) -> None:
    populate(conn, queued=50, workers=6)
    suspend(conn)
    reader = DashboardReader(redis.Redis.from_url(redis_url), settings(now=time.time()))
    reader.read()  # connect first: the handshake is not part of a refresh
    before = command_calls(conn)
    snapshot = reader.read()
    for source in ("pending", "active", "completed", "failed", "scheduled"):
        page = reader.jobs_page("default", source, offset=-1)
    detail = reader.job_detail(snapshot.history[0].id)
    after = command_calls(conn)
    assert write_calls(before, after) == {}
    assert page.jobs and detail.id == "h0"
    assert after.get("hgetall", 0) > before.get("hgetall", 0), "the refresh did read"
    assert snapshot.totals.pending == 51 and len(snapshot.workers) == 6 and snapshot.schedules
    assert snapshot.history and snapshot.metrics and snapshot.suspended


def test_round_trips_stay_flat_from_10_to_1000_queued_jobs(conn: redis.Redis, redis_url: str) -> None:
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, settings(now=time.time()))
    populate(conn, queued=10, workers=2)
    small, small_sends = counting.count(reader.read)
    Queue("default", connection=conn).enqueue_many(
        [Queue.prepare_data(jobs.say_hello, args=(str(i),)) for i in range(990)])
    big, big_sends = counting.count(reader.read)
    assert big.totals.pending == small.totals.pending + 990
    assert small_sends == big_sends == big.round_trips <= BUDGET


def test_round_trips_stay_flat_from_1_to_200_workers(conn: redis.Redis, redis_url: str) -> None:
    counting = CountingClient(redis_url)
    populate(conn, workers=1)
    reader = DashboardReader(counting.client, settings(now=time.time()))
    one, one_sends = counting.count(reader.read)
    now = time.time()
    pipe = conn.pipeline(transaction=False)
    for i in range(1, 200):
        put_worker_record(pipe, f"more-{i}", now)
    pipe.execute()
    many, many_sends = counting.count(reader.read)
    assert (len(one.workers), len(many.workers)) == (1, 200)
    assert one_sends == many_sends == many.round_trips == 3 <= BUDGET


def test_a_thousand_workers_fit_the_budget(conn: redis.Redis, redis_url: str) -> None:
    now = time.time()
    queue = Queue("default", connection=conn)
    job_id = queue.enqueue(jobs.say_hello).id
    beat = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    pipe = conn.pipeline(transaction=False)
    for i in range(1000):
        name = f"w{i:04d}"
        pipe.sadd(keys.RQ_WORKERS, keys.rq_worker(name))
        pipe.hset(keys.rq_worker(name), mapping={"birth": "2026-01-01T00:00:00Z", "queues": "default", "pid": i,
                                                 "last_heartbeat": beat, "hostname": "h", "version": "3.0.0"})
        pipe.sadd(keys.rq_worker_executions(name), f"{job_id}:e{i}")
    pipe.execute()
    counting = CountingClient(redis_url)
    snapshot, sends = counting.count(DashboardReader(counting.client, settings(now=now)).read)
    assert len(snapshot.workers) == 1000
    assert all(w.current_job == "tests.jobs.say_hello" for w in snapshot.workers)
    assert sends == snapshot.round_trips <= BUDGET


def test_an_empty_redis_costs_two_round_trips(redis_url: str) -> None:
    """The indexes, then the one bounded SCAN that looks for RQ keys under another prefix (nothing found)."""
    counting = CountingClient(redis_url)
    snapshot, sends = counting.count(DashboardReader(counting.client, settings()).read)
    assert sends == snapshot.round_trips == 2
    assert snapshot.queues == () and snapshot.workers == () and snapshot.totals.pending == 0
    assert snapshot.other_key_prefixes == ()
