"""SVG snapshots of every screen, built the way the CLI builds the app, with fakes and a frozen clock."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.fakes import (
    FakeReader,
    attention_snapshot,
    empty_workers_snapshot,
    loaded,
    make_app,
    mixed_sources_snapshot,
    wait_until,
)
from tui.screens.confirm import ConfirmScreen
from tui.widgets.status_bar import FAILING

WIDE = (120, 36)
SMALL = (80, 24)
MEDIUM = (120, 40)
LARGE = (200, 50)


def show(*keys: str) -> Any:
    """A run_before that waits for the first snapshot, then presses ``keys``."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot.app, pilot)
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


class TestTabs:
    def test_background_jobs(self, snap_compare: Any) -> None:
        """Scheduled jobs (two-line rows), the Job Management strip and recent history."""
        assert snap_compare(make_app(), terminal_size=WIDE, run_before=show())

    def test_workers(self, snap_compare: Any) -> None:
        """Five total cards, the per-queue table, the unattended-queue warning and worker status."""
        assert snap_compare(make_app(), terminal_size=WIDE, run_before=show("2"))

    def test_metrics(self, snap_compare: Any) -> None:
        """Job types worst success first, with the highlighted type's hourly sparklines and the tip."""
        assert snap_compare(make_app(), terminal_size=WIDE, run_before=show("3"))

    def test_background_jobs_at_80x24(self, snap_compare: Any) -> None:
        """The smallest supported terminal still shows the status line, both tables and the footer."""
        assert snap_compare(make_app(), terminal_size=SMALL, run_before=show())

    def test_background_jobs_mixed_sources(self, snap_compare: Any) -> None:
        """rqtop's schedules beside rq-scheduler's and rq cron's jobs: source, liveness, no pause, +M more."""
        app = make_app(FakeReader([mixed_sources_snapshot()]))
        assert snap_compare(app, terminal_size=(160, 50), run_before=show())

    def test_background_jobs_mixed_sources_at_80x24(self, snap_compare: Any) -> None:
        """The same at the smallest supported terminal (source column left out, liveness in the title)."""
        app = make_app(FakeReader([mixed_sources_snapshot()]))
        assert snap_compare(app, terminal_size=SMALL, run_before=show())

    @pytest.mark.parametrize("size", [SMALL, MEDIUM, LARGE], ids=lambda size: f"{size[0]}x{size[1]}")
    @pytest.mark.parametrize("tab", ["1", "2", "3"], ids=["jobs", "workers", "metrics"])
    def test_every_tab_at_the_reviewed_sizes(self, snap_compare: Any, tab: str, size: tuple[int, int]) -> None:
        """Each tab at 80x24, 120x40 and 200x50: history rows, Last run, ? and q, wide screens' extra columns."""
        assert snap_compare(make_app(), terminal_size=size, run_before=show(tab))

    @pytest.mark.parametrize("size", [SMALL, LARGE], ids=lambda size: f"{size[0]}x{size[1]}")
    def test_sorted_and_reversed(self, snap_compare: Any, size: tuple[int, int]) -> None:
        """Workers: the worker table by status, reversed (Status▼, the hint says reversed), the queues by name."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await loaded(pilot.app, pilot)
            await pilot.press("2", "s", "S")
            pilot.app.workers_pane.queues_table.focus()
            await pilot.press("s")
            await pilot.pause()

        assert snap_compare(make_app(), terminal_size=size, run_before=run_before)

    @pytest.mark.parametrize("size", [SMALL, (160, 50)], ids=lambda size: f"{size[0]}x{size[1]}")
    def test_background_jobs_attention(self, snap_compare: Any, size: tuple[int, int]) -> None:
        """Schedule rows that are running now (elapsed time) and need attention (unresolved failures)."""
        app = make_app(FakeReader([attention_snapshot()]))
        assert snap_compare(app, terminal_size=size, run_before=show())

    def test_too_small(self, snap_compare: Any) -> None:
        """Below 80x24 a message replaces the dashboard."""
        assert snap_compare(make_app(), terminal_size=(70, 20), run_before=show())


class TestStates:
    def test_empty_workers(self, snap_compare: Any) -> None:
        """No workers at all: "No workers" and a warning naming the queues with pending jobs."""
        app = make_app(FakeReader([empty_workers_snapshot()]))
        assert snap_compare(app, terminal_size=WIDE, run_before=show("2"))

    def test_read_only(self, snap_compare: Any) -> None:
        """READ-ONLY badge; no Job Management strip; no action keys in the footer."""
        assert snap_compare(make_app(read_only=True), terminal_size=WIDE, run_before=show())

    def test_unreachable_and_stale(self, snap_compare: Any) -> None:
        """Red status line, the stale banner with the data's age, and the last data kept on screen."""
        reader = FakeReader()
        app = make_app(reader)

        async def run_before(pilot: Pilot[Any]) -> None:
            await loaded(app, pilot)
            reader.fail_with = ConnectionError("Error 111 connecting to cache.internal:6379. Connection refused.")
            app.settings.clock.now += 95
            await pilot.press("r")
            await wait_until(lambda: app.connection == FAILING, pilot)
            await pilot.pause()

        assert snap_compare(app, terminal_size=WIDE, run_before=run_before)


def confirm(key: str) -> Any:
    """A run_before that presses a destructive key and waits for its confirmation."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await loaded(pilot.app, pilot)
        await pilot.press(key)
        await wait_until(lambda: isinstance(pilot.app.screen, ConfirmScreen), pilot)
        await pilot.pause()

    return run_before


class TestModals:
    def test_confirm_cancel_pending(self, snap_compare: Any) -> None:
        """The confirmation states the exact count per queue; focus is on Cancel."""
        assert snap_compare(make_app(), terminal_size=WIDE, run_before=confirm("C"))

    def test_confirm_janitor(self, snap_compare: Any) -> None:
        """The janitor's confirmation lists each step with its count."""
        assert snap_compare(make_app(), terminal_size=WIDE, run_before=confirm("J"))

    def test_confirm_fail_active(self, snap_compare: Any) -> None:
        """Fail Active says which jobs are stopped through their worker and which fail via the registry."""
        assert snap_compare(make_app(), terminal_size=WIDE, run_before=confirm("F"))

    def test_keys(self, snap_compare: Any) -> None:
        """? lists every key with what it does."""
        assert snap_compare(make_app(), terminal_size=WIDE, run_before=show("question_mark"))

    def test_job_detail(self, snap_compare: Any) -> None:
        """Enter on a failed history row shows its error and timings."""

        async def run_before(pilot: Pilot[Any]) -> None:
            await loaded(pilot.app, pilot)
            pilot.app.jobs_pane.history_table.focus()
            await pilot.press("down", "enter")
            await pilot.pause()

        assert snap_compare(make_app(), terminal_size=WIDE, run_before=run_before)
