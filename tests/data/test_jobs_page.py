"""Paged job lists: any page of any queue or registry in at most two round trips, even at 1 M jobs."""

from __future__ import annotations

import time
from pathlib import Path

import redis
from rq import Queue, SimpleWorker
from rq.job import Job

from tests import jobs
from tests.data.reader_support import CountingClient
from tests.plain_rq_runs import burst_plain_worker, enqueue_plain
from tests.rq_support import contents
from tui.data.job_meta import read_job_detail
from tui.data.jobs_page import last_page_offset, read_jobs_page
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from worker import keys

TOTAL = 1_000_000


def test_first_middle_and_last_page_of_a_million_jobs(conn: redis.Redis, redis_url: str) -> None:
    real = [Job.create(jobs.say_hello, args=(str(i),), connection=conn, origin="big") for i in range(150)]
    pipe = conn.pipeline(transaction=False)
    for job in real:
        job.save(pipeline=pipe)
    pipe.execute()
    ids = [j.id for j in real]
    key = keys.rq_queue("big")
    middle = TOTAL // 2
    layout = [(ids[:50], 0), (ids[50:100], middle), (ids[100:], TOTAL - 50)]
    position = 0
    for chunk, at in layout:
        while position < at:
            n = min(20_000, at - position)
            conn.rpush(key, *(f"filler-{position + i}" for i in range(n)))
            position += n
        conn.rpush(key, *chunk)
        position += len(chunk)
    counting = CountingClient(redis_url)

    first, first_trips = counting.count(lambda: read_jobs_page(counting.client, "big", offset=0, limit=50))
    mid, mid_trips = counting.count(lambda: read_jobs_page(counting.client, "big", offset=middle, limit=50))
    last, last_trips = counting.count(lambda: read_jobs_page(counting.client, "big", offset=-1, limit=50))

    assert (first.total, mid.total, last.total) == (TOTAL,) * 3
    assert [j.id for j in first.jobs] == ids[:50] and [j.id for j in mid.jobs] == ids[50:100]
    assert [j.id for j in last.jobs] == ids[100:] and last.offset == TOTAL - 50
    assert {j.task for j in first.jobs + mid.jobs + last.jobs} == {"tests.jobs.say_hello"}
    assert first_trips == mid_trips == last_trips == 2
    assert not first.has_previous and first.has_next and last.has_previous and not last.has_next


def test_pages_of_registries_and_the_aligned_last_page(conn: redis.Redis, redis_url: str) -> None:
    queue = Queue("default", connection=conn)
    failed = [queue.enqueue(jobs.boom_with_secret) for _ in range(7)]
    SimpleWorker([queue], connection=conn).work(burst=True)
    pending = [queue.enqueue(jobs.say_hello, str(i)) for i in range(7)]
    conn.zadd(keys.rq_registry("wip", "default"), {f"{pending[0].id}:exec-1": 1.0})

    pages = [read_jobs_page(conn, "default", "failed", offset, 3) for offset in (0, 3, 6)]
    listed = [j.id for p in pages for j in p.jobs]
    assert sorted(listed) == sorted(j.id for j in failed) and len(set(listed)) == 7
    assert {j.state for p in pages for j in p.jobs} == {"failed"}
    last = read_jobs_page(conn, "default", "pending", -1, 3)
    assert (last.offset, [j.id for j in last.jobs]) == (6, [pending[6].id])
    assert read_jobs_page(conn, "default", "failed", 0, 2, newest_first=True).jobs[0].id == listed[-1]
    active = read_jobs_page(conn, "default", "active")
    assert [j.id for j in active.jobs] == [pending[0].id] and active.jobs[0].state == "pending"
    beyond = read_jobs_page(conn, "default", "pending", 100, 10)
    assert (beyond.total, beyond.jobs, beyond.round_trips) == (7, (), 1)
    assert last_page_offset(0, 50) == 0 and last_page_offset(100, 50) == 50 and last_page_offset(101, 50) == 100


