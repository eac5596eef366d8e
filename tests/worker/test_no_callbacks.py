"""Failing a dead worker's job from the operator's process imports and calls nothing a job hash names (issue 14.7)."""

from __future__ import annotations

import time
import zlib
from base64 import b64decode

import redis

from tests.jobs import CALLBACK_MARK, leave_mark
from tests.rq_support import plant_running
from worker import janitor, keys
from worker.plans import ExecutionRef
from worker.recovery import fail_dead_executions


def _plant_with_callback(conn: redis.Redis, worker: str, started_at: float | None = None) -> tuple[str, str]:
    """A dead worker's running job whose hash names ``tests.jobs.leave_mark`` as its failure callback."""
    job_id, execution_id = plant_running(conn, worker, started_at=started_at)
    conn.hset(keys.rq_job(job_id), "failure_callback_name", f"{leave_mark.__module__}.{leave_mark.__name__}")
    return job_id, execution_id


def _reason(conn: redis.Redis, job_id: str) -> str:
    (_id, fields), = conn.xrevrange(keys.rq_results(job_id), count=1)
    assert fields[b"type"] == b"2"
    return zlib.decompress(b64decode(fields[b"exc_string"])).decode()


def test_fail_active_path_calls_no_failure_callback(conn: redis.Redis) -> None:
    job_id, execution_id = _plant_with_callback(conn, "ghost")
    ref = ExecutionRef(job_id, execution_id, "default", "ghost")
    assert fail_dead_executions(conn, [ref], "worker gone") == 1
    assert not conn.exists(CALLBACK_MARK), "the operator's process imported and called the job's callback"
    assert conn.hget(keys.rq_job(job_id), "status") == b"failed"
    assert conn.hget(keys.rq_job(job_id), "ended_at")
    assert conn.zscore("rq:failed:default", job_id) > time.time() + 86400
    assert _reason(conn, job_id) == "AbandonedJobError: worker gone"
    assert conn.zcard("rq:wip:default") == 0
    assert not conn.exists(keys.rq_execution(ref.member))
    assert conn.zcard(keys.rq_executions(job_id)) == 0


def test_janitor_stuck_step_calls_no_failure_callback(conn: redis.Redis) -> None:
    job_id, _ = _plant_with_callback(conn, "dead-w", started_at=time.time() - 2000)
    settings = janitor.JanitorSettings()
    counts = janitor.execute(conn, janitor.plan(conn, settings), settings)
    assert counts["fail_stuck_active"] == 1
    assert not conn.exists(CALLBACK_MARK)
    assert conn.hget(keys.rq_job(job_id), "status") == b"failed"
    assert _reason(conn, job_id) == f"AbandonedJobError: {janitor.STUCK_REASON}"


def test_a_job_with_retries_left_is_requeued_not_failed(conn: redis.Redis) -> None:
    job_id, execution_id = _plant_with_callback(conn, "ghost")
    conn.hset(keys.rq_job(job_id), mapping={"retries_left": 2})
    assert fail_dead_executions(conn, [ExecutionRef(job_id, execution_id, "default", "ghost")], "x") == 1
    assert not conn.exists(CALLBACK_MARK)
    assert conn.hmget(keys.rq_job(job_id), "status", "retries_left") == [b"queued", b"1"]
    assert conn.lrange("rq:queue:default", 0, -1) == [job_id.encode()]
    assert conn.zcard("rq:failed:default") == 0


def test_a_job_that_never_started_goes_back_to_the_head_of_its_queue(conn: redis.Redis) -> None:
    job_id, execution_id = _plant_with_callback(conn, "ghost")
    conn.hset(keys.rq_job(job_id), "status", "queued")
    conn.rpush("rq:queue:default", "other")
    conn.rpush("rq:queue:default:intermediate", job_id)
    assert fail_dead_executions(conn, [ExecutionRef(job_id, execution_id, "default", "ghost")], "x") == 1
    assert conn.lrange("rq:queue:default", 0, -1) == [job_id.encode(), b"other"]
    assert conn.llen("rq:queue:default:intermediate") == 0
    assert conn.hget(keys.rq_job(job_id), "status") == b"queued"
    assert conn.xlen(keys.rq_results(job_id)) == 0
