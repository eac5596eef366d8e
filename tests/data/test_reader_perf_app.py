"""The App reads metrics only while they are on screen (or none are kept, or the kept ones are 30 s old)."""

from __future__ import annotations

from datetime import datetime, timezone

from tests.tui.fakes import METRICS, FrozenClock, loaded, make_app, run, sample_snapshot, wait_until
from tui.data.models import Snapshot


class RecordingReader:
    """Answers like DashboardReader (no metrics when told so) and records what each read asked for."""

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.calls: list[bool] = []

    def read(self, include_metrics: bool = True) -> Snapshot:
        self.calls.append(include_metrics)
        taken_at = datetime.fromtimestamp(self.clock(), tz=timezone.utc)
        if include_metrics:
            return sample_snapshot(taken_at=taken_at, metrics_taken_at=taken_at)
        return sample_snapshot(taken_at=taken_at, metrics=())


def test_metrics_are_read_when_shown_and_kept_otherwise() -> None:
    async def body() -> None:
        clock = FrozenClock()
        reader = RecordingReader(clock)
        app = make_app(reader, clock=clock)  # type: ignore[arg-type]
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            assert reader.calls == [True], "the first read has no metrics to keep"
            first = app.snapshot.taken_at

            async def refresh() -> None:
                count = len(reader.calls)
                await pilot.press("r")
                await wait_until(lambda: len(reader.calls) > count and app.snapshot.taken_at.timestamp() == clock(),
                                 pilot)
                await pilot.pause()

            clock.now += 10
            await refresh()
            assert reader.calls[-1] is False, "Background Jobs does not show metrics"
            assert app.snapshot.metrics == METRICS and app.snapshot.metrics_taken_at == first
            assert app.snapshot.taken_at > first

            clock.now += 20  # the kept metrics are 30 s old now
            await refresh()
            assert reader.calls[-1] is True and app.snapshot.metrics_taken_at == app.snapshot.taken_at

            await pilot.press("2")
            clock.now += 5
            await refresh()
            assert reader.calls[-1] is False and app.snapshot.metrics == METRICS

            count = len(reader.calls)
            await pilot.press("3")  # kept metrics older than the snapshot: read now, with metrics
            await wait_until(lambda: len(reader.calls) > count, pilot)
            assert reader.calls[-1] is True
            await wait_until(lambda: app.snapshot.metrics_taken_at == app.snapshot.taken_at, pilot)
            await refresh()
            assert reader.calls[-1] is True, "the Metrics tab reads metrics on every refresh"
            assert app.metrics_pane.metrics_table.row_count == len(METRICS)

    run(body)
