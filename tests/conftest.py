"""Shared fixtures: one real redis-server per test session, an empty database per test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from worker.embedded_redis import EmbeddedRedis


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """Base URL of the server every test talks to: REDIS_URL when set, else the embedded binary."""
    external = os.environ.get("REDIS_URL")
    if external:
        yield external
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
