"""Run now and Pause/Resume through worker.dispatch: deduplicated, Redis-persisted, audited."""

from __future__ import annotations

import redis

from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import audit, keys
from worker.schedules import ScheduleEntry


def _register(conn: redis.Redis, **fields: object) -> ScheduleEntry:
    """Store a schedule definition the way the worker registers it."""
    entry = ScheduleEntry(**{"task": "tests.jobs.recorded_ok", "interval": 60, **fields})  # type: ignore[arg-type]
    conn.hset(keys.SCHEDULES, entry.name, entry.to_json())
    return entry


def test_run_now_queues_once_then_dedupes_until_canceled(conn: redis.Redis) -> None:
    entry = _register(conn, name="nightly", priority="high")
    actions = DashboardActions(conn, Settings(), who="op@host")
    first = actions.run_now("nightly")
    assert first.status == "queued" and first.job_id and keys.schedule_of(first.job_id) == "nightly"
    assert conn.lrange(keys.rq_queue(entry.queue), 0, -1) == [first.job_id.encode()]
    second = actions.run_now("nightly")
    assert (second.status, second.job_id) == ("already_queued", first.job_id)

    actions.cancel_pending(actions.plan_cancel_pending())
    assert conn.get(keys.active("nightly")) is None
    third = actions.run_now("nightly")
    assert third.status == "queued" and third.job_id != first.job_id
    outcomes = [(e.action, e.ok) for e in audit.read(conn) if e.phase == "outcome"][::-1]
    assert outcomes == [("run_now", True), ("cancel_pending", True), ("run_now", True)]
    assert audit.refused_counts(conn) == {"run_now:already_queued": 1}


def test_run_now_not_allowed(conn: redis.Redis) -> None:
    _register(conn, name="token_refresh", run_now=False, run_now_reason="needs a target identity")
    result = DashboardActions(conn, Settings()).run_now("token_refresh")
    assert result.status == "not_allowed" and "needs a target identity" in result.message
    assert conn.llen("rq:queue:default") == 0


def test_pause_and_resume_persist_in_redis(conn: redis.Redis) -> None:
    _register(conn, name="catalog_sync")
    actions = DashboardActions(conn, Settings(), who="op@host")
    paused = actions.pause("catalog_sync")
    assert (paused.paused, paused.changed) == (True, True)
    assert conn.sismember(keys.PAUSED, "catalog_sync")
    assert actions.pause("catalog_sync").changed is False
    resumed = actions.resume("catalog_sync")
    assert (resumed.paused, resumed.changed) == (False, True)
    assert not conn.sismember(keys.PAUSED, "catalog_sync")
    unknown = actions.pause("nope")
    assert unknown.changed is False and "nope" in unknown.message and not conn.sismember(keys.PAUSED, "nope")
    assert [e.action for e in audit.read(conn) if e.phase == "outcome"][::-1] == ["pause", "resume"]
    assert audit.refused_counts(conn) == {"pause:unchanged": 1, "pause:unknown": 1}
