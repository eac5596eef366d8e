"""The dashboard against a real redis-server that dies and comes back: stale data, refusal, reconnection."""

from __future__ import annotations

import time

from rq import Queue

from tests.tui.fakes import run, wait_until
from tui.app import RqtopApp
from tui.data.actions import DashboardActions
from tui.data.connection import connect, mask_url
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.widgets.status_bar import CONNECTED, FAILING
from worker.embedded_redis import EmbeddedRedis


def test_dashboard_survives_redis_restart_and_reconnects_within_2s() -> None:
    server = EmbeddedRedis().start()
    try:
        conn = connect(server.url, timeout=1.0)
        Queue("default", connection=conn).enqueue("worker.demo_tasks.cache_warm")
        settings = Settings(refresh_s=0.5)
        app = RqtopApp(
            reader=DashboardReader(conn, settings),
            actions=DashboardActions(conn, settings),
            settings=settings,
            url_label=mask_url(server.url),
        )

        async def body() -> None:
            async with app.run_test(size=(120, 36)) as pilot:
                await wait_until(lambda: app.connection == CONNECTED and app.snapshot is not None, pilot)
                assert app.snapshot.totals.pending == 1
                server.kill()
                await wait_until(lambda: app.connection == FAILING, pilot, timeout_s=4.0)
                assert app.snapshot is not None and app.snapshot.totals.pending == 1, "last data kept"
                assert app.query_one("#stale-banner").display
                toasts: list[str] = []
                app.notify = lambda message, **_: toasts.append(message)  # type: ignore[method-assign]
                await pilot.press("C")
                assert toasts and "unreachable" in toasts[0].lower()
                await pilot.press("3")
                assert app.tabs.active == "metrics", "keys keep working while Redis is down"
                server.start()
                back = time.monotonic()
                await wait_until(lambda: app.connection == CONNECTED, pilot, timeout_s=4.0)
                assert time.monotonic() - back < 2.0
                assert app.snapshot.totals.pending == 0, "a restarted, empty server is read afresh"

        run(body)
    finally:
        server.stop()
