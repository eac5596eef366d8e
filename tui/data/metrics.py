"""Per-task metrics over the last 24 hours, folded from the worker's hourly histogram buckets.

A bucket (``rqtop:m:<task>:<hour>``) holds n (runs), f (failures), c (canceled runs, counted apart), max
(exact seconds), last (epoch) and ``b<idx>`` duration-bin counts; p50/p95 come from the summed bins via
``records.percentile_from_bins`` (within 1 % of the exact nearest-rank value), the maximum is exact.
Malformed fields are skipped. The recent window (``rqtop:m5:<task>``) is a ring of 5-minute buckets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.data.models import HistoryRow, MetricRow
from worker import records

Reply = Mapping[Any, Any]
"""An HGETALL reply of one bucket (bytes field names, as the reader's client answers)."""


@dataclass
class Bucket:
    """One hour of one task, parsed."""

    runs: int = 0
    failures: int = 0
    canceled: int = 0
    max_s: float | None = None
    last: float | None = None
    bins: dict[int, int] = field(default_factory=dict)


def _number(raw: object) -> float | None:
    """A finite, non-negative number from a bucket field, or None."""
    if raw is None:
        return None
    try:
        value = float(raw)  # type: ignore[arg-type]  # float() takes bytes and str alike
    except (TypeError, ValueError):
        return None
    return value if 0 <= value < float("inf") else None


def _head(raw: Reply) -> Bucket:
    """n, f (at most n), c, max and last of one bytes-keyed reply, as a Bucket without bins."""
    runs, failures, canceled = _number(raw.get(b"n")), _number(raw.get(b"f")), _number(raw.get(b"c"))
    bucket = Bucket(runs=int(runs) if runs is not None else 0, max_s=_number(raw.get(b"max")),
                    last=_number(raw.get(b"last")), canceled=int(canceled) if canceled is not None else 0)
    bucket.failures = min(int(failures) if failures is not None else 0, bucket.runs)
    return bucket


_INDEX: dict[Any, int] = {}
_COUNT: dict[Any, int] = {}
_KEEP = 4096
"""Field names and counts parsed so far (bins repeat across hours and refreshes); each table stops growing
at ``_KEEP`` entries, after which new values are parsed every time."""


def _index(name: Any) -> int:
    """The bin index a field name holds (``b<idx>``, idx >= 0), or -1 for any other field."""
    try:
        index = int(name[1:]) if name[:1] == b"b" else -1
    except (TypeError, ValueError):
        index = -1
    if len(_INDEX) < _KEEP:
        _INDEX[name] = max(index, -1)
    return max(index, -1)


def _count(value: Any) -> int:
    """A bin count (0 when malformed)."""
    try:
        count = int(value)
    except (TypeError, ValueError):
        count = 0
    if len(_COUNT) < _KEEP:
        _COUNT[value] = count
    return count


def _add_bins(bins: dict[int, int], raw: Reply, sign: int = 1) -> None:
    """Add (or, with ``sign`` -1, take out) a bytes-keyed reply's well-formed bin counts (count > 0)."""
    get, index_of, count_of = bins.get, _INDEX.get, _COUNT.get
    for name, value in raw.items():  # the hot path: hundreds of bins per busy hour
        index = index_of(name)
        if index is None:
            index = _index(name)
        if index < 0:
            continue
        count = count_of(value)
        if count is None:
            count = _count(value)
        if count > 0:
            total = get(index, 0) + sign * count
            if total:
                bins[index] = total
            else:
                del bins[index]


def parse_bucket(raw: Mapping[bytes | str, bytes | str] | object) -> Bucket:
    """A Bucket from an HGETALL reply; absent, malformed or error replies give an empty bucket."""
    if not isinstance(raw, Mapping):
        return Bucket()
    if not all(isinstance(name, bytes) for name in raw):
        raw = {(name if isinstance(name, bytes) else str(name).encode()): value for name, value in raw.items()}
    bucket = _head(raw)
    _add_bins(bucket.bins, raw)
    return bucket


@dataclass(frozen=True)
class Recent:
    """One task's recent window: runs, failures and cancels per 5-minute bucket, oldest first."""

    runs: tuple[int, ...]
    failures: tuple[int, ...]
    canceled: tuple[int, ...]


def parse_recent(raw: object, slots: Sequence[int]) -> Recent:
    """The recent window from an HGETALL of the task's ring hash (``s<i>`` names the bucket ring slot ``i`` holds,
    ``n<i>``/``f<i>``/``c<i>`` its counts); a slot holding another bucket, or a malformed field, reads as 0."""
    size = len(slots)
    mapping = raw if isinstance(raw, Mapping) else {}
    got = {(name if isinstance(name, bytes) else str(name).encode()): value for name, value in mapping.items()}
    runs, failures, canceled = [], [], []
    for slot in slots:
        index = str(slot % size).encode() if size else b"0"
        held = _number(got.get(b"s" + index))
        if held is None or int(held) != slot:
            runs.append(0)
            failures.append(0)
            canceled.append(0)
            continue
        n = int(_number(got.get(b"n" + index)) or 0)
        runs.append(n)
        failures.append(min(int(_number(got.get(b"f" + index)) or 0), n))
        canceled.append(int(_number(got.get(b"c" + index)) or 0))
    return Recent(tuple(runs), tuple(failures), tuple(canceled))


def metric_row(task: str, buckets: Sequence[Bucket], last_run: float | None = None) -> MetricRow:
    """One task's row from its hourly buckets (oldest first, as ``records.window_hours`` orders them)."""
    bins: dict[int, int] = {}
    for bucket in buckets:
        for index, count in bucket.bins.items():
            bins[index] = bins.get(index, 0) + count
    return _row(task, buckets, bins, last_run)


def _row(task: str, hours: Sequence[Bucket], bins: dict[int, int], last_run: float | None) -> MetricRow:
    """The row from each hour's runs, failures, max and last, and the bins summed over all of them."""
    runs = sum(b.runs for b in hours)
    failures = sum(b.failures for b in hours)
    maxima = [b.max_s for b in hours if b.max_s is not None]
    top = max(maxima) if maxima else None
    lasts = [b.last for b in hours if b.last is not None] + ([last_run] if last_run is not None else [])
    return MetricRow(
        task=task,
        runs=runs,
        failures=failures,
        success_rate=(runs - failures) / runs * 100.0 if runs else None,
        p50_s=_at_most(records.percentile_from_bins(bins, 50), top),
        p95_s=_at_most(records.percentile_from_bins(bins, 95), top),
        max_s=top,
        last_run=records.from_epoch(max(lasts)) if lasts else None,
        hourly_runs=tuple(b.runs for b in hours),
        hourly_failures=tuple(b.failures for b in hours),
        canceled=sum(b.canceled for b in hours),
        hourly_canceled=tuple(b.canceled for b in hours),
        duration_le=duration_le(bins),
        duration_sum_s=sum(records.bin_value(i) * c for i, c in sorted(bins.items())) if bins else None,
    )


DURATION_BOUNDS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
                     600.0, 1800.0, 3600.0)
