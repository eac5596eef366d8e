"""Shared fixtures: one real redis-server per test session, an empty database per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import redis

from worker.embedded_redis import EmbeddedRedis


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
