"""Schedule and history rows kept between refreshes change exactly when their hashes do."""

from __future__ import annotations

import redis

from tests.data.reader_support import NOW, put_history, settings
from tui.data.reader import DashboardReader
from worker import keys
from worker.schedules import ScheduleEntry


def test_kept_rows_follow_every_change_a_fresh_reader_sees(conn: redis.Redis) -> None:
    for name in ("nightly", "hourly"):
        entry = ScheduleEntry(name=name, task="tests.jobs.say_hello", cron="0 6 * * *")
        conn.hset(keys.SCHEDULES, name, entry.to_json())
        conn.zadd(keys.RQ_SCHEDULED_JOBS, {keys.template_id(name): NOW + 60})
    for i in range(4):
        put_history(conn, f"h{i}", NOW - i, state="running", ended_at="")
    kept = DashboardReader(conn, settings(now=NOW))
    first = kept.read()
    assert [r.state for r in first.history] == ["running"] * 4 and not any(r.paused for r in first.schedules)

    put_history(conn, "h1", NOW - 1, state="failed", error="ValueError: password=hunter2")
    conn.delete(keys.history_item("h3"))
    conn.sadd(keys.PAUSED, "hourly")
    conn.hset(keys.sched_state("nightly"), mapping={"last_status": "completed", "skipped": 2})
    conn.hset(keys.SCHEDULES, "hourly", b"{not json")
    second = kept.read()
    fresh = DashboardReader(conn, settings(now=NOW)).read()
    assert (second.history, second.schedules) == (fresh.history, fresh.schedules)
    assert [r.state for r in second.history] == ["running", "failed", "running"]
    assert second.history[1].error == "ValueError: password=***"
    rows = {r.name: r for r in second.schedules}
    assert rows["hourly"].paused and rows["hourly"].task == "unreadable"
    assert (rows["nightly"].last_status, rows["nightly"].skipped) == ("completed", 2)
    assert second.history[0] is first.history[0], "an unchanged hash is not parsed again"
