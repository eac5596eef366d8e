"""Schedule registration and ticks: idempotent, fresh job per tick, template kept, overlap and pause."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

import pytest
import redis
from rq.job import Job

from tests.redis_commands import WRITE_COMMANDS, command_calls
from tests.worker.support import make_due, text
from worker import keys
from worker.dispatch import set_paused
from worker.rqtop_worker import RqtopSimpleWorker
from worker.scheduler import RqtopScheduler, register_schedules
from worker.schedules import ScheduleEntry


def _score(conn: redis.Redis, name: str) -> float | None:
    return conn.zscore(keys.RQ_SCHEDULED_JOBS, keys.template_id(name))


def test_register_is_idempotent_and_removes_dropped_schedules(
    conn: redis.Redis, entry: Callable[..., ScheduleEntry]
) -> None:
    """Registering twice changes nothing; a changed entry is updated; a dropped one is fully removed."""
    cron = entry("daily", cron="0 3 * * *", interval=None, timezone="Europe/Berlin")
    every = entry("often", interval=90)
    first = register_schedules(conn, [cron, every], now=1_000_000.0)
    assert (first.added, first.updated, first.removed) == (("daily", "often"), (), ())
    assert _score(conn, "often") == 1_000_090.0
    assert _score(conn, "daily") == cron.next_run(1_000_000.0)
    assert text(conn.hget(keys.SCHEDULES, "daily")) == cron.to_json()
    template = Job.fetch(keys.template_id("daily"), connection=conn)
    assert template.func_name == "tests.jobs.ok" and template.origin == "default"

    again = register_schedules(conn, [cron, every], now=2_000_000.0)
    assert (again.added, again.updated, again.unchanged, again.removed) == ((), (), ("daily", "often"), ())
    assert _score(conn, "often") == 1_000_090.0, "an unchanged schedule keeps its next run"

    conn.hset(keys.sched_state("daily"), "last_status", "completed")
    changed = register_schedules(conn, [entry("often", interval=120)], now=3_000_000.0)
    assert (changed.updated, changed.removed) == (("often",), ("daily",))
    assert _score(conn, "often") == 3_000_120.0
    assert _score(conn, "daily") is None
    assert not conn.exists(keys.rq_job(keys.template_id("daily")))
    assert not conn.hexists(keys.SCHEDULES, "daily")
    assert not conn.exists(keys.sched_state("daily"))


def test_unregister_only_touches_rqtop_templates(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    """Someone else's rq-scheduler job is left in place."""
    conn.zadd(keys.RQ_SCHEDULED_JOBS, {"someone-elses-job": 5})
    register_schedules(conn, [entry()])
    register_schedules(conn, [])
    assert conn.zscore(keys.RQ_SCHEDULED_JOBS, "someone-elses-job") == 5
    assert _score(conn, "nightly") is None


def test_tick_enqueues_a_fresh_job_and_keeps_the_template(
    conn: redis.Redis, entry: Callable[..., ScheduleEntry]
) -> None:
    """Each due tick makes a new run id; the template hash is never enqueued or deleted."""
    sched = entry(interval=600)
    register_schedules(conn, [sched])
    scheduler = RqtopScheduler(conn, [sched])
    make_due(conn, "nightly")
    before = time.time()
    assert scheduler.tick() == 1
    first = text(conn.get(keys.active("nightly")))
    assert first is not None and first.startswith("sched--nightly--")
    assert conn.lrange(keys.rq_queue("default"), 0, -1) == [first.encode()]
    assert Job.fetch(first, connection=conn).description == "nightly (tick)"
    assert conn.exists(keys.rq_job(keys.template_id("nightly")))
    assert before + 600 <= _score(conn, "nightly") <= time.time() + 600

    RqtopSimpleWorker(["default"], connection=conn).work(burst=True)
    assert conn.get(keys.active("nightly")) is None
    assert conn.hget(keys.sched_state("nightly"), "last_status") == b"completed"
    make_due(conn, "nightly")
    scheduler.tick()
    second = text(conn.get(keys.active("nightly")))
    assert second is not None and second != first
    assert conn.hget(keys.rq_job(keys.template_id("nightly")), "status") == b"scheduled"


