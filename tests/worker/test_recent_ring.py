"""The end-of-job script's recent window (``rqtop:m5:<task>``): a ring of 24 five-minute buckets in one hash.

Runs go through ``FINISH_LUA`` itself (the script rqtop's worker, ``rqtop collect`` and recovery share) on a real
Redis, with RQ-shaped job hashes whose ``ended_at`` is chosen: a run lands in its bucket, a slot reused 2 h later
starts from zero, a run older than the window changes nothing, and the hash expires by itself.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import redis

from tui.data.metrics import parse_recent
from worker import keys, records
from worker.finish_script import FINISH_LUA

TASK = "app.tasks.ring"
SLOT = int(time.time() // 300) - 2  # a 5-minute bucket number (epoch // 300) of ten minutes ago


def _iso(epoch: float) -> str:
    """RQ's timestamp format."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _finish(conn: redis.Redis, job_id: str, ended: float, now: float, status: str = "finished") -> None:
    """One run of TASK that ended at ``ended``, recorded at ``now`` by the end-of-job script."""
    conn.hset(keys.rq_job(job_id), mapping={"status": status, "started_at": _iso(ended - 0.5),
                                            "ended_at": _iso(ended)})
    conn.register_script(FINISH_LUA)(keys=[
        keys.rq_job(job_id), keys.history_item(job_id), keys.worker("nobody"), keys.METRIC_TASKS,
        keys.sched_state("-"), keys.active("-"),
    ], args=[job_id, TASK, keys.PREFIX + "m:", repr(now), repr(ended - 0.5), keys.HISTORY_TTL_S, keys.METRIC_TTL_S,
             repr(records.BIN_FLOOR_S), repr(records.BIN_RATIO), "", keys.METRIC_BUCKET_S])


def _window(conn: redis.Redis, now: float) -> dict[int, tuple[int, int, int]]:
    """The recent window as the dashboard reads it: {bucket: (runs, failures, cancels)}, empty buckets left out."""
    slots = records.recent_slots(now)
    recent = parse_recent(conn.hgetall(keys.metric_recent(TASK)), slots)
    cells = zip(slots, recent.runs, recent.failures, recent.canceled, strict=True)
    return {slot: (runs, failed, canceled) for slot, runs, failed, canceled in cells if runs or failed or canceled}


def test_runs_land_in_their_bucket_and_a_reused_slot_starts_from_zero(conn: redis.Redis) -> None:
    start = SLOT * 300.0
    _finish(conn, "a", start + 10, start + 20)
    _finish(conn, "b", start + 290, start + 299, status="failed")
    _finish(conn, "c", start + 301, start + 302, status="canceled")
    now = start + 302
    assert _window(conn, now) == {SLOT: (2, 1, 0), SLOT + 1: (0, 0, 1)}
    expected_ttl = now + keys.METRIC_RECENT_TTL_S - time.time()  # 2 h 10 min after the last write
    assert abs(conn.ttl(keys.metric_recent(TASK)) - expected_ttl) <= 5
    later = start + 24 * 300 + 5  # bucket SLOT + 24: the same ring slot as SLOT, two hours on
    _finish(conn, "d", later, later)
    assert _window(conn, later) == {SLOT + 1: (0, 0, 1), SLOT + 24: (1, 0, 0)}, "SLOT's counts are not carried over"
    assert conn.hget(keys.metric_recent(TASK), f"n{SLOT % 24}") == b"1"
    assert conn.hlen(keys.metric_recent(TASK)) <= 4 * keys.METRIC_RECENT_SLOTS, "bounded whatever the traffic"


def test_a_run_older_than_the_window_changes_nothing(conn: redis.Redis) -> None:
    start = SLOT * 300.0
    now = start + 24 * 300 + 5
    _finish(conn, "new", now - 1, now)
    before = conn.hgetall(keys.metric_recent(TASK))
    _finish(conn, "old", start + 10, now)  # harvested late: ended 2 h ago, in the slot the new run holds
    assert conn.hgetall(keys.metric_recent(TASK)) == before
    assert _window(conn, now) == {SLOT + 24: (1, 0, 0)}
    assert conn.hget(keys.metric_bucket(TASK, records.hour_of(start + 10)), "n") == b"1", "the hourly bucket has it"
