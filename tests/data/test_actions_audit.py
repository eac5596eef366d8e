"""DashboardActions and the audit log: intent before acting, outcome after (failures too), refused no-ops counted."""

from __future__ import annotations

import time

import pytest
import redis
from rq import Queue

from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import audit, keys
from worker.schedules import ScheduleEntry


def _register(conn: redis.Redis, name: str) -> None:
    conn.hset(keys.SCHEDULES, name, ScheduleEntry(name=name, task="tests.jobs.recorded_ok", cron="0 3 * * *").to_json())


def test_refused_no_ops_cannot_flood_the_log(conn: redis.Redis) -> None:
    _register(conn, "nightly")
    actions = DashboardActions(conn, Settings(), who="op@host")
    assert actions.run_now("nightly").status == "queued"
    for _ in range(300):
        assert actions.run_now("nightly").status == "already_queued"
        assert actions.run_now("nope").status == "unknown"
    actions.pause("nightly")
    for _ in range(50):
        assert actions.pause("nightly").changed is False
    assert actions.fail_active(actions.plan_fail_active()).ok
    assert actions.run_janitor(actions.plan_janitor()).ok
    Queue("default", connection=conn).empty()
    assert actions.cancel_pending(actions.plan_cancel_pending()).ok

    assert [(e.action, e.phase) for e in audit.read(conn, limit=100)] == [
        ("pause", "outcome"), ("pause", "intent"), ("run_now", "outcome"), ("run_now", "intent")]
    assert audit.refused_counts(conn) == {
        "run_now:already_queued": 300, "run_now:unknown": 300, "pause:unchanged": 50,
        "fail_active:nothing_planned": 1, "janitor:nothing_planned": 1, "cancel_pending:nothing_planned": 1}


def test_an_action_that_acts_then_fails_has_intent_and_failed_outcome(conn: redis.Redis) -> None:
    conn.zadd(keys.METRIC_TASKS, {"app.stale": time.time() - 3 * 86400})
    conn.set(keys.JANITOR_LAST, "wrong type: the janitor's last write fails after it acted")
    actions = DashboardActions(conn, Settings(), who="op@host")
    plan = actions.plan_janitor()
    assert plan.total == 1
    with pytest.raises(redis.ResponseError):
        actions.run_janitor(plan)
    assert conn.zscore(keys.METRIC_TASKS, "app.stale") is None, "it acted before failing"
    outcome, intent = audit.read(conn)
    assert (intent.phase, intent.action, intent.who) == ("intent", "janitor", "op@host")
    assert (outcome.phase, outcome.intent, outcome.ok) == ("outcome", intent.id, False)
    assert "WRONGTYPE" in outcome.error


def test_a_write_refused_by_redis_leaves_nothing_changed_and_the_intent_first(conn: redis.Redis) -> None:
    _register(conn, "nightly")
    conn.set(keys.AUDIT, "not a stream")
    with pytest.raises(redis.ResponseError):
        DashboardActions(conn, Settings()).run_now("nightly")
    assert conn.llen(keys.rq_queue("default")) == 0 and conn.get(keys.active("nightly")) is None
