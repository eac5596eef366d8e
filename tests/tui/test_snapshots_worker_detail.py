"""SVG snapshot of a worker's detail modal (Enter on a Worker Status row), with the fake reader and frozen clock."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.tui.fakes import loaded, make_app, wait_until
from tui.screens.worker_detail import WorkerDetailScreen

WIDE = (120, 36)


def test_worker_detail(snap_compare: Any) -> None:
    """Enter on the first worker: its queues, birth, status, RQ state and current job."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot.app, pilot)
        await pilot.press("2")
        pilot.app.workers_pane.workers_table.focus()
        await pilot.press("enter")
        await wait_until(lambda: isinstance(pilot.app.screen, WorkerDetailScreen), pilot)
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)
