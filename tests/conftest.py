"""Shared fixtures: one real redis-server per test session, an empty database per test."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import redis

from tests.cli_support import with_user
from tests.redis_servers import Certificates, make_certificates, tls_server
from tui import formatting as fmt
from worker.embedded_redis import EmbeddedRedis

ROOT = Path(__file__).resolve().parents[1]
RQ2_VENV_ENV = "RQTOP_RQ2_VENV"
"""Set by ``make test`` to the RQ 2.12 virtualenv it built; then a missing one fails the test instead of skipping."""


@pytest.fixture(autouse=True)
def _times_shown_in_utc() -> Iterator[None]:
    """Every test starts and ends with times shown in UTC: the App and ``--tz`` set one zone per process."""
    fmt.use_zone("UTC")
    yield
    fmt.use_zone("UTC")


def _own_database(url: str) -> str:
    """REDIS_URL moved to a database of this xdist worker's own (db + worker index), so parallel workers
    never flush each other's data."""
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = dict(parse_qsl(parts.query))
        query["db"] = str(int(query.get("db", 0)) + index)
        credentials = f"{parts.netloc}" if parts.netloc else ""
        return f"unix://{credentials}{parts.path}?{urlencode(query)}"
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + index}"))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """Base URL of the server every test talks to: REDIS_URL when set (one database per xdist worker),
    else the embedded binary (one server per xdist worker)."""
    external = os.environ.get("REDIS_URL")
    if external:
        yield _own_database(external)
        return
    with EmbeddedRedis() as server:
        yield server.url


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """URL of a database flushed before and after the test."""
    url = redis_server
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    try:
        yield url
    finally:
        conn.flushdb()
        conn.close()


@pytest.fixture
def conn(redis_url: str) -> Iterator[redis.Redis]:
    """A plain client (bytes responses) on the per-test database."""
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def rq2_bin() -> Path:
    """The bin directory of the RQ 2.12 + rq-scheduler 0.14 virtualenv (``make .venv-rq2/...``, built by
    ``make test``): its ``rq`` and ``rqscheduler`` run real RQ 2 code. Under make (``RQTOP_RQ2_VENV`` set) a
    missing virtualenv fails loudly; a bare pytest run without one skips."""
    configured = os.environ.get(RQ2_VENV_ENV)
    bin_dir = Path(configured or ROOT / ".venv-rq2") / "bin"
    if not (bin_dir / "rq").exists():
        if configured:
            pytest.fail(f"{RQ2_VENV_ENV}={configured} has no bin/rq: run `make test` to build .venv-rq2")
        pytest.skip("no .venv-rq2 (run `make test` to build it)")
    return bin_dir


@pytest.fixture(scope="session")
def rq3_bin() -> Path:
    """The bin directory of the test virtualenv, whose ``rq`` is RQ 3."""
    return Path(sys.executable).parent


@pytest.fixture(params=["rq2_bin", "rq3_bin"])
def rq_bin(request: pytest.FixtureRequest) -> Path:
    """The bin directory of one RQ line: 2.12 or 3.x (a test taking it runs once per line)."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def private_redis() -> Iterator[EmbeddedRedis]:
    """A redis-server of this test's own (its config may be changed, kill/start keep its socket path)."""
    server = EmbeddedRedis().start()
    try:
        yield server
    finally:
        server.stop()


READ_ONLY_USER, READ_ONLY_PASSWORD = f"rqtop_reader_{os.getpid()}", "read-only-pw"


@pytest.fixture
def read_only_url(redis_url: str, conn: redis.Redis) -> Iterator[str]:
    """A URL for an ACL user that may read but not write (MULTI/EXEC and scripts refused too)."""
    conn.execute_command(
        "ACL", "SETUSER", READ_ONLY_USER, "reset", "on", f">{READ_ONLY_PASSWORD}", "~*", "&*",
        "+@read", "+@connection", "+select", "+info", "+ping", "+client",
    )
    try:
        yield with_user(redis_url, READ_ONLY_USER, READ_ONLY_PASSWORD)
    finally:
        conn.execute_command("ACL", "DELUSER", READ_ONLY_USER)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A throwaway CA with server and client certificates, and another CA (module-wide: generating keys takes a
    moment)."""
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def tls_port(request: pytest.FixtureRequest, certs: Certificates,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A TLS-only redis-server that wants the test module's ``PASSWORD``."""
    with tls_server(tmp_path_factory.mktemp("tls"), certs, password=request.module.PASSWORD) as port:
        yield port
