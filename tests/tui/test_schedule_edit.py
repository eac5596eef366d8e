"""The schedule edit form (issue 19): E opens it on the highlighted schedule, Save checks the fields as the file
would, Reset to file, read-only; snapshots of the form and of overridden rows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Input, Select, Static

from tests.tui.fakes import SCHEDULES, FakeActions, FakeReader, loaded, make_app, sample_snapshot, wait_until
from tui.screens.confirm import ConfirmScreen
from tui.screens.schedule_edit import ScheduleEditScreen, parse_kwargs
from tui.widgets.jobs_pane import JobsPane

SMALL = (80, 24)
WIDE = (120, 36)

EDITED = (
    replace(SCHEDULES[0], override="overridden", timeout_s=300,
            override_diff=('cron: "*/15 * * * *" -> "*/5 * * * *"', "timeout: 120 -> 300")),
    replace(SCHEDULES[1], override="overridden", file_changed=True, notify="failures",
            override_diff=('cron: "0 4 * * *" -> "0 3 * * *"',)),
    replace(SCHEDULES[2], override="overridden",
            override_error="run-time override: schedule 'cache_warm': field 'kwargs': task needs parameter(s) pool "
                           "that the schedule does not give (the file's definition is used)"),
    SCHEDULES[3],
    replace(SCHEDULES[4], override="run-time"),
)


def _app(actions: FakeActions | None = None, read_only: bool = False) -> Any:
    return make_app(FakeReader([sample_snapshot(schedules=EDITED)]), actions=actions, read_only=read_only)


async def _open(app: Any, pilot: Pilot[Any], row: int = 0) -> ScheduleEditScreen:
    """Highlight schedule ``row``, press E and wait for the form."""
    await loaded(app, pilot)
    table = app.query_one(JobsPane).schedules_table
    table.focus()
    table.move_cursor(row=row)
    await pilot.press("E")
    await wait_until(lambda: isinstance(app.screen, ScheduleEditScreen), pilot)
    assert isinstance(app.screen, ScheduleEditScreen)
    return app.screen


def _run(body: Any) -> None:
    import asyncio

    asyncio.run(body())


def test_save_sends_only_the_changed_fields_of_the_highlighted_schedule() -> None:
    actions = FakeActions()
    app = _app(actions)

    async def body() -> None:
        async with app.run_test(size=WIDE) as pilot:
            form = await _open(app, pilot, row=0)
            form.query_one("#cron", Input).value = ""
            form.query_one("#interval", Input).value = "90"
            form.query_one("#kwargs", Input).value = "{ pool = 'eu', dry_run = true }"
            await pilot.press("ctrl+s")
            await wait_until(lambda: bool(actions.called("set_schedule")), pilot)
            assert actions.called("set_schedule") == [
                ("catalog_sync", {"cron": None, "interval": 90, "kwargs": {"pool": "eu", "dry_run": True}})]

    _run(body)


def test_a_bad_field_shows_the_file_message_and_sends_nothing() -> None:
    actions = FakeActions()
    app = _app(actions)

    async def body() -> None:
        async with app.run_test(size=WIDE) as pilot:
            form = await _open(app, pilot)
            form.query_one("#cron", Input).value = "*/61 * * * *"
            await pilot.press("ctrl+s")
            await pilot.pause()
            error = str(form.query_one("#edit-error", Static).render())
            assert error == ("run-time override: schedule 'catalog_sync': field 'cron': invalid cron expression "
                             "'*/61 * * * *': minute step '61' is out of range 1-59")
            form.query_one("#cron", Input).value = "*/5 * * * *"
            form.query_one("#interval", Input).value = "ten"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert "field 'interval': must be a whole number, got 'ten'" in str(
                form.query_one("#edit-error", Static).render())
            assert app.screen is form and not actions.calls
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, ScheduleEditScreen) and not actions.calls

    _run(body)


def test_reset_to_file_only_for_an_overridden_schedule() -> None:
    actions = FakeActions()
    app = _app(actions)

    async def body() -> None:
        async with app.run_test(size=WIDE) as pilot:
            form = await _open(app, pilot, row=3)  # soft_delete_cleanup: as the file says
            assert form.query_one("#reset", Button).disabled
            await pilot.press("escape")
            await pilot.pause()
            form = await _open(app, pilot, row=1)
            assert not form.query_one("#reset", Button).disabled
            assert "FILE CHANGED" in str(form.query_one("#edit-state", Static).render())
            form.query_one("#reset", Button).press()
            await wait_until(lambda: bool(actions.called("reset_schedule")), pilot)
            assert actions.called("reset_schedule") == ["nightly_report"]

    _run(body)


def test_read_only_refuses_the_form() -> None:
    actions = FakeActions()
    app = _app(actions, read_only=True)

    async def body() -> None:
        async with app.run_test(size=WIDE) as pilot:
            await loaded(app, pilot)
            await pilot.press("E")
            await pilot.pause()
            assert not isinstance(app.screen, ScheduleEditScreen) and not actions.calls

    _run(body)


def test_kwargs_take_json_or_a_toml_inline_table() -> None:
    assert parse_kwargs('{"a": [1, 2]}') == {"a": [1, 2]}
    assert parse_kwargs("{ a = 1, b = 'x' }") == {"a": 1, "b": "x"}
    for bad in ("[1]", "{ a = }"):
        try:
            parse_kwargs(bad)
        except ValueError as exc:
            assert str(exc).startswith("field 'kwargs': ")
        else:
            raise AssertionError(bad)


def _form(row: int) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        form = await _open(pilot.app, pilot, row)
        for field in form.query(Input):
            field.cursor_blink = False  # a blinking cursor would make the snapshot depend on timing
        await pilot.pause()

    return run_before


def _rows() -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot.app, pilot)
        await pilot.pause()

    return run_before


class TestSnapshots:
    def test_edit_form_at_80x24(self, snap_compare: Any) -> None:
        """The form prefilled from an overridden schedule whose file changed, with its diff; fits 80x24."""
        assert snap_compare(_app(), terminal_size=SMALL, run_before=_form(1))

    def test_edit_form_wide(self, snap_compare: Any) -> None:
        """The form of an overridden schedule with two changed fields."""
        assert snap_compare(_app(), terminal_size=WIDE, run_before=_form(0))

    def test_add_form_at_80x24(self, snap_compare: Any) -> None:
        """The empty form for a run-time schedule: name and a task from the file's tasks; fits 80x24."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await loaded(pilot.app, pilot)
            await pilot.press("A")
            await wait_until(lambda: isinstance(pilot.app.screen, ScheduleEditScreen), pilot)
            for field in pilot.app.screen.query(Input):
                field.cursor_blink = False
            await pilot.pause()

        assert snap_compare(_app(), terminal_size=SMALL, run_before=run_before)

    def test_overridden_rows_at_80x24(self, snap_compare: Any) -> None:
        """Without the source column an edited row keeps a ✎ beside its queue."""
        assert snap_compare(_app(), terminal_size=SMALL, run_before=_rows())

    def test_overridden_rows(self, snap_compare: Any) -> None:
        """Rows say overridden, file changed, not applied and run-time under the source."""
        assert snap_compare(_app(), terminal_size=(160, 40), run_before=_rows())


