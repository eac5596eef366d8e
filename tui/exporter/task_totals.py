"""Monotonic per-task run and failure counters from the hourly buckets of a sliding 24 h window."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tui.data.models import MetricRow


class TaskTotals:
    """Per task, the highest count seen for each hour still in the window plus the counts of hours that left it.

    A bucket only grows while its hour is in the window, so the sum never goes down: a Prometheus counter
    (it starts at the last 24 h when the exporter starts; ``rate()`` treats that as any counter's start)."""

    def __init__(self) -> None:
        self._hours: dict[str, dict[int, tuple[int, int]]] = {}
        self._retired: dict[str, tuple[int, int]] = {}

    def update(self, rows: Iterable[MetricRow], hours: Sequence[int]) -> None:
        """Fold one read's rows (``hourly_runs`` / ``hourly_failures`` aligned with ``hours``, oldest first)."""
        first = hours[0] if hours else 0
        for row in rows:
            seen = self._hours.setdefault(row.task, {})
            for hour, runs, failures in zip(hours, row.hourly_runs, row.hourly_failures, strict=False):
                old_runs, old_failures = seen.get(hour, (0, 0))
                seen[hour] = (max(old_runs, runs), max(old_failures, failures))
        for task, seen in self._hours.items():
            gone = [hour for hour in seen if hour < first]
            if gone:
                runs, failures = self._retired.get(task, (0, 0))
                self._retired[task] = (runs + sum(seen[h][0] for h in gone), failures + sum(seen[h][1] for h in gone))
                for hour in gone:
                    del seen[hour]

    def totals(self) -> dict[str, tuple[int, int]]:
        """Runs and failures per task since the exporter started watching (the first window included)."""
        out = {}
        for task, seen in self._hours.items():
            runs, failures = self._retired.get(task, (0, 0))
            out[task] = (runs + sum(r for r, _ in seen.values()), failures + sum(f for _, f in seen.values()))
        return out
