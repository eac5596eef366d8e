"""The Workers tab's actions driven from keys against a real Redis: C/R/E on the highlighted queue row (queue name
typed), U suspend/resume, K shut down one worker; the queue keys only with the queues table focused; read-only."""

from __future__ import annotations

from typing import Any

import redis
from rq import Queue, Worker
from textual.widgets import Input

from tests import jobs
from tests.rq_support import contents
from tests.tui.fakes import run, wait_until
from tests.tui.test_explorer import make
from tests.tui.test_job_action_keys import _failed
from tui.screens.confirm import ConfirmScreen
from tui.screens.job_confirm import JobConfirmScreen
from tui.screens.pick_list import PickScreen
from worker import audit, keys


async def on_queue(app: Any, pilot: Any, queue: str) -> None:
    """The Workers tab with the queues table focused and its cursor on ``queue``."""
    await wait_until(lambda: app.snapshot is not None, pilot)
    await pilot.pause()
    app.action_show_tab("workers")
    await wait_until(lambda: app.tabs.active == "workers", pilot)
    table = app.workers_pane.queues_table
    await wait_until(lambda: queue in {key.value for key in table.rows}, pilot)
    table.focus()
    table.move_cursor(row=table.get_row_index(queue))
    await pilot.pause()


async def type_and_confirm(app: Any, pilot: Any, text: str) -> None:
    """Type ``text`` in the typed confirmation and press the confirm button."""
    app.screen.query_one("#job-confirm-typed", Input).value = text
    await pilot.click("#confirm")


def test_c_on_a_queue_row_cancels_that_queue_only_after_its_name_is_typed(conn: redis.Redis,
                                                                          redis_url: str) -> None:
    pending = [Queue("default", connection=conn).enqueue(jobs.ok, i).id for i in range(5)]
    other = [Queue("high", connection=conn).enqueue(jobs.ok, i).id for i in range(3)]
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await on_queue(app, pilot, "default")
            assert app.check_action("cancel_pending", ()) is False and app.check_action("cancel_queue", ()) is True
            await pilot.press("C")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            text = str(app.screen.query_one("#confirm-body").render())
            assert "Queue default, pending" in text and "5 job(s) will be acted on" in text
            assert "Type the queue name (default) to confirm." in text
            await type_and_confirm(app, pilot, "high")  # the wrong name confirms nothing
            await pilot.pause(0.2)
            assert isinstance(app.screen, JobConfirmScreen) and conn.llen(keys.rq_queue("default")) == 5
            await type_and_confirm(app, pilot, "default")
            await wait_until(lambda: conn.llen(keys.rq_queue("default")) == 0, pilot)
            app.workers_pane.workers_table.focus()  # C on the other table is not a queue action
            await pilot.pause()
            assert app.check_action("cancel_queue", ()) is False
    run(body)
    assert all(conn.hget(keys.rq_job(job_id), "status") == b"canceled" for job_id in pending)
    assert conn.llen(keys.rq_queue("high")) == len(other)
    assert audit.read(conn, 1)[0].action == "cancel"


def test_r_requeues_the_failed_and_e_empties_a_picked_list(conn: redis.Redis, redis_url: str) -> None:
    failed = [_failed(conn, "high") for _ in range(2)]
    done = Queue("high", connection=conn).enqueue(jobs.ok, 1).id
    conn.lrem(keys.rq_queue("high"), 0, done)
    conn.hset(keys.rq_job(done), "status", "canceled")
    conn.zadd(keys.rq_registry("canceled", "high"), {done: 1})
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await on_queue(app, pilot, "high")
            await pilot.press("R")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            assert "2 job(s) will be acted on" in str(app.screen.query_one("#confirm-body").render())
            await type_and_confirm(app, pilot, "high")
            await wait_until(lambda: conn.llen(keys.rq_queue("high")) == 2, pilot)
            await pilot.press("E")
            await wait_until(lambda: isinstance(app.screen, PickScreen), pilot)
            await pilot.press("escape")  # backing out of the pick changes nothing
            await wait_until(lambda: not isinstance(app.screen, PickScreen), pilot)
            await pilot.press("E")
            await wait_until(lambda: isinstance(app.screen, PickScreen), pilot)
            await pilot.press("down", "down", "down", "enter")  # queued, failed, finished, canceled
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            assert "Queue high, canceled" in str(app.screen.query_one("#confirm-body").render())
            await type_and_confirm(app, pilot, "high")
            await wait_until(lambda: not conn.exists(keys.rq_job(done)), pilot)
    run(body)
    assert all(conn.hget(keys.rq_job(job_id), "status") == b"queued" for job_id in failed)


def test_u_suspends_and_resumes_every_worker_and_k_asks_one_to_shut_down(conn: redis.Redis,
                                                                         redis_url: str) -> None:
    Worker([Queue("default", connection=conn)], connection=conn, name="w-shut").register_birth()
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_until(lambda: app.snapshot is not None, pilot)
            assert app.snapshot is not None and app.snapshot.workers == (), "the Background Jobs tab reads no worker"
            await pilot.pause()
            app.action_show_tab("workers")
            await wait_until(lambda: app.tabs.active == "workers", pilot)
            await wait_until(lambda: app.snapshot is not None and app.snapshot.workers, pilot)
            assert app.snapshot.workers_as_of is None, "the Workers tab read them at once, not at the next refresh"
            await pilot.press("U")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            body = str(app.screen.query_one("#confirm-body").render())
            assert "stops taking new jobs" in body and "(1 listed)" in body, body
            await pilot.press("n")  # back out
            await pilot.pause(0.2)
            assert not conn.exists(keys.RQ_SUSPENDED)
            await pilot.press("U")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            await pilot.press("y")
            await wait_until(lambda: conn.exists(keys.RQ_SUSPENDED), pilot)
            await wait_until(lambda: app.snapshot.suspended, pilot)
            await pilot.press("U")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            assert app.screen._title == "Resume Workers"
            await pilot.press("y")
            await wait_until(lambda: not conn.exists(keys.RQ_SUSPENDED), pilot)
            app.workers_pane.workers_table.focus()
            await pilot.pause()
            assert app.check_action("shutdown_worker", ()) is True
            await pilot.press("K")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            assert "Worker w-shut gets RQ's shutdown command" in str(app.screen.query_one("#confirm-body").render())
            await pilot.press("y")
            await wait_until(lambda: audit.read(conn, 1)[0].action == "shutdown", pilot)
    run(body)
    assert [entry.action for entry in audit.read(conn, 10)].count("suspend") >= 1


def test_read_only_hides_and_refuses_the_workers_tab_actions(conn: redis.Redis, redis_url: str) -> None:
    Queue("default", connection=conn).enqueue(jobs.ok, 1)
    before = contents(conn)
    app = make(conn, redis_url, read_only=True)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await on_queue(app, pilot, "default")
            for name in ("cancel_queue", "requeue_failed", "empty_registry", "toggle_suspend", "shutdown_worker"):
                assert app.check_action(name, ()) is False
            await pilot.press("C", "R", "E", "U", "K")
            await pilot.pause(0.2)
            assert not isinstance(app.screen, (ConfirmScreen, JobConfirmScreen, PickScreen))
    run(body)
    assert contents(conn) == before