"""Upper bounds (seconds) of the exporter's duration histogram buckets (``+Inf`` is the run count)."""


def duration_le(bins: Mapping[int, int]) -> tuple[int, ...]:
    """How many runs of the histogram ``bins`` lie at most each bound of ``DURATION_BOUNDS_S`` (a bin counts
    by its representative value, as the percentiles read it); empty when there are no bins."""
    if not bins:
        return ()
    values = sorted((records.bin_value(index), count) for index, count in bins.items())
    counts, total, at = [], 0, 0
    for bound in DURATION_BOUNDS_S:
        while at < len(values) and values[at][0] <= bound:
            total += values[at][1]
            at += 1
        counts.append(total)
    return tuple(counts)


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


class _Settled:
    """One task's settled hours: each hour's figures and reply, and all their bins summed once."""

    def __init__(self) -> None:
        self.heads: dict[int, Bucket] = {}
        self.replies: dict[int, Reply] = {}
        """Each hour's reply, so an hour that leaves can be taken out of ``bins`` again."""
        self.bins: dict[int, int] = {}

    def add(self, hour: int, reply: Reply) -> None:
        """Keep one settled hour and add its bins to the sum."""
        self.heads[hour], self.replies[hour] = _head(reply), reply
        _add_bins(self.bins, reply)

    def drop(self, hour: int) -> None:
        """Forget an hour that is no longer settled in the window, taking its bins out of the sum."""
        del self.heads[hour]
        _add_bins(self.bins, self.replies.pop(hour), -1)


