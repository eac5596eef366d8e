"""The detail drawer's fields on real Redis with real RQ jobs and workers: args and kwargs as plain data (pickle
and JSON serializers), masked; a hostile payload shown as its structure, each object named, running nothing;
scheduled and canceled times; health and attempts as "n of max"."""

from __future__ import annotations

import os
import pickle
import time
import zlib
from datetime import timedelta
from pathlib import Path

import redis
from rq import Queue, Retry, SimpleWorker
from rq.job import Job
from rq.serializers import JSONSerializer

from tests import jobs
from tui.data.explorer.attempts import read_attempts
from tui.data.explorer.health import job_health
from tui.data.explorer.rows import read_rows
from tui.data.job_meta import read_job_detail
from tui.data.settings import DEFAULT_MASK_PATTERNS
from tui.widgets.drawer_fields import drawer_fields
from worker import keys


class _RunsCode:
    """A pickle whose loading would run a shell command that writes ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.path}",)


def shown(conn: redis.Redis, job_id: str, now: float | None = None) -> dict[str, str]:
    """The drawer's (label, value) pairs for a job, as a dict."""
    now = time.time() if now is None else now
    detail = read_job_detail(conn, job_id, DEFAULT_MASK_PATTERNS)
    history = read_attempts(conn, job_id, detail.task, DEFAULT_MASK_PATTERNS)
    return dict(drawer_fields(detail, history, now))


def test_args_and_kwargs_are_plain_data_and_masked_for_both_serializers(conn: redis.Redis) -> None:
    job = Queue("default", connection=conn).enqueue(
        jobs.ok, "order-17", password="s3cr3t-pw", dsn="redis://:hunter2@cache:6379/0", count=3)
    fields = shown(conn, job.id)
    assert fields["Args"] == "['order-17']"
    assert fields["Kwargs · password"] == "***" and fields["Kwargs · count"] == "3"
    assert fields["Kwargs · dsn"] == "redis://:***@cache:6379/0"
    assert not any("s3cr3t" in v or "hunter2" in v for v in fields.values())
    json_job = Queue("json", connection=conn, serializer=JSONSerializer).enqueue(jobs.ok, [1, 2], api_token="tkn-9")
    fields = shown(conn, json_job.id)
    assert fields["Args"] == "[[1, 2]]" and fields["Kwargs · api_token"] == "***"


def test_a_payload_sharing_its_parts_renders_bounded_text(conn: redis.Redis) -> None:
    """A pickle's memo lets 40 levels of pairs reference one value twice each: 2^40 leaves if rendered naively."""
    job = Queue("default", connection=conn).enqueue(jobs.ok, 1)
    value: object = "x" * 50
    for _ in range(40):
        value = (value, value)
    conn.hset(keys.rq_job(job.id), "data", zlib.compress(pickle.dumps((job.func_name, None, (value,),
                                                                       {"nested": {"password": "hunter2"}}))))
    began = time.perf_counter()
    fields = shown(conn, job.id)
    assert time.perf_counter() - began < 5
    assert fields["Args"].startswith("[(((") and len(fields["Args"]) <= 400
    assert fields["Kwargs · nested"] == "{'password': '***'}"
    hostile: object = _RunsCode(Path("/nonexistent/never"))
    for _ in range(40):
        hostile = (hostile, hostile)
    conn.hset(keys.rq_job(job.id), "data", zlib.compress(pickle.dumps((job.func_name, None, (hostile,), {}))))
    began = time.perf_counter()
    fields = shown(conn, job.id)
    assert time.perf_counter() - began < 5
    assert fields["Payload structure"].startswith("args=((((") and len(fields["Payload structure"]) <= 400


def test_a_hostile_payload_is_shown_as_its_structure_and_runs_nothing(conn: redis.Redis, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    job = Queue("default", connection=conn).enqueue(jobs.ok, 1)
    hostile = (job.func_name, None, (_RunsCode(marker), "plain"), {"token": "tkn-1", "n": 1})
    conn.hset(keys.rq_job(job.id), "data", zlib.compress(pickle.dumps(hostile, protocol=pickle.HIGHEST_PROTOCOL)))
    fields = shown(conn, job.id)
    assert fields["Payload"] == "not plain data (shown, never executed)"
    assert fields["Payload names"] in ("posix.system", "os.system", "nt.system")
    assert f"system('touch {marker}')" in fields["Payload structure"]
    assert "'plain'" in fields["Payload structure"] and "tkn-1" not in fields["Payload structure"]
    assert "Args" not in fields
    read_rows(conn, [job.id])  # the explorer's list read of the same job
    time.sleep(0.2)
    assert not marker.exists()
    bare = zlib.compress(pickle.dumps(_RunsCode(marker), protocol=2))  # not even RQ's 4-tuple
    conn.hset(keys.rq_job(job.id), "data", bare)
    fields = shown(conn, job.id)
    assert fields["Payload structure"] == f"{fields['Payload names']}('touch {marker}')"
    assert not marker.exists()


def test_scheduled_and_canceled_times(conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    later = queue.enqueue_in(timedelta(hours=1), jobs.ok, 1)
    fields = shown(conn, later.id)
    assert "in 1 h" in fields["Scheduled for"] or "in 59 min" in fields["Scheduled for"]
    assert "Canceled" not in fields
    doomed = queue.enqueue(jobs.ok, 2)
    before = time.time()
    Job.fetch(doomed.id, connection=conn).cancel()
    detail = read_job_detail(conn, doomed.id)
    assert detail.canceled_at is not None and before - 2 <= detail.canceled_at.timestamp() <= time.time() + 2
    assert shown(conn, doomed.id)["Canceled"].startswith(detail.canceled_at.strftime("%Y-%m-%d"))


def test_health_and_attempts_n_of_max_after_real_runs(conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    retrying = queue.enqueue(jobs.boom, "flaky", retry=Retry(max=2, interval=600))
    failed = queue.enqueue(jobs.boom, "dead")
    SimpleWorker([queue], connection=conn, name="w-health").work(burst=True)
    pending = queue.enqueue(jobs.ok, 3)
    fields = shown(conn, retrying.id)
    assert fields["Attempts"] == "1 of 3" and fields["Health"] == "retry pressure: 1 retry left"
    assert "Scheduled for" in fields  # the retry is due in RQ's scheduled registry
    fields = shown(conn, failed.id)
    assert fields["Health"] == "needs attention: failed, not re-run or dismissed" and fields["Attempts"] == "1"
    assert shown(conn, pending.id)["Health"] == "ok"
    assert shown(conn, pending.id, time.time() + 900)["Health"] == "backlog: pending for 15 min"
    detail = read_job_detail(conn, failed.id)
    history = read_attempts(conn, failed.id, detail.task)
    assert job_health(detail, history, time.time()).state == "failed"
