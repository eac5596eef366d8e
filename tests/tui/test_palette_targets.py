"""Issue 15 item 14: palette entries that name a schedule or a queue, built from the snapshot on screen; they go
through the same checks as the keys (read-only, refusals) and never run names from Redis as markup."""

from __future__ import annotations

import dataclasses
from typing import Any

from textual.command import CommandPalette

from tests.tui.fakes import SCHEDULES, FakeActions, FakeReader, loaded, make_app, run, sample_snapshot, wait_until
from tui.commands import NamedTargetCommands


async def named_titles(app: Any) -> list[str]:
    """The palette's named entries for an empty query, as shown."""
    return [hit.prompt.plain for hit in [h async for h in NamedTargetCommands(app.screen).discover()]]


async def choose(app: Any, pilot: Any, typed: str) -> None:
    """Open the palette, type ``typed``, take the top hit."""
    await pilot.press("ctrl+p")
    await wait_until(lambda: isinstance(app.screen, CommandPalette), pilot)
    await pilot.press(*typed)
    await pilot.pause(0.4)
    await pilot.press("enter")
    await wait_until(lambda: not isinstance(app.screen, CommandPalette), pilot)
    await pilot.pause()


def test_the_palette_runs_pauses_and_resumes_a_schedule_by_name_from_any_tab() -> None:
    async def body() -> None:
        actions = FakeActions()
        app = make_app(actions=actions)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("3")  # the Metrics tab: no schedule is highlighted, the name says which
            await pilot.pause()
            titles = await named_titles(app)
            assert "schedule: Run now nightly_report" in titles
            assert "schedule: Pause catalog_sync" in titles
            assert "schedule: Resume soft_delete_cleanup" in titles and "schedule: Pause soft_delete_cleanup" \
                not in titles, "the entry says what choosing it does"
            assert {f"queues: Browse queue {name}" for name in ("high", "default", "low")} <= set(titles)
            await choose(app, pilot, "Run now nightly_repo")
            await wait_until(lambda: actions.called("run_now") == ["nightly_report"], pilot)
            await choose(app, pilot, "Resume soft_delete")
            await wait_until(lambda: actions.called("resume") == ["soft_delete_cleanup"], pilot)
            assert actions.called("pause") == [] and app.tabs.active == "metrics"
            await wait_until(lambda: any("Resumed soft_delete_cleanup" in str(n.message)
                                         for n in app._notifications), pilot)

    run(body)


def test_the_palette_browses_a_queue_by_name_and_read_only_offers_no_writes() -> None:
    async def body() -> None:
        reader = FakeReader()
        actions = FakeActions()
        app = make_app(reader, actions, read_only=True)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            titles = await named_titles(app)
            assert "queues: Browse queue default" in titles, "browsing never writes"
            assert not [t for t in titles if t.startswith("schedule: ")], "read-only: no write is offered"
            app.run_on_schedule("run_now", SCHEDULES[0])  # even when asked for directly
            await pilot.pause()
            assert actions.called("run_now") == []
            assert any("Read-only: actions are disabled" in str(n.message) for n in app._notifications)
            await choose(app, pilot, "Browse queue default")
            await wait_until(lambda: app.tabs.active == "explorer", pilot)
            assert app.explorer_pane.filter.queues == ("default",) and app.explorer_pane.query_text == "queue:default"
            await pilot.press("question_mark")
            await wait_until(lambda: app.modal_open(), pilot)
            assert await named_titles(app) == [], "under a modal the dashboard's targets are not offered"

    run(body)


def test_named_entries_show_hostile_names_as_plain_safe_text_and_skip_refused_actions() -> None:
    evil = dataclasses.replace(SCHEDULES[1], name="[bold red]evil[/]\x1b[2J", source="rq-scheduler",
                               run_now_allowed=False, run_now_reason="unreadable job")
    snapshot = sample_snapshot(schedules=(evil,))

    async def body() -> None:
        actions = FakeActions()
        app = make_app(FakeReader([snapshot]), actions)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            titles = [t for t in await named_titles(app) if t.startswith("schedule: ")]
            assert titles == ["schedule: Pause [bold red]evil[/]?[2J"], "markup shown literally, escape replaced; " \
                "run now is refused for it, so not offered"
            await choose(app, pilot, "Pause evil")
            await wait_until(lambda: actions.called("pause") == [evil.name], pilot)

    run(body)
