"""The job action keys on the Jobs tab, driven from keys against a real Redis: filter, mark, act, confirm; back
out changes nothing; M acts on every matching job; skipped jobs are counted; read-only refuses; on the Jobs tab C
never opens Cancel All Pending; the drawer has the same keys."""

from __future__ import annotations

from typing import Any

import redis
from rq import Queue
from textual.widgets import Button, Input

from tests import jobs
from tests.rq_support import contents
from tests.tui.fakes import run, wait_until
from tests.tui.test_explorer import make, open_tab, populate, query
from tui.screens.confirm import ConfirmScreen
from tui.screens.explorer_detail import ExplorerDetailScreen
from tui.screens.job_confirm import JobConfirmScreen
from worker import audit, keys


def body_text(app: Any) -> str:
    """The open confirmation's body."""
    return str(app.screen.query_one("#confirm-body").render())


def status(conn: redis.Redis, job_id: str) -> str:
    """A job's RQ status ("" when the hash is gone)."""
    return (conn.hget(keys.rq_job(job_id), "status") or b"").decode()


def test_filter_mark_act_confirm_requeues_exactly_the_marked(conn: redis.Redis, redis_url: str) -> None:
    made = populate(conn)
    app = make(conn, redis_url)
    marked: set[str] = set()

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            await query(pilot, pane, "state:failed")
            await pilot.press("space", "space")  # two of the three failed imports
            marked.update(pane.marks)
            assert len(marked) == 2
            await pilot.press("R")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            text = body_text(app)
            assert "The 2 marked job(s):" in text and "2 job(s) will be acted on" in text and "high: 2" in text
            assert app.screen.query_one("#keep", Button).label.plain == "Keep jobs"
            await pilot.click("#confirm")
            await wait_until(lambda: all(status(conn, job_id) == "queued" for job_id in marked), pilot)
            await wait_until(lambda: not pane.marks, pilot)
    run(body)
    left = set(made["failed"]) - marked
    assert [status(conn, job_id) for job_id in left] == ["failed"]
    assert {raw.decode() for raw in conn.lrange(keys.rq_queue("high"), 0, -1)} == marked
    outcome = audit.read(conn, 1)[0]
    assert outcome.action == "rerun" and outcome.phase == "outcome"
    assert all(job_id in outcome.target for job_id in marked) and next(iter(left)) not in outcome.target


def test_backing_out_of_every_key_changes_nothing(conn: redis.Redis, redis_url: str) -> None:
    populate(conn)
    before = contents(conn)
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            await query(pilot, pane, "state:failed")
            await pilot.press("A")
            for key in ("R", "P", "X"):
                await pilot.press(key)
                await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
                await pilot.press("escape")
                await wait_until(lambda: not isinstance(app.screen, JobConfirmScreen), pilot)
            await pilot.press("X")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            await pilot.click("#keep")
            await wait_until(lambda: not isinstance(app.screen, JobConfirmScreen), pilot)
            assert len(pane.marks) == 3  # backing out keeps the marks too
            await query(pilot, pane, "state:pending")
            pane.marks.clear()
            await pilot.press("D")  # dead letter asks for the reason; Esc from the reason backs out
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            assert app.focused is app.screen.query_one("#job-confirm-reason", Input)
            await pilot.press(*"broken", "escape")
            await wait_until(lambda: not isinstance(app.screen, JobConfirmScreen), pilot)
            await pilot.pause(0.2)
    run(body)
    assert contents(conn) == before


def test_jobs_whose_state_does_not_fit_are_skipped_and_counted(conn: redis.Redis, redis_url: str) -> None:
    made = populate(conn)
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            await query(pilot, pane, "queue:high,default")
            pane.marks = dict.fromkeys([made["failed"][0], made["pending"][0], made["pending"][1]])
            await pilot.press("R")  # re-run fits the failed job only
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            text = body_text(app)
            assert "1 job(s) will be acted on" in text and "2 job(s) asked for are left alone" in text
            assert "2 queued" in text
            await pilot.click("#confirm")
            await wait_until(lambda: status(conn, made["failed"][0]) == "queued", pilot)
            await wait_until(lambda: any("re-run: 1 of 1 done" in str(n.message) and "2 left alone" in str(n.message)
                                         for n in app._notifications), pilot)
            await pilot.press("C")  # on a highlighted failed row Cancel does not apply: a toast, no dialog
    run(body)
    assert conn.lrange(keys.rq_queue("default"), 0, 1) == [job_id.encode() for job_id in made["pending"][:2]]


def test_m_marks_every_matching_job_across_pages_and_c_cancels_exactly_them(conn: redis.Redis,
                                                                             redis_url: str) -> None:
    made = populate(conn)
    other = [Queue("low", connection=conn).enqueue(jobs.ok, i).id for i in range(3)]
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            await query(pilot, pane, "queue:default state:pending")
            assert pane.page is not None and pane.page.total == 60 and len(pane.page.rows) == 50
            await pilot.press("M")
            await wait_until(lambda: len(pane.marks) == 60, pilot, 10)
            assert "60 marked" in str(app.query_one("#explorer-header").render())
            Queue("default", connection=conn).enqueue(jobs.ok, "late")  # after M: not in the confirmed set
            await pilot.press("C")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            assert not isinstance(app.screen, ConfirmScreen)
            text = body_text(app)
            assert "Every job matching state:pending queue:default when M was pressed (60 read)" in text
            assert "60 job(s) will be acted on" in text and "default: 60" in text
            assert not app.screen.query("#job-confirm-typed")  # 60 is not above 1,000
            await pilot.click("#confirm")
            await wait_until(lambda: all(status(conn, job_id) == "canceled" for job_id in made["pending"]), pilot, 10)
    run(body)
    assert conn.llen(keys.rq_queue("default")) == 1, "the job queued after M is not touched"
    assert [status(conn, job_id) for job_id in other] == ["queued"] * 3
    assert [status(conn, job_id) for job_id in made["failed"]] == ["failed"] * 3


