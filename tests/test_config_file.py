"""Issue 15 item 25: the config file keeps theme, timezone, refresh, thresholds and keymap; a bad one is one line
naming the file and the field (exit 2); the picked theme is remembered in state.toml beside it, not in Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis

from tests.cli_support import one_error_line, rqtop
from tests.tui.fakes import frozen_settings, loaded, make_app
from tui.data.config_file import ConfigError, config_path, load_config, remembered_theme, state_path
from tui.data.settings import Settings
from worker import keys
from worker.schedules import ScheduleEntry


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_the_config_file_is_found_with_platformdirs_or_named_by_rqtop_config(monkeypatch: pytest.MonkeyPatch,
                                                                             tmp_path: Path) -> None:
    monkeypatch.delenv("RQTOP_CONFIG", raising=False)
    assert config_path().parts[-2:] == ("rqtop", "config.toml")
    monkeypatch.setenv("RQTOP_CONFIG", str(tmp_path / "other.toml"))
    assert config_path() == tmp_path / "other.toml"
    assert state_path() == tmp_path / "state.toml"


def test_every_field_reaches_the_settings_and_the_environment_wins(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "nord"\ntimezone = "Europe/Paris"\nrefresh = 5\n'
                           '[thresholds]\npending = 100\noffline_after = 30\n[keymap]\n"jobs.janitor" = "ctrl+j"\n')
    monkeypatch.delenv("RQTOP_KEYMAP", raising=False)
    settings = Settings.from_env(load_config(path))
    assert (settings.theme, settings.timezone, settings.refresh_s) == ("nord", "Europe/Paris", 5.0)
    assert (settings.pending_threshold, settings.offline_after_s) == (100, 30.0)
    assert settings.keymap == (("jobs.janitor", "ctrl+j"),)
    assert settings.state_path == tmp_path / "state.toml"
    monkeypatch.setenv("RQTOP_KEYMAP", "view.refresh=f5")
    assert Settings.from_env(load_config(path)).keymap == (("view.refresh", "f5"),)
    assert Settings.from_env(load_config(path), refresh_s=1.0).refresh_s == 1.0  # the CLI flag wins


@pytest.mark.parametrize(("text", "field"), [
    ("refresh = 0", "'refresh'"), ('refresh = "fast"', "'refresh'"), ('timezone = "Mars/Olympus"', "'timezone'"),
    ("colour = 1", "'colour'"), ("[thresholds]\npending = -1", "'thresholds.pending'"),
    ("[thresholds]\nlate = 1", "'thresholds.late'"), ("[keymap]\n'jobs.janitor' = ''", "'keymap.jobs.janitor'"),
    ("read_only = 1", "'read_only'"), ("refresh = [", "not valid TOML"),
    ('notify_email = "not an address"', "'notify_email'"), ('notify_email = "a@x.io, b@x.io"', "'notify_email'"),
    ("notify_email = 3", "'notify_email'"),
])
def test_a_bad_field_is_named_with_the_file(tmp_path: Path, text: str, field: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and field in message and "\n" not in message


def test_a_bad_config_file_is_one_line_and_exit_2(tmp_path: Path, redis_url: str, conn: redis.Redis) -> None:
    path = write(tmp_path, "refresh = -3\n")
    line = one_error_line(rqtop("status", url=redis_url, env={"RQTOP_CONFIG": str(path)}))
    assert str(path) in line and "'refresh'" in line


def test_the_timezone_can_be_the_machines_own(tmp_path: Path) -> None:
    """``timezone = "local"`` means the machine's zone, as ``--tz local`` does (issue 15 item 18)."""
    assert load_config(write(tmp_path, 'timezone = "local"\n'))["timezone"] == "local"


def test_no_config_file_means_defaults(tmp_path: Path) -> None:
    values = load_config(tmp_path / "absent.toml")
    assert Settings.from_env(values).refresh_s == Settings().refresh_s


def test_the_picked_theme_is_remembered_in_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "state.toml"

    async def body() -> None:
        app = make_app(state_path=state, theme="nord")
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            assert app.theme == "nord"
            app.theme = "gruvbox"
            await pilot.pause()

    asyncio.run(body())
    assert remembered_theme(state) == "gruvbox"
    assert load_config(tmp_path / "config.toml")["theme"] == "gruvbox"
    assert frozen_settings().state_path is None  # tests and the default App remember nothing


def test_notify_email_is_the_operators_default_address_for_run_now_notify(tmp_path: Path, redis_url: str,
                                                                         conn: redis.Redis) -> None:
    """Issue 16: the config file's notify_email is where Run now + notify writes; RQTOP_NOTIFY_EMAIL still wins."""
    path = write(tmp_path, 'notify_email = "oncall@example.com"\n')
    assert Settings.from_env(load_config(path)).notify_email == "oncall@example.com"
    entry = ScheduleEntry(name="nightly", task="tests.jobs.say_hello", cron="0 6 * * *")
    conn.hset(keys.SCHEDULES, entry.name, entry.to_json())
    env = {"RQTOP_CONFIG": str(path), "RQTOP_NOTIFY_EMAIL": "", "RQTOP_ALERT_EMAIL": ""}
    done = rqtop("run-now-notify", "nightly", url=redis_url, env=env)
    assert done.returncode == 0, done.stderr
    [job_id] = [line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("job id: ")]
    assert conn.get(keys.notify_trigger(job_id)) == b"oncall@example.com"
    conn.delete(keys.active("nightly"))
    dashed = rqtop("run-now", "nightly", "--notify", "-", "--yes", url=redis_url, env=env)
    assert dashed.returncode == 0, dashed.stderr
    [second] = [line.split(": ", 1)[1] for line in dashed.stdout.splitlines() if line.startswith("job id: ")]
    assert conn.get(keys.notify_trigger(second)) == b"oncall@example.com"
    conn.delete(keys.active("nightly"))
    env_wins = rqtop("run-now-notify", "nightly", url=redis_url, env={**env, "RQTOP_NOTIFY_EMAIL": "me@example.com"})
    [third] = [line.split(": ", 1)[1] for line in env_wins.stdout.splitlines() if line.startswith("job id: ")]
    assert conn.get(keys.notify_trigger(third)) == b"me@example.com"
    unset = rqtop("run-now-notify", "nightly", url=redis_url, env={**env, "RQTOP_CONFIG": str(tmp_path / "none")})
    assert unset.returncode == 2 and "notify_email" in unset.stdout + unset.stderr
