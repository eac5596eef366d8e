"""Monotonic per-task run, failure and cancel counters from the hourly buckets of a sliding 24 h window."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tui.data.models import MetricRow


class TaskTotals:
    """Per task, the highest count seen for each hour still in the window plus the counts of hours that left it.

    A bucket only grows while its hour is in the window, so the sum never goes down: a Prometheus counter
    (it starts at the last 24 h when the exporter starts; ``rate()`` treats that as any counter's start)."""

    def __init__(self) -> None:
        self._hours: dict[str, dict[int, tuple[int, int, int]]] = {}
        self._retired: dict[str, tuple[int, int, int]] = {}

    def update(self, rows: Iterable[MetricRow], hours: Sequence[int]) -> None:
        """Fold one read's rows (``hourly_runs`` / ``hourly_failures`` / ``hourly_canceled`` aligned with ``hours``,
        oldest first)."""
        first = hours[0] if hours else 0
        for row in rows:
            seen = self._hours.setdefault(row.task, {})
            canceled = row.hourly_canceled or (0,) * len(row.hourly_runs)
            for hour, *counts in zip(hours, row.hourly_runs, row.hourly_failures, canceled, strict=False):
                old = seen.get(hour, (0, 0, 0))
                seen[hour] = (max(old[0], counts[0]), max(old[1], counts[1]), max(old[2], counts[2]))
        for task, seen in self._hours.items():
            gone = [hour for hour in seen if hour < first]
            if gone:
                kept = self._retired.get(task, (0, 0, 0))
                self._retired[task] = (kept[0] + sum(seen[h][0] for h in gone), kept[1] + sum(seen[h][1] for h in gone),
                                       kept[2] + sum(seen[h][2] for h in gone))
                for hour in gone:
                    del seen[hour]

    def totals(self) -> dict[str, tuple[int, int, int]]:
        """Runs, failures and cancels per task since the exporter started watching (the first window included)."""
        out = {}
        for task, seen in self._hours.items():
            kept = self._retired.get(task, (0, 0, 0))
            out[task] = (kept[0] + sum(c[0] for c in seen.values()), kept[1] + sum(c[1] for c in seen.values()),
                         kept[2] + sum(c[2] for c in seen.values()))
        return out
