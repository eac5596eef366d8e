"""End to end: a real forking ``rqtop worker --mode all`` alerts by email and webhook, once each, with the right
content; ``run-now --notify`` emails that person when that run ends."""

from __future__ import annotations

import hashlib
import hmac
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.cli_support import rqtop
from tests.e2e.procs import WorkerPool, unique
from tests.notify.servers import Hooks, SmtpServer, started_http, until
from worker import keys

SCHEDULES = """
[notify]
email = "ops@example.com"

[[schedule]]
name = "sync_users"
task = "tests.jobs.ok"
interval = 3600
webhook = "{hook}/sync"

[[schedule]]
name = "flaky_export"
task = "tests.jobs.boom"
interval = 3600
notify = "failures"
"""


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hooks() -> Iterator[tuple[Hooks, str]]:
    yield from started_http()


def _run_now(url: str, name: str, *extra: str) -> str:
    result = rqtop("run-now", name, "--yes", *extra, url=url)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_forking_worker_sends_system_per_trigger_and_webhook_alerts_once(
    pool: WorkerPool, conn: redis.Redis, redis_url: str, tmp_path: Path, smtp: SmtpServer,
    hooks: tuple[Hooks, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    record, base = hooks
    path = tmp_path / "schedules.toml"
    path.write_text(SCHEDULES.format(hook=base), encoding="utf-8")
    monkeypatch.setenv("RQTOP_SMTP_URL", smtp.url)
    monkeypatch.setenv("RQTOP_WEBHOOK_SECRET", "team-secret")
    name = unique("notify")
    worker = pool._spawn(name, [sys.executable, "-m", "tui", "worker", "--url", redis_url, "--mode", "all",
                                "--queues", "default", "--schedules", str(path), "--name", name])
    assert until(lambda: conn.hlen(keys.SCHEDULES) == 2 and conn.hlen(keys.NOTIFY_POLICY) == 2, timeout=30), \
        worker.log()
    assert conn.hgetall(keys.NOTIFY_POLICY) == {b"sync_users": b"all", b"flaky_export": b"failures"}

    _run_now(redis_url, "flaky_export")
    assert until(lambda: len(smtp.inbox.to("ops@example.com")) == 1, timeout=30), worker.log()
    _run_now(redis_url, "sync_users", "--notify", "alice@example.com")
    assert until(lambda: len(smtp.inbox.to("alice@example.com")) == 1 and len(record.posts) == 1, timeout=30), \
        worker.log()
    assert until(lambda: conn.xlen(keys.NOTIFY_OUTBOX) == 0)
    time.sleep(2.0)  # anything sent twice would have arrived by now

    failed, synced = smtp.inbox.to("ops@example.com")
    assert failed["Subject"] == "[rqtop] flaky_export: failed"
    failed_body = failed.get_payload()
    assert "Error:    ConnectionError: upstream timed out after 30s" in failed_body
    assert "hunter2" not in failed_body and "second line" not in failed_body
    assert "Attempts: 1" in failed_body and f"Worker:   {worker.name}" in failed_body
    assert synced["Subject"] == "[rqtop] sync_users: completed"
    (mine,) = smtp.inbox.to("alice@example.com")
    assert mine["Subject"] == "[rqtop] sync_users: completed" and mine["X-Rqtop-Job"] == synced["X-Rqtop-Job"]
    assert len(smtp.inbox.messages) == 3  # flaky to ops, sync to ops, sync to alice

    (post,) = record.posts
    hook_path, headers, body = post
    assert hook_path == "/sync"
    assert headers["X-Rqtop-Signature"] == "sha256=" + hmac.new(b"team-secret", body, hashlib.sha256).hexdigest()
    assert record.bodies()[0]["text"].startswith("[rqtop] sync_users: completed")
    status = rqtop("notify", "status", "--json", url=redis_url)
    assert '"pending": 0' in status.stdout and '"sent": 4' in status.stdout, status.stdout
    assert worker.terminate() == 0
