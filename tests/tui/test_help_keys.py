"""Issue 15 item 14: `?` lists the shared keys (Tab/Shift+Tab, Enter, Esc) and each screen's own; the queue
browser's `?` works and its footer shows its keys only; `q` closes a modal, quits the dashboard (asking once
while an action runs); the palette has no duplicate of Textual's built-ins; Esc closes Textual's keys panel.
Also: `?` matches the bindings."""

from __future__ import annotations

from typing import Any

from textual.widgets import Footer

from tests.tui.fakes import FakeActions, loaded, make_app, run, wait_until
from tui.app import NAVIGATION_KEYS
from tui.screens.confirm import ConfirmScreen
from tui.screens.keys import KeysScreen


def listed(app: Any) -> list[str]:
    """The Action column of the open keys screen."""
    assert isinstance(app.screen, KeysScreen)
    return [row[1] for row in app.screen._keys]


def test_keys_list_the_shared_keys_and_match_the_bindings() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(app, pilot)
            expected = [binding.description for binding in type(app).BINDINGS
                        if app.check_action(binding.action.split("(")[0], ()) is not False]
            await pilot.press("question_mark")
            keys = [row[0] for row in app.screen._keys]
            assert {"Tab / Shift+Tab", "Enter", "Esc"} <= set(keys)
            assert listed(app) == expected + [row[1] for row in NAVIGATION_KEYS]

    run(body)


def test_q_in_a_confirmation_closes_it_without_acting() -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions)
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(app, pilot)
            await pilot.press("C")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            await pilot.press("q")
            await pilot.pause(0.1)
            assert not isinstance(app.screen, ConfirmScreen) and app.is_running
            assert actions.called("cancel_pending") == []

    run(body)


def test_q_asks_once_while_an_action_awaits_confirmation() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(app, pilot)
            app._flow_busy = True  # an action is between its key and its outcome
            await app.run_action("quit")
            await pilot.pause()
            assert app.is_running
            assert any("press q again" in str(n.message) for n in app._notifications)
            await app.run_action("quit")
            await pilot.pause()
            assert not app.is_running

    run(body)


def test_the_palette_has_no_duplicate_of_textuals_quit() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(app, pilot)
            titles = [command.title for command in app.get_system_commands(app.screen)]
            assert "Quit" not in titles and "Theme" in titles

    run(body)


def test_escape_closes_textuals_keys_panel() -> None:
    async def body() -> None:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(app, pilot)
            app.action_show_help_panel()
            await pilot.pause()
            assert app.screen.query("HelpPanel")
            await pilot.press("escape")
            await pilot.pause()
            assert not app.screen.query("HelpPanel")
            assert app.screen.query_one(Footer) is not None

    run(body)


def test_the_readme_names_every_shown_dashboard_key() -> None:
    """The README's keys paragraph names each dashboard key (issue 15: README keys match the app)."""
    from pathlib import Path

    from tui.bindings import KEYS

    readme = Path(__file__).resolve().parents[2].joinpath("README.md").read_text()
    missing = [spec.key_display or spec.key for spec in KEYS if f"`{spec.key_display or spec.key}`" not in readme]
    assert missing == []
