"""``rqtop exporter`` on plain ``rq worker`` deployments of both RQ lines (2.12 and 3.x): rq-exporter's worker and
job metrics as Redis holds them, a busy worker included, and per-task metrics from RQ's own registries."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests import jobs
from tests.e2e.plain_rq import PlainRq
from tests.e2e.procs import WorkerPool
from tests.exporter.support import running_exporter, scrape, value
from tests.waiting import wait_for
from worker import keys

ENDED = (b"finished", b"failed")


@pytest.fixture(params=["rq2", "rq3"])
def line(request: pytest.FixtureRequest, redis_url: str, pool: WorkerPool) -> PlainRq:
    """One RQ line: 2.12 from .venv-rq2, 3.x from the test virtualenv."""
    return PlainRq(request.getfixturevalue(f"{request.param}_bin"), redis_url, pool)


def test_plain_workers_jobs_are_exported_as_redis_holds_them(conn: redis.Redis, line: PlainRq) -> None:
    """Two ok runs and one failure, then a held job: busy state, RQ's counters, started 1, tasks from registries."""
    worker = line.worker("exp", "px")
    ran = [line.enqueue("recorded_ok", queue="px"), line.enqueue("recorded_ok", queue="px"),
           line.enqueue("recorded_boom", queue="px")]
    wait_for(lambda: all(conn.hget(keys.rq_job(j), "status") in ENDED for j in ran), 20, "three jobs to end")
    release = f"px:release:{uuid.uuid4().hex}"
    held = line.enqueue("hold", release, queue="px")
    wait_for(lambda: held in jobs.starts(conn) and conn.hget(keys.rq_worker(worker.name), "state") == b"busy",
             15, "the held job to start")
    try:
        with running_exporter(line.url, "--min-interval", "0.5") as port:
            s = scrape(port)
    finally:
        conn.set(release, 1)
    assert value(s, "rqtop_up") == 1
    assert value(s, "rq_workers", name=worker.name, state="busy", queues="px") == 1
    assert value(s, "rq_workers_success_total", name=worker.name, queues="px") == 2
    assert value(s, "rq_workers_failed_total", name=worker.name, queues="px") == 1
    total = conn.hget(keys.rq_worker(worker.name), "total_working_time")
    assert value(s, "rq_workers_working_time_total", name=worker.name, queues="px") == float(total or 0)
    assert {k: value(s, "rq_jobs", queue="px", status=k) for k in ("queued", "started", "finished", "failed")} == {
        "queued": 0, "started": 1, "finished": 2, "failed": 1}
    assert value(s, "rqtop_queue_workers", queue="px") == 1
    assert value(s, "rqtop_metrics_from_rqtop") == 0  # nothing recorded runs: RQ's registries are the source
    assert (value(s, "rqtop_task_runs_24h", task="tests.jobs.recorded_ok"),
            value(s, "rqtop_task_failures_24h", task="tests.jobs.recorded_boom")) == (2, 1)
    assert value(s, "rqtop_task_duration_seconds_bucket", task="tests.jobs.recorded_ok", le="+Inf") == 2
