"""Run now and tick dispatch: one fresh job per run, atomic dedupe, not-allowed schedules, pause flags."""

from __future__ import annotations

import threading
from collections.abc import Callable

import redis
from rq import Queue
from rq.job import Job

from tests.worker.support import text
from worker import keys
from worker.dispatch import enqueue_run, is_paused, run_now, set_paused
from worker.schedules import ScheduleEntry


def test_run_now_enqueues_one_fresh_tagged_job(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    """The job carries the run id, task, kwargs, ttl, timeout, description and meta; records say pending."""
    sched = entry(task="tests.jobs.sleep_for", kwargs={"seconds": 0.01}, expires_after_min=2, timeout=30,
                  priority="high")
    result = enqueue_run(conn, sched, now=1000.0)
    assert result.status == "queued" and result.job_id is not None
    assert result.job_id.startswith("sched--nightly--") and len(result.job_id) == len("sched--nightly--") + 12
    job = Job.fetch(result.job_id, connection=conn)
    assert (job.func_name, job.kwargs, job.ttl, job.timeout, job.origin) == (
        "tests.jobs.sleep_for", {"seconds": 0.01}, 120, 30, "high"
    )
    assert job.description == "nightly (manual)"
    assert job.meta == {"schedule": "nightly", "trigger": "manual"}
    assert conn.lrange(keys.rq_queue("high"), 0, -1) == [result.job_id.encode()]
    assert text(conn.get(keys.active("nightly"))) == result.job_id
    history = conn.hgetall(keys.history_item(result.job_id))
    assert history[b"state"] == b"pending" and history[b"schedule"] == b"nightly"
    assert conn.zscore(keys.HISTORY, result.job_id) == 1000.0
    assert 0 < conn.ttl(keys.history_item(result.job_id)) <= keys.HISTORY_TTL_S
    state = conn.hgetall(keys.sched_state("nightly"))
    assert state[b"last_status"] == b"pending" and text(state[b"last_job_id"]) == result.job_id
    assert float(state[b"last_run"]) == 1000.0


def test_second_run_now_is_deduplicated(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    """Two Run now calls make one job; the second names the first."""
    first = enqueue_run(conn, entry())
    second = enqueue_run(conn, entry())
    assert second.status == "already_queued" and second.job_id == first.job_id
    assert conn.llen(keys.rq_queue("default")) == 1
    assert not conn.hexists(keys.sched_state("nightly"), "skipped")


def test_concurrent_run_now_makes_exactly_one_job(redis_url: str, entry: Callable[..., ScheduleEntry]) -> None:
    """Eight threads with their own clients race; WATCH/MULTI lets exactly one enqueue."""
    barrier = threading.Barrier(8)
    results = []

    def press() -> None:
        client = redis.Redis.from_url(redis_url)
        barrier.wait(timeout=10)
        results.append(enqueue_run(client, entry()))
        client.close()

    threads = [threading.Thread(target=press) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(r.status for r in results) == ["already_queued"] * 7 + ["queued"]
    assert len({r.job_id for r in results}) == 1
    conn = redis.Redis.from_url(redis_url)
    assert conn.llen(keys.rq_queue("default")) == 1


def test_stale_token_does_not_block(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    """A token naming a finished or vanished job is replaced by a new run."""
    conn.set(keys.active("nightly"), "sched--nightly--gone")
    result = enqueue_run(conn, entry())
    assert result.status == "queued" and result.job_id != "sched--nightly--gone"
    Queue("default", connection=conn).fetch_job(result.job_id).set_status("finished")
    again = enqueue_run(conn, entry())
    assert again.status == "queued" and again.job_id != result.job_id


def test_tick_overlap_records_a_skip(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    """A tick that finds the previous run pending counts a skip and leaves last_status alone."""
    first = enqueue_run(conn, entry(), trigger="tick", now=100.0)
    skipped = enqueue_run(conn, entry(), trigger="tick", now=160.0)
    assert skipped.status == "already_queued" and skipped.job_id == first.job_id
    state = conn.hgetall(keys.sched_state("nightly"))
    assert (state[b"skipped"], float(state[b"last_skipped"]), state[b"last_status"]) == (b"1", 160.0, b"pending")


def test_run_now_refused_when_not_allowed(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    """run_now = false refuses manual runs with the reason, and enqueues nothing; ticks still run."""
    sched = entry(name="token_refresh", run_now=False, run_now_reason="needs a target identity")
    refused = enqueue_run(conn, sched)
    assert (refused.status, refused.job_id) == ("not_allowed", None)
    assert "needs a target identity" in refused.message
    assert conn.llen(keys.rq_queue("default")) == 0
    assert enqueue_run(conn, sched, trigger="tick").status == "queued"


def test_run_now_by_name(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    """run_now loads the registered definition; an unknown name is reported, not raised."""
    assert run_now(conn, "nightly").status == "unknown"
    conn.hset(keys.SCHEDULES, "nightly", entry().to_json())
    assert run_now(conn, "nightly").status == "queued"


def test_pause_and_resume(conn: redis.Redis) -> None:
    """set_paused reports whether it changed anything."""
    assert set_paused(conn, "nightly", True) is True
    assert set_paused(conn, "nightly", True) is False
    assert is_paused(conn, "nightly")
    assert set_paused(conn, "nightly", False) is True
    assert not is_paused(conn, "nightly")
