"""Progress and cooperative cancel with real workers: rqtop's forking worker and plain ``rq worker`` (RQ 2.12
and 3.x) running tasks that call ``worker.progress`` in a tight loop."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from rq import Queue

from tests import jobs
from tests.e2e.plain_rq import PlainRq, status_json
from tests.e2e.procs import WorkerPool
from tests.waiting import wait_for
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from worker import keys
from worker.cancel_request import CANCEL_NOTE, request_cancel


def running_row(doc: dict[str, Any], job_id: str) -> dict[str, Any] | None:
    """The status document's worker row running ``job_id`` with a progress, or None."""
    found = [w for w in doc["workers"] if w["current_job_id"] == job_id and w.get("progress")]
    return found[0] if found else None


@contextmanager
def progress_writes(redis_url: str, job_id: str) -> Iterator[list[float]]:
    """The times of every SET of ``job_id``'s progress key while the block runs (MONITOR on the server)."""
    seen: list[float] = []
    ready, stop = threading.Event(), threading.Event()
    target = keys.progress(job_id)

    def watch() -> None:
        client = redis.Redis.from_url(redis_url)
        with client.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                if stop.is_set():
                    break
                parts = command["command"].split()
                if len(parts) > 1 and parts[0].upper() == "SET" and parts[1] == target:
                    seen.append(command["time"])

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    ready.wait(5)
    try:
        yield seen
    finally:
        stop.set()
        redis.Redis.from_url(redis_url).ping()  # one more command wakes the monitor to see ``stop``
        thread.join(5)


def test_rqtop_worker_progress_shows_live_at_most_one_write_a_second(conn: redis.Redis, redis_url: str,
                                                                      pool: WorkerPool) -> None:
    """A tight loop of report_progress: shown in status --json, written at most once a second, deleted at the end."""
    worker = pool.rqtop("progress")
    release = f"progress:release:{uuid.uuid4().hex}"
    job = Queue("default", connection=conn).enqueue(jobs.report_until_released, release)
    wait_for(lambda: conn.exists(keys.progress(job.id)), 15, "the first progress write")
    with progress_writes(redis_url, job.id) as writes:
        time.sleep(3.2)
    assert 2 <= len(writes) <= 4, writes
    gaps = [b - a for a, b in zip(writes, writes[1:], strict=False)]
    assert all(gap >= 0.95 for gap in gaps), gaps
    row = wait_for(lambda: running_row(status_json(redis_url), job.id), 15, "the progress in status --json")
    assert row["name"] == worker.name
    assert row["progress"]["processed"] == 45 and row["progress"]["total"] == 200
    assert row["progress"]["message"] == "Synced 45 users" and row["progress"]["percent"] == 22.5
    history = [h for h in status_json(redis_url)["history"] if h["id"] == job.id]
    assert history and history[0]["state"] == "running" and history[0]["progress"]["processed"] == 45
    detail = DashboardReader(conn, Settings()).job_detail(job.id)
    assert detail.progress is not None and detail.progress.summary.startswith("45/200 · 22 % · ")
    conn.set(release, "1")
    wait_for(lambda: conn.hget(keys.rq_job(job.id), "status") == b"finished", 15, "the job to finish")
    wait_for(lambda: not conn.exists(keys.progress(job.id)), 5, "the progress key to go with the run")


def test_cooperative_cancel_ends_a_checkpointing_job_as_canceled(conn: redis.Redis, pool: WorkerPool) -> None:
    """is_cancelled() is True at the next checkpoint; the run ends canceled in RQ's registry and history."""
    pool.rqtop("cancel")
    job = Queue("default", connection=conn).enqueue(jobs.report_until_released, f"never:{uuid.uuid4().hex}")
    wait_for(lambda: conn.exists(keys.progress(job.id)), 15, "the job to report")
    asked = time.monotonic()
    result = request_cancel(conn, job.id, who="test")
    assert result.status == "requested" and CANCEL_NOTE in result.message
    assert request_cancel(conn, job.id).status == "already_requested"
    wait_for(lambda: conn.hget(keys.rq_job(job.id), "status") == b"canceled", 10, "the job to end canceled")
    assert time.monotonic() - asked < 3.0, "within one checkpoint (a second) plus the worker's bookkeeping"
    assert conn.zscore(keys.rq_registry("canceled", "default"), job.id) is not None
    assert conn.zscore(keys.rq_registry("finished", "default"), job.id) is None
    assert conn.zscore(keys.rq_registry("failed", "default"), job.id) is None
    wait_for(lambda: conn.hget(keys.history_item(job.id), "state") == b"canceled", 5, "history to say canceled")
    assert not conn.exists(keys.cancel_flag(job.id)) and not conn.exists(keys.progress(job.id))
    assert request_cancel(conn, job.id).status == "not_running"


