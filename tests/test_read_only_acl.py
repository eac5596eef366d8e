"""The dashboard's reads work for a Redis ACL user that may only read, and `--read-only` refuses actions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from rq import Queue, SimpleWorker

from tui.data.connection import connect
from tui.data.reader import DashboardReader
from tui.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
USER, PASSWORD = f"rqtop_reader_{os.getpid()}", "read-only-pw"


def with_user(url: str, user: str, password: str) -> str:
    """The same URL with credentials."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{user}:{password}@{host}", parts.path, parts.query, parts.fragment))


@pytest.fixture
def reader_url(redis_url: str, conn: redis.Redis) -> Iterator[str]:
    """A URL for an ACL user limited to read commands."""
    conn.execute_command(
        "ACL", "SETUSER", USER, "reset", "on", f">{PASSWORD}", "~*", "&*",
        "+@read", "+@connection", "+select", "+info", "+ping", "+client",
    )
    try:
        yield with_user(redis_url, USER, PASSWORD)
    finally:
        conn.execute_command("ACL", "DELUSER", USER)


def test_acl_user_really_cannot_write(reader_url: str) -> None:
    client = connect(reader_url)
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.set("rqtop:probe", "1")


def test_reader_reads_everything_as_a_read_only_user(reader_url: str, conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    queue.enqueue("worker.demo_tasks.cache_warm")
    queue.enqueue("worker.demo_tasks.cache_warm")
    SimpleWorker([queue], connection=conn).work(burst=True, max_jobs=1)
    snapshot = DashboardReader(connect(reader_url), Settings()).read()
    row = next(q for q in snapshot.queues if q.name == "default")
    assert (row.pending, row.completed + row.failed) == (1, 1)


def test_status_json_works_as_a_read_only_user(reader_url: str, conn: redis.Redis) -> None:
    Queue("high", connection=conn).enqueue("worker.demo_tasks.cache_warm")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "RQ_REDIS_URL")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "tui", "status", "--json", "--url", reader_url],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["pending"] == 1