def test_an_unknown_source_is_a_one_line_error(conn: redis.Redis) -> None:
    try:
        read_jobs_page(conn, "default", "everything")
    except ValueError as exc:
        assert "unknown job list 'everything'" in str(exc) and "\n" not in str(exc)
    else:
        raise AssertionError("expected ValueError")


def test_the_dashboard_lists_ended_jobs_newest_first_and_pending_in_queue_order(conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    for i in range(3):
        queue.enqueue(jobs.boom_with_secret, job_id=f"failed-{i}")
        SimpleWorker([queue], connection=conn).work(burst=True)  # one at a time: each ends later
    for i in range(3):
        queue.enqueue(jobs.say_hello, str(i), job_id=f"pending-{i}")
    reader = DashboardReader(conn, Settings())
    assert [j.id for j in reader.jobs_page("default", "failed").jobs] == ["failed-2", "failed-1", "failed-0"]
    assert [j.id for j in reader.jobs_page("default", "pending").jobs] == ["pending-0", "pending-1", "pending-2"]


def test_a_hash_with_no_field_rq_writes_is_unreadable_not_expired(conn: redis.Redis) -> None:
    """Issue 14 item 18: a job hash holding only foreign fields is unreadable; a hash that is gone is expired."""
    conn.rpush(keys.rq_queue("odd"), "foreign", "gone")
    conn.sadd(keys.RQ_QUEUES, keys.rq_queue("odd"))
    conn.hset(keys.rq_job("foreign"), mapping={"colour": "blue"})
    page = read_jobs_page(conn, "odd", "pending", 0, 10)
    assert [(job.id, job.state, job.unreadable) for job in page.jobs] == [
        ("foreign", "unreadable", True), ("gone", "expired", False)]
    assert read_job_detail(conn, "foreign").state == "unreadable"
    assert read_job_detail(conn, "gone").state == "expired"


def test_a_failed_list_comes_with_masked_errors_counts_and_its_read_time(conn: redis.Redis, redis_url: str) -> None:
    """Issue 15 item 13: the browser's failed list shows each job's one-line error (masked), its tabs count every
    list of the queue, and the page says when it was read; still two round trips, and nothing is written."""
    queue = Queue("default", connection=conn)
    for _ in range(3):
        queue.enqueue(jobs.boom_with_secret)
    SimpleWorker([queue], connection=conn).work(burst=True)
    for i in range(4):
        queue.enqueue(jobs.say_hello, str(i))
    conn.zadd(keys.rq_registry("deferred", "default"), {"gone-1": 1.0})
    counting = CountingClient(redis_url)
    before = contents(conn)

    page, trips = counting.count(lambda: read_jobs_page(counting.client, "default", "failed", 0, 50, counts=True,
                                                        now=1_795_000_000.0))

    assert trips == 2 and contents(conn) == before
    assert page.read_at == 1_795_000_000.0
    assert dict(page.counts) == {"pending": 4, "active": 0, "completed": 0, "failed": 3, "scheduled": 0,
                                 "deferred": 1, "canceled": 0}
    assert page.count("failed") == 3 and page.count("nope") is None
    assert [page.error(i) for i in range(3)] == ["ValueError: upstream refused password=***"] * 3
    assert "hunter2" not in repr(page)
    pending = read_jobs_page(conn, "default", "pending", 0, 50)
    assert pending.counts == () and pending.errors == () and pending.error(0) is None, "counts only when asked"


def test_errors_of_plain_rq_failures_read_from_either_rq(rq_bin: Path, redis_url: str, conn: redis.Redis) -> None:
    """RQ 2 and RQ 3 keep a failure's error in different places; the failed list reads both the same way."""
    enqueue_plain(rq_bin, redis_url, "plain", [(0.0, True), (0.0, False), (0.0, True)])
    burst_plain_worker(rq_bin, redis_url, "plain", "plain-worker")
    page = read_jobs_page(conn, "plain", "failed", 0, 50, counts=True)
    assert page.total == 2 and page.count("completed") == 1
    assert [page.error(i) for i in range(2)] == ["RuntimeError: failed after 0.0000s"] * 2
    assert page.read_at is not None and abs(page.read_at - time.time()) < 60
