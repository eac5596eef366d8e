"""A fake reader and fake actions with canned Snapshots and plans, so TUI tests need no Redis and a frozen clock."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from tui.data.job_meta import JobSummary
from tui.data.models import (
    HistoryRow,
    MetricRow,
    QueueRow,
    QueueTotals,
    ScheduleRow,
    SchedulerRow,
    Snapshot,
    WorkerRow,
)
from tui.data.queue_reads import QueueReads
from tui.data.settings import Settings
from tui.data.worker_reads import WorkerReads
from tui.protocols import DashboardData, OperatorActions
from worker.plans import (
    ActionResult,
    CancelPendingPlan,
    ExecutionRef,
    FailActivePlan,
    JanitorPlan,
    JanitorStep,
    PauseResult,
    QueueCut,
    RunNowResult,
)
from worker.schedules import describe

NOW = 1_795_000_000.0
"""The frozen clock every TUI test runs at (2026-11-18 11:06:40 UTC)."""


def at(offset_s: float) -> datetime:
    """A UTC datetime ``offset_s`` seconds from NOW."""
    return datetime.fromtimestamp(NOW + offset_s, tz=timezone.utc)


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def frozen_settings(**overrides: Any) -> Settings:
    """Settings with the frozen clock and a long refresh so snapshots do not race a second read."""
    values: dict[str, Any] = {"refresh_s": 60.0, "clock": FrozenClock()}
    values.update(overrides)
    return Settings(**values)


def _schedule(name: str, task: str, description: str, **kw: Any) -> ScheduleRow:
    """A ScheduleRow with sensible defaults."""
    values: dict[str, Any] = dict(
        name=name, task=f"worker.demo_tasks.{task}", description=description, cron=None, interval_s=None,
        schedule_text="", timezone="UTC", priority="normal", queue="default", next_run=at(120), pending=0,
        last_run=at(-240), last_status="completed", paused=False,
    )
    values.update(kw)
    if not values["schedule_text"]:  # the text the reader gives, from cron-descriptor or the interval
        values["schedule_text"] = describe(values["cron"], values["interval_s"], values["timezone"])
    return ScheduleRow(**values)


SCHEDULES = (
    _schedule("catalog_sync", "catalog_sync", "Pull the product catalog from the ERP", cron="*/5 * * * *",
              priority="high", queue="high", pending=2, expires_after_s=600),
    _schedule("nightly_report", "nightly_report", "Build and mail the daily sales report", cron="0 3 * * *",
              next_run=at(70_000), last_run=at(-16_000)),
    _schedule("cache_warm", "cache_warm", "Warm the storefront cache", interval_s=60,
              priority="low", queue="low", next_run=at(30), last_run=at(-30), pending=14),
    _schedule("soft_delete_cleanup", "soft_delete_cleanup", "Purge soft-deleted rows", cron="0 * * * *",
              paused=True, next_run=None, last_status="skipped"),
    _schedule("invoice_retry", "invoice_retry", "Retry failed invoice webhooks", interval_s=900,
              next_run=at(400), last_status="failed", last_run=at(-500)),
)

_STATES = ("completed", "failed", "running", "retry", "pending", "canceled", "completed", "completed")
HISTORY = tuple(
    HistoryRow(
        id=f"job-{i:03d}", task=f"worker.demo_tasks.{SCHEDULES[i % 5].task.rsplit('.', 1)[-1]}",
        queue=SCHEDULES[i % 5].queue, state=_STATES[i % len(_STATES)], created_at=at(-60 * i - 30),
        ended_at=at(-60 * i) if _STATES[i % len(_STATES)] in ("completed", "failed", "canceled") else None,
        retries=1 if _STATES[i % len(_STATES)] == "retry" else 0, started_at=at(-60 * i - 20),
        worker="host-a.1201", error="ValueError: bad row 17" if _STATES[i % len(_STATES)] == "failed" else None,
    )
    for i in range(12)
)

QUEUES = (
    QueueRow("high", pending=2, active=1, completed=1_204, failed=3, retry=0, scheduled=1, oldest_pending_age_s=12),
    QueueRow("default", pending=5, active=2, completed=8_311, failed=41, retry=2, scheduled=0,
             oldest_pending_age_s=95),
    QueueRow("low", pending=14, active=0, completed=512, failed=0, retry=0, scheduled=0, oldest_pending_age_s=610),
)


def _worker(name: str, status: str = "online", **kw: Any) -> WorkerRow:
    """A WorkerRow with sensible defaults."""
    values: dict[str, Any] = dict(
        name=name, hostname="host-a", pid=1200, mode="all", version="0.1.0", status=status, birth=at(-7_500),
        processed=1_830, failed=0, current_job=None, last_seen=at(-3),
        queues=("high", "default"),
    )
    values.update(kw)
    return WorkerRow(**values)


WORKERS = (
    _worker("alpha", pid=1201, current_job="worker.demo_tasks.catalog_sync", current_started=NOW - 12.4,
            failed=3),
    _worker("bravo", pid=1202, mode="worker", processed=922),
    _worker("charlie", status="offline", hostname="host-b", pid=77, last_seen=at(-400), processed=40),
    _worker("delta", status="suspended", pid=1204, mode="worker", processed=0),
)

METRICS = (
    MetricRow("worker.demo_tasks.catalog_sync", runs=288, failures=1, success_rate=99.65, p50_s=1.2, p95_s=3.8,
              max_s=9.1, last_run=at(-60), hourly_runs=tuple(12 + (h % 5) for h in range(24)),
              hourly_failures=tuple(1 if h == 20 else 0 for h in range(24))),
    MetricRow("worker.demo_tasks.invoice_retry", runs=96, failures=12, success_rate=87.5, p50_s=0.41, p95_s=2.2,
              max_s=30.0, last_run=at(-500), hourly_runs=tuple(2 + 2 * (h % 3) for h in range(24)),
              hourly_failures=tuple(1 if h % 2 == 0 else 0 for h in range(24)), canceled=2,
              hourly_canceled=tuple(1 if h in (4, 22) else 0 for h in range(24)),
              recent_runs=tuple(0 if h < 3 else 1 + h % 4 for h in range(24)),
              recent_failures=tuple(1 if h in (5, 17, 22) else 0 for h in range(24)),
              recent_canceled=tuple(1 if h == 20 else 0 for h in range(24))),
    MetricRow("worker.demo_tasks.cache_warm", runs=1_440, failures=30, success_rate=97.92, p50_s=0.05,
              p95_s=0.12, max_s=0.9, last_run=at(-30), hourly_runs=tuple(60 for _ in range(24)),
              hourly_failures=tuple(1 if h % 4 == 0 else 0 for h in range(24))),
    MetricRow("worker.demo_tasks.nightly_report", runs=1, failures=0, success_rate=100.0, p50_s=184.0,
              p95_s=184.0, max_s=184.0, last_run=at(-16_000), hourly_runs=tuple(1 if h == 3 else 0 for h in range(24)),
              hourly_failures=tuple(0 for _ in range(24))),
)


def sample_snapshot(**overrides: Any) -> Snapshot:
    """A busy platform: five schedules, twelve history rows, three queues, four workers, four job types."""
    values: dict[str, Any] = dict(
        taken_at=at(0), schedules=SCHEDULES, history=HISTORY,
        totals=QueueTotals(active=3, pending=21, completed=10_027, failed=44, retry=2),
        queues=QUEUES, workers=WORKERS, metrics=METRICS, round_trips=3,
    )
    values.update(overrides)
    return Snapshot(**values)


FOREIGN_SCHEDULES = (
    _schedule("rq-scheduler/5f1c9e0a7b", "send_digest", "send_digest('weekly')", cron="0 8 * * 1",
              source="rq-scheduler", pause_allowed=False,
              pause_reason="rq-scheduler has no pause", scheduler_alive=True, last_run=at(-3_000),
              last_status="completed", next_run=at(90_000)),
    _schedule("rq-scheduler/0ddba11", "unreadable", "", schedule_text="unreadable", source="rq-scheduler",
              pause_allowed=False, scheduler_alive=True, unreadable=True, run_now_allowed=False, last_run=None,
              last_status=None),
    _schedule("rq-cron/web-1:4242:a1b2c3/refresh_rates", "refresh_rates", "", interval_s=300,
              source="rq cron", pause_allowed=False, scheduler="web-1:4242:a1b2c3",
              scheduler_alive=False, last_run=at(-400), last_status="queued", next_run=at(-100)),
)
"""Recurring jobs of rq-scheduler and rq cron beside rqtop's: one live zset, one unreadable job, one dead cron."""


