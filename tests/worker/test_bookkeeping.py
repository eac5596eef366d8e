"""Bookkeeping from real RqtopSimpleWorker bursts: history states, worker counters, metrics, schedule state."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis
from redis.connection import AbstractConnection
from rq import Queue, Retry, SimpleWorker

from tests import jobs
from worker import keys, records
from worker.dispatch import enqueue_run
from worker.records import sanitize_exc, sanitize_text
from worker.rqtop_worker import RqtopSimpleWorker
from worker.schedules import ScheduleEntry


def _history(conn: redis.Redis, job_id: str) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in conn.hgetall(keys.history_item(job_id)).items()}


def _bucket(conn: redis.Redis, task: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for hour in records.window_hours(time.time(), 2):
        merged.update({k.decode(): v.decode() for k, v in conn.hgetall(keys.metric_bucket(task, hour)).items()})
    return merged


def test_history_states_errors_and_notes(conn: redis.Redis) -> None:
    """Completed, failed (sanitized, no locals), retry-then-failed and "no active work" are recorded."""
    queue = Queue("default", connection=conn)
    done = queue.enqueue(jobs.sleep_for, 0.02)
    failed = queue.enqueue(jobs.boom)
    idle = queue.enqueue(jobs.no_work)
    retried = queue.enqueue(jobs.boom, "flaky", retry=Retry(max=2))
    RqtopSimpleWorker([queue], connection=conn, name="w1").work(burst=True)

    h = _history(conn, done.id)
    assert (h["state"], h["task"], h["queue"], h["worker"], h["error"], h["retries"]) == (
        "completed", "tests.jobs.sleep_for", "default", "w1", "", "0"
    )
    started, ended = float(h["started_at"]), float(h["ended_at"])
    assert 0.02 <= ended - started < 1.0
    assert ended - started == pytest.approx(
        records.to_epoch(conn.hget(keys.rq_job(done.id), "ended_at"))
        - records.to_epoch(conn.hget(keys.rq_job(done.id), "started_at")), abs=1e-5
    )
    assert _history(conn, failed.id)["state"] == "failed"
    assert _history(conn, failed.id)["error"] == "ConnectionError: upstream timed out after 30s"
    assert (_history(conn, idle.id)["state"], _history(conn, idle.id)["note"]) == ("completed", "no active work")
    r = _history(conn, retried.id)
    assert (r["state"], r["retries"], r["error"]) == ("failed", "2", "ConnectionError: flaky")
    for job in (done, failed, idle, retried):
        assert conn.zscore(keys.HISTORY, job.id) is not None
        dump = str(conn.hgetall(keys.history_item(job.id)))
        assert "hunter2" not in dump and "second line" not in dump


def test_retry_state_while_waiting(conn: redis.Redis) -> None:
    """A failure with retries left and an interval is recorded as retry until it runs again."""
    queue = Queue("default", connection=conn)
    job = queue.enqueue(jobs.boom, retry=Retry(max=3, interval=[600]))
    RqtopSimpleWorker([queue], connection=conn).work(burst=True)
    h = _history(conn, job.id)
    assert (h["state"], h["retries"], h["error"]) == ("retry", "1", "ConnectionError: upstream timed out after 30s")
    assert _bucket(conn, "tests.jobs.boom") == {}, "a retry is not a terminal run and is not counted"


def test_returned_retry_is_recorded(conn: redis.Redis) -> None:
    """A job that returns Retry runs again; when it gives up the run is failed with a readable reason."""
    queue = Queue("default", connection=conn)
    job = queue.enqueue(jobs.ask_retry)
    RqtopSimpleWorker([queue], connection=conn).work(burst=True)
    h = _history(conn, job.id)
    assert (h["state"], h["retries"]) == ("failed", "1")
    assert h["error"].startswith("Retry limit reached")


def test_worker_record_counts_and_current_job(conn: redis.Redis) -> None:
    """Mid-run the record names the current job; processed/failed count earlier runs; death removes it."""
    queue = Queue("default", connection=conn)
    queue.enqueue(jobs.ok)
    queue.enqueue(jobs.boom)
    queue.enqueue(jobs.ok)
    probe = queue.enqueue(jobs.probe_worker_record)
    RqtopSimpleWorker([queue], connection=conn, name="w2", mode="worker").work(burst=True)
    seen = probe.latest_result().return_value
    assert (seen["processed"], seen["failed"]) == ("3", "1")
    assert (seen["current_job_id"], seen["current_task"]) == (probe.id, "tests.jobs.probe_worker_record")
    assert (seen["mode"], seen["queues"], seen["name"]) == ("worker", "default", "w2")
    assert seen["version"] and seen["rq_version"] and float(seen["last_seen"]) >= float(seen["birth"])
    assert not conn.exists(keys.worker("w2")) and conn.zscore(keys.WORKERS, "w2") is None


def test_metrics_buckets(conn: redis.Redis) -> None:
    """Terminal runs count n and f, the bins hold every run, max is the slowest, ttl ends after the hour."""
    queue = Queue("default", connection=conn)
    for seconds in (0.01, 0.05, 0.02):
        queue.enqueue(jobs.sleep_for, seconds)
    queue.enqueue(jobs.boom)
    RqtopSimpleWorker([queue], connection=conn).work(burst=True)
    sleeps = _bucket(conn, "tests.jobs.sleep_for")
    assert sleeps["n"] == "3" and "f" not in sleeps
    assert sum(int(v) for k, v in sleeps.items() if k.startswith("b")) == 3
    assert 0.05 <= float(sleeps["max"]) < 0.5
    assert _bucket(conn, "tests.jobs.boom")["f"] == "1"
    assert conn.zscore(keys.METRIC_TASKS, "tests.jobs.sleep_for") == pytest.approx(time.time(), abs=30)
    hour = records.hour_of(float(sleeps["last"]))
    ttl = conn.ttl(keys.metric_bucket("tests.jobs.sleep_for", hour))
    assert abs((time.time() + ttl) - ((hour + 1) * 3600 + keys.METRIC_TTL_S)) < 5


def test_schedule_run_updates_state_and_releases_token(
    conn: redis.Redis, entry: Callable[..., ScheduleEntry]
) -> None:
    """A schedule run ends with last_status/last_ended set and the dedupe token deleted."""
    run = enqueue_run(conn, entry(task="tests.jobs.boom"))
    RqtopSimpleWorker(["default"], connection=conn).work(burst=True)
    state = conn.hgetall(keys.sched_state("nightly"))
    assert state[b"last_status"] == b"failed" and float(state[b"last_ended"]) > 0
    assert conn.get(keys.active("nightly")) is None
    assert _history(conn, run.job_id)["schedule"] == "nightly"


def test_sanitizers_keep_one_short_line() -> None:
    """Errors become 'Type: first line' under 200 chars; RQ traceback strings end up the same way."""
    assert sanitize_exc(ValueError, ValueError("bad\nmore")) == "ValueError: bad"
    assert sanitize_exc(KeyError, KeyError()) == "KeyError"
    assert len(sanitize_exc(ValueError, ValueError("x" * 500))) == 200
    trace = 'Traceback (most recent call last):\n  File "x.py", line 1\nrq.timeouts.JobTimeoutException: Task exceeded'
    assert sanitize_text(trace) == "JobTimeoutException: Task exceeded"
    assert sanitize_text("Work-horse terminated unexpectedly; waitpid returned 9; ") == (
        "Work-horse terminated unexpectedly; waitpid returned 9"
    )


@pytest.fixture
def round_trips() -> Iterator[list[int]]:
    """Counts client round trips (one send per command or pipeline) while the test runs."""
    counter = [0]
    original = AbstractConnection.send_packed_command

    def counting(self: AbstractConnection, command: object, check_health: bool = True) -> None:
        counter[0] += 1
        original(self, command, check_health)

    AbstractConnection.send_packed_command = counting  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        AbstractConnection.send_packed_command = original  # type: ignore[method-assign]


class _NoBookkeepingWorker(RqtopSimpleWorker):
    """The same worker with the two per-job bookkeeping steps switched off, to isolate their cost."""

    def _mark_running(self, *args: object) -> None:
        return None

    def record_outcome(self, *args: object) -> str:
        return ""


def test_at_most_two_extra_round_trips_per_job(conn: redis.Redis, round_trips: list[int]) -> None:
    """Per job, bookkeeping costs exactly 2 round trips; heartbeat pipelining makes rqtop cheaper than plain RQ."""
    jobs_count = 30
    costs = {}
    for worker_class in (SimpleWorker, _NoBookkeepingWorker, RqtopSimpleWorker):
        queue = Queue("default", connection=conn)
        for _ in range(jobs_count):
            queue.enqueue(jobs.ok)
        round_trips[0] = 0
        worker_class([queue], connection=conn).work(burst=True)
        costs[worker_class.__name__] = round_trips[0]
    bookkeeping = costs["RqtopSimpleWorker"] - costs["_NoBookkeepingWorker"]
    assert 2 * jobs_count <= bookkeeping <= 2 * jobs_count + 2, costs  # +2: a one-off SCRIPT LOAD after NOSCRIPT
    assert costs["RqtopSimpleWorker"] - costs["SimpleWorker"] <= 2 * jobs_count + 4, costs
    print(f"round trips for {jobs_count} jobs: {costs}")


def test_unreadable_job_is_recorded_as_unknown_task(conn: redis.Redis) -> None:
    """A job whose payload cannot be unpickled is recorded with task "unknown" and ends failed."""
    queue = Queue("default", connection=conn)
    job = queue.enqueue(jobs.ok)
    conn.hset(keys.rq_job(job.id), "data", b"not a pickle")
    RqtopSimpleWorker([queue], connection=conn).work(burst=True)
    h = _history(conn, job.id)
    assert (h["task"], h["state"]) == ("unknown", "failed")
    assert h["error"].startswith("DeserializationError")
    assert _bucket(conn, "unknown")["f"] == "1"
