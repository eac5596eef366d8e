"""Profiles in the config file: each bad field is one line naming the file, the profile and the field; flags beat
the profile, which beats the environment; a profile makes read-only the default; secrets never reach a label."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_support import one_error_line, rqtop
from tui.cli_target import build_target
from tui.data.config_file import load_config, load_profiles
from tui.data.settings import Settings, SettingsError
from tui.data.target import Target


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("body", "field"), [
    ('[profile.prod]\nurll = "redis://h/0"\n', "profile 'prod' field 'urll': unknown"),
    ('[profile.prod]\nread_only = "yes"\n', "profile 'prod' field 'read_only': expected true or false"),
    ('[profile.prod]\ncolor = "red; bold"\n', "profile 'prod' field 'color'"),
    ('[profile.prod]\nsentinel = [1, 2]\n', "profile 'prod' field 'sentinel'"),
    ('[profile.prod]\nurl = ""\n', "profile 'prod' field 'url'"),
    ('[profile."prod env"]\nurl = "redis://h/0"\n', "profile 'prod env': a name is"),
    ('profile = 3\n', "field 'profile': expected tables"),
])
def test_a_bad_profile_field_is_named(tmp_path: Path, body: str, field: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(SettingsError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and field in message and "\n" not in message, message


def test_flags_beat_the_profile_which_beats_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, '[profile.prod]\nurl = "rediss://rq@redis.prod:6380/2"\ntls_ca = "/etc/prod-ca.pem"\n'
                           'read_only = true\nrole = "viewer"\ncolor = "#ff8800"\n'
                           '[profile.sentinel]\nsentinel = "s1,s2:26380"\nsentinel_master = "mymaster"\n')
    monkeypatch.setenv("REDIS_URL", "redis://env-host:6379/0")
    monkeypatch.delenv("RQ_REDIS_URL", raising=False)
    profiles = load_profiles(path)
    target, profile = build_target({"profile": "prod"}, profiles)
    assert target.url == "rediss://rq@redis.prod:6380/2" and target.tls_ca == "/etc/prod-ca.pem"
    assert target.source("tls_ca") == f"{path}: profile 'prod' field 'tls_ca'"
    target, _ = build_target({"profile": "prod", "tls_ca": "/tmp/other.pem"}, profiles)
    assert (target.tls_ca, target.source("tls_ca")) == ("/tmp/other.pem", "--tls-ca")
    monkeypatch.setenv("RQTOP_PASSWORD_FILE", "/run/secrets/redis.pw")
    target, _ = build_target({"profile": "prod"}, profiles)
    assert (target.url, target.password_file) == ("rediss://rq@redis.prod:6380/2", "/run/secrets/redis.pw"), \
        "the profile replaces the environment's address, not its password file (how `rqtop serve` hands it over)"
    monkeypatch.delenv("RQTOP_PASSWORD_FILE")
    assert build_target({}, profiles)[0].url == "redis://env-host:6379/0"
    assert build_target({}, profiles)[0].source("url") == "$REDIS_URL"
    sentinel, _ = build_target({"profile": "sentinel"}, profiles)
    assert sentinel.sentinel == ("s1:26379", "s2:26380") and sentinel.url is None
    assert sentinel.label() == "sentinel mymaster via s1:26379,s2:26380 db 0"
    assert profile is not None
    monkeypatch.delenv("RQTOP_READ_ONLY", raising=False)
    settings = Settings.from_env({**load_config(path), **profile.settings_values()})
    assert (settings.read_only, settings.role, settings.profile, settings.profile_color) == (
        True, "viewer", "prod", "#ff8800")


def test_labels_never_carry_the_password() -> None:
    assert Target(url="redis://rq:hunter2@h:6379/0").label() == "redis://rq:***@h:6379/0"
    assert "hunter2" not in Target(url="rediss://:hunter2@h:6380/0", tls_insecure=True).label()
    assert Target(url="rediss://h:6380/0", tls_insecure=True).label() == "rediss://h:6380/0 · TLS NOT VERIFIED"


def test_cli_bad_profile_input_is_one_line(tmp_path: Path) -> None:
    """Unknown profile, an unknown colour, a missing password variable: exit 2, one line naming what to fix."""
    path = write(tmp_path, '[profile.prod]\nurl = "redis://127.0.0.1:1/0"\ncolor = "reddish"\n'
                           '[profile.qa]\nurl = "redis://127.0.0.1:1/0"\npassword_env = "QA_REDIS_PW"\n')
    env = {"RQTOP_CONFIG": str(path)}
    line = one_error_line(rqtop("--profile", "qa", "status", env=env))
    assert line == f"rqtop: error: {path}: profile 'prod' field 'color': 'reddish' is not a colour " \
                   "(a name such as red, green, orange, or #rrggbb)", line
    path.write_text(path.read_text().replace('color = "reddish"\n', ""))
    line = one_error_line(rqtop("--profile", "nope", "status", env=env))
    assert line == "rqtop: error: --profile: no profile named 'nope' (profiles: prod, qa)", line
    line = one_error_line(rqtop("--profile", "qa", "status", env=env))
    assert line == f"rqtop: error: {path}: profile 'qa' field 'password_env': the variable $QA_REDIS_PW is not set"
    line = one_error_line(rqtop("status", env={**env, "RQTOP_PROFILE": "gone"}))
    assert line.startswith("rqtop: error: $RQTOP_PROFILE: no profile named 'gone'"), line


def test_no_sentinel_answering_names_the_sentinel_flag(tmp_path: Path) -> None:
    line = one_error_line(rqtop("--sentinel", "127.0.0.1:1", "--sentinel-master", "mymaster", "status",
                                env={"RQTOP_CONFIG": str(tmp_path / "none.toml")}))
    assert line.startswith("rqtop: error: --sentinel: no master 'mymaster' found; sentinels that did not answer: "
                           ), line
