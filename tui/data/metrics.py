"""Per-task metrics over the last 24 hours, folded from the worker's hourly histogram buckets.

A bucket (``rqtop:m:<task>:<hour>``) holds n (runs), f (failures), max (exact seconds), last (epoch) and
``b<idx>`` duration-bin counts; p50/p95 come from the summed bins via ``records.percentile_from_bins``
(within 1 % of the exact nearest-rank value), the maximum is exact. Malformed fields are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tui.data.models import MetricRow
from worker import records


@dataclass
class Bucket:
    """One hour of one task, parsed."""

    runs: int = 0
    failures: int = 0
    max_s: float | None = None
    last: float | None = None
    bins: dict[int, int] = field(default_factory=dict)


def _number(raw: object) -> float | None:
    """A finite, non-negative number from a bucket field, or None."""
    try:
        value = float(raw)  # type: ignore[arg-type] - float() takes bytes and str alike
    except (TypeError, ValueError):
        return None
    return value if 0 <= value < float("inf") else None


def parse_bucket(raw: Mapping[bytes | str, bytes | str] | object) -> Bucket:
    """A Bucket from an HGETALL reply; absent, malformed or error replies give an empty bucket."""
    bucket = Bucket()
    if not isinstance(raw, Mapping):
        return bucket
    bins = bucket.bins
    for key, value in raw.items():
        name = key if isinstance(key, bytes) else str(key).encode()
        if name[:1] == b"b":  # the hot path: hundreds of bins per busy hour
            try:
                index, count = int(name[1:]), int(value)
            except (TypeError, ValueError):
                continue
            if index >= 0 and count > 0:
                bins[index] = bins.get(index, 0) + count
            continue
        number = _number(value)
        if number is None:
            continue
        if name == b"n":
            bucket.runs = int(number)
        elif name == b"f":
            bucket.failures = int(number)
        elif name == b"max":
            bucket.max_s = number
        elif name == b"last":
            bucket.last = number
    bucket.failures = min(bucket.failures, bucket.runs)
    return bucket


def metric_row(task: str, buckets: Sequence[Bucket], last_run: float | None = None) -> MetricRow:
    """One task's row from its hourly buckets (oldest first, as ``records.window_hours`` orders them)."""
    runs = sum(b.runs for b in buckets)
    failures = sum(b.failures for b in buckets)
    bins: dict[int, int] = {}
    for bucket in buckets:
        for index, count in bucket.bins.items():
            bins[index] = bins.get(index, 0) + count
    maxima = [b.max_s for b in buckets if b.max_s is not None]
    top = max(maxima) if maxima else None
    lasts = [b.last for b in buckets if b.last is not None] + ([last_run] if last_run is not None else [])
    return MetricRow(
        task=task,
        runs=runs,
        failures=failures,
        success_rate=(runs - failures) / runs * 100.0 if runs else None,
        p50_s=_at_most(records.percentile_from_bins(bins, 50), top),
        p95_s=_at_most(records.percentile_from_bins(bins, 95), top),
        max_s=top,
        last_run=records.from_epoch(max(lasts)) if lasts else None,
        hourly_runs=tuple(b.runs for b in buckets),
        hourly_failures=tuple(b.failures for b in buckets),
    )


SORTS: dict[str, Callable[[MetricRow], tuple]] = {
    "success": lambda r: (r.success_rate is None, r.success_rate or 0.0, -r.runs, r.task),
    "runs": lambda r: (-r.runs, r.task),
    "failures": lambda r: (-r.failures, r.task),
    "p95": lambda r: (r.p95_s is None, -(r.p95_s or 0.0), r.task),
    "task": lambda r: (r.task,),
}
"""Sort keys; the default, "success", puts the worst success rate first and tasks without runs last."""


def sort_rows(rows: Iterable[MetricRow], by: str = "success") -> tuple[MetricRow, ...]:
    """``rows`` ordered by one of ``SORTS`` (unknown names fall back to the default)."""
    return tuple(sorted(rows, key=SORTS.get(by, SORTS["success"])))


Queue = Callable[..., int]
"""Queues one command on a pipeline round and returns the slot of its reply."""


@dataclass
class TaskPlan:
    """What one refresh reads for one task: fresh hours (slots in round 2), cached hours, and their checks."""

    task: bytes
    hours: list[int]
    fresh: dict[int, int]
    cached: dict[int, Bucket]
    present: list[int]
    check: int | None = None
    reread: dict[int, int] = field(default_factory=dict)


class BucketCache:
    """Parsed buckets of settled hours, so a refresh re-reads only the newest ``settle_hours`` + 1 per task.

    The worker writes a run into the bucket of the hour it ended in, so an hour more than ``settle_hours``
    old no longer changes; one EXISTS per task notices a cached bucket that expired or was deleted, and
    then that task's cached hours are read again in the next round.
    """

    def __init__(self, settle_hours: int = 2) -> None:
        self.settle_hours = settle_hours
        self._parsed: dict[tuple[bytes, int], tuple[Bucket, bool]] = {}

    def plan(self, add: Queue, key: Callable[[bytes, int], bytes], task: bytes, hours: list[int]) -> TaskPlan:
        """Queue round-2 reads for one task: HGETALL for unsettled or unknown hours, one EXISTS for the rest."""
        settled = hours[-1] - self.settle_hours
        cached = {h: self._parsed[(task, h)] for h in hours if h < settled and (task, h) in self._parsed}
        fresh = {h: add("hgetall", key(task, h)) for h in hours if h not in cached}
        present = [h for h, (_, existed) in cached.items() if existed]
        check = add("exists", *(key(task, h) for h in present)) if present else None
        return TaskPlan(task, hours, fresh, {h: b for h, (b, _) in cached.items()}, present, check)

    def recheck(self, add: Queue, key: Callable[[bytes, int], bytes], plan: TaskPlan, replies: list) -> None:
        """After round 2: queue round-3 reads of every cached hour when a cached bucket has gone."""
        if plan.check is not None and replies[plan.check] != len(plan.present):
            plan.reread = {h: add("hgetall", key(plan.task, h)) for h in plan.cached}

    def buckets(self, plan: TaskPlan, second: list, third: list) -> list[Bucket]:
        """The task's buckets oldest first, remembering settled hours for the next refresh."""
        settled = plan.hours[-1] - self.settle_hours
        result = []
        for hour in plan.hours:
            slot, replies = (plan.fresh[hour], second) if hour in plan.fresh else (plan.reread.get(hour), third)
            if slot is None:
                result.append(plan.cached[hour])
                continue
            reply = replies[slot]
            bucket = parse_bucket(reply)
            if hour < settled and isinstance(reply, Mapping):
                self._parsed[(plan.task, hour)] = (bucket, bool(reply))
            result.append(bucket)
        return result

    def prune(self, oldest_hour: int) -> None:
        """Forget hours that have left the window."""
        for task_hour in [k for k in self._parsed if k[1] < oldest_hour]:
            del self._parsed[task_hour]


def _at_most(value: float | None, ceiling: float | None) -> float | None:
    """A percentile never exceeds the exact maximum (a bin's midpoint can lie above the largest run in it)."""
    if value is None or ceiling is None:
        return value
    return min(value, ceiling)