@dataclass
class TaskPlan:
    """What one refresh reads for one task: HGETALL slots of uncached hours, cached hours, and their check."""

    task: bytes
    hours: list[int]
    fresh: dict[int, int]
    """Round-2 slot per hour read this time: unsettled hours and settled hours not cached yet."""
    cached: list[int]
    present: int = 0
    """How many cached hours had a bucket; the EXISTS in ``check`` must still count that many."""
    check: int | None = None
    reread: dict[int, int] = field(default_factory=dict)
    """Round-3 slot per cached hour, when a cached bucket had gone and the settled hours are read again."""


class BucketCache:
    """Settled hours kept pre-summed per task, so a refresh reads and merges only the newest ``settle_hours`` + 1.

    The worker writes a run into the bucket of the hour it ended in, so an hour more than ``settle_hours``
    old no longer changes. Per task the cache keeps one summed histogram of its settled hours (plus each
    hour's runs, failures, max and last for the row); an hour that leaves the window is taken out of the
    sum, a newly settled one added. One EXISTS per task notices a cached bucket that expired or was
    deleted, and then that task's settled hours are read again in the next round.
    """

    def __init__(self, settle_hours: int = 2) -> None:
        self.settle_hours = settle_hours
        self._tasks: dict[bytes, _Settled] = {}

    def plan(self, add: Queue, key: Callable[[bytes, int], bytes], task: bytes, hours: list[int]) -> TaskPlan:
        """Queue round-2 reads for one task: HGETALL for unsettled or unknown hours, one EXISTS for the rest."""
        cut = hours[-1] - self.settle_hours
        settled = self._tasks.get(task)
        cached: list[int] = []
        if settled is not None:
            wanted = {h for h in hours if h < cut}
            for hour in [h for h in settled.heads if h not in wanted]:
                settled.drop(hour)
            cached = [h for h in hours if h in settled.heads]
        known = set(cached)
        fresh = {h: add("hgetall", key(task, h)) for h in hours if h not in known}
        present = [key(task, h) for h in cached if settled is not None and settled.replies[h]]
        check = add("exists", *present) if present else None
        return TaskPlan(task, hours, fresh, cached, len(present), check)

    def recheck(self, add: Queue, key: Callable[[bytes, int], bytes], plan: TaskPlan, replies: list) -> None:
        """After round 2: queue round-3 reads of every cached hour when a cached bucket has gone."""
        if plan.check is not None and replies[plan.check] != plan.present:
            plan.reread = {h: add("hgetall", key(plan.task, h)) for h in plan.cached}

    def row(self, name: str, plan: TaskPlan, second: list, third: list, last_run: float | None) -> MetricRow:
        """The task's row: the settled sum (kept for the next refresh) merged with this refresh's fresh hours."""
        cut = plan.hours[-1] - self.settle_hours
        settled = self._tasks.get(plan.task)
        if settled is None or plan.reread:
            settled = self._tasks[plan.task] = _Settled()
            for hour, slot in plan.reread.items():
                if isinstance(third[slot], Mapping):
                    settled.add(hour, third[slot])
        heads: list[Bucket] = []
        fresh: list[Reply] = []
        for hour in plan.hours:
            fresh_slot = plan.fresh.get(hour)
            reply = second[fresh_slot] if fresh_slot is not None else None
            if not isinstance(reply, Mapping):  # a cached hour, or an error reply (read as empty)
                kept = settled.heads.get(hour) if fresh_slot is None else None
                heads.append(kept or Bucket())
            elif hour < cut:
                settled.add(hour, reply)
                heads.append(settled.heads[hour])
            else:
                heads.append(_head(reply))
                fresh.append(reply)
        bins = settled.bins
        if fresh:
            bins = dict(bins)
            for reply in fresh:
                _add_bins(bins, reply)
        return _row(name, heads, bins, last_run)

    def prune(self, tasks: Iterable[bytes]) -> None:
        """Forget tasks that are no longer listed (their cached hours would only age out)."""
        keep = set(tasks)
        for task in [t for t in self._tasks if t not in keep]:
            del self._tasks[task]


