"""Secrets in descriptions, arguments and error texts are masked wherever the reader shows them."""

from __future__ import annotations

import pytest
import redis
from rq import Queue, SimpleWorker

from tests import jobs
from tests.data.reader_support import put_history, settings
from tui.data.job_meta import read_job_detail
from tui.data.jobs_page import read_jobs_page
from tui.data.masking import decode, error_line, mask, mask_description, mask_error
from tui.data.reader import DashboardReader
from tui.data.settings import DEFAULT_MASK_PATTERNS
from worker.display_text import safe_text

P = DEFAULT_MASK_PATTERNS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tasks.login(user='bob', password='x')", "tasks.login(user='bob', password='***')"),
        ("sync(token=abc123, n=5)", "sync(token=***, n=5)"),
        ('{"api_key": "sk-live-123", "region": "eu"}', '{"api_key": "***", "region": "eu"}'),
        ("{'Secret': b'raw'}", "{'Secret': b'***'}"),
        ("headers Authorization: Bearer eyJhbGciOi.x.y", "headers Authorization: Bearer ***"),
        ("GET /cb?session_cookie=abc&page=2", "GET /cb?session_cookie=***&page=2"),
        ("connect('redis://app:pw@db:6379/0')", "connect('redis://app:***@db:6379/0')"),
        ("tasks.boom('secret-password-123')", "tasks.boom('***')"),
        ("tasks.boom(b\"my-token-1\", 'ok')", "tasks.boom(b\"***\", 'ok')"),
        ("tasks.resize(640, 'photo.jpg')", "tasks.resize(640, 'photo.jpg')"),
        ("login(user='bob', pwd='x', passwd=\"y\")", "login(user='bob', pwd='***', passwd=\"***\")"),
        ("s3(AKIAIOSFODNN7EXAMPLE, 'ASIAY34FZKBOKMUTVV7A')", "s3(***, '***')"),
        ("connect('redis://app:p#a/s?s@w@db:6379/0')", "connect('redis://app:***@db:6379/0')"),
    ],
)
def test_mask_replaces_sensitive_values(text: str, expected: str) -> None:
    assert mask(text, P) == expected


def test_patterns_are_configurable_and_case_insensitive() -> None:
    assert mask("f(ssn='123-45-6789', password='x')", ("ssn",)) == "f(ssn='***', password='x')"
    assert mask("PASSWORD=hunter2", ("password",)) == "PASSWORD=***"
    assert mask("password=hunter2", ()) == "password=hunter2"


def test_error_summaries_are_one_masked_line() -> None:
    traceback = (
        "Traceback (most recent call last):\n  File \"app.py\", line 3, in run\n    connect()\n    ^^^^^^^^^\n"
        "app.errors.UpstreamError: login failed password=hunter2\nsecond line of the message\n"
    )
    assert error_line(traceback) == "UpstreamError: login failed password=hunter2"
    assert mask_error(traceback, P) == "UpstreamError: login failed password=***"
    assert mask_error("KeyError: 'customer_id'", P) == "KeyError: 'customer_id'"
    assert mask_error("ValueError", P) == "ValueError" and mask_error("", P) is None
    long = mask_error("ValueError: " + "x" * 500, P)
    assert long is not None and len(long) == 200 and long.endswith("…")


def test_text_is_decoded_defensively_and_made_printable() -> None:
    assert decode(b"caf\xe9 \x1b[2Jok") == "caf\ufffd ?[2Jok"
    assert safe_text("a\tb\nc\x07") == "a b c?"
    assert mask_description(b"x" * 10_000, P, limit=50) == "x" * 49 + "…"


def test_reader_masks_descriptions_args_and_errors_everywhere(conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    failed = queue.enqueue(jobs.boom_with_secret, secret="hunter2")
    SimpleWorker([queue], connection=conn).work(burst=True)
    pending = queue.enqueue(jobs.say_hello, "tok", description="say_hello(api_token='tok-999')")
    put_history(conn, failed.id, 1.0, state="failed", error="ValueError: upstream refused password=hunter2")

    detail = read_job_detail(conn, failed.id)
    page = read_jobs_page(conn, "default")
    failed_page = read_jobs_page(conn, "default", "failed")
    snapshot = DashboardReader(conn, settings()).read()

    assert detail.description == "tests.jobs.boom_with_secret(secret='***')"
    assert detail.error == "ValueError: upstream refused password=***"
    assert page.jobs[0].id == pending.id and page.jobs[0].description == "say_hello(api_token='***')"
    assert failed_page.jobs[0].description == "tests.jobs.boom_with_secret(secret='***')"
    assert snapshot.history[0].error == "ValueError: upstream refused password=***"
    shown = repr((detail, page, failed_page, snapshot))
    assert "hunter2" not in shown and "tok-999" not in shown
