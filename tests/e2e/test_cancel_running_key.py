"""The job detail's Cancel running key (K) against a real Redis and a real forking rqtop worker running a job that
checks ``is_cancelled()``: backing out changes nothing; confirming (here from the palette entry) ends the job as
canceled."""

from __future__ import annotations

import uuid
from typing import Any

import redis
from rq import Queue
from textual.command import CommandPalette
from textual.widgets import Button, OptionList, Static

from tests import jobs
from tests.e2e.procs import WorkerPool
from tests.tui.fakes import FakeReader, make_app, run, wait_until
from tests.waiting import wait_for
from tui.action_table import JOB_ACTIONS
from tui.data.actions import DashboardActions
from tui.data.explorer.attempts import AttemptHistory
from tui.data.job_meta import read_job_detail
from tui.data.settings import Settings
from tui.screens.explorer_detail import ExplorerDetailScreen
from tui.screens.job_confirm import JobConfirmScreen
from worker import audit, keys


def _status(conn: redis.Redis, job_id: str) -> bytes | None:
    """RQ's status field of the job."""
    return conn.hget(keys.rq_job(job_id), "status")  # type: ignore[return-value]


def test_k_or_its_palette_entry_confirms_then_the_checkpointing_job_ends_canceled(conn: redis.Redis,
                                                                                pool: WorkerPool) -> None:
    pool.rqtop("cancel-key")
    release = f"never:{uuid.uuid4().hex}"
    job = Queue("default", connection=conn).enqueue(jobs.report_until_released, release, 200, 120.0)  # runs 2 min
    wait_for(lambda: conn.exists(keys.progress(job.id)), 15, "the job to run and report")
    settings = Settings()
    detail = read_job_detail(conn, job.id, settings.mask_rules)
    assert detail.status == "started"
    actions = DashboardActions(conn, settings, who="pilot")

    async def body() -> None:
        app = make_app(FakeReader(), actions=actions)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = ExplorerDetailScreen(detail, AttemptHistory(), settings.clock())
            app.push_screen(screen)
            await pilot.pause()
            hint = str(screen.query_one("#detail-hint").render())
            assert "K cancel-running" in hint, hint
            await pilot.press("K")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot, 10)
            body_text = str(app.screen.query_one("#confirm-body", Static).render())
            assert "runs to completion and is then marked canceled" in body_text, body_text
            assert "1 job(s)" in body_text
            await pilot.press("escape")  # back out: nothing changes
            await wait_until(lambda: app.screen is screen, pilot, 10)
            await pilot.pause(0.5)
            assert _status(conn, job.id) == b"started" and not conn.exists(keys.cancel_flag(job.id))
            await pilot.press("ctrl+p")  # the same action from the palette this time
            await wait_until(lambda: isinstance(app.screen, CommandPalette), pilot, 10)
            await pilot.press(*"cancel running")
            options = app.screen.query_one(OptionList)

            def titles() -> list[str]:
                return [str(options.get_option_at_index(i).prompt).splitlines()[0] for i in range(options.option_count)]

            await wait_until(lambda: "job: Cancel running (K)" in titles(), pilot, 10)
            await pilot.pause(0.3)
            assert titles()[0] == "job: Cancel running (K)", titles()
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot, 10)
            app.screen.query_one("#confirm", Button).press()
            await wait_until(lambda: _status(conn, job.id) == b"canceled", pilot, 15)

    run(body)
    assert conn.zscore(keys.rq_registry("canceled", "default"), job.id) is not None, "in RQ's canceled registry"
    entries = [entry for entry in audit.read(conn) if entry.action == "cancel_running"]
    assert entries and entries[0].counts.get("requested") == 1, "the confirmed cancel is audited with its count"


def test_k_is_offered_only_on_running_jobs_and_listed_in_the_palette() -> None:
    from tests.tui.fakes import FakeActions

    async def body() -> None:
        app = make_app(FakeReader(), actions=FakeActions())
        async with app.run_test(size=(120, 40)) as pilot:
            from tui.screens.job_detail import JobActionCommands, JobFieldsScreen

            done = JobFieldsScreen("Job x", [("Job id", "x")], False, "x", running=False)
            app.push_screen(done)
            await pilot.pause()
            assert done.check_action("job_action", ("cancel_running",)) is False
            assert "cancel-running" not in str(done.query_one("#detail-hint").render())
            done.dismiss(None)
            await pilot.pause()
            running = JobFieldsScreen("Job y", [("Job id", "y")], False, "y", running=True)
            app.push_screen(running)
            await pilot.pause()
            provider: Any = JobActionCommands(running)
            titles = [title for title, _, _ in provider._available()]
            assert "job: Cancel running (K)" in titles
            assert len(titles) == len(JOB_ACTIONS)

    run(body)
