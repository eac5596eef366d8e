"""Bad input through the real `rqtop` process: one line naming the file, schedule and field (or the flag), exit 2,
and nothing written to Redis (issue 14 items 3, 11, 16, 17, 18)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.cli_support import one_error_line, rqtop
from worker.embedded_redis import EmbeddedRedis
from worker.scheduler import register_schedules
from worker.schedules import load_schedules

GOOD_ENTRY = '[[schedule]]\nname = "{name}"\ntask = "worker.demo_tasks.db_pruning"\ncron = "0 3 * * *"\n'


def _redis_bytes(conn: redis.Redis) -> dict[bytes, bytes | None]:
    """Every key and its DUMP serialization: equal snapshots mean a byte-identical database."""
    return {key: conn.dump(key) for key in conn.scan_iter(count=1000)}


def _entry(extra: str, name: str = "nightly") -> str:
    return GOOD_ENTRY.format(name=name) + extra + "\n"


@pytest.mark.parametrize(("body", "field"), [
    (b"\xff\xfe\x00[[schedule]]\n", "not UTF-8 text"),
    (_entry('priority = ["high"]').encode(), "schedule 'nightly': field 'priority'"),
    (_entry("priority = { level = 1 }").encode(), "schedule 'nightly': field 'priority'"),
    (_entry("interval = 9000000000000000000").encode().replace(b'cron = "0 3 * * *"\n', b""),
     "schedule 'nightly': field 'interval'"),
    (_entry("timeout = 99999999").encode(), "schedule 'nightly': field 'timeout'"),
    (_entry("kwargs = { when = 1979-05-27T07:32:00Z }").encode(), "schedule 'nightly': field 'kwargs.when'"),
    (_entry("kwargs = { day = 1979-05-27, at = 07:32:00 }").encode(), "schedule 'nightly': field 'kwargs.day'"),
    (GOOD_ENTRY.format(name="nightly").replace("0 3 * * *", "0 3 * * * 5").encode(),
     "schedule 'nightly': field 'cron': invalid cron expression '0 3 * * * 5': 6 field(s)"),
    (GOOD_ENTRY.format(name="nightly").replace("0 3 * * *", "*/61 * * * *").encode(),
     "schedule 'nightly': field 'cron': invalid cron expression '*/61 * * * *': minute step '61'"),
    (b"# every schedule is commented out\n# [[schedule]]\n", "no [[schedule]] entries; write 'schedule = []'"),
    (b"", "no [[schedule]] entries"),
], ids=["binary", "priority-list", "priority-table", "interval-huge", "timeout-huge", "kwargs-datetime",
        "kwargs-date-and-time", "cron-six-fields", "cron-step-61", "comment-only", "empty"])
def test_bad_schedules_file_is_one_line_and_registers_nothing(
    body: bytes, field: str, tmp_path: Path, redis_url: str, conn: redis.Redis
) -> None:
    """`schedules check` and `worker` refuse the file with one line naming it as given; the schedules
    registered before (one of which the bad file drops) stay byte-identical."""
    (tmp_path / "conf").mkdir()
    good = tmp_path / "good.toml"
    good.write_text(GOOD_ENTRY.format(name="kept") + GOOD_ENTRY.format(name="dropped"))
    register_schedules(conn, load_schedules(good))
    before = _redis_bytes(conn)
    bad = tmp_path / "conf" / "schedules.toml"
    bad.write_bytes(body)
    line = one_error_line(rqtop("schedules", "check", str(bad)))
    assert line.startswith(f"rqtop: error: {bad}: ") and field in line, line
    line = one_error_line(rqtop("worker", "--schedules", str(bad), "--burst", url=redis_url))
    assert field in line, line
    assert _redis_bytes(conn) == before


def test_explicit_empty_schedule_list_passes_check(tmp_path: Path) -> None:
    """`schedule = []` is the documented way to say "no schedules"."""
    path = tmp_path / "none.toml"
    path.write_text("schedule = []\n")
    result = rqtop("schedules", "check", str(path))
    assert result.returncode == 0, result.stderr
    assert "0 schedules OK" in result.stdout


def test_the_check_error_names_the_path_as_given() -> None:
    """A relative path is echoed relative, as the operator typed it."""
    bad = Path("tests") / "fixtures-do-not-exist.toml"
    line = one_error_line(rqtop("schedules", "check", str(bad)))
    assert line.startswith(f"rqtop: error: {bad}: cannot read file"), line


@pytest.mark.parametrize(("url", "expected"), [
    ("redis://:hunter2@localhost:99999/0", "bad Redis URL 'redis://:***@localhost:99999/0': Port out of range"),
    ("redis://:hunter2@localhost:abc/0?password=hunter2",
     "bad Redis URL 'redis://:***@localhost:abc/0?password=***': Port"),
    ("redis://localhost/abc", "database 'abc' is not a number"),
    ("redis://localhost:6379/0/1", "database '0/1' is not a number"),
    ("redis://localhost:0/0", "port 0"),
], ids=["password-and-port-out-of-range", "password-and-port-not-a-number", "db-not-a-number", "db-path",
        "port-zero"])
def test_bad_url_is_one_line_exit_2(url: str, expected: str) -> None:
    line = one_error_line(rqtop("status", "--url", url))
    assert expected in line, line
    assert "hunter2" not in line


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def plaintext_tcp_redis() -> Iterator[int]:
    """A plaintext redis-server on a TCP port (the shared one listens on a unix socket only)."""
    port = _free_port()
    with EmbeddedRedis(extra_config={"port": str(port), "bind": "127.0.0.1"}):
        yield port


def test_rediss_to_a_plaintext_server_says_tls_failed(plaintext_tcp_redis: int) -> None:
    """The handshake times out against a server that does not speak TLS: say so, not just "Timeout"."""
    line = one_error_line(rqtop("status", "--url", f"rediss://127.0.0.1:{plaintext_tcp_redis}/0"))
    assert "cannot reach Redis" in line and "TLS handshake failed" in line and "may not speak TLS" in line, line


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e308", "3601", "0.1"])
def test_refresh_must_be_finite_and_sane(value: str) -> None:
    line = one_error_line(rqtop(f"--refresh={value}", "status", "--url", "redis://127.0.0.1:1/0"))
    assert "--refresh" in line and "0.2 to 3600" in line, line


@pytest.mark.parametrize("value", ["2", "maybe", "tru"])
def test_read_only_env_is_parsed_strictly(value: str, redis_url: str, conn: redis.Redis) -> None:
    """An unknown RQTOP_READ_ONLY value is an error naming the variable, before any action is sent."""
    before = _redis_bytes(conn)
    line = one_error_line(rqtop("janitor", "--yes", url=redis_url, env={"RQTOP_READ_ONLY": value}))
    assert f"RQTOP_READ_ONLY='{value}'" in line, line
    assert _redis_bytes(conn) == before


@pytest.mark.parametrize("value", ["y", "enabled", "ON", " yes "])
def test_read_only_env_true_words_refuse_actions(value: str, redis_url: str, conn: redis.Redis) -> None:
    before = _redis_bytes(conn)
    line = one_error_line(rqtop("janitor", "--yes", url=redis_url, env={"RQTOP_READ_ONLY": value}))
    assert "refused in read-only mode" in line, line
    assert _redis_bytes(conn) == before


@pytest.mark.parametrize("value", ["", "0", "off", "n", "disabled"])
def test_read_only_env_false_words_allow_actions(value: str, redis_url: str) -> None:
    result = rqtop("janitor", "--yes", url=redis_url, env={"RQTOP_READ_ONLY": value})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("args", [("--read-only", "worker"), ("worker", "--read-only")])
def test_read_only_worker_is_refused(args: tuple[str, ...], redis_url: str, conn: redis.Redis) -> None:
    """A worker writes by nature: --read-only with it is an error, and it never starts."""
    line = one_error_line(rqtop(*args, "--burst", url=redis_url))
    assert "worker" in line and "--read-only" in line, line
    assert conn.dbsize() == 0
