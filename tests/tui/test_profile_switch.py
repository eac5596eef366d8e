"""The profile switcher against two real Redis servers: ctrl+o (and the palette entry) reconnects to another
profile without a restart; the status bar shows the profile's name in its colour; a read-only profile hides the
actions; a profile that cannot connect leaves the current connection in place with one error toast."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.tui.fakes import run, wait_until
from tui.app import RqtopApp
from tui.cli import settings_for
from tui.commands import DashboardCommands
from tui.data.config_file import load_profiles
from tui.data.redis_client import connect_checked
from tui.screens.profiles import ProfileScreen
from tui.sessions import ProfileSessions
from tui.widgets.status_bar import CONNECTED
from worker.embedded_redis import EmbeddedRedis


@pytest.fixture
def second_redis() -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis().start()
    try:
        yield server
    finally:
        server.stop()


def _plant(url: str, queue: str, jobs: int) -> None:
    conn = redis.Redis.from_url(url)
    conn.sadd("rq:queues", f"rq:queue:{queue}")
    conn.rpush(f"rq:queue:{queue}", *(f"{queue}-{n}" for n in range(jobs)))
    conn.close()


def _queues(app: RqtopApp) -> dict[str, int]:
    return {q.name: q.pending for q in app.snapshot.queues} if app.snapshot is not None else {}


def test_ctrl_o_switches_profile_without_restart(redis_url: str, second_redis: EmbeddedRedis, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """staging -> prod: the other server's queues appear, the name shows in red, actions are hidden (prod is
    read-only by default), the role is carried; then a broken profile keeps prod connected."""
    _plant(redis_url, "staging-q", 2)
    _plant(second_redis.url, "prod-q", 5)
    config = tmp_path / "config.toml"
    config.write_text(f'[profile.staging]\nurl = "{redis_url}"\ncolor = "green"\n'
                      f'[profile.prod]\nurl = "{second_redis.url}"\nread_only = true\ncolor = "red"\n'
                      'role = "viewer"\ntheme = "nord"\n'
                      '[profile.broken]\nurl = "redis://127.0.0.1:1/0"\n')
    monkeypatch.setenv("RQTOP_CONFIG", str(config))
    monkeypatch.delenv("RQTOP_READ_ONLY", raising=False)
    profiles = load_profiles()
    sessions = ProfileSessions(profiles, lambda profile, target: settings_for(profile, target, False, 0.5))
    first = sessions.open("staging")
    app = RqtopApp(first.reader, first.actions, first.settings, first.url_label, profiles=sessions)
    toasts: list[tuple[str, str]] = []

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(lambda: _queues(app) == {"staging-q": 2}, pilot, timeout_s=15)
            assert str(app.query_one("#status-profile").render()) == "staging"
            assert not app.query_one("#status-badge").display
            assert app.check_action("cancel_pending", ()) is not False
            titles = [hit.text for hit in [h async for h in DashboardCommands(app.screen).discover()]]
            assert "app: Switch profile" in titles
            app.notify = lambda message, severity="information", **_: toasts.append(  # type: ignore[method-assign,assignment]
                (message, severity))
            await pilot.press("ctrl+o")
            await wait_until(lambda: isinstance(app.screen, ProfileScreen), pilot, timeout_s=15)
            await pilot.press("down", "enter")  # staging is highlighted: one down is prod
            await wait_until(lambda: app.settings.profile == "prod" and _queues(app) == {"prod-q": 5}, pilot,
                             timeout_s=15)
            assert app.connection == CONNECTED
            profile_label = app.query_one("#status-profile")
            assert str(profile_label.render()) == "prod"
            assert profile_label.styles.background.rgb == (255, 0, 0)
            assert app.query_one("#status-badge").display, "prod is read-only by default"
            assert app.check_action("cancel_pending", ()) is False
            assert (app.settings.role, app.theme) == ("viewer", "nord")
            await pilot.press("ctrl+o")
            await wait_until(lambda: isinstance(app.screen, ProfileScreen), pilot, timeout_s=15)
            await pilot.press("down", "enter")  # prod is highlighted: one down is broken
            await wait_until(lambda: any(severity == "error" for _, severity in toasts), pilot, timeout_s=15)
            error = next(text for text, severity in toasts if severity == "error")
            assert "cannot reach Redis at redis://127.0.0.1:1/0" in error and "Still connected" in error
            assert app.settings.profile == "prod" and _queues(app) == {"prod-q": 5}
            await pilot.pause(0.6)
            assert app.connection == CONNECTED

    run(body)
    # the connection switched away from is closed; the current one still answers
    assert connect_checked(profiles["prod"].target).ping()


def test_no_switch_while_an_action_awaits_its_confirmation() -> None:
    """ctrl+o while a destructive action is mid-flow says why and opens no switcher (the action's connection
    must not be closed under it)."""
    from tests.tui.test_snapshots_profiles import prod_app

    app = prod_app()
    toasts: list[str] = []

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_until(lambda: app.snapshot is not None, pilot, timeout_s=15)
            app.notify = lambda message, **_: toasts.append(message)  # type: ignore[method-assign]
            app._flow_busy = True
            await pilot.press("ctrl+o")
            await pilot.pause()
            assert not isinstance(app.screen, ProfileScreen)
            assert toasts == ["An action is running: switch profile once it has finished."]
            app._flow_busy = False
            await pilot.press("ctrl+o")
            await wait_until(lambda: isinstance(app.screen, ProfileScreen), pilot, timeout_s=15)

    run(body)
