"""Pilot tests: the status bar says where the data on screen came from - a worker's shared snapshot (how old, from
whom) or the dashboard's own direct read (and why) - shortened below 120 columns, absent for a reader that does
not say."""

from __future__ import annotations

import re

import redis
from textual.widgets import Label

from tests.tui.fakes import NOW, FakeReader, at, loaded, make_app, run, sample_snapshot, wait_until
from tui.app import RqtopApp
from tui.data.actions import DashboardActions
from tui.data.models import ReadSource
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.data.shared_snapshot import SharedSnapshotReader, SnapshotPublisher


def _shown(app: RqtopApp) -> tuple[str, str]:
    """The long and the short source label, each "" when hidden."""
    texts = []
    for name in ("#status-source", "#status-source-short"):
        label = app.query_one(name, Label)
        texts.append(str(label.render()) if label.display else "")
    return texts[0], texts[1]


def test_shared_and_direct_sources_are_named_and_age_with_the_clock() -> None:
    shared = sample_snapshot(read_source=ReadSource("shared", "web-1-scheduler-42", at(-0.8)))
    direct = sample_snapshot(read_source=ReadSource("direct", reason="no shared snapshot"))

    async def body() -> None:
        reader = FakeReader([shared])
        app = make_app(reader)
        async with app.run_test(size=(160, 40)) as pilot:
            await loaded(app, pilot)
            assert _shown(app) == ("shared snapshot 0.8 s old from web-1-scheduler-42", "")
            app.settings.clock.now = NOW + 2  # type: ignore[attr-defined]
            app._render_status()
            assert _shown(app)[0] == "shared snapshot 2.8 s old from web-1-scheduler-42"
            reader.snapshots = [direct]
            await pilot.press("r")
            await wait_until(lambda: app.snapshot is not None and app.snapshot.read_source == direct.read_source,
                             pilot)
            await pilot.pause()
            assert _shown(app) == ("direct read (no shared snapshot)", "")
            await pilot.resize_terminal(100, 30)
            await pilot.pause()
            assert _shown(app) == ("", "direct read")

    run(body)


def test_a_reader_that_does_not_say_shows_no_source() -> None:
    async def body() -> None:
        app = make_app(FakeReader([sample_snapshot()]))
        async with app.run_test(size=(160, 40)) as pilot:
            await loaded(app, pilot)
            assert _shown(app) == ("", "")

    run(body)


def test_the_dashboard_on_a_real_redis_says_shared_then_direct_when_the_snapshot_goes(conn: redis.Redis) -> None:
    settings = Settings()
    publisher = SnapshotPublisher(conn, settings, "pub-1", "host-a", 2.0)
    assert publisher.publish_once()
    reader = SharedSnapshotReader(DashboardReader(conn, settings))
    app = RqtopApp(reader, DashboardActions(conn, settings), settings, "redis://test")

    async def body() -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            await loaded(app, pilot)
            assert re.fullmatch(r"shared \d\.\d s old", _shown(app)[1]), _shown(app)
            await pilot.resize_terminal(160, 40)
            await pilot.pause()
            assert re.fullmatch(r"shared snapshot \d\.\d s old from pub-1 on host-a", _shown(app)[0]), _shown(app)
            conn.delete(publisher.key)
            await pilot.press("r")
            await wait_until(lambda: app.snapshot is not None and app.snapshot.read_source is not None
                             and app.snapshot.read_source.kind == "direct", pilot)
            await pilot.pause()
            assert _shown(app) == ("direct read (no shared snapshot)", "")

    run(body)