def test_add_a_run_time_schedule_from_a_file_task() -> None:
    """A (no highlighted schedule needed): name, a task picked from the file's tasks, timing; the whole table."""
    actions = FakeActions()
    app = _app(actions)

    async def body() -> None:
        async with app.run_test(size=WIDE) as pilot:
            await loaded(app, pilot)
            await pilot.press("A")
            await wait_until(lambda: isinstance(app.screen, ScheduleEditScreen), pilot)
            form = app.screen
            assert isinstance(form, ScheduleEditScreen) and form.creating
            assert "worker.demo_tasks.invoice_retry" not in form.tasks, "a run-time schedule's task is not offered"
            assert "worker.demo_tasks.catalog_sync" in form.tasks
            form.query_one("#name", Input).value = "Bad Name"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert "field 'name': 'Bad Name' must be 1-64 of a-z, 0-9 and _" in str(
                form.query_one("#edit-error", Static).render())
            form.query_one("#name", Input).value = "adhoc"
            form.query_one("#task", Select).value = "worker.demo_tasks.catalog_sync"
            form.query_one("#interval", Input).value = "600"
            await pilot.press("ctrl+s")
            await wait_until(lambda: bool(actions.called("create_schedule")), pilot)
            assert actions.called("create_schedule") == [{
                "name": "adhoc", "task": "worker.demo_tasks.catalog_sync", "interval": 600, "timezone": "UTC",
                "priority": "normal"}]

    _run(body)


def test_delete_a_run_time_schedule_asks_first() -> None:
    actions = FakeActions()
    app = _app(actions)

    async def body() -> None:
        async with app.run_test(size=WIDE) as pilot:
            form = await _open(app, pilot, row=4)  # invoice_retry: run-time
            assert not form.query("#reset") and form.query_one("#delete", Button)
            form.query_one("#delete", Button).press()
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            await pilot.press("n")
            await pilot.pause()
            assert app.screen is form and not actions.calls
            form.query_one("#delete", Button).press()
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            await pilot.press("y")
            await wait_until(lambda: bool(actions.called("delete_schedule")), pilot)
            assert actions.called("delete_schedule") == ["invoice_retry"]

    _run(body)