def mixed_sources_snapshot() -> Snapshot:
    """rqtop's schedules with rq-scheduler's and rq cron's jobs, a dead cron process and a +M more count."""
    return sample_snapshot(
        schedules=SCHEDULES[:3] + FOREIGN_SCHEDULES, schedules_more=7,
        schedulers=(SchedulerRow("rq-scheduler", "rq:scheduler:scheduled_jobs", True, "no job is overdue", jobs=9,
                                 jobs_shown=2),
                    SchedulerRow("rq cron", "web-1:4242:a1b2c3", False, "gone", jobs=1, jobs_shown=1)),
    )


def attention_snapshot() -> Snapshot:
    """The sample's schedules, one running now (for 2 min 05 s) and failing, one only needing attention."""
    rows = list(SCHEDULES)
    rows[0] = dataclasses.replace(rows[0], running=True, running_since=at(-125), failures=3, last_status="failed",
                                  latest_failure="sched--a--1", latest_failure_key="sched--a--1")
    rows[1] = dataclasses.replace(rows[1], failures=1, latest_failure="sched--b--2", latest_failure_key="sched--b--2",
                                  last_status="failed")
    return sample_snapshot(schedules=tuple(rows))


def empty_workers_snapshot() -> Snapshot:
    """Jobs waiting but not one worker: the Workers tab's empty state with its warning."""
    return sample_snapshot(workers=())


