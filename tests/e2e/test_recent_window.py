"""Canceled runs and the 5-minute recent window, written by real processes: rqtop's forking worker (its end-of-job
script) and ``rqtop collect`` over a plain ``rq worker``'s registries; read back by the dashboard's reader."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import redis
from rq import Queue

from tests import jobs
from tests.e2e.procs import WorkerPool
from tests.plain_rq_runs import burst_plain_worker, enqueue_plain
from tests.waiting import wait_for
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.data.status_document import status_document
from tui.exporter.families import task_families
from tui.exporter.task_totals import TaskTotals
from worker import keys, records
from worker.cancel_request import request_cancel
from worker.collector import Collector


def _ended_slots(conn: redis.Redis, ids: list[str]) -> Counter[int]:
    """How many of the jobs ended in each 5-minute bucket, from RQ's own ended_at."""
    return Counter(records.slot_of(records.to_epoch(conn.hget(keys.rq_job(job_id), "ended_at")) or 0.0)
                   for job_id in ids)


def _by_slot(now: float, counts: tuple[int, ...]) -> Counter[int]:
    """A row's recent-window counts keyed by their 5-minute bucket (zeros left out)."""
    return Counter({slot: n for slot, n in zip(records.recent_slots(now), counts, strict=True) if n})


def test_rqtop_worker_runs_land_in_their_five_minute_bucket_and_a_cancel_counts_apart(
        conn: redis.Redis, pool: WorkerPool) -> None:
    pool.rqtop("recent")
    queue = Queue("default", connection=conn)
    quick = [queue.enqueue(jobs.sleep_then, 0.01, i == 2) for i in range(4)]
    long = queue.enqueue(jobs.report_until_released, f"never:{uuid.uuid4().hex}")
    wait_for(lambda: conn.exists(keys.progress(long.id)), 20, "the checkpointing job to run")
    assert request_cancel(conn, long.id, who="test").ok
    wait_for(lambda: conn.hget(keys.rq_job(long.id), "status") == b"canceled", 20, "the cancel")
    wait_for(lambda: conn.zscore(keys.METRIC_TASKS, "tests.jobs.report_until_released"), 10, "the metrics write")

    snapshot = DashboardReader(conn, Settings()).read()
    now = snapshot.taken_at.timestamp()
    rows = {row.task: row for row in snapshot.metrics}
    quick_row, canceled_row = rows["tests.jobs.sleep_then"], rows["tests.jobs.report_until_released"]
    assert (quick_row.runs, quick_row.failures, quick_row.canceled) == (4, 1, 0)
    assert _by_slot(now, quick_row.recent_runs) == _ended_slots(conn, [job.id for job in quick])
    assert _by_slot(now, quick_row.recent_failures) == _ended_slots(conn, [quick[2].id])
    assert len(quick_row.recent_runs) == keys.METRIC_RECENT_SLOTS
    assert (canceled_row.runs, canceled_row.canceled, canceled_row.success_rate) == (0, 1, None)
    assert sum(canceled_row.hourly_canceled) == 1 and sum(canceled_row.recent_runs) == 0
    assert _by_slot(now, canceled_row.recent_canceled) == _ended_slots(conn, [long.id])
    ttl = conn.ttl(keys.metric_recent("tests.jobs.sleep_then"))
    assert keys.METRIC_RECENT_TTL_S - 30 <= ttl <= keys.METRIC_RECENT_TTL_S, "it expires by itself, ~2 h 10 min"
    doc = status_document(snapshot)
    [canceled_doc] = [m for m in doc["metrics"] if m["task"] == "tests.jobs.report_until_released"]
    assert canceled_doc["canceled"] == 1 and sum(canceled_doc["recent_canceled"]) == 1, "status --json says so"
    samples = {(sample.name, sample.labels.get("task")): sample.value
               for family in task_families(snapshot, TaskTotals()) for sample in family.samples}
    for name in ("rqtop_task_canceled_total", "rqtop_task_canceled_24h"):
        assert samples[(name, "tests.jobs.report_until_released")] == 1, name
        assert samples[(name, "tests.jobs.sleep_then")] == 0, name
    assert samples[("rqtop_task_runs_total", "tests.jobs.report_until_released")] == 0


def test_collect_writes_the_recent_window_of_a_plain_rq_workers_runs(conn: redis.Redis, redis_url: str,
                                                                      rq3_bin: Path) -> None:
    ids = enqueue_plain(rq3_bin, redis_url, "default", [(0.01, False), (0.01, True), (0.02, False)])
    burst_plain_worker(rq3_bin, redis_url, "default", f"plain-{uuid.uuid4().hex[:6]}")
    assert not conn.exists(keys.metric_recent("tests.jobs.sleep_then")), "nothing of rqtop's ran yet"
    assert Collector(conn).collect_once().recorded == 3
    snapshot = DashboardReader(conn, Settings()).read()
    [row] = snapshot.metrics
    now = snapshot.taken_at.timestamp()
    assert _by_slot(now, row.recent_runs) == _ended_slots(conn, ids)
    assert _by_slot(now, row.recent_failures) == _ended_slots(conn, [ids[1]])
    assert conn.ttl(keys.metric_recent("tests.jobs.sleep_then")) > 2 * 3600
