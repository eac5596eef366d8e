"""`rqtop worker` connects as the dashboard does, with the same flags after the subcommand (or before it): a real
worker over TLS with a CA and a password file runs a job, a profile gives it everything, and each bad connection
input is one line naming the flag or profile field, exit 2, before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from rq import Queue

from tests import jobs
from tests.cli_support import one_error_line, rqtop
from tests.redis_servers import Certificates
from tui.data.redis_client import connect_checked
from tui.data.target import Target

PASSWORD = "worker-tls-pw-7f3"
WORKER = ("--mode", "worker", "--burst", "--schedules", "/nonexistent/schedules.toml")


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    """The server's password in a file."""
    path = tmp_path / "redis.pw"
    path.write_text(PASSWORD + "\n")
    return path


def _worker(*args: str, config: Path | None = None):  # type: ignore[no-untyped-def]
    """rqtop with no URL or password from the environment; the password never shows in its output."""
    result = rqtop(*args, env={"RQTOP_CONFIG": str(config or Path("/nonexistent/rqtop.toml"))})
    assert PASSWORD not in result.stdout + result.stderr
    return result


def _queue(port: int, certs: Certificates, name: str) -> Queue:
    conn = connect_checked(Target(url=f"rediss://:{PASSWORD}@127.0.0.1:{port}/0", tls_ca=str(certs.ca)))
    return Queue(name, connection=conn)


def test_worker_over_tls_with_password_file_runs_a_job(tls_port: int, certs: Certificates,
                                                        password_file: Path) -> None:
    """The flags after `worker`: --url rediss://, --tls-ca and --password-file; the job it ran is finished."""
    queue = _queue(tls_port, certs, "tlsworker")
    job = queue.enqueue(jobs.ok, 7)
    result = _worker("worker", "--url", f"rediss://127.0.0.1:{tls_port}/0", "--tls-ca", str(certs.ca),
                     "--password-file", str(password_file), "--queues", "tlsworker", *WORKER)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    job.refresh()
    assert job.get_status() == "finished" and job.return_value() == 7


def test_worker_from_a_profile_before_the_subcommand(tls_port: int, certs: Certificates, password_file: Path,
                                                     tmp_path: Path) -> None:
    """`rqtop --profile prod worker`: URL, CA and password file all from the profile."""
    config = tmp_path / "config.toml"
    config.write_text(f'[profile.prod]\nurl = "rediss://127.0.0.1:{tls_port}/0"\ntls_ca = "{certs.ca}"\n'
                      f'password_file = "{password_file}"\n')
    queue = _queue(tls_port, certs, "profiled")
    job = queue.enqueue(jobs.ok, 3)
    result = _worker("--profile", "prod", "worker", "--queues", "profiled", *WORKER, config=config)
    assert result.returncode == 0, result.stderr
    job.refresh()
    assert job.get_status() == "finished"


@pytest.mark.parametrize(("flags", "expected"), [
    (["--tls-ca", "{other_ca}", "--password-file", "{pw}"],
     "rqtop: error: --tls-ca: the server's certificate is not signed by"),
    (["--tls-ca", "/nonexistent/ca.pem"], "rqtop: error: --tls-ca: cannot read /nonexistent/ca.pem"),
    (["--tls-ca", "{ca}", "--password-file", "/nonexistent/pw"], "rqtop: error: --password-file: cannot read"),
    (["--tls-ca", "{ca}", "--password-file", "{wrong}"],
     "rqtop: error: --password-file: Redis refused the user name or password"),
    (["--profile", "stagin"], "rqtop: error: --profile: no profile named 'stagin'"),
    (["--sentinel", "127.0.0.1:1"], "rqtop: error: --sentinel-master: needed with --sentinel"),
    (["--sentinel", "h:port", "--sentinel-master", "m"], "rqtop: error: --sentinel: 'h:port' is not host:port"),
], ids=["wrong-ca", "missing-ca", "missing-password-file", "wrong-password", "unknown-profile",
        "sentinel-without-master", "bad-sentinel-address"])
def test_bad_worker_connection_input_is_one_line(flags: list[str], expected: str, tls_port: int,
                                                 certs: Certificates, password_file: Path, tmp_path: Path) -> None:
    """Each bad connection input after `worker`: exit 2, one line naming the flag, nothing started."""
    wrong = tmp_path / "wrong.pw"
    wrong.write_text("not-the-password\n")
    names = {"other_ca": certs.other_ca, "ca": certs.ca, "pw": password_file, "wrong": wrong}
    args = [flag.format(**names) for flag in flags]
    line = one_error_line(_worker("worker", "--url", f"rediss://127.0.0.1:{tls_port}/0", *args,
                                  "--queues", "never", *WORKER))
    assert line.startswith(expected), line


def test_bad_worker_url_is_one_line() -> None:
    """A URL of another scheme after `worker` is one line naming it."""
    line = one_error_line(_worker("worker", "--url", "http://127.0.0.1:1/0", *WORKER))
    assert line.startswith("rqtop: error: bad Redis URL 'http://127.0.0.1:1/0': scheme must be"), line
