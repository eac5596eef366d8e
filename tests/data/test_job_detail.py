"""read_job_detail: metadata of one job in one round trip, from RQ's hash, its results stream and history."""

from __future__ import annotations

import base64
import zlib
from datetime import timedelta

import redis
from rq import Queue, Retry, SimpleWorker

from tests import jobs
from tests.data.reader_support import CountingClient, put_history
from tui.data.job_meta import read_job_detail
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from worker import keys


def test_failed_retried_and_completed_jobs(conn: redis.Redis, redis_url: str) -> None:
    queue = Queue("default", connection=conn)
    failed = queue.enqueue(jobs.boom_with_secret, secret="hunter2")
    retried = queue.enqueue(jobs.boom_with_secret, retry=Retry(max=2, interval=600))
    done = queue.enqueue(jobs.say_hello)
    later = queue.enqueue_in(timedelta(hours=1), jobs.say_hello)
    worker = SimpleWorker([queue], connection=conn, name="simple-1")
    worker.work(burst=True)
    counting = CountingClient(redis_url)

    detail, sends = counting.count(lambda: read_job_detail(counting.client, failed.id))

    assert sends == 1
    assert (detail.id, detail.task, detail.queue, detail.state, detail.status) == (
        failed.id, "tests.jobs.boom_with_secret", "default", "failed", "failed")
    assert detail.error == "ValueError: upstream refused password=***"
    assert detail.worker == "simple-1" and detail.retries == 0 and not detail.unreadable
    assert detail.created_at and detail.enqueued_at and detail.started_at and detail.ended_at
    retry = read_job_detail(conn, retried.id)
    assert (retry.state, retry.status, retry.retries, retry.retries_left) == ("retry", "scheduled", 1, 1)
    put_history(conn, retried.id, 1.0, state="retry", retries=1, error="ValueError: upstream refused password=x")
    assert read_job_detail(conn, retried.id).error == "ValueError: upstream refused password=***"
    ok = read_job_detail(conn, done.id)
    assert (ok.state, ok.error, ok.task) == ("completed", None, "tests.jobs.say_hello")
    assert read_job_detail(conn, later.id).state == "scheduled"


def test_history_fills_in_for_an_expired_job_and_unknown_ids_say_expired(conn: redis.Redis) -> None:
    run_id = keys.run_id("nightly", "00aa11bb22cc")
    put_history(conn, run_id, 1_000.0, state="failed", error="TimeoutError: took longer than token=abc allows",
                task="app.tasks.nightly", retries=3)
    reader = DashboardReader(conn, Settings())

    detail = reader.job_detail(run_id)
    assert (detail.state, detail.task, detail.retries, detail.schedule, detail.worker) == (
        "failed", "app.tasks.nightly", 3, "nightly", "w1")
    assert detail.error == "TimeoutError: took longer than token=*** allows"
    assert detail.created_at is not None and detail.created_at.timestamp() == 1_000.0
    missing = reader.job_detail("no-such-job")
    assert (missing.state, missing.task, missing.error, missing.unreadable) == ("expired", "unreadable", None, False)


def test_error_from_the_results_stream_and_legacy_exc_info(conn: redis.Redis) -> None:
    text = 'Traceback (most recent call last):\n  File "a.py", line 1\nmod.Oops: cookie=abc bad\n'
    conn.hset(keys.rq_job("legacy"), mapping={"status": "failed", "exc_info": zlib.compress(text.encode())})
    conn.hset(keys.rq_job("streamed"), mapping={"status": "failed"})
    conn.xadd("rq:results:streamed", {"type": 2, "worker_name": "w9",
                                      "exc_string": base64.b64encode(zlib.compress(text.encode()))})
    conn.hset(keys.rq_job("garbled"), mapping={"status": "failed"})
    conn.xadd("rq:results:garbled", {"type": 2, "exc_string": "!!not base64!!"})

    assert read_job_detail(conn, "legacy").error == "Oops: cookie=*** bad"
    streamed = read_job_detail(conn, "streamed")
    assert streamed.error == "Oops: cookie=*** bad" and streamed.worker == "w9"
    assert read_job_detail(conn, "garbled").error is None