def test_a_task_without_checkpoints_finishes_then_is_marked_canceled(conn: redis.Redis, pool: WorkerPool) -> None:
    """The flag is only seen when the run ends: it runs to completion and ends canceled, not finished."""
    pool.rqtop("nocheck")
    job = Queue("default", connection=conn).enqueue(jobs.ignore_cancel_for, 2.0)
    wait_for(lambda: job.id in jobs.starts(conn), 15, "the job to start")
    assert request_cancel(conn, job.id).status == "requested"
    time.sleep(0.5)
    assert conn.hget(keys.rq_job(job.id), "status") == b"started", "it is not stopped: no checkpoint"
    wait_for(lambda: conn.hget(keys.rq_job(job.id), "status") == b"canceled", 10, "the job to end canceled")
    wait_for(lambda: conn.hget(keys.history_item(job.id), "state") == b"canceled", 5, "history to say canceled")
    ran = jobs.starts(conn)[job.id][-1][1]
    ended = float(conn.hget(keys.history_item(job.id), "ended_at") or 0)
    assert ended - ran >= 1.9, "it ran to completion first"
    assert conn.zscore(keys.rq_registry("canceled", "default"), job.id) is not None


def test_plain_rq_worker_progress_is_shown_the_same_way(conn: redis.Redis, rq_bin: Any, redis_url: str,
                                                        pool: WorkerPool) -> None:
    """A plain ``rq worker`` of RQ 2.12 and 3.x: report_progress and meta["progress"] both reach status --json."""
    line = PlainRq(rq_bin, redis_url, pool)
    worker = line.worker("progress")
    release = f"plain:release:{uuid.uuid4().hex}"
    reporting = line.enqueue("report_until_released", release)
    def at_45() -> dict[str, Any] | None:  # the first write says 1 of 200; the next, a second later, 45
        row = running_row(status_json(redis_url), reporting)
        return row if row and row["progress"]["processed"] == 45 else None

    row = wait_for(at_45, 20, "the plain job's progress to reach 45")
    assert row["name"] == worker.name
    assert (row["progress"]["processed"], row["progress"]["total"]) == (45, 200)
    assert row["progress"]["source"] == "rqtop"
    conn.set(release, "1")
    wait_for(lambda: conn.hget(keys.rq_job(reporting), "status") == b"finished", 15, "the plain job to finish")
    assert conn.ttl(keys.progress(reporting)) > 0, "a plain worker leaves the key to its TTL"
    conn.delete(release)
    meta = line.enqueue("meta_progress_until_released", release)
    row = wait_for(lambda: running_row(status_json(redis_url), meta), 20, "the meta progress")
    assert row["progress"]["source"] == "meta"
    assert (row["progress"]["processed"], row["progress"]["total"], row["progress"]["message"]) == (7, 10, "meta step")
    conn.set(release, "1")


def test_workers_tab_shows_the_running_jobs_progress_bar(conn: redis.Redis, pool: WorkerPool) -> None:
    """The Workers tab's Now running cell of a real worker's row: task, bar and ``45/200 · 22 % · message``."""
    import asyncio

    from tests.tui.fakes import FakeReader, loaded, make_app

    worker = pool.rqtop("tab")
    release = f"tab:release:{uuid.uuid4().hex}"
    Queue("default", connection=conn).enqueue(jobs.report_until_released, release)
    reader = DashboardReader(conn, Settings(offline_after_s=3.0))

    def with_progress() -> Any:
        snapshot = reader.read()
        return snapshot if any(w.progress and w.progress.processed == 45 for w in snapshot.workers) else None

    snapshot = wait_for(with_progress, 15, "a row with progress")
    conn.set(release, "1")

    async def body() -> str:
        app = make_app(FakeReader([snapshot]))
        async with app.run_test(size=(160, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("2")
            table = app.workers_pane.workers_table
            return str(table.get_cell(worker.name, "running"))

    cell = asyncio.run(body())
    assert "report_until_released" in cell
    assert "██░░░░░░░░ 45/200 · 22 % · " in cell and cell.endswith("Synced 45 users")
