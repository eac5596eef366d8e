"""The worker's end-of-job script appends a notification only when the policy or a Run-now address asks."""

from __future__ import annotations

from collections.abc import Callable

import redis
from rq import Queue

from tui.data.status_document import status_document
from worker import keys
from worker.dispatch import enqueue_run
from worker.notify import outbox
from worker.notify.config import load_config
from worker.rqtop_worker import RqtopSimpleWorker
from worker.schedules import ScheduleEntry


def _run_all(conn: redis.Redis, name: str = "w-notify") -> None:
    RqtopSimpleWorker(["default"], connection=conn, name=name).work(burst=True)


def test_policy_failures_appends_a_failed_run_only(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    flaky = entry("flaky", task="tests.jobs.boom", notify="failures")
    fine = entry("fine", notify="failures")
    config = load_config((flaky, fine), env={})
    outbox.write_policies(conn, config.policies)
    enqueue_run(conn, flaky)
    enqueue_run(conn, fine)
    _run_all(conn)
    notes = outbox.page(conn)
    assert [(n.schedule, n.state) for n in notes] == [("flaky", "failed")]
    note = notes[0]
    assert note.error == "ConnectionError: upstream timed out after 30s"
    assert note.system and not note.to
    assert note.attempts == 1 and note.worker == "w-notify" and note.task == "tests.jobs.boom"
    assert note.duration_s is not None and note.duration_s >= 0


def test_policy_all_and_never(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    loud, quiet = entry("loud", notify="all"), entry("quiet", notify="never")
    outbox.write_policies(conn, load_config((loud, quiet), env={}).policies)
    enqueue_run(conn, loud)
    enqueue_run(conn, quiet)
    _run_all(conn)
    assert [(n.schedule, n.state) for n in outbox.page(conn)] == [("loud", "completed")]


def test_global_alert_address_means_all_unless_a_schedule_says_otherwise(entry: Callable[..., ScheduleEntry]) -> None:
    env = {"RQTOP_ALERT_EMAIL": "ops@example.com", "RQTOP_SMTP_URL": "smtp://127.0.0.1:2525"}
    config = load_config((entry("a"), entry("b", notify="failures")), env=env)
    assert config.policies == {"a": "all", "b": "failures"}
    assert load_config((entry("a"), entry("c", webhook="https://chat.example/x")), env={}).policies == {
        "a": "never", "c": "all"}


def test_run_now_notify_appends_for_that_run_only(conn: redis.Redis, entry: Callable[..., ScheduleEntry]) -> None:
    nightly = entry("nightly")
    outbox.write_policies(conn, load_config((nightly,), env={}).policies)  # policy never: no system alert
    first = enqueue_run(conn, nightly, notify="me@example.com")
    assert conn.get(keys.notify_trigger(first.job_id or "")) == b"me@example.com"
    _run_all(conn)
    enqueue_run(conn, nightly)  # a second run without the request
    _run_all(conn)
    notes = outbox.page(conn)
    expected = [(first.job_id, "me@example.com", False, "completed")]
    assert [(n.job_id, n.to, n.system, n.state) for n in notes] == expected
    assert conn.exists(keys.notify_trigger(first.job_id or "")) == 0


def test_ad_hoc_jobs_and_retries_append_nothing(conn: redis.Redis) -> None:
    Queue("default", connection=conn).enqueue("tests.jobs.boom")
    _run_all(conn)
    assert conn.xlen(keys.NOTIFY_OUTBOX) == 0


def test_the_dashboard_reads_the_outbox_counts_without_writing(conn: redis.Redis, redis_url: str) -> None:
    from tests.data.reader_support import settings
    from tui.data.reader import DashboardReader
    from tui.widgets.jobs_pane import notify_text

    reader = DashboardReader(redis.Redis.from_url(redis_url), settings())
    assert notify_text(reader.read()) == ""
    conn.xadd(keys.NOTIFY_OUTBOX, {"job_id": "j1"})
    conn.hset(keys.NOTIFY_STATUS, mapping={"failures": 3, "failing": "email"})
    snapshot = reader.read()
    assert (snapshot.notify.pending, snapshot.notify.failures, snapshot.notify.failing) == (1, 3, "email")
    expected = "Notifications: 1 waiting · 3 failed attempts · ✗ email failing (rqtop notify status)"
    assert notify_text(snapshot) == expected
    assert status_document(snapshot)["notify"] == {"pending": 1, "failures": 3, "failing": "email"}
