"""The job detail shows RQ's busy/idle state of the real ``rq worker`` that runs or ran the job, read in the
detail's one round trip (issue 12)."""

from __future__ import annotations

import uuid

import redis
from rq import Queue

from tests import jobs
from tests.data.reader_support import CountingClient
from tests.e2e.procs import WorkerPool
from tests.waiting import wait_for
from tui.data.jobs_page import read_jobs_page
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.widgets.page_rows import detail_fields
from worker import keys


def test_running_then_finished_job_shows_its_plain_workers_busy_then_idle_state(
        conn: redis.Redis, redis_url: str, pool: WorkerPool) -> None:
    worker = pool.plain_rq("plain-state")
    release = f"e2e:release:{uuid.uuid4().hex}"
    job = Queue("default", connection=conn).enqueue(jobs.hold, release)
    wait_for(lambda: conn.hget(keys.rq_job(job.id), "status") == b"started"
             and conn.hget(keys.rq_worker(worker.name), "state") == b"busy", 20, "the plain worker to run the job")
    page = read_jobs_page(conn, "default", "active", 0, 10, Settings().mask_rules)
    row = next(j for j in page.jobs if j.id == job.id)
    assert row.worker == worker.name
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, Settings())

    running, sends = counting.count(lambda: reader.job_detail(job.id, row.worker))

    assert sends == 1, "the worker's state rides in the detail's one round trip"
    assert (running.state, running.worker, running.worker_state) == ("running", worker.name, "busy")
    assert dict(detail_fields(running, 0.0))["Worker"] == f"{worker.name}  (RQ state: busy)"
    assert reader.job_detail(job.id).worker_state is None, "no worker named: nothing extra is read"
    assert reader.job_detail(job.id, "someone-else").worker_state is None

    conn.set(release, 1)
    wait_for(lambda: conn.hget(keys.rq_job(job.id), "status") == b"finished"
             and conn.hget(keys.rq_worker(worker.name), "state") == b"idle", 20, "the job to end")
    done = reader.job_detail(job.id, worker.name)
    assert (done.state, done.worker_state) == ("completed", "idle")
