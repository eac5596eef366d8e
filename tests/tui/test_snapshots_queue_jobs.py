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


def _open_default(*keys: str) -> Any:
    """Open the "default" queue's browser from the Workers tab, then press ``keys`` and wait for that page."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot.app, pilot)
        await pilot.press("2")
        pilot.app.workers_pane.queues_table.focus()
        await pilot.press("down", "enter")
        await wait_until(lambda: isinstance(pilot.app.screen, QueueJobsScreen) and pilot.app.screen.page is not None,
                         pilot)
        for key in keys:
            await pilot.press(key)
        want = ("pending", "active", "completed", "failed")[len(keys)]
        await wait_until(lambda: pilot.app.screen.page.source == want, pilot)
        await pilot.pause()

    return run_before


def test_queue_jobs_pending_at_80x24(snap_compare: Any) -> None:
    """The default terminal: tabs in two rows with counts, no id column, the description on screen."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_open_default())


def test_queue_jobs_failed_at_160x50(snap_compare: Any) -> None:
    """A large terminal on the failed list: Ended to the second, the masked error, worker, description."""
    assert snap_compare(make_app(), terminal_size=(160, 50), run_before=_open_default("tab", "tab", "tab"))
