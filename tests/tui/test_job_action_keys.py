"""Pilot tests of the job action keys on a job detail screen, against a real Redis through DashboardActions:
act and confirm, back out (nothing changes), the typed confirmation, read-only and a state the action skips."""

from __future__ import annotations

from typing import Any

import redis
from rq import Queue
from textual.widgets import Button, Input

from tests import jobs
from tests.rq_support import contents as snapshot
from tests.tui.fakes import frozen_settings, loaded, make_app, run, wait_until
from tui.action_table import confirm_job_action, find_job_action
from tui.data.actions import DashboardActions
from tui.screens.job_confirm import JobConfirmScreen
from tui.screens.job_detail import JobFieldsScreen
from worker import audit, keys


def _failed(conn: redis.Redis, queue: str = "default") -> str:
    job = Queue(queue, connection=conn).enqueue(jobs.ok, 1)
    conn.lrem(keys.rq_queue(queue), 0, job.id)
    conn.hset(keys.rq_job(job.id), "status", "failed")
    conn.zadd(keys.rq_registry("failed", queue), {job.id: 9e9})
    return job.id


async def _open(app: Any, pilot: Any, job_id: str) -> JobFieldsScreen:
    await loaded(app, pilot)
    screen = JobFieldsScreen("Job ok", [("Job id", job_id)], False, job_id)
    app.push_screen(screen)
    await pilot.pause()
    return screen


def test_rerun_key_confirms_then_requeues(conn: redis.Redis) -> None:
    job_id = _failed(conn)

    async def body() -> None:
        app = make_app(actions=DashboardActions(conn, frozen_settings(), who="pilot@host"))
        async with app.run_test(size=(120, 36)) as pilot:
            await _open(app, pilot, job_id)
            await pilot.press("R")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            body_text = str(app.screen.query_one("#confirm-body").render())
            assert "1 job(s) will be acted on" in body_text and "default: 1" in body_text
            assert app.screen.query_one("#keep", Button).label.plain == "Keep jobs"
            await pilot.click("#confirm")
            await wait_until(lambda: conn.hget(keys.rq_job(job_id), "status") == b"queued", pilot)
    run(body)
    assert conn.lrange(keys.rq_queue("default"), 0, -1) == [job_id.encode()]
    outcome = audit.read(conn, 1)[0]
    assert outcome.action == "rerun" and outcome.who == "pilot@host" and outcome.target.endswith(job_id)


def test_backing_out_changes_nothing(conn: redis.Redis) -> None:
    job_id = _failed(conn)
    before = snapshot(conn)

    async def body() -> None:
        app = make_app(actions=DashboardActions(conn, frozen_settings(), who="pilot@host"))
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await _open(app, pilot, job_id)
            for key in ("X", "R", "P"):
                await pilot.press(key)
                await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
                await pilot.press("escape")
                await wait_until(lambda: app.screen is screen, pilot)
            await pilot.press("X")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            await pilot.click("#keep")
            await wait_until(lambda: app.screen is screen, pilot)
            await pilot.pause(0.2)
    run(body)
    assert snapshot(conn) == before


def test_a_state_the_action_does_not_apply_to_asks_nothing(conn: redis.Redis) -> None:
    job_id = _failed(conn)
    before = snapshot(conn)

    async def body() -> None:
        app = make_app(actions=DashboardActions(conn, frozen_settings(), who="pilot@host"))
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await _open(app, pilot, job_id)
            await pilot.press("C")
            await wait_until(lambda: any("does not apply" in str(n.message) for n in app._notifications), pilot)
            assert app.screen is screen
    run(body)
    assert snapshot(conn) == before


def test_read_only_hides_and_refuses_the_keys(conn: redis.Redis) -> None:
    job_id = _failed(conn)
    before = snapshot(conn)

    async def body() -> None:
        app = make_app(actions=DashboardActions(conn, frozen_settings(read_only=True)), read_only=True)
        async with app.run_test(size=(120, 36)) as pilot:
            screen = await _open(app, pilot, job_id)
            assert screen.check_action("job_action", ("dismiss",)) is False
            for key in ("X", "R", "C", "S", "D", "T", "P"):
                await pilot.press(key)
            await pilot.pause(0.2)
            assert app.screen is screen
    run(body)
    assert snapshot(conn) == before


def test_the_typed_confirmation_above_1000_jobs(conn: redis.Redis) -> None:
    ids = [_failed(conn, "imports") for _ in range(1001)]
    actions = DashboardActions(conn, frozen_settings(), who="pilot@host")
    plan = actions.plan_queue_job_action("dismiss", "imports", "failed")
    wording = confirm_job_action(find_job_action("dismiss"), plan)
    assert wording.typed == "1001" and "1,001 job(s)" in wording.body
    answers: list[str | None] = []

    async def body() -> None:
        app = make_app(actions=actions)
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(app, pilot)
            app.push_screen(JobConfirmScreen(wording), answers.append)
            await pilot.pause()
            assert app.focused is app.screen.query_one("#job-confirm-typed", Input)
            await pilot.press(*"1000")
            await pilot.click("#confirm")
            await pilot.pause()
            assert answers == [] and isinstance(app.screen, JobConfirmScreen)  # a wrong count confirms nothing
            app.screen.query_one("#job-confirm-typed", Input).value = ""
            await pilot.click("#job-confirm-typed")
            await pilot.press(*"1001")
            await pilot.click("#confirm")
            await wait_until(lambda: answers == [""], pilot)
    run(body)
    assert all(conn.exists(keys.rq_job(job_id)) for job_id in ids)  # the screen only answers; nothing acted yet