def _at_most(value: float | None, ceiling: float | None) -> float | None:
    """A percentile never exceeds the exact maximum (a bin's midpoint can lie above the largest run in it)."""
    if value is None or ceiling is None:
        return value
    return min(value, ceiling)


def _le_of(durations: Iterable[float]) -> tuple[int, ...]:
    """``duration_le`` of exact durations, binned as the worker bins them."""
    bins: dict[int, int] = {}
    for duration in durations:
        index = records.bin_index(duration)
        bins[index] = bins.get(index, 0) + 1
    return duration_le(bins)


def from_history(rows: Iterable[HistoryRow], now: float) -> tuple[tuple[MetricRow, ...], float | None]:
    """Rows computed exactly from ended jobs (RQ's registries when rqtop recorded nothing): runs, failures,
    cancels, nearest-rank p50/p95 and max of ``ended - started``, over the last 24 h, per hour and per 5-minute
    bucket of the last 2 h; and the earliest end they cover."""
    hours, slots = records.window_hours(now), records.recent_slots(now)
    first = hours[0] * 3600
    runs: dict[str, list[tuple[float, float, str]]] = {}
    for row in rows:
        if row.state not in ("completed", "failed", "canceled") or row.ended_at is None:
            continue
        if row.started_at is None and row.state != "canceled":
            continue
        ended = row.ended_at.timestamp()
        if ended >= first:
            began = row.started_at.timestamp() if row.started_at is not None else ended
            runs.setdefault(row.task, []).append((ended, max(0.0, ended - began), row.state))
    built = []
    for task, items in runs.items():
        done = [(e, d, state) for e, d, state in items if state != "canceled"]
        durations = [d for _, d, _ in done]
        failures = sum(1 for *_, state in done if state == "failed")
        per_hour = _per_bucket(items, hours, records.hour_of)
        per_slot = _per_bucket(items, slots, records.slot_of)
        built.append(MetricRow(
            task=task, runs=len(done), failures=failures,
            success_rate=(len(done) - failures) / len(done) * 100.0 if done else None,
            p50_s=records.exact_percentile(durations, 50) if durations else None,
            p95_s=records.exact_percentile(durations, 95) if durations else None,
            max_s=max(durations) if durations else None, last_run=records.from_epoch(max(e for e, _, _ in items)),
            hourly_runs=tuple(per_hour[h][0] for h in hours), hourly_failures=tuple(per_hour[h][1] for h in hours),
            canceled=len(items) - len(done), hourly_canceled=tuple(per_hour[h][2] for h in hours),
            recent_runs=tuple(per_slot[s][0] for s in slots), recent_failures=tuple(per_slot[s][1] for s in slots),
            recent_canceled=tuple(per_slot[s][2] for s in slots),
            duration_le=_le_of(durations), duration_sum_s=sum(durations) if durations else None,
        ))
    since = min((e for items in runs.values() for e, _, _ in items), default=None)
    return sort_rows(built), since


def _per_bucket(items: Iterable[tuple[float, float, str]], buckets: Sequence[int],
                bucket_of: Callable[[float], int]) -> dict[int, list[int]]:
    """[runs, failures, cancels] per bucket of ``buckets`` (runs leave cancels out), by each item's end."""
    counts = {b: [0, 0, 0] for b in buckets}
    for ended, _, state in items:
        cell = counts.get(bucket_of(ended))
        if cell is not None:
            cell[2 if state == "canceled" else 0] += 1
            cell[1] += state == "failed"
    return counts
