"""The dashboard's reads work for a Redis ACL user that may only read, and `--read-only` refuses actions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from rq import Queue, SimpleWorker

from tests.tui.fakes import run, wait_until
from tui.app import RqtopApp
from tui.data.actions import DashboardActions
from tui.data.connection import connect, mask_url
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.data.status_document import status_document
from tui.widgets.status_bar import CONNECTED
from worker.rqtop_worker import RqtopSimpleWorker
from worker.scheduler import register_schedules
from worker.schedules import load_schedules

ROOT = Path(__file__).resolve().parent.parent


def test_acl_user_really_cannot_write(read_only_url: str) -> None:
    client = connect(read_only_url)
    with pytest.raises(redis.exceptions.NoPermissionError):
        client.set("rqtop:probe", "1")


def test_reader_reads_everything_as_a_read_only_user(read_only_url: str, conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    queue.enqueue("worker.demo_tasks.cache_warm")
    queue.enqueue("worker.demo_tasks.cache_warm")
    SimpleWorker([queue], connection=conn).work(burst=True, max_jobs=1)
    snapshot = DashboardReader(connect(read_only_url), Settings()).read()
    row = next(q for q in snapshot.queues if q.name == "default")
    assert (row.pending, row.completed + row.failed) == (1, 1)


def test_status_json_works_as_a_read_only_user(read_only_url: str, conn: redis.Redis) -> None:
    Queue("high", connection=conn).enqueue("worker.demo_tasks.cache_warm")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "RQ_REDIS_URL")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "tui", "status", "--json", "--url", read_only_url],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["pending"] == 1


def _busy_database(conn: redis.Redis) -> None:
    """Schedules, history, metrics, worker records and every queue state, written by rqtop's own worker."""
    register_schedules(conn, load_schedules(ROOT / "schedules.toml"))
    queue = Queue("default", connection=conn)
    for _ in range(3):
        queue.enqueue("tests.jobs.ok")
    queue.enqueue("tests.jobs.boom")
    RqtopSimpleWorker([queue], connection=conn, name="acl-worker").work(burst=True)
    queue.enqueue("tests.jobs.ok")


def test_a_read_only_user_sees_exactly_what_an_admin_sees(read_only_url: str, conn: redis.Redis) -> None:
    """The reader keeps going past error replies, so a command the ACL refused would show as a silent zero."""
    _busy_database(conn)
    now = time.time()
    admin = status_document(DashboardReader(conn, Settings(clock=lambda: now)).read())
    limited = status_document(DashboardReader(connect(read_only_url), Settings(clock=lambda: now)).read())
    assert admin["schedules"] and admin["history"] and admin["metrics"] and admin["totals"]["failed"] == 1
    assert limited == admin


def test_the_dashboard_runs_as_a_read_only_user(read_only_url: str, conn: redis.Redis) -> None:
    _busy_database(conn)
    client = connect(read_only_url)
    settings = Settings(refresh_s=0.5)
    app = RqtopApp(reader=DashboardReader(client, settings), actions=DashboardActions(client, settings),
                   settings=settings, url_label=mask_url(read_only_url))

    async def body() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_until(lambda: app.snapshot is not None and app.connection == CONNECTED, pilot, timeout_s=10)
            for tab in ("2", "3", "1"):
                await pilot.press(tab)
                await pilot.pause()
            await pilot.press("r")
            await wait_until(lambda: app.snapshot is not None and app.snapshot.totals.pending == 1, pilot)
            assert app.connection == CONNECTED and len(app.snapshot.schedules) == 11

    run(body)