def test_overlapping_tick_is_skipped_and_counted(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    """While the previous run is pending, a due tick enqueues nothing and records a skip."""
    sched = entry()
    register_schedules(conn, [sched])
    scheduler = RqtopScheduler(conn, [sched])
    make_due(conn, "nightly")
    scheduler.tick()
    make_due(conn, "nightly")
    scheduler.tick()
    assert conn.llen(keys.rq_queue("default")) == 1
    state = conn.hgetall(keys.sched_state("nightly"))
    assert state[b"skipped"] == b"1" and state[b"last_status"] == b"pending"
    assert _score(conn, "nightly") > time.time()


def test_paused_schedule_emits_nothing_but_stays_scheduled(
    conn: redis.Redis, entry: Callable[..., ScheduleEntry]
) -> None:
    """A paused schedule's tick enqueues nothing, records nothing, and moves to its next run."""
    sched = entry()
    register_schedules(conn, [sched])
    set_paused(conn, "nightly", True)
    make_due(conn, "nightly")
    RqtopScheduler(conn, [sched]).tick()
    assert conn.llen(keys.rq_queue("default")) == 0
    assert not conn.exists(keys.sched_state("nightly"))
    assert _score(conn, "nightly") > time.time()


def test_tick_uses_the_registered_definition(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    """A scheduler started without entries (another host) reads them from rqtop:schedules."""
    register_schedules(conn, [entry(priority="high")])
    make_due(conn, "nightly")
    RqtopScheduler(conn).tick()
    assert conn.llen(keys.rq_queue("high")) == 1


def test_missing_template_hash_is_rebuilt_not_dropped(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    """If something deletes a template hash, the tick rebuilds it instead of silently dropping the schedule."""
    sched = entry()
    register_schedules(conn, [sched])
    make_due(conn, "nightly")
    conn.delete(keys.rq_job(keys.template_id("nightly")))
    RqtopScheduler(conn, [sched]).tick()
    assert conn.exists(keys.rq_job(keys.template_id("nightly")))
    assert _score(conn, "nightly") > time.time()


def _redis_bytes(conn: redis.Redis) -> dict[bytes, bytes | None]:
    """Every key and its DUMP serialization: equal snapshots mean a byte-identical database."""
    return {key: conn.dump(key) for key in conn.scan_iter(count=1000)}


@pytest.mark.parametrize("bad", [
    {"kwargs": {"when": datetime(1979, 5, 27, 7, 32, tzinfo=timezone.utc)}},
    {"interval": 9_000_000_000_000_000_000},
], ids=["toml-date-in-kwargs", "huge-interval"])
def test_registration_is_all_or_nothing(
    conn: redis.Redis, entry: Callable[..., ScheduleEntry], bad: dict[str, object]
) -> None:
    """One entry that cannot be registered (bypassing the file check) leaves the registered set byte-identical:
    the valid new entry before it is not added, the dropped old one is not removed."""
    register_schedules(conn, [entry("old_a"), entry("old_b", cron="0 3 * * *", interval=None)], now=1_000_000.0)
    conn.hset(keys.sched_state("old_b"), "last_status", "completed")
    before = _redis_bytes(conn)
    with pytest.raises(ValueError, match="schedule 'broken': cannot be registered .*nothing was changed"):
        register_schedules(conn, [entry("old_a", interval=120), entry("brand_new"), entry("broken", **bad)],
                           now=2_000_000.0)
    assert _redis_bytes(conn) == before


def test_registration_writes_in_one_transaction(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    """Adds, updates and removals of one registration go out as a single MULTI/EXEC."""
    register_schedules(conn, [entry("a"), entry("b")], now=1_000_000.0)
    admin = redis.Redis(connection_pool=conn.connection_pool)
    admin.config_resetstat()
    result = register_schedules(conn, [entry("a", interval=120), entry("c")], now=2_000_000.0)
    assert (result.added, result.updated, result.removed) == (("c",), ("a",), ("b",))
    calls = command_calls(admin)
    writes = {name: count for name, count in calls.items() if name in WRITE_COMMANDS}
    assert writes.pop("multi") == 1 and writes.pop("exec") == 1
    assert set(writes) <= {"hset", "zadd", "zrem", "del", "hdel", "srem"}
