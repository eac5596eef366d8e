"""The Workers tab with 1,000 workers: rows update in place and a refresh costs milliseconds, not seconds."""

from __future__ import annotations

import time
from dataclasses import replace

from tests.tui.fakes import NOW, FakeReader, at, loaded, make_app, run, sample_snapshot, wait_until
from tui.data.models import WorkerRow


def many_workers(n: int, tick: int) -> tuple[WorkerRow, ...]:
    """``n`` workers whose counters and last-seen move with ``tick``."""
    return tuple(
        WorkerRow(
            name=f"worker-{i:04d}", hostname=f"host-{i % 40}", pid=1000 + i, mode="worker", version="0.1.0",
            status="online" if i % 17 else "offline", birth=at(-3600.0 - tick), processed=i * 10 + tick,
            failed=i % 7, current_job="worker.demo_tasks.catalog_sync" if (i + tick) % 3 == 0 else None,
            current_started=NOW - tick, last_seen=at(-(i % 30)), queues=("default",),
        )
        for i in range(n)
    )


def test_a_thousand_workers_refresh_in_place_without_a_stall() -> None:
    async def body() -> None:
        first = sample_snapshot(workers=many_workers(1000, 0))
        churned = list(many_workers(1000, 1))
        churned = churned[5:] + [replace(churned[0], name="worker-new-a"), replace(churned[1], name="worker-new-b")]
        second = sample_snapshot(workers=tuple(churned))
        app = make_app(FakeReader([first, second]))
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("2")
            table = app.workers_pane.workers_table
            assert table.row_count == 1000
            table.move_cursor(row=500)
            kept = table.highlighted_key
            table.clear = lambda *a, **k: (_ for _ in ()).throw(AssertionError("cleared"))  # type: ignore[method-assign]
            started = time.perf_counter()
            app.workers_pane.show(second, app.settings.clock())
            await pilot.pause()  # includes the table's own re-measure and repaint
            elapsed = time.perf_counter() - started
            assert elapsed < 1.0, f"a 1,000-worker refresh took {elapsed:.2f} s"
            assert table.row_count == 997
            assert table.highlighted_key == kept
            assert "worker-new-a" in table.rows and "worker-0000" not in table.rows
            await pilot.press("r")
            await wait_until(lambda: app.snapshot is second, pilot)
            await pilot.press("down")
            assert table.highlighted_key != kept

    run(body)
