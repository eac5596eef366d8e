"""With no rqtop records, History and Metrics come from RQ's own registries, say so, and write nothing."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import redis

from tests.plain_rq_runs import burst_plain_worker, enqueue_plain
from tests.rq_support import snapshot
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.data.status_document import status_document
from worker import keys, records

TASK = "tests.jobs.sleep_then"



def test_plain_runs_show_in_history_and_metrics_from_rq_registries(conn: redis.Redis, redis_url: str,
                                                                    rq_bin: Path) -> None:
    """10 runs (4 failing) over two queues by plain `rq worker`s: rows, note, exact metrics, zero writes."""
    rng = random.Random(3)
    plans = {q: [(round(rng.uniform(0.001, 0.02), 4), i % 5 < 2) for i in range(5)] for q in ("default", "low")}
    ids = {q: enqueue_plain(rq_bin, redis_url, q, plan) for q, plan in plans.items()}
    for queue in plans:
        burst_plain_worker(rq_bin, redis_url, queue, f"plain-{queue}")

    before = snapshot(conn)
    snap = DashboardReader(conn, Settings()).read()
    assert snapshot(conn) == before, "the reader wrote"
    assert snap.round_trips <= 3

    history = {row.id: row for row in snap.history}
    assert set(history) == {i for q in ids for i in ids[q]}
    for queue, plan in plans.items():
        for job_id, (_, fail) in zip(ids[queue], plan, strict=True):
            row = history[job_id]
            assert (row.state, row.task, row.queue, row.worker) == (
                "failed" if fail else "completed", TASK, queue, f"plain-{queue}")
            assert (row.error or "").startswith("RuntimeError: failed after") if fail else row.error is None
    ends = [row.ended_at for row in snap.history]
    assert ends == sorted(ends, reverse=True), "newest end first"
    assert snap.history_source == snap.metrics_source == "rq-registries"
    assert "RQ's own registries" in (snap.history_note or "") and "500 s (result_ttl)" in snap.history_note
    assert "365 days (failure_ttl)" in snap.history_note

    [metric] = snap.metrics
    stamps = [conn.hmget(keys.rq_job(i), ["started_at", "ended_at"]) for q in ids for i in ids[q]]
    durations = [records.to_epoch(e) - records.to_epoch(s) for s, e in stamps]
    assert (metric.task, metric.runs, metric.failures) == (TASK, 10, 4)
    assert metric.p50_s == pytest.approx(records.exact_percentile(durations, 50), abs=2e-6)
    assert metric.max_s == pytest.approx(max(durations), abs=2e-6)
    assert "From the 10 job(s) RQ's registries still hold" in (snap.metrics_note or "")
    assert snap.metrics_since == min(row.ended_at for row in snap.history)
    doc = status_document(snap)
    assert doc["history_source"] == "rq-registries" and doc["history"][0]["id"] == snap.history[0].id


def test_expired_registry_entries_and_a_small_limit(conn: redis.Redis) -> None:
    """An entry scored in the past (its job expired) is left out; the limit bounds the rows."""
    from rq import Queue

    from tests import jobs

    queue = Queue("default", connection=conn)
    done = [queue.enqueue(jobs.ok, i) for i in range(4)]
    from rq import SimpleWorker

    SimpleWorker([queue], connection=conn).work(burst=True)
    conn.zadd(keys.rq_registry("finished", "default"), {done[0].id: 1.0})  # expired by its score
    rows = DashboardReader(conn, Settings(history_limit=2)).read().history
    assert len(rows) == 2 and done[0].id not in {r.id for r in rows}
