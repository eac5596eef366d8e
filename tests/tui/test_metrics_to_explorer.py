"""Issue 15 item 19: Enter on a Metrics job type opens the Jobs tab filtered to that task's recent runs and
failures (completed ones included), on a real Redis with jobs a real RQ worker ran."""

from __future__ import annotations

import redis
from rq import Queue, SimpleWorker

from tests import jobs
from tests.tui.fakes import run, wait_until
from tests.tui.test_explorer import label, make
from tui.widgets.explorer_pane import task_query


def test_enter_on_a_job_type_lists_its_runs_in_the_jobs_tab(conn: redis.Redis, redis_url: str) -> None:
    high, default = Queue("high", connection=conn), Queue("default", connection=conn)
    failed = {high.enqueue(jobs.boom, f"import {i} timed out").id for i in range(3)}
    done = {default.enqueue(jobs.say_hello).id for _ in range(2)}
    SimpleWorker([high, default], connection=conn, name="tui-m").work(burst=True)
    pending = {default.enqueue(jobs.ok, i).id for i in range(5)}
    app = make(conn, redis_url)
    boom = f"{jobs.boom.__module__}.{jobs.boom.__qualname__}"

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_until(lambda: app.snapshot is not None, pilot)
            await pilot.pause()
            await pilot.press("3")
            table = app.metrics_pane.metrics_table
            await wait_until(lambda: boom in table.rows, pilot, 10)
            table.move_cursor(row=table.get_row_index(boom))
            await pilot.pause()
            await pilot.press("enter")
            pane = app.explorer_pane
            await wait_until(lambda: app.tabs.active == "explorer" and pane.page is not None and not pane._reading
                             and pane.query_text == task_query(boom), pilot, 10)
            await pilot.pause()
            shown = {str(key.value) for key in pane.table.rows}
            assert shown == failed, "that task's runs only: no say_hello, no pending ok"
            assert not shown & (done | pending)
            assert pane.filter.tasks == (boom,) and pane.filter.include_completed
            assert "of 3" in label(app, "#explorer-header")
            await pilot.press("3")
            hello = f"{jobs.say_hello.__module__}.{jobs.say_hello.__qualname__}"
            await wait_until(lambda: hello in table.rows, pilot)
            table.move_cursor(row=table.get_row_index(hello))
            await pilot.pause()
            await pilot.press("enter")
            await wait_until(lambda: app.tabs.active == "explorer" and pane.query_text == task_query(hello)
                             and not pane._reading, pilot, 10)
            await pilot.pause()
            assert {str(key.value) for key in pane.table.rows} == done, "completed runs are listed too"

    run(body)


def test_the_task_query_quotes_what_the_query_bar_would_split() -> None:
    from tui.data.explorer.query import parse_query

    assert task_query("app.jobs.send") == "task:app.jobs.send completed:yes"
    parsed = parse_query(task_query("odd task name"))
    assert parsed.tasks == ("odd task name",) and parsed.include_completed and not parsed.warnings
