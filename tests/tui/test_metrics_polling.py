"""The App reads metrics only while they are on screen (or none are kept, or the kept ones are 30 s old)."""

from __future__ import annotations

from tests.tui.fakes import METRICS, FakeReader, FrozenClock, loaded, make_app, run, wait_until


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
