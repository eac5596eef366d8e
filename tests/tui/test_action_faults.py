"""The dashboard under a Redis fault during an action: a toast naming what Redis said, and the App keeps running."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis

from tests.tui.fakes import run, wait_until
from tui.app import RqtopApp
from tui.data.actions import DashboardActions
from tui.data.connection import connect
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.widgets.status_bar import CONNECTED
from worker import keys
from worker.schedules import ScheduleEntry


def _wrong_type(conn: redis.Redis) -> Callable[[], None]:
    conn.set(keys.AUDIT, "not a stream")
    return lambda: None


def _out_of_memory(conn: redis.Redis) -> Callable[[], None]:
    policy = conn.config_get("maxmemory-policy")["maxmemory-policy"]
    conn.config_set("maxmemory-policy", "noeviction")
    conn.config_set("maxmemory", 1)

    def restore() -> None:
        conn.config_set("maxmemory", 0)
        conn.config_set("maxmemory-policy", policy)

    return restore


@pytest.mark.parametrize(("fault", "said"), [(_wrong_type, "WRONGTYPE"), (_out_of_memory, "maxmemory")])
def test_a_failing_action_is_a_toast_not_a_crash(fault: Callable[[redis.Redis], Callable[[], None]], said: str,
                                                 redis_url: str, conn: redis.Redis) -> None:
    entry = ScheduleEntry(name="nightly", task="tests.jobs.recorded_ok", cron="0 3 * * *")
    conn.hset(keys.SCHEDULES, entry.name, entry.to_json())
    client, settings = connect(redis_url), Settings()
    app = RqtopApp(reader=DashboardReader(client, settings), actions=DashboardActions(client, settings),
                   settings=settings, url_label="test")
    toasts: list[str] = []

    async def body() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_until(lambda: app.snapshot is not None and len(app.snapshot.schedules) == 1, pilot,
                             timeout_s=10)
            app.notify = lambda message, **_: toasts.append(message)  # type: ignore[method-assign]
            restore = fault(conn)
            try:
                await pilot.press("p")
                await wait_until(lambda: bool(toasts), pilot, timeout_s=10)
                await pilot.press("n")
                await wait_until(lambda: len(toasts) == 2, pilot, timeout_s=10)
            finally:
                restore()
            assert app.is_running and app.connection == CONNECTED
            assert toasts[0].startswith("Pause failed: ") and said in toasts[0], toasts
            assert toasts[1].startswith("Run now failed: ") and said in toasts[1], toasts

    run(body)
    assert not conn.sismember(keys.PAUSED, "nightly") and conn.llen(keys.rq_queue("default")) == 0