_PAGE_STATES = {"pending": "pending", "active": "running", "completed": "completed", "failed": "failed",
                "scheduled": "scheduled", "deferred": "deferred", "canceled": "canceled"}


def page_job(queue: str, source: str, index: int) -> JobSummary:
    """Job ``index`` of a fake list: a uuid-like id, a demo task, times a minute apart; the fourth is unreadable."""
    job_id = hashlib.md5(f"{queue}:{source}:{index}".encode()).hexdigest()
    schedule = SCHEDULES[index % len(SCHEDULES)]
    state = _PAGE_STATES[source]
    ran = state in ("running", "completed", "failed")
    unreadable = source == "pending" and index == 3
    return JobSummary(
        id=job_id, task="unreadable" if unreadable else schedule.task, queue=queue, state=state,
        status={"running": "started", "pending": "queued"}.get(state, state), created_at=at(-60 * index - 90),
        enqueued_at=at(-60 * index - 60), started_at=at(-60 * index - 30) if ran else None,
        ended_at=at(-60 * index - 10) if ran and state != "running" else None,
        description=f"{schedule.task.rsplit('.', 1)[-1]}(batch={index}, token='***')",
        worker="host-a.1201" if ran else None, unreadable=unreadable,
    )


class FakeReader:
    """Returns canned snapshots (the last one repeats), or raises what ``fail_with`` says; counts concurrency.
    Like DashboardReader, a read without metrics has none (``metrics_asked`` records what each read asked for);
    with a ``clock`` every snapshot is stamped as taken at its time (the metrics too when read)."""

    def __init__(self, snapshots: Sequence[Snapshot] | None = None, delay_s: float = 0.0,
                 clock: Callable[[], float] | None = None) -> None:
        self.snapshots = list(snapshots or [sample_snapshot()])
        self.delay_s = delay_s
        self.clock = clock
        self.metrics_asked: list[bool] = []
        self.workers_asked: list[WorkerReads | None] = []
        self.queues_asked: list[QueueReads | None] = []
        self.fail_with: BaseException | None = None
        self.calls = 0
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    def read(self, include_metrics: bool = True, workers: WorkerReads | None = None,
             queues: QueueReads | None = None) -> Snapshot:
        """One canned snapshot, after ``delay_s`` (without its metrics unless ``include_metrics``)."""
        with self._lock:
            self.calls += 1
            self.metrics_asked.append(include_metrics)
            self.workers_asked.append(workers)
            self.queues_asked.append(queues)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
            if self.fail_with is not None:
                raise self.fail_with
            snapshot = self.snapshots.pop(0) if len(self.snapshots) > 1 else self.snapshots[0]
            if self.clock is not None:
                taken_at = datetime.fromtimestamp(self.clock(), tz=timezone.utc)
                snapshot = dataclasses.replace(snapshot, taken_at=taken_at, metrics_taken_at=taken_at)
            if not include_metrics:
                snapshot = dataclasses.replace(snapshot, metrics=(), metrics_taken_at=None)
            return snapshot
        finally:
            with self._lock:
                self.active -= 1


JANITOR_PLAN = JanitorPlan(steps=(
    JanitorStep("orphans", "Orphaned started jobs to fail", ("a", "b")),
    JanitorStep("workers", "Dead worker records to remove", ("w1",)),
    JanitorStep("tokens", "Stale dedupe tokens to clear", ()),
))
FAIL_PLAN = FailActivePlan(targets=(
    ExecutionRef("job-1", "e1", "high", "alpha", True),
    ExecutionRef("job-2", "e2", "default", "alpha", True),
    ExecutionRef("job-3", "e3", "default", None, False),
))
CANCEL_PLAN = CancelPendingPlan(cuts=(QueueCut("high", 2, "h2"), QueueCut("default", 5, "d5"),
                                      QueueCut("low", 14, "l14")))


