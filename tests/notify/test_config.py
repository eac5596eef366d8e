"""Bad notification config is one line naming the field, exit 2; the SMTP password is never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_support import one_error_line, rqtop
from tests.notify.servers import SmtpServer, free_port
from worker.notify.config import NotifyConfigError, load_config, smtp_settings
from worker.schedules import ScheduleError, load_schedules

GOOD = """
[[schedule]]
name = "nightly"
task = "tests.jobs.ok"
interval = 3600
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_smtp_url_forms() -> None:
    plain = smtp_settings("smtp://bot%40x.org:pa%3Ass@mail.example:2525?from=rqtop@x.org")
    assert (plain.host, plain.port, plain.user, plain.password, plain.tls, plain.starttls) == (
        "mail.example", 2525, "bot@x.org", "pa:ss", False, False)
    assert plain.sender == "rqtop@x.org" and "pa:ss" not in plain.masked and "pa:ss" not in repr(plain)
    assert smtp_settings("smtps://u:p@mail.example").port == 465
    assert smtp_settings("smtp+starttls://u:p@mail.example").starttls
    assert smtp_settings("smtp://mail.example:587?starttls=1").starttls
    with pytest.raises(NotifyConfigError, match="^RQTOP_SMTP_URL: must be smtp://"):
        smtp_settings("http://mail.example")


@pytest.mark.parametrize(("env", "expected"), [
    ({"RQTOP_ALERT_EMAIL": "ops@", "RQTOP_SMTP_URL": "smtp://h"}, "RQTOP_ALERT_EMAIL: malformed email address"),
    ({"RQTOP_WEBHOOK_URL": "ftp://chat.example/x"}, "RQTOP_WEBHOOK_URL: webhook URL must be http:// or https://"),
    ({"RQTOP_ALERT_EMAIL": "ops@example.com"}, "RQTOP_SMTP_URL: not set"),
    ({"RQTOP_NOTIFY_EMAIL": "me at example"}, "RQTOP_NOTIFY_EMAIL: malformed email address"),
])
def test_bad_environment_names_the_variable(env: dict[str, str], expected: str) -> None:
    with pytest.raises(NotifyConfigError) as caught:
        load_config((), env=env)
    assert str(caught.value).startswith(expected)


def test_schedules_file_notify_fields_are_validated(tmp_path: Path) -> None:
    text = ('[notify]\nemail = "ops@example.com, bad@"\nwebhook = "https://chat.example/x"\n' + GOOD
            + 'notify = "sometimes"\nwebhook = "javascript:alert(1)"\n')
    with pytest.raises(ScheduleError) as caught:
        load_schedules(_file(tmp_path, text))
    assert caught.value.messages == [
        f"{tmp_path / 'schedules.toml'}: [notify]: field 'email': malformed email address 'bad@'",
        f"{tmp_path / 'schedules.toml'}: schedule 'nightly': field 'notify': must be one of failures, all, never, "
        "got 'sometimes'",
        f"{tmp_path / 'schedules.toml'}: schedule 'nightly': field 'webhook': webhook URL must be http:// or "
        "https:// with a host (got javascript)",
    ]


def test_worker_with_a_non_http_webhook_exits_2_with_one_line(tmp_path: Path, redis_url: str) -> None:
    path = _file(tmp_path, GOOD + 'webhook = "file:///etc/passwd"\n')
    line = one_error_line(rqtop("worker", "--schedules", str(path), "--burst", url=redis_url))
    assert "schedule 'nightly': field 'webhook': webhook URL must be http:// or https://" in line


def test_worker_with_a_malformed_address_exits_2_with_one_line(tmp_path: Path, redis_url: str) -> None:
    path = _file(tmp_path, GOOD)
    result = rqtop("worker", "--schedules", str(path), "--burst", url=redis_url,
                   env={"RQTOP_ALERT_EMAIL": "not-an-address", "RQTOP_SMTP_URL": "smtp://127.0.0.1:1"})
    assert "RQTOP_ALERT_EMAIL: malformed email address 'not-an-address'" in one_error_line(result)


def test_worker_with_an_unreachable_smtp_server_exits_2_without_the_password(tmp_path: Path, redis_url: str) -> None:
    path = _file(tmp_path, GOOD)
    url = f"smtp://bot:TopSecret99@127.0.0.1:{free_port()}"
    result = rqtop("worker", "--schedules", str(path), "--burst", url=redis_url,
                   env={"RQTOP_ALERT_EMAIL": "ops@example.com", "RQTOP_SMTP_URL": url})
    line = one_error_line(result)
    assert line.startswith("rqtop: error: RQTOP_SMTP_URL: cannot use SMTP server smtp://bot:***@127.0.0.1:")
    assert "TopSecret99" not in result.stderr + result.stdout


def test_run_now_notify_with_a_malformed_address_exits_2(redis_url: str) -> None:
    line = one_error_line(rqtop("run-now", "nightly", "--notify", "me@", "--yes", url=redis_url))
    assert line == "rqtop: error: --notify: malformed email address 'me@'"


def test_notify_without_a_channel_exits_2(tmp_path: Path, redis_url: str) -> None:
    line = one_error_line(rqtop("notify", "--once", url=redis_url))
    assert "notify: nothing to deliver with" in line


def test_notify_once_and_status(smtp: SmtpServer, redis_url: str) -> None:
    result = rqtop("notify", "--once", url=redis_url, env={"RQTOP_SMTP_URL": smtp.url})
    assert result.returncode == 0 and result.stdout.strip() == "delivered 0 notification(s)", result.stderr
    status = rqtop("notify", "status", url=redis_url)
    assert status.returncode == 0 and status.stdout.startswith("pending 0 · sent 0 · failed attempts 0")