def test_m_above_1000_matches_asks_for_the_count_typed(conn: redis.Redis, redis_url: str) -> None:
    queue = Queue("bulk", connection=conn)
    ids = [job.id for job in queue.enqueue_many([Queue.prepare_data(jobs.ok, (i,)) for i in range(1001)])]
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            await query(pilot, pane, "queue:bulk")
            await pilot.press("M")
            await wait_until(lambda: len(pane.marks) == 1001, pilot, 20)
            await pilot.press("X")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot, 10)
            assert "1,001 job(s) will be acted on" in body_text(app) and "Type 1001 to confirm." in body_text(app)
            typed = app.screen.query_one("#job-confirm-typed", Input)
            assert app.focused is typed
            await pilot.press(*"1000")
            await pilot.click("#confirm")
            await pilot.pause(0.2)
            assert isinstance(app.screen, JobConfirmScreen) and conn.llen(keys.rq_queue("bulk")) == 1001
            typed.value = "1001"
            await pilot.click("#confirm")
            await wait_until(lambda: conn.llen(keys.rq_queue("bulk")) == 0, pilot, 20)
    run(body)
    assert not any(conn.exists(keys.rq_job(job_id)) for job_id in ids[:5] + ids[-5:])


def test_on_the_jobs_tab_c_cancels_the_highlighted_job_never_all_pending(conn: redis.Redis, redis_url: str) -> None:
    made = populate(conn)
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            for hammer in ("cancel_pending", "fail_active", "janitor"):
                assert app.check_action(hammer, ()) is False
            shown = {binding.action for (_, binding, enabled, _) in app.screen.active_bindings.values() if enabled}
            assert "job_action('cancel')" in shown and not shown & {"cancel_pending", "fail_active", "janitor"}
            await query(pilot, pane, "state:pending")
            highlighted = pane.selected_ids()
            await pilot.press("F", "J")
            await pilot.pause(0.2)
            assert not isinstance(app.screen, ConfirmScreen)
            await pilot.press("C")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            assert "The highlighted job:" in body_text(app) and "1 job(s) will be acted on" in body_text(app)
            await pilot.click("#confirm")
            await wait_until(lambda: status(conn, highlighted[0]) == "canceled", pilot)
            await pilot.press("1")  # on Background Jobs the hammer is back
            await pilot.pause()
            assert app.check_action("cancel_pending", ()) is True
    run(body)
    assert conn.llen(keys.rq_queue("default")) == len(made["pending"]) - 1


def test_read_only_hides_and_refuses_the_keys(conn: redis.Redis, redis_url: str) -> None:
    populate(conn)
    before = contents(conn)
    app = make(conn, redis_url, read_only=True)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            assert pane.check_action("job_action", ("cancel",)) is False
            assert not app.query_one("#explorer-action-hint").display
            await pilot.press("A", "R", "C", "X", "D", "S", "T", "P")
            await pilot.pause(0.3)
            assert not isinstance(app.screen, (JobConfirmScreen, ConfirmScreen))
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ExplorerDetailScreen), pilot)
            assert app.screen.check_action("job_action", ("dismiss",)) is False
            await pilot.press("X", "R")
            await pilot.pause(0.2)
            assert isinstance(app.screen, ExplorerDetailScreen)
    run(body)
    assert contents(conn) == before


def test_the_drawer_has_the_same_action_keys(conn: redis.Redis, redis_url: str) -> None:
    made = populate(conn)
    app = make(conn, redis_url)
    targets: list[str] = []

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            await query(pilot, pane, "state:failed")
            targets.append(target := pane.selected_ids()[0])
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ExplorerDetailScreen), pilot)
            assert "X dismiss" in str(app.screen.query_one("#detail-hint").render())
            await pilot.press("X")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            assert "Irreversible" in body_text(app)
            await pilot.click("#confirm")
            await wait_until(lambda: not conn.exists(keys.rq_job(target)), pilot)
    run(body)
    assert targets[0] in made["failed"] and conn.zcard(keys.rq_registry("failed", "high")) == 2


def test_marked_jobs_are_acted_on_when_the_filtered_page_is_empty(conn: redis.Redis, redis_url: str) -> None:
    made = populate(conn)
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            await query(pilot, pane, "state:failed")
            await pilot.press("space", "space")
            marked = set(pane.marks)
            await query(pilot, pane, "task:no_such_task")  # the marks stay; the page is empty, the table hidden
            assert not pane.page.rows and not pane.table.display and pane.has_focus
            await pilot.press("R")
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
            assert "The 2 marked job(s):" in body_text(app)
            await pilot.click("#confirm")
            await wait_until(lambda: all(status(conn, job_id) == "queued" for job_id in marked), pilot)
            assert [status(conn, job_id) for job_id in set(made["failed"]) - marked] == ["failed"]
    run(body)