class FakeActions:
    """Records every call with its arguments and returns canned plans and results."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.plans: dict[str, Any] = {"janitor": JANITOR_PLAN, "fail_active": FAIL_PLAN, "cancel_pending": CANCEL_PLAN}
        self.run_now_status = "queued"

    def _record(self, name: str, arg: Any = None) -> None:
        self.calls.append((name, arg))

    def called(self, name: str) -> list[Any]:
        """Arguments of every call to ``name``."""
        return [arg for call, arg in self.calls if call == name]

    def run_now(self, name: str, notify: str = "") -> RunNowResult:
        self._record("run_now", name)
        self.notified = getattr(self, "notified", []) + ([(name, notify)] if notify else [])
        job_id = f"sched--{name}--abc123def456"
        return RunNowResult(name, self.run_now_status, job_id, f"{name}: {self.run_now_status}")

    def pause(self, name: str) -> PauseResult:
        self._record("pause", name)
        return PauseResult(name, True, True, f"Paused {name}")

    def resume(self, name: str) -> PauseResult:
        self._record("resume", name)
        return PauseResult(name, False, True, f"Resumed {name}")

    def set_schedule(self, name: str, fields: dict[str, Any]) -> ActionResult:
        self._record("set_schedule", (name, fields))
        return ActionResult("schedule_set", True, f"{name}: saved", {"changed": 1})

    def reset_schedule(self, name: str) -> ActionResult:
        self._record("reset_schedule", name)
        return ActionResult("schedule_reset", True, f"{name}: override removed", {"changed": 1})

    def create_schedule(self, table: dict[str, Any]) -> ActionResult:
        self._record("create_schedule", table)
        return ActionResult("schedule_create", True, "created", {"changed": 1})

    def delete_schedule(self, name: str) -> ActionResult:
        self._record("delete_schedule", name)
        return ActionResult("schedule_delete", True, "deleted", {"changed": 1})

    def plan_janitor(self) -> JanitorPlan:
        self._record("plan_janitor")
        return self.plans["janitor"]

    def run_janitor(self, plan: JanitorPlan) -> ActionResult:
        self._record("run_janitor", plan)
        return ActionResult("janitor", True, "Janitor done", {s.name: s.total for s in plan.steps})

    def plan_fail_active(self) -> FailActivePlan:
        self._record("plan_fail_active")
        return self.plans["fail_active"]

    def fail_active(self, plan: FailActivePlan) -> ActionResult:
        self._record("fail_active", plan)
        alive = sum(1 for target in plan.targets if target.worker_alive)
        return ActionResult("fail_active", True, f"Failed {plan.total} jobs",
                            {"stopped": alive, "failed_dead": plan.total - alive})

    def plan_cancel_pending(self) -> CancelPendingPlan:
        self._record("plan_cancel_pending")
        return self.plans["cancel_pending"]

    def cancel_pending(self, plan: CancelPendingPlan) -> ActionResult:
        self._record("cancel_pending", plan)
        return ActionResult("cancel_pending", True, f"Canceled {plan.total} jobs", {"canceled": plan.total})

    def cancel_running(self, job_id: str) -> ActionResult:
        self._record("cancel_running", job_id)
        return ActionResult("cancel_running", True, f"cancel of {job_id} requested", {"requested": 1})


def make_app(reader: DashboardData | None = None, actions: OperatorActions | None = None,
             **settings: Any) -> Any:
    """An RqtopApp built the way the CLI builds it, with fakes and the frozen clock."""
    from tui.app import RqtopApp

    return RqtopApp(
        reader=reader or FakeReader(),
        actions=actions or FakeActions(),
        settings=frozen_settings(**settings),
        url_label="redis://:***@cache.internal:6379/0",
    )


def run(test: Callable[[], Awaitable[None]]) -> None:
    """Run one async Pilot test body to completion (no pytest-asyncio needed)."""
    asyncio.run(test())


async def loaded(app: Any, pilot: Any) -> None:
    """Wait for the app's first snapshot to be on screen."""
    await wait_until(lambda: app.snapshot is not None, pilot)
    await pilot.pause()


async def wait_until(condition: Callable[[], bool], pilot: Any, timeout_s: float = 5.0) -> None:
    """Pause the pilot until ``condition`` holds; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)

