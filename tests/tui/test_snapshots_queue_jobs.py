"""SVG snapshot of the queue browser, built the way the CLI builds the app, with the fake reader and frozen clock."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.tui.fakes import loaded, make_app, wait_until
from tui.screens.queue_jobs import QueueJobsScreen

WIDE = (120, 36)


def test_queue_jobs(snap_compare: Any) -> None:
    """Enter on the "default" queue: the header, the lists, one page with an unreadable job, and the keys."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot.app, pilot)
        await pilot.press("2")
        pilot.app.workers_pane.queues_table.focus()
        await pilot.press("down", "enter")
        await wait_until(lambda: isinstance(pilot.app.screen, QueueJobsScreen) and pilot.app.screen.page is not None,
                         pilot)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)
