"""`rqtop collect` records the runs of plain `rq worker` processes (RQ 2.12 and 3.x) exactly once."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from tests.plain_rq_runs import burst_plain_worker, enqueue_plain
from tui.cli import cli
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from worker import keys, records
from worker.collector import Collector

TASK = "tests.jobs.sleep_then"


def _durations(conn: redis.Redis, ids: list[str]) -> list[float]:
    """Each job's own duration, from RQ's started_at and ended_at."""
    stamps = [conn.hmget(keys.rq_job(job_id), ["started_at", "ended_at"]) for job_id in ids]
    return [records.to_epoch(ended) - records.to_epoch(started) for started, ended in stamps]



def test_two_collectors_record_each_plain_run_once_with_exact_metrics(conn: redis.Redis, redis_url: str,
                                                                        rq_bin: Path) -> None:
    """12 runs (3 failing) by a plain forking `rq worker`; two collectors racing over several passes."""
    rng = random.Random(5)
    plan = [(round(rng.uniform(0.001, 0.03), 4), i % 4 == 0) for i in range(12)]
    ids = enqueue_plain(rq_bin, redis_url, "default", plan)
    burst_plain_worker(rq_bin, redis_url, "default", "plain-one")
    assert conn.zcard(keys.HISTORY) == 0  # nothing of rqtop's ran

    clients = [redis.Redis.from_url(redis_url) for _ in range(2)]
    results: list[int] = []

    def passes(client: redis.Redis) -> None:
        collector = Collector(client, batch=5)  # small batches: several passes move the mark
        results.extend(collector.collect_once().recorded for _ in range(6))

    threads = [threading.Thread(target=passes, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(results) == len(ids)

    snapshot = DashboardReader(conn, Settings()).read()
    [row] = snapshot.metrics
    durations = _durations(conn, ids)
    assert (row.task, row.runs, row.failures) == (TASK, 12, 3)
    assert row.p50_s == pytest.approx(records.exact_percentile(durations, 50), rel=0.01)
    assert row.p95_s == pytest.approx(records.exact_percentile(durations, 95), rel=0.01)
    assert row.max_s == pytest.approx(max(durations), abs=2e-6)
    history = {h.id: h for h in snapshot.history}
    assert set(history) == set(ids)
    for job_id, (_, fail) in zip(ids, plan, strict=True):
        item = history[job_id]
        assert (item.state, item.task, item.queue, item.worker) == (
            "failed" if fail else "completed", TASK, "default", "plain-one")
        assert (item.error or "").startswith("RuntimeError: failed after") if fail else item.error is None

    assert (snapshot.history_source, snapshot.history_note, snapshot.metrics_note) == ("rqtop", None, None)

    assert Collector(conn).collect_once().recorded == 0  # a later pass counts nothing twice
    assert DashboardReader(conn, Settings()).read().metrics[0].runs == 12
    for client in clients:
        client.close()


def test_collector_leaves_runs_rqtop_recorded_itself(conn: redis.Redis) -> None:
    """A job whose history hash rqtop's worker wrote is not counted again."""
    from rq import Queue

    from tests import jobs
    from worker.rqtop_worker import RqtopSimpleWorker

    queue = Queue("default", connection=conn)
    queue.enqueue(jobs.ok, 1)
    RqtopSimpleWorker([queue], connection=conn).work(burst=True)
    assert Collector(conn).collect_once().recorded == 0
    assert DashboardReader(conn, Settings()).read().metrics[0].runs == 1


def test_collect_once_from_the_command_line(conn: redis.Redis, redis_url: str, rq3_bin: Path) -> None:
    """`rqtop collect --once` runs one pass and says what it recorded; --read-only refuses."""
    enqueue_plain(rq3_bin, redis_url, "low", [(0.001, False), (0.001, True)])
    burst_plain_worker(rq3_bin, redis_url, "low", "plain-cli")
    out = CliRunner().invoke(cli, ["collect", "--url", redis_url, "--once"])
    assert out.exit_code == 0, out.output
    assert "recorded 2 run(s)" in out.output
    refused = CliRunner().invoke(cli, ["--read-only", "collect", "--url", redis_url, "--once"])
    assert refused.exit_code == 2 and "refused with --read-only" in refused.output


def test_the_collector_heartbeat_shows_it_alive_then_gone(conn: redis.Redis) -> None:
    """A running collector is alive in the snapshot (host, pid, interval); 3 missed passes later it is not."""
    import os
    import time

    from worker.collector import run_collector

    assert DashboardReader(conn, Settings()).read(include_metrics=False).collector is None  # never ran
    stop = threading.Event()
    thread = threading.Thread(target=run_collector, args=(conn, 0.2, stop), daemon=True)
    thread.start()
    try:
        deadline = time.time() + 5
        while not conn.exists(keys.COLLECT_HEARTBEAT) and time.time() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
    beat = DashboardReader(conn, Settings()).read(include_metrics=False).collector
    assert beat is not None and beat.alive and beat.pid == os.getpid() and beat.interval_s == 0.2
    assert 0 < conn.ttl(keys.COLLECT_HEARTBEAT) <= 30  # it expires by itself when the collector stops
    later = Settings(clock=lambda: beat.seen_at.timestamp() + 10)  # 3 passes of 0.2 s are long overdue
    stale = DashboardReader(conn, later).read(include_metrics=False).collector
    assert stale is not None and not stale.alive
