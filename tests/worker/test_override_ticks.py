"""The scheduler applies run-time edits on its tick (issue 19): once per change, next run recomputed, notify policy
rewritten, an edit that no longer fits noted and the file's definition kept."""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from tests.redis_commands import command_calls
from worker import keys
from worker.overrides import Override, fingerprint
from worker.scheduler import RqtopScheduler, register_effective
from worker.schedules import ScheduleEntry


def _override(conn: redis.Redis, entry: ScheduleEntry, **fields: object) -> None:
    doc = Override(entry.name, "override", dict(fields), base=fingerprint(entry))
    conn.hset(keys.SCHEDULE_OVERRIDES, entry.name, doc.to_json())


def test_a_tick_applies_an_edit_once_and_then_only_reads(
    conn: redis.Redis, entry: Callable[..., ScheduleEntry]
) -> None:
    daily = entry("daily", cron="0 3 * * *", interval=None)
    register_effective(conn, [daily], notify_global=False)
    scheduler = RqtopScheduler(conn, [daily], apply_overrides=True, notify_global=False)
    scheduler.tick()
    _override(conn, daily, cron=None, interval=45, notify="failures")
    before = time.time()
    scheduler.tick()
    applied = ScheduleEntry.from_json(conn.hget(keys.SCHEDULES, "daily") or b"")
    assert (applied.cron, applied.interval, applied.notify) == (None, 45, "failures")
    assert scheduler.entries["daily"] == applied
    score = conn.zscore(keys.RQ_SCHEDULED_JOBS, keys.template_id("daily"))
    assert score is not None and before + 45 <= score <= time.time() + 45
    assert conn.hget(keys.NOTIFY_POLICY, "daily") == b"failures"
    assert conn.hget(keys.FILE_SCHEDULES, "daily") == daily.to_json().encode()

    calls = command_calls(conn)
    scheduler.tick()
    after = command_calls(conn)
    assert after.get("hgetall", 0) - calls.get("hgetall", 0) == 1, "an unchanged edit is one HGETALL per tick"
    assert after.get("hset", 0) == calls.get("hset", 0), "and writes nothing"

    conn.hdel(keys.SCHEDULE_OVERRIDES, "daily")
    scheduler.tick()
    assert conn.hget(keys.SCHEDULES, "daily") == daily.to_json().encode(), "reset: the file's definition again"
    assert conn.hget(keys.NOTIFY_POLICY, "daily") == b"never"


def test_an_edit_that_no_longer_fits_the_file_keeps_the_files_definition(
    conn: redis.Redis, entry: Callable[..., ScheduleEntry]
) -> None:
    """An override's kwargs still fit a new file entry's task; when a later entry's task needs a parameter they do
    not give, the scheduler notes why and runs the file's definition."""
    old = entry("sync", task="tests.jobs.ok", interval=60)
    register_effective(conn, [old])
    _override(conn, old, kwargs={"unknown_arg": 1})
    new = entry("sync", task="tests.jobs.say_hello", interval=60)  # say_hello takes no unknown_arg: still fine
    _, entries = register_effective(conn, [new])
    assert entries[0].kwargs == {"unknown_arg": 1}
    needs = entry("sync", task="tests.jobs.sleep_for", interval=60)  # sleep_for(seconds) needs a parameter
    _, entries = register_effective(conn, [needs])
    assert entries == (needs,)
    error = (conn.hget(keys.OVERRIDE_ERRORS, "sync") or b"").decode()
    assert error == ("run-time override: schedule 'sync': field 'kwargs': task needs parameter(s) seconds that the "
                     "schedule does not give (the file's definition is used)")
