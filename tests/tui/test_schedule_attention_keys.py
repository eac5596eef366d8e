"""Enter on a schedule row that needs attention, on a real Redis with failed runs from a real RQ worker: the Jobs
tab opens filtered to the task's unresolved failures with the newest failure's drawer open; a refresh keeps the
filter and both tables' selections."""

from __future__ import annotations

import redis
from rq import Queue, SimpleWorker

from tests import jobs
from tests.tui.fakes import run, wait_until
from tests.tui.test_explorer import make
from tui.screens.explorer_detail import ExplorerDetailScreen
from worker import keys
from worker.schedules import ScheduleEntry


def test_enter_on_a_schedule_needing_attention_opens_its_failures(conn: redis.Redis, redis_url: str) -> None:
    entry = ScheduleEntry(name="nightly", task="tests.jobs.boom", interval=3600)
    conn.hset(keys.SCHEDULES, "nightly", entry.to_json())
    conn.hset(keys.SCHEDULES, "calm", ScheduleEntry(name="calm", task="tests.jobs.ok", interval=60).to_json())
    queue = Queue(entry.queue, connection=conn)
    runs = [queue.enqueue(jobs.boom, f"run {i}", job_id=f"{keys.SCHEDULE_RUN_PREFIX}nightly--{i:04x}").id
            for i in range(2)]
    other = queue.enqueue(jobs.boom, "by hand").id  # the same task, not a run: listed by the task filter too
    queue.enqueue(jobs.say_hello)
    SimpleWorker([queue], connection=conn, name="attention-w").work(burst=True)
    newest = conn.zrevrange(keys.rq_registry("failed", queue.name), 0, -1)
    latest_run = next(m.decode() for m in newest if m.decode() in runs)
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_until(lambda: app.snapshot is not None, pilot)
            await pilot.pause()
            pane = app.jobs_pane
            pane.focus_table()
            table = pane.schedules_table
            calm = [key.value for key in table.rows].index("calm")
            table.move_cursor(row=calm)
            await pilot.press("enter")  # nothing to attend to: Enter leaves the tab alone
            await pilot.pause()
            assert app.tabs.active == "jobs"
            table.move_cursor(row=[key.value for key in table.rows].index("nightly"))
            row = pane.selected_schedule()
            assert row is not None and row.failures == 2 and row.latest_failure == latest_run
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ExplorerDetailScreen), pilot, 20)
            assert app.tabs.active == "explorer"
            drawer = app.screen
            assert isinstance(drawer, ExplorerDetailScreen) and drawer.detail.id == latest_run
            assert drawer.detail.state == "failed"
            explorer = app.explorer_pane
            assert explorer.filter.states == ("failed",) and explorer.filter.tasks == ("tests.jobs.boom",)
            await wait_until(lambda: explorer.page is not None and not explorer._reading, pilot, 20)
            assert {r.id for r in explorer.page.rows} == {*runs, other}  # type: ignore[union-attr]
            await pilot.press("escape")
            await wait_until(lambda: not isinstance(app.screen, ExplorerDetailScreen), pilot)
            explorer.table.move_cursor(row=1)
            selected = explorer.table.highlighted_key
            await pilot.press("r")  # a refresh: the filter and the explorer's selection stay
            await wait_until(lambda: not explorer._reading, pilot, 20)
            await pilot.pause()
            assert explorer.filter.tasks == ("tests.jobs.boom",) and explorer.table.highlighted_key == selected
            await pilot.press("1")
            await pilot.pause()
            assert pane.selected_schedule() is not None
            assert pane.selected_schedule().name == "nightly"  # type: ignore[union-attr]

    run(body)
