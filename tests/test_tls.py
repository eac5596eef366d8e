"""TLS against a real redis-server with a throwaway CA: rediss:// with --tls-ca (and a client certificate) reads,
every bad TLS or password input is one line naming the flag or profile field (exit 2), and the password from a
file or a variable is never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_support import one_error_line, rqtop
from tests.redis_servers import Certificates, tls_server
from tui.data.reader import DashboardReader
from tui.data.redis_client import connect_checked
from tui.data.settings import Settings
from tui.data.target import Target, TargetError

PASSWORD = "tls-s3cret-pw"


def _run(*args: str, config: Path | None = None, password: str | None = PASSWORD, **env: str):  # type: ignore[no-untyped-def]
    """rqtop with no URL from the environment, the password in $RQTOP_REDIS_PASSWORD, and its own config file."""
    extra = {"RQTOP_CONFIG": str(config or Path("/nonexistent/rqtop.toml")), **env}
    if password is not None:
        extra["RQTOP_REDIS_PASSWORD"] = password
    result = rqtop(*args, env=extra)
    assert password is None or password not in result.stdout + result.stderr
    return result


def test_rediss_with_ca_reads(tls_port: int, certs: Certificates) -> None:
    """The data layer and `rqtop status` read over TLS with the test CA; the password stays out of every line."""
    target = Target(url=f"rediss://127.0.0.1:{tls_port}/0", tls_ca=str(certs.ca), password_env="RQTOP_TLS_TEST_PW")
    import os

    os.environ["RQTOP_TLS_TEST_PW"] = PASSWORD
    try:
        conn = connect_checked(target)
        conn.sadd("rq:queues", "rq:queue:tls")
        conn.rpush("rq:queue:tls", "job-1", "job-2")
        snapshot = DashboardReader(conn, Settings()).read()
        assert {q.name: q.pending for q in snapshot.queues}["tls"] == 2
    finally:
        del os.environ["RQTOP_TLS_TEST_PW"]
    result = _run("--url", f"rediss://127.0.0.1:{tls_port}/0", "--tls-ca", str(certs.ca), "status")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"rediss://127.0.0.1:{tls_port}/0: 0 active, 2 pending"), result.stdout


def test_insecure_is_loud_and_works_with_an_unknown_ca(tls_port: int, certs: Certificates) -> None:
    """--tls-insecure connects even though the CA does not match, and says on stderr that nothing is checked."""
    result = _run("--url", f"rediss://127.0.0.1:{tls_port}/0", "--tls-insecure", "status")
    assert result.returncode == 0, result.stderr
    assert "WARNING: --tls-insecure: the server's TLS certificate is NOT checked" in result.stderr
    assert Target(url="rediss://h:1/0", tls_insecure=True).label().endswith("TLS NOT VERIFIED")


@pytest.mark.parametrize(("flags", "expected"), [
    (["--tls-ca", "{other_ca}"], "rqtop: error: --tls-ca: the server's certificate is not signed by"),
    (["--tls-ca", "/nonexistent/ca.pem"], "rqtop: error: --tls-ca: cannot read /nonexistent/ca.pem"),
    (["--tls-ca", "{folder}"], "rqtop: error: --tls-ca: cannot read"),
    (["--tls-ca", "{garbage}"], "is not a PEM CA certificate"),
    (["--tls-ca", "{ca}", "--tls-cert", "{garbage}"], "rqtop: error: --tls-cert: "),
    (["--tls-ca", "{ca}", "--tls-key", "{client_key}"], "rqtop: error: --tls-key: a client key needs"),
    (["--tls-ca", "{ca}", "--password-file", "{wrong_password}"],
     "rqtop: error: --password-file: Redis refused the user name or password"),
    (["--tls-ca", "{ca}", "--password-file", "{empty}"], "rqtop: error: --password-file: "),
], ids=["wrong-ca", "missing-ca", "ca-is-a-folder", "ca-not-pem", "bad-client-cert", "key-without-cert",
        "wrong-password", "empty-password-file"])
def test_bad_tls_input_is_one_line(flags: list[str], expected: str, tls_port: int, certs: Certificates,
                                   tmp_path: Path) -> None:
    """Each bad TLS or password input: exit 2, one stderr line naming the flag, no traceback."""
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    wrong = tmp_path / "wrong.pw"
    wrong.write_text("not-the-password\n")
    empty = tmp_path / "empty.pw"
    empty.write_text("\n")
    names = {"other_ca": certs.other_ca, "ca": certs.ca, "folder": tmp_path, "garbage": garbage,
             "client_key": certs.client_key, "wrong_password": wrong, "empty": empty}
    args = [flag.format(**names) for flag in flags]
    line = one_error_line(_run("--url", f"rediss://127.0.0.1:{tls_port}/0", *args, "status",
                               password=None if "--password-file" in flags else PASSWORD))
    assert line.startswith(expected) or expected in line, line


def test_plaintext_url_with_tls_files_and_wrong_scheme(certs: Certificates) -> None:
    """TLS files with a redis:// URL and an http:// URL are refused before any connection."""
    line = one_error_line(_run("--url", "redis://127.0.0.1:1/0", "--tls-ca", str(certs.ca), "status"))
    assert line.startswith("rqtop: error: --tls-ca: TLS files need a rediss:// URL"), line
    line = one_error_line(_run("--url", "http://127.0.0.1:1/0", "status"))
    assert line.startswith("rqtop: error: bad Redis URL 'http://127.0.0.1:1/0': scheme must be"), line


def test_client_certificate(certs: Certificates, tmp_path: Path) -> None:
    """A server that asks for client certificates: --tls-cert/--tls-key get in; without them one line names
    --tls-cert."""
    with tls_server(tmp_path, certs, auth_clients=True) as port:
        url = f"rediss://127.0.0.1:{port}/0"
        ok = _run("--url", url, "--tls-ca", str(certs.ca), "--tls-cert", str(certs.client_cert),
                  "--tls-key", str(certs.client_key), "status", password=None)
        assert ok.returncode == 0, ok.stderr
        with pytest.raises(TargetError, match=r"^--tls-cert: the server closed the TLS connection: it wants a client"):
            connect_checked(Target(url=url, tls_ca=str(certs.ca)))


def test_profile_fields_are_named(tls_port: int, certs: Certificates, tmp_path: Path) -> None:
    """A profile's TLS file is named as the profile's field; the right one connects; an unknown profile is one line."""
    config = tmp_path / "config.toml"
    config.write_text(f'[profile.prod]\nurl = "rediss://127.0.0.1:{tls_port}/0"\ntls_ca = "{certs.other_ca}"\n'
                      f'[profile.good]\nurl = "rediss://127.0.0.1:{tls_port}/0"\ntls_ca = "{certs.ca}"\n'
                      'password_env = "RQTOP_PROD_PW"\n')
    line = one_error_line(_run("--profile", "prod", "status", config=config))
    assert line.startswith(f"rqtop: error: {config}: profile 'prod' field 'tls_ca': the server's certificate"), line
    good = _run("--profile", "good", "status", config=config, password=None, RQTOP_PROD_PW=PASSWORD)
    assert good.returncode == 0 and PASSWORD not in good.stdout + good.stderr, good.stderr
    line = one_error_line(_run("--profile", "stagin", "status", config=config))
    assert line == "rqtop: error: --profile: no profile named 'stagin' (profiles: good, prod)", line
