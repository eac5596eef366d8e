"""The sender delivers the outbox by real SMTP and real HTTP: once each, signed, and nothing lost while SMTP is down."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Callable, Iterator

import pytest
import redis

from tests.notify.servers import Hooks, SmtpServer, free_port, http_server, until
from worker import keys
from worker.dispatch import enqueue_run
from worker.notify import outbox
from worker.notify.config import load_config
from worker.notify.sender import Sender
from worker.rqtop_worker import RqtopSimpleWorker
from worker.schedules import ScheduleEntry


def _runs(conn: redis.Redis, entries: list[ScheduleEntry], notify: str = "") -> list[str]:
    """Enqueue one run of each entry and run them all with a real (in-process) rqtop worker; their job ids."""
    ids = [enqueue_run(conn, e, notify=notify).job_id or "" for e in entries]
    RqtopSimpleWorker(["default"], connection=conn, name="w-send").work(burst=True)
    return ids


@pytest.fixture
def running() -> Iterator[Callable[[Sender], None]]:
    """Start senders in threads (fast polling); all are stopped after the test."""
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(sender: Sender) -> None:
        thread = threading.Thread(target=sender.run_until, args=(stop, 0.05), daemon=True)
        thread.start()
        threads.append(thread)

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=5)


def test_email_content_once_and_secrets_masked(
    conn: redis.Redis, smtp: SmtpServer, entry: Callable[..., ScheduleEntry], running: Callable[[Sender], None],
) -> None:
    leaky = entry("leaky", task="tests.jobs.boom", kwargs={"message": "login failed password=hunter2 at db"})
    config = load_config((leaky,), env={"RQTOP_ALERT_EMAIL": "ops@example.com", "RQTOP_SMTP_URL": smtp.url})
    outbox.write_policies(conn, config.policies)
    (job_id,) = _runs(conn, [leaky])
    running(Sender(conn, config, "s1"))
    assert until(lambda: len(smtp.inbox.to("ops@example.com")) == 1)
    assert until(lambda: conn.xlen(keys.NOTIFY_OUTBOX) == 0)
    message = smtp.inbox.to("ops@example.com")[0]
    body = message.get_payload()
    assert message["Subject"] == "[rqtop] leaky: failed"
    assert job_id in body and "Outcome:  failed" in body and "Attempts: 1" in body and "Worker:   w-send" in body
    assert "Error:    ConnectionError: login failed password=*** at db" in body
    assert "hunter2" not in message.as_string()
    assert outbox.read_status(conn).sent == 1
    threading.Event().wait(0.5)
    assert len(smtp.inbox.messages) == 1


def test_webhook_is_slack_shaped_and_signed(
    conn: redis.Redis, hooks: tuple[Hooks, str], entry: Callable[..., ScheduleEntry],
    running: Callable[[Sender], None],
) -> None:
    record, base = hooks
    nightly = entry("nightly", webhook=base + "/nightly")
    config = load_config((nightly,), env={"RQTOP_WEBHOOK_SECRET": "s3cret"})
    outbox.write_policies(conn, config.policies)
    (job_id,) = _runs(conn, [nightly])
    running(Sender(conn, config, "s1"))
    assert until(lambda: len(record.posts) == 1 and conn.xlen(keys.NOTIFY_OUTBOX) == 0)
    path, headers, body = record.posts[0]
    assert path == "/nightly"
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Rqtop-Signature"] == expected
    document = record.bodies()[0]
    assert document["text"].startswith("[rqtop] nightly: completed")
    assert document["rqtop"]["job_id"] == job_id and document["rqtop"]["state"] == "completed"
    assert headers["X-Rqtop-Delivery"] == document["rqtop"]["id"]


def test_smtp_down_then_back_every_notification_once(
    conn: redis.Redis, entry: Callable[..., ScheduleEntry], running: Callable[[Sender], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = SmtpServer(free_port())
    entries = [entry(f"s{i}") for i in range(5)]
    config = load_config(tuple(entries), env={"RQTOP_ALERT_EMAIL": "ops@example.com", "RQTOP_SMTP_URL": down.url})
    outbox.write_policies(conn, config.policies)
    ids = _runs(conn, entries, notify="me@example.com")
    caplog.set_level(logging.WARNING, logger="rqtop.notify")
    running(Sender(conn, config, "s1"))
    running(Sender(conn, config, "s2"))  # a second sender (another process's) must not double anything
    assert until(lambda: outbox.read_status(conn).failures >= 3, timeout=30)
    status = outbox.read_status(conn)
    assert status.pending == 5 and status.failing == "email" and "email:" in status.last_error
    down.start()
    try:
        assert until(lambda: len(down.inbox.messages) >= 10 and conn.xlen(keys.NOTIFY_OUTBOX) == 0, timeout=60)
        threading.Event().wait(1.0)
        for address in ("ops@example.com", "me@example.com"):
            got = sorted(message["X-Rqtop-Job"] for message in down.inbox.to(address))
            assert got == sorted(ids), address
        assert len(down.inbox.messages) == 10
    finally:
        down.stop()
    assert until(lambda: outbox.read_status(conn).failing == "")
    failing_lines = [r for r in caplog.records if "failing" in r.getMessage()]
    back_lines = [r for r in caplog.records if "works again" in r.getMessage()]
    assert 1 <= len(failing_lines) <= 2 and 1 <= len(back_lines) <= 2  # once per sender and state change
    assert all(r.getMessage().count("failing") == 1 for r in failing_lines)


def test_webhook_down_then_back_every_notification_once(
    conn: redis.Redis, entry: Callable[..., ScheduleEntry], running: Callable[[Sender], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 16: the webhook's server refuses connections for a while (nothing listens on its port), then comes up
    on that port: every notification arrives, none twice, with two senders racing."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    entries = [entry(f"w{i}", webhook=f"{base}/hook") for i in range(4)]
    config = load_config(tuple(entries), env={"RQTOP_WEBHOOK_SECRET": "s3cret"})
    outbox.write_policies(conn, config.policies)
    ids = _runs(conn, entries)
    caplog.set_level(logging.WARNING, logger="rqtop.notify")
    running(Sender(conn, config, "s1"))
    running(Sender(conn, config, "s2"))
    assert until(lambda: outbox.read_status(conn).failures >= 3, timeout=30)
    status = outbox.read_status(conn)
    assert status.pending == 4 and status.failing == "webhook" and "webhook" in status.last_error
    server, record, _ = http_server(port)
    try:
        assert until(lambda: len(record.posts) >= 4 and conn.xlen(keys.NOTIFY_OUTBOX) == 0, timeout=60)
        threading.Event().wait(1.0)  # a duplicate would arrive now
        documents = record.bodies()
        assert sorted(d["rqtop"]["job_id"] for d in documents) == sorted(ids)
        assert len({d["rqtop"]["id"] for d in documents}) == len(documents) == 4, "each delivery id once"
        for _, headers, body in record.posts:
            assert headers["X-Rqtop-Signature"] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    finally:
        server.shutdown()
        server.server_close()
    assert until(lambda: outbox.read_status(conn).failing == "")
    failing_lines = [r for r in caplog.records if "failing" in r.getMessage()]
    assert 1 <= len(failing_lines) <= 2, "logged once per sender and change of state, not per retry"


def test_a_delivered_mark_stops_a_resend(
    conn: redis.Redis, smtp: SmtpServer, entry: Callable[..., ScheduleEntry],
) -> None:
    nightly = entry("nightly")
    config = load_config((nightly,), env={"RQTOP_SMTP_URL": smtp.url})
    _runs(conn, [nightly], notify="me@example.com")
    (note,) = outbox.page(conn)
    conn.set(keys.notify_done(note.entry_id, "email:me@example.com"), "1")  # a crashed sender got this far
    assert Sender(conn, config, "s1").pass_once() == 0
    assert smtp.inbox.messages == [] and conn.xlen(keys.NOTIFY_OUTBOX) == 0
