"""`rqtop jobs <verb>`, `rqtop queues …` and `rqtop workers …` as real processes against a real Redis."""

from __future__ import annotations

import json

import redis
from rq import Queue

from tests import jobs
from tests.cli_support import one_error_line, rqtop
from tests.rq_support import contents as snapshot
from worker import audit, keys


def _failed(conn: redis.Redis, queue: str = "imports") -> str:
    """A job that looks failed (no worker ran: the hash and the failed registry say so)."""
    job = Queue(queue, connection=conn).enqueue(jobs.ok, 1)
    conn.lrem(keys.rq_queue(queue), 0, job.id)
    conn.hset(keys.rq_job(job.id), "status", "failed")
    conn.zadd(keys.rq_registry("failed", queue), {job.id: 9e9})
    return job.id


def test_retry_by_id_with_json(redis_url: str, conn: redis.Redis) -> None:
    job_id, pending = _failed(conn), Queue("imports", connection=conn).enqueue(jobs.ok, 2).id
    result = rqtop("jobs", "retry", job_id, pending, "--yes", "--json", url=redis_url)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["planned"] == [job_id] and doc["skipped"] == [[pending, "queued"]] and doc["counts"]["done"] == 1
    assert conn.hget(keys.rq_job(job_id), "status") == b"queued"
    assert conn.lrange(keys.rq_queue("imports"), 0, -1) == [pending.encode(), job_id.encode()]


def test_cancel_by_queue_and_state_prints_counts(redis_url: str, conn: redis.Redis) -> None:
    queue = Queue("low", connection=conn)
    ids = [queue.enqueue(jobs.ok, n).id for n in range(3)]
    other = Queue("high", connection=conn).enqueue(jobs.ok).id
    result = rqtop("jobs", "cancel", "--queue", "low", "--state", "queued", "--yes", url=redis_url)
    assert result.returncode == 0, result.stderr
    assert "cancel: 3 of 3 done" in result.stdout
    assert all(conn.hget(keys.rq_job(job_id), "status") == b"canceled" for job_id in ids)
    assert conn.hget(keys.rq_job(other), "status") == b"queued"


def test_without_a_terminal_and_without_yes_nothing_changes(redis_url: str, conn: redis.Redis) -> None:
    job_id = _failed(conn)
    before = snapshot(conn)
    assert "pass --yes" in one_error_line(rqtop("jobs", "dismiss", job_id, url=redis_url))
    assert snapshot(conn) == before


def test_read_only_refuses(redis_url: str, conn: redis.Redis) -> None:
    job_id = _failed(conn)
    before = snapshot(conn)
    for args in (("jobs", "dismiss", job_id, "--yes", "--read-only"), ("queues", "requeue-failed", "imports", "--yes"),
                 ("workers", "suspend", "--yes")):
        line = one_error_line(rqtop("--read-only", *args, url=redis_url) if args[0] != "jobs"
                              else rqtop(*args, url=redis_url))
        assert "read-only" in line
    assert snapshot(conn) == before


def test_bad_usage_is_one_line(redis_url: str) -> None:
    assert "one of them" in one_error_line(rqtop("jobs", "cancel", url=redis_url))
    assert "need --state" in one_error_line(rqtop("jobs", "cancel", "--queue", "q", url=redis_url))


def test_requeue_failed_of_one_queue_and_audit(redis_url: str, conn: redis.Redis) -> None:
    ids = [_failed(conn) for _ in range(4)]
    keep = _failed(conn, "default")
    result = rqtop("queues", "requeue-failed", "imports", "--yes", url=redis_url)
    assert result.returncode == 0, result.stderr
    assert sorted(raw.decode() for raw in conn.lrange(keys.rq_queue("imports"), 0, -1)) == sorted(ids)
    assert conn.hget(keys.rq_job(keep), "status") == b"failed"
    outcome = audit.read(conn, 1)[0]
    assert outcome.action == "rerun" and outcome.counts["done"] == 4
    assert all(job_id in outcome.target for job_id in ids) and keep not in outcome.target


def test_empty_one_registry(redis_url: str, conn: redis.Redis) -> None:
    ids = [_failed(conn) for _ in range(2)]
    result = rqtop("queues", "empty", "imports", "failed", "--yes", url=redis_url)
    assert result.returncode == 0, result.stderr
    assert not conn.exists(keys.rq_registry("failed", "imports")) and not any(
        conn.exists(keys.rq_job(job_id)) for job_id in ids)


def test_workers_suspend_resume(redis_url: str, conn: redis.Redis) -> None:
    assert rqtop("workers", "suspend", "--yes", url=redis_url).returncode == 0
    assert conn.exists(keys.RQ_SUSPENDED)
    assert rqtop("workers", "resume", "--yes", url=redis_url).returncode == 0
    assert not conn.exists(keys.RQ_SUSPENDED)
    assert "no such worker" in one_error_line(rqtop("workers", "shutdown", "ghost", "--yes", url=redis_url))


def test_action_verbs_take_the_explorer_filters(redis_url: str, conn: redis.Redis) -> None:
    imports = [Queue("imports", connection=conn).enqueue(jobs.boom, f"import {n}").id for n in range(3)]
    others = [Queue("imports", connection=conn).enqueue(jobs.ok, n).id for n in range(2)]
    before = snapshot(conn)
    assert "pass --yes" in one_error_line(rqtop("jobs", "cancel", "--task", "*boom", url=redis_url))
    assert snapshot(conn) == before  # no terminal, no --yes: nothing changes
    result = rqtop("jobs", "cancel", "--task", "*boom", "--query", "queue:imports", "--yes", "--json", url=redis_url)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert sorted(doc["planned"]) == sorted(imports) and doc["counts"]["done"] == 3 and doc["ok"]
    assert all(conn.hget(keys.rq_job(job_id), "status") == b"canceled" for job_id in imports)
    assert all(conn.hget(keys.rq_job(job_id), "status") == b"queued" for job_id in others)
    warned = rqtop("jobs", "dismiss", "--query", "state:nonsense task:nothing*", "--yes", url=redis_url)
    assert warned.returncode == 0 and "rqtop: warning: ignored" in warned.stderr and "no job to act on" in warned.stdout
