"""The metrics section: one row per task run in the last 24 hours, from its hourly buckets and its recent window.

Rule: round 1 reads the task index (tasks whose last run is inside the window, most recent first, at
most ``MAX_TASKS``); round 2, per task, HGETALL of each hour ``metrics.BucketCache`` has not kept (all 24
cold, the newest three warm) plus one EXISTS over the cached hours, and one HGETALL of its recent window (a
ring of 24 five-minute buckets in one hash: at most 96 small fields, one command whatever the traffic);
round 3 re-reads a task's cached hours only when that EXISTS says one has gone. The reader leaves this
planner out for a screen that does not show metrics, so nothing of it is read then.
"""

from __future__ import annotations

from dataclasses import replace

from tui.data import metrics
from tui.data.job_meta import UNREADABLE
from tui.data.masking import decode
from tui.data.models import MetricRow
from tui.data.sections.raw_keys import bkey
from tui.data.sections.rounds import Replies, Round, reply_as
from worker import keys, records

MAX_TASKS = 500
"""Metrics rows are read for at most this many tasks, the most recently run first."""


def _bucket_key(task: bytes, hour: int) -> bytes:
    """Key of one task's metrics bucket for one hour."""
    return bkey(keys.metric_bucket, task, hour)


class MetricsPlanner:
    """Reads each listed task's uncached hourly buckets and folds them with the cached ones."""

    def __init__(self, buckets: metrics.BucketCache, now: float) -> None:
        self._buckets = buckets
        self.hours = records.window_hours(now)
        self.slots = records.recent_slots(now)
        self._recent: list[int] = []
        self.tasks: list[tuple[bytes, float]] = []
        self._index = 0
        self._plans: list[metrics.TaskPlan] = []

    def first(self, r1: Round) -> None:
        # only tasks whose last run is inside the window: older ones would show 0 runs
        self._index = r1.add("zrevrangebyscore", keys.METRIC_TASKS, "+inf", self.hours[0] * keys.METRIC_BUCKET_S,
                             start=0, num=MAX_TASKS, withscores=True)

    def second(self, one: Replies, r2: Round) -> None:
        self.tasks = reply_as(one[self._index], list, [])
        self._plans = [self._buckets.plan(r2.add, _bucket_key, t, self.hours) for t, _ in self.tasks]
        self._recent = [r2.add("hgetall", bkey(keys.metric_recent, t)) for t, _ in self.tasks]

    def third(self, two: Replies, r3: Round) -> None:
        for plan in self._plans:
            self._buckets.recheck(r3.add, _bucket_key, plan, two)

    def rows(self, two: Replies, three: Replies) -> tuple[MetricRow, ...]:
        self._buckets.prune(t for t, _ in self.tasks)
        return metrics.sort_rows(
            _with_recent(self._buckets.row(decode(t) or UNREADABLE, plan, two, three, score),
                         metrics.parse_recent(two[slot], self.slots))
            for (t, score), plan, slot in zip(self.tasks, self._plans, self._recent, strict=True)
        )


def _with_recent(row: MetricRow, recent: metrics.Recent) -> MetricRow:
    """The row with its recent window."""
    return replace(row, recent_runs=recent.runs, recent_failures=recent.failures, recent_canceled=recent.canceled)
