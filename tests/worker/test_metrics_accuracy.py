"""The stored duration histogram answers p50/p95/max within 1 % of the exact values of the same runs."""

from __future__ import annotations

import random
import time

import pytest
import redis
from rq import Queue

from tests import jobs
from worker import keys, records
from worker.rqtop_worker import RqtopSimpleWorker

TASK = "tests.jobs.sleep_for"


def test_histogram_percentiles_within_one_percent(conn: redis.Redis) -> None:
    """Run a few hundred short jobs, then compare the histogram with the job hashes' own durations."""
    rng = random.Random(7)
    queue = Queue("default", connection=conn)
    ids = [queue.enqueue(jobs.sleep_for, rng.uniform(0.0005, 0.012)).id for _ in range(300)]
    RqtopSimpleWorker([queue], connection=conn).work(burst=True)

    with conn.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hmget(keys.rq_job(job_id), ["started_at", "ended_at"])
        stamps = pipe.execute()
    durations = [records.to_epoch(ended) - records.to_epoch(started) for started, ended in stamps]
    assert len(durations) == 300

    counts: dict[int, int] = {}
    n = 0
    stored_max = 0.0
    for hour in records.window_hours(time.time(), 2):
        bucket = {k.decode(): v.decode() for k, v in conn.hgetall(keys.metric_bucket(TASK, hour)).items()}
        n += int(bucket.get("n", 0))
        stored_max = max(stored_max, float(bucket.get("max", 0)))
        for field, value in bucket.items():
            if field.startswith("b"):
                counts[int(field[1:])] = counts.get(int(field[1:]), 0) + int(value)
    assert n == 300 and sum(counts.values()) == 300
    for q in (50, 95):
        exact = records.exact_percentile(durations, q)
        assert records.percentile_from_bins(counts, q) == pytest.approx(exact, rel=0.01), q
    assert stored_max == pytest.approx(max(durations), abs=2e-6)
