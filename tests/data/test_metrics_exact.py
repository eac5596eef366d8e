"""The Metrics row the dashboard reads equals the exact figures of the same runs, failures included."""

from __future__ import annotations

import random

import pytest
import redis
from rq import Queue

from tests import jobs
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from worker import keys, records
from worker.rqtop_worker import RqtopSimpleWorker

MIXED, STEADY = "tests.jobs.sleep_then", "tests.jobs.sleep_for"


def _durations(conn: redis.Redis, ids: list[str]) -> list[float]:
    """Each job's own duration, from RQ's started_at and ended_at."""
    with conn.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hmget(keys.rq_job(job_id), ["started_at", "ended_at"])
        stamps = pipe.execute()
    return [records.to_epoch(ended) - records.to_epoch(started) for started, ended in stamps]


def test_runs_failures_success_rate_and_percentiles_match_the_exact_values(conn: redis.Redis) -> None:
    """240 runs of one task with 1 in 8 failing, and 60 of another that all succeed, through a real worker."""
    rng = random.Random(11)
    queue = Queue("default", connection=conn)
    mixed = [queue.enqueue(jobs.sleep_then, rng.uniform(0.0005, 0.01), i % 8 == 0).id for i in range(240)]
    steady = [queue.enqueue(jobs.sleep_for, rng.uniform(0.0005, 0.01)).id for _ in range(60)]
    RqtopSimpleWorker([queue], connection=conn).work(burst=True)

    rows = {row.task: row for row in DashboardReader(conn, Settings()).read().metrics}
    assert set(rows) == {MIXED, STEADY}
    for task, ids, failures in ((MIXED, mixed, 30), (STEADY, steady, 0)):
        durations = _durations(conn, ids)
        row = rows[task]
        assert (row.runs, row.failures) == (len(ids), failures), task
        assert row.success_rate == pytest.approx(100.0 * (len(ids) - failures) / len(ids)), task
        assert row.p50_s == pytest.approx(records.exact_percentile(durations, 50), rel=0.01), task
        assert row.p95_s == pytest.approx(records.exact_percentile(durations, 95), rel=0.01), task
        assert row.max_s == pytest.approx(max(durations), abs=2e-6), task
        assert sum(row.hourly_runs) == len(ids) and sum(row.hourly_failures) == failures, task
    assert rows[MIXED].success_rate == pytest.approx(87.5)
