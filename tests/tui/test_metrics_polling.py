"""The App reads metrics only while they are on screen (or none are kept, or the kept ones are 30 s old)."""

from __future__ import annotations

from tests.tui.fakes import METRICS, FakeReader, FrozenClock, loaded, make_app, run, wait_until
from tui.data.queue_reads import QueueReads
from tui.data.worker_reads import WorkerReads


def test_metrics_are_read_when_shown_and_kept_otherwise() -> None:
    async def body() -> None:
        clock = FrozenClock()
        reader = FakeReader(clock=clock)
        app = make_app(reader, clock=clock)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            assert reader.metrics_asked == [True], "the first read has no metrics to keep"
            first = app.snapshot.taken_at

            async def refresh() -> None:
                count = len(reader.metrics_asked)
                await pilot.press("r")
                await wait_until(
                    lambda: len(reader.metrics_asked) > count and app.snapshot.taken_at.timestamp() == clock(), pilot)
                await pilot.pause()

            clock.now += 10
            await refresh()
            assert reader.metrics_asked[-1] is False, "Background Jobs does not show metrics"
            assert app.snapshot.metrics == METRICS and app.snapshot.metrics_taken_at == first
            assert app.snapshot.taken_at > first

            clock.now += 20  # the kept metrics are 30 s old now
            await refresh()
            assert reader.metrics_asked[-1] is True and app.snapshot.metrics_taken_at == app.snapshot.taken_at

            await pilot.press("2")
            clock.now += 5
            await refresh()
            assert reader.metrics_asked[-1] is False and app.snapshot.metrics == METRICS

            count = len(reader.metrics_asked)
            await pilot.press("3")  # kept metrics older than the snapshot: read now, with metrics
            await wait_until(lambda: len(reader.metrics_asked) > count, pilot)
            assert reader.metrics_asked[-1] is True
            await wait_until(lambda: app.snapshot.metrics_taken_at == app.snapshot.taken_at, pilot)
            await refresh()
            assert reader.metrics_asked[-1] is True, "the Metrics tab reads metrics on every refresh"
            assert app.metrics_pane.metrics_table.row_count == len(METRICS)

    run(body)


def test_workers_on_screen_are_named_to_the_reader_only_on_the_workers_tab() -> None:
    """Cost follows the screen: on the Workers tab the reader is told which workers and queue rows are in view and
    re-reads the rest at their cadence; elsewhere it re-reads none (``off_screen``: only those never read)."""
    async def body() -> None:
        clock = FrozenClock()
        reader = FakeReader(clock=clock)
        app = make_app(reader, clock=clock)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            assert reader.workers_asked[-1] == WorkerReads.off_screen(app.refresh_s), (
                "Background Jobs shows no worker: only workers never read are read")
            assert reader.queues_asked[-1] == QueueReads.off_screen(app.refresh_s), "nor any queue"
            await pilot.press("2")
            await pilot.pause()
            count = len(reader.workers_asked)
            await pilot.press("r")
            await wait_until(lambda: len(reader.workers_asked) > count, pilot)
            shown = {w.name for w in app.snapshot.workers}
            asked = reader.workers_asked[-1]
            assert asked is not None and asked.visible == shown and shown, "every worker fits on this screen"
            assert asked.refresh_s == app.refresh_s
            queues = reader.queues_asked[-1]
            assert queues is not None and queues.visible == {q.name for q in app.snapshot.queues}, (
                "every queue row fits on this screen")
            assert queues.refresh_s == app.refresh_s
            await pilot.press("4")
            await pilot.pause()
            count = len(reader.workers_asked)
            await pilot.press("r")
            await wait_until(lambda: len(reader.workers_asked) > count, pilot)
            assert reader.workers_asked[-1] == WorkerReads.off_screen(app.refresh_s)
            assert reader.queues_asked[-1] == QueueReads.off_screen(app.refresh_s)

    run(body)
