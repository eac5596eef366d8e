"""The action table is the one source: every row is reachable by key, palette and CLI; a misspelt name fails
loudly; a test-only extra row is reachable everywhere with nothing else added; the keymap setting moves a key."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click
import pytest
from click.testing import CliRunner
from textual.widgets import Button, Input, Label, Select

from tests.tui.fakes import FakeActions, FakeReader, frozen_settings, loaded, make_app, run, wait_until
from tui.action_flow import OPERATOR_ACTIONS
from tui.action_table import ACTIONS, JANITOR, TARGET_ACTIONS, CliVerb, Confirmation, OperatorAction, find
from tui.app import RqtopApp
from tui.bindings import KEYS, key_specs
from tui.cli import add_action_verbs, cli
from tui.commands import DashboardCommands
from tui.keyspec import KeySpec
from tui.protocols import OperatorActions
from tui.screens.confirm import ConfirmScreen
from tui.screens.schedule_edit import ScheduleEditScreen
from worker.plans import ActionResult, CancelPendingPlan, QueueCut


async def palette_titles(app: Any) -> list[str]:
    """The titles the command palette offers right now."""
    return [hit.text for hit in [h async for h in DashboardCommands(app.screen).discover()]]


def cli_help(group: click.Group, verb: str) -> str:
    """`<group> <verb> --help`, asserted to succeed; its text with click's line wrapping undone (runs of
    whitespace made one space)."""
    result = CliRunner().invoke(group, [verb, "--help"])
    assert result.exit_code == 0, (verb, result.output)
    return " ".join(result.output.split())


# (1) Every row is reachable by key, by palette and by CLI.

@pytest.mark.parametrize("row", ACTIONS, ids=[row.name for row in ACTIONS])
def test_every_row_has_its_binding_palette_entry_and_cli_verbs(row: OperatorAction[Any],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RQTOP_NOTIFY_EMAIL", "op@example.com")  # Run now + notify needs the operator's address
    bindings = {binding.id: binding for binding in RqtopApp.BINDINGS if not isinstance(binding, tuple)}
    binding = bindings[row.key.id]
    assert (binding.key, binding.action, binding.description) == (row.key.key, row.name, row.key.description)
    assert callable(getattr(RqtopApp, f"action_{row.name}"))
    assert row.cli, "every operator action has a CLI twin"
    for twin in row.cli:
        group = cli.commands[twin.group] if twin.group else cli
        assert isinstance(group, click.Group)
        assert twin.help in " ".join(cli_help(group, twin.verb).split())

    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            tab = row.key.tabs[0] if row.key.tabs else "jobs"
            app.tabs.active = tab
            await pilot.pause()
            assert row.key.palette_title in await palette_titles(app)
            await pilot.press(row.key.key)
            if row.form:
                await wait_until(lambda: isinstance(app.screen, ScheduleEditScreen), pilot)
                form = app.screen
                assert isinstance(form, ScheduleEditScreen)
                if form.creating:
                    form.query_one("#name", Input).value = "adhoc"
                    form.query_one("#task", Select).value = form.tasks[0]
                    form.query_one("#cron", Input).value = "*/5 * * * *"
                form.query_one("#timeout", Input).value = "77"
                await pilot.press("ctrl+s")
            await wait_until(lambda: bool(actions.calls), pilot)
            if row.plan is not None:
                await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
                await pilot.press("escape")
            assert actions.calls, f"pressing {row.key.key} reached the actions object"

    run(body)


def test_every_key_of_the_spec_names_an_app_action_and_writes_are_the_table_rows() -> None:
    for spec in KEYS:
        assert callable(getattr(RqtopApp, f"action_{spec.name}", None)), spec
    assert {row.name for row in ACTIONS} == OPERATOR_ACTIONS
    assert OPERATOR_ACTIONS | {row.name for row in TARGET_ACTIONS} == RqtopApp.WRITE_ACTIONS  # + the Workers tab's
    assert [binding.id for binding in RqtopApp.BINDINGS if not isinstance(binding, tuple)] == [k.id for k in KEYS]


# (2) Misspelt action and step names fail loudly.

def test_a_misspelt_action_name_raises() -> None:
    with pytest.raises(KeyError, match="janitr"):
        find(ACTIONS, "janitr")
    with pytest.raises(KeyError, match="janitr"):
        make_app().action_row("janitr")
    with pytest.raises(ValueError, match="janitr"):
        OperatorAction("janitor", replace(JANITOR.key, action="janitr"), execute=JANITOR.execute)


def test_a_planned_row_without_its_wording_or_a_duplicated_binding_id_raises() -> None:
    with pytest.raises(ValueError, match="confirm wording"):
        OperatorAction("janitor", JANITOR.key, execute=JANITOR.execute, plan=JANITOR.plan)
    with pytest.raises(ValueError, match="jobs.janitor"):
        key_specs((*ACTIONS, replace(JANITOR, name="again", key=replace(JANITOR.key, action="again"))))


# (3) Adding a row is all that is needed: a test-only "purge" row.

PURGE_PLAN = CancelPendingPlan((QueueCut("low", 4, "l4"),))


class PurgeActions(FakeActions):
    """The fake actions plus a purge pair."""

    def plan_purge(self) -> CancelPendingPlan:
        self._record("plan_purge")
        return PURGE_PLAN

    def purge(self, plan: CancelPendingPlan) -> ActionResult:
        self._record("purge", plan)
        return ActionResult("purge", True, "Purged", {"purged": plan.total})


def _plan_purge(actions: OperatorActions) -> CancelPendingPlan:
    assert isinstance(actions, PurgeActions)
    return actions.plan_purge()


def _purge(actions: OperatorActions, plan: CancelPendingPlan) -> ActionResult:
    assert isinstance(actions, PurgeActions)
    return actions.purge(plan)


PURGE: OperatorAction[CancelPendingPlan] = OperatorAction(
    "purge",
    KeySpec("X", "purge", "Purge", "jobs.purge", "Purge the low queue (asks first)",
            "jobs", "Purge Low Queue", "Drop every job of the low queue; asks first (X)", button="error"),
    plan=_plan_purge,
    execute=_purge,
    nothing_to_do="Nothing to purge.",
    confirm=lambda plan: Confirmation("Purge Low Queue", f"{plan.total} jobs will be purged", f"Purge {plan.total}"),
    cli=(CliVerb("purge", "Purge the low queue"),),
)


class PurgeApp(RqtopApp):
    """The dashboard with one more row; nothing else."""

    ACTION_TABLE = (*ACTIONS, PURGE)


def test_an_extra_row_gets_a_key_a_button_a_palette_entry_a_confirmation_and_a_cli_verb() -> None:
    async def body() -> None:
        actions = PurgeActions()
        app = PurgeApp(FakeReader(), actions, frozen_settings(), "redis://x")
        async with app.run_test(size=(140, 36)) as pilot:
            await loaded(app, pilot)
            assert app.query_one("#btn-purge", Button).label.plain == "Purge Low Queue"
            assert "jobs: Purge Low Queue" in await palette_titles(app)
            await pilot.press("X")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            assert app.screen._body == "4 jobs will be purged"
            await pilot.press("y")
            await wait_until(lambda: bool(actions.called("purge")), pilot)
            assert actions.called("purge") == [PURGE_PLAN]
            assert actions.called("plan_purge") == [None]

    run(body)
    group = click.Group()
    add_action_verbs(group, (PURGE,))
    assert "Purge the low queue" in cli_help(group, "purge")


def test_an_extra_row_is_hidden_and_refused_in_read_only_mode() -> None:
    async def body() -> None:
        actions = PurgeActions()
        app = PurgeApp(FakeReader(), actions, frozen_settings(read_only=True), "redis://x")
        async with app.run_test(size=(140, 36)) as pilot:
            await loaded(app, pilot)
            assert app.check_action("purge", ()) is False
            assert "jobs: Purge Low Queue" not in await palette_titles(app)
            await pilot.press("X")
            await app.run_action("purge")
            await pilot.pause(0.1)
            assert actions.calls == []

    run(body)


# The keymap setting.

def test_a_keymap_moves_a_key_and_the_moved_key_runs_the_action() -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions, keymap=(("jobs.janitor", "ctrl+j"),))
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("J")
            await pilot.pause(0.2)
            assert actions.called("plan_janitor") == [], "the old key no longer runs it"
            await pilot.press("ctrl+j")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            assert actions.called("plan_janitor") == [None]

    run(body)


def test_the_strip_hint_names_the_row_keys_where_the_keymap_put_them() -> None:
    async def body() -> None:
        app = make_app(keymap=(("schedule.run_now", "ctrl+n"),))
        async with app.run_test(size=(160, 40)) as pilot:
            await loaded(app, pilot)
            hint = str(app.query_one("#row-hint", Label).render())
            assert "ctrl+n run now" in hint and "p pause/resume" in hint and "E edit" in hint, hint
            assert "n run now" not in hint.replace("ctrl+n run now", ""), hint

    run(body)


def test_a_keymap_naming_no_binding_is_one_line_exit_2(redis_url: str) -> None:
    result = CliRunner().invoke(cli, ["--url", redis_url], env={"RQTOP_KEYMAP": "jobs.janitr=ctrl+j"})
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "RQTOP_KEYMAP" in lines[0] and "jobs.janitr" in lines[0], result.stderr


def test_a_malformed_keymap_is_one_line_exit_2() -> None:
    result = CliRunner().invoke(cli, ["janitor", "--yes"], env={"RQTOP_KEYMAP": "jobs.janitor"})
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["rqtop: error: RQTOP_KEYMAP: entry 'jobs.janitor': expected binding.id=key"]
