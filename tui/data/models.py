"""Frozen dataclasses for one dashboard snapshot: what the three tabs and `status --json` show."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from tui.data.progress import JobProgress


@dataclass(frozen=True)
class ScheduleRow:
    """One recurring job from the central schedule, with its live state."""

    name: str
    task: str
    description: str
    cron: str | None
    interval_s: int | None
    schedule_text: str
    timezone: str
    priority: str  # "high" | "normal" | "low"
    queue: str
    next_run: datetime | None
    pending: int
    last_run: datetime | None
    last_status: str | None
    paused: bool
    expires_after_s: int | None = None
    run_now_allowed: bool = True
    run_now_reason: str | None = None
    active_job_id: str | None = None
    skipped: int = 0
    source: str = "rqtop"  # one of worker.records.SCHEDULE_SOURCES
    pause_allowed: bool = True
    pause_reason: str | None = None
    scheduler: str | None = None
    """The process that enqueues it (``rq cron``'s scheduler name); None for the shared rq-scheduler zset."""
    scheduler_alive: bool | None = None
    """Whether that process shows signs of life (None: rqtop's own, shown on the Workers tab)."""
    repeat_left: int | None = None
    unreadable: bool = False
    timeout_s: int | None = None
    notify: str | None = None
    """The schedule's own notify policy (failures, all, never), or None for the default."""
    override: str = ""
    """Run-time edit: "overridden" (the file's entry with fields changed), "run-time" (not in the file), or ""."""
    override_diff: tuple[str, ...] = ()
    """For an overridden row, ``field: file's value -> run-time value`` per changed field."""
    file_changed: bool = False
    """The file's entry changed since the override was made against it (a deploy did not undo the override)."""
    override_error: str = ""
    """Why the scheduler did not apply the run-time edit (one line), or ""."""
    running: bool = False
    """A run is executing now ("Running now")."""
    running_since: datetime | None = None
    """When that run started (its elapsed time), when RQ wrote it."""
    failures: int = 0
    """Unresolved failed runs: still in RQ's failed registry (not re-run, dismissed or expired) -
    "Needs attention" (sections/schedules.py says how far it looks)."""
    latest_failure: str | None = None
    """The newest of them, as shown."""
    latest_failure_key: str | None = None
    """The same id exactly as Redis holds it (to read its detail)."""

    @property
    def needs_attention(self) -> bool:
        """True while the schedule has unresolved failures."""
        return self.failures > 0


@dataclass(frozen=True)
class SchedulerRow:
    """One scheduler that is not rqtop's (rq-scheduler's shared zset, or one ``rq cron`` process) and its liveness."""

    source: str  # "rq-scheduler" | "rq cron"
    name: str
    alive: bool
    note: str
    last_seen: datetime | None = None
    jobs: int = 0
    jobs_shown: int = 0


@dataclass(frozen=True)
class HistoryRow:
    """One recent execution of any job type."""

    id: str
    task: str
    queue: str
    state: str  # one of worker.records.HISTORY_STATES
    created_at: datetime | None
    ended_at: datetime | None
    retries: int
    started_at: datetime | None = None
    schedule: str | None = None
    worker: str | None = None
    error: str | None = None
    note: str | None = None
    progress: JobProgress | None = None
    """A running execution's progress (the Workers section read it: no extra command)."""


@dataclass(frozen=True)
class QueueTotals:
    """Job counts summed over every queue."""

    active: int = 0
    pending: int = 0
    completed: int = 0
    failed: int = 0
    retry: int = 0
    abandoned: int = 0
    as_of_s: float | None = None
    """How old the oldest queue count summed here is, when some queue was not re-read this refresh
    (``queue_reads``); None when every count was read now."""


SAME_READ_S = 0.001
"""A row read less than this before the snapshot's time was read by that refresh (``taken_at`` is a datetime: it
keeps microseconds, the read's clock more)."""


@dataclass(frozen=True)
class QueueRow:
    """Counts for one queue, plus the age of its oldest pending job."""

    name: str
    pending: int
    active: int
    completed: int
    failed: int
    retry: int
    scheduled: int
    oldest_pending_age_s: float | None = None
    deferred: int = 0
    canceled: int = 0
    abandoned: int = 0
    """Started entries past their deadline (their worker stopped beating them): not active; the janitor fails them."""
    retry_unknown: int = 0
    """Scheduled entries not classified as retry or scheduled yet (beyond the per-refresh budget)."""
    read_at: float | None = None
    """When these counts were read (epoch seconds; a refresh re-reads only some queues, ``queue_reads``); None for a
    row no reader built."""

    def age_at(self, taken: float) -> float | None:
        """Seconds between this row's read and ``taken`` (the snapshot's time); None when read by that refresh."""
        return None if self.read_at is None or taken - self.read_at < SAME_READ_S else taken - self.read_at


WORKER_STATUSES = ("online", "late", "suspended", "offline", "gone")
"""online; late (RQ's hash outlived the beat RQ scheduled); suspended (``rq suspend``); offline (rqtop's record
outlived its beats); gone (RQ's hash expired: shown for a minute, then dropped)."""


UP_STATUSES = frozenset({"online", "late", "suspended"})
"""Statuses of a worker that is up (its uptime counts)."""


@dataclass(frozen=True)
class WorkerRow:
    """One worker, live or recently seen, from RQ's hash and rqtop's own last-seen record.

    Nothing in it depends on the clock but ``status`` (worked out when the row is built): durations are kept as the
    instants they start from and worked out for the moment shown (``uptime_at``, ``elapsed_at``, ``age_at``), so a
    worker whose hashes and status have not changed keeps the very same row from refresh to refresh (at 10,000
    workers building every row anew took ~80 ms a refresh)."""

    name: str
    hostname: str | None
    pid: int | None
    mode: str  # "all" | "worker" | "scheduler" | "rq"
    version: str | None
    status: str  # one of WORKER_STATUSES
    processed: int | None
    failed: int | None
    current_job: str | None
    last_seen: datetime | None
    current_job_id: str | None = None
    current_started: float | None = None
    """When the running job started (epoch seconds), when known."""
    queues: tuple[str, ...] = ()
    birth: datetime | None = None
    unreadable: bool = False
    state: str | None = None
    """RQ's own ``state`` field of the worker hash (busy, idle, suspended, started), as RQ 2 and 3 write it."""
    attempts: int | None = None
    """rqtop's worker only: every run it made (retries included); ``processed`` / ``failed`` are RQ's counts."""
    attempts_failed: int | None = None
    """rqtop's worker only: the runs that failed, retried ones included."""
    progress: JobProgress | None = None
    """How far the running job is (``report_progress`` or RQ's ``meta["progress"]``), when it says."""
    working_time_s: float | None = None
    """RQ's ``total_working_time`` of the worker hash (seconds spent running jobs), as rq-exporter exports it."""
    read_at: float | None = None
    """When this row's hashes were read (epoch seconds); None for a row no reader built."""

    @property
    def up_since(self) -> float | None:
        """When the worker started (epoch seconds), while it is up; None when it is not or the birth is unknown."""
        return self.birth.timestamp() if self.birth is not None and self.status in UP_STATUSES else None

    def uptime_at(self, now: float) -> float | None:
        """Seconds the worker has been up at ``now``; None when it is not up or its birth is unknown."""
        since = self.up_since
        return None if since is None else max(0.0, now - since)

    def elapsed_at(self, now: float) -> float | None:
        """Seconds the running job has run at ``now``; None when idle or its start is unknown."""
        if self.current_job is None or not self.current_started:
            return None
        return max(0.0, now - self.current_started)

    def age_at(self, taken: float) -> float | None:
        """Seconds between this row's read and ``taken`` (the snapshot's time); None when read by that refresh."""
        return None if self.read_at is None or taken - self.read_at < SAME_READ_S else taken - self.read_at


@dataclass(frozen=True)
class MetricRow:
    """One job type's terminal runs over the last 24 h."""

    task: str
    runs: int
    failures: int
    success_rate: float | None  # 0..100
    p50_s: float | None
    p95_s: float | None
    max_s: float | None
    last_run: datetime | None
    hourly_runs: tuple[int, ...] = ()
    hourly_failures: tuple[int, ...] = ()
    canceled: int = 0
    """Runs canceled cooperatively (``is_cancelled``): counted apart, neither in ``runs`` nor in the percentiles."""
    hourly_canceled: tuple[int, ...] = ()
    recent_runs: tuple[int, ...] = ()
    """The recent window: runs per 5-minute bucket over the last 2 h (24, oldest first); empty when not read."""
    recent_failures: tuple[int, ...] = ()
    recent_canceled: tuple[int, ...] = ()
    duration_le: tuple[int, ...] = ()
    """Runs whose duration is at most each of ``metrics.DURATION_BOUNDS_S`` (cumulative), for the exporter's
    histogram; empty when no duration is known."""
    duration_sum_s: float | None = None
    """Sum of the runs' durations (from the bins: within 1 %), for the exporter's histogram."""


@dataclass(frozen=True)
class CollectorBeat:
    """``rqtop collect``'s last heartbeat: when, at what pass interval, where, and whether it is still alive."""

    seen_at: datetime
    interval_s: float
    host: str
    pid: int | None
    alive: bool


@dataclass(frozen=True)
class NotifyCounts:
    """The notification outbox: waiting notifications, failed delivery attempts, channel kinds failing now."""

    pending: int = 0
    failures: int = 0
    failing: str = ""


@dataclass(frozen=True)
class ReadSource:
    """Where a dashboard's Snapshot came from: its own reads of Redis, or the snapshot a worker shared
    (``tui.data.shared_snapshot``)."""

    kind: str  # "shared" | "direct"
    publisher: str | None = None
    """Who published the shared snapshot (its worker's name, and host when the name does not say it)."""
    published_at: datetime | None = None
    """When the publisher read it (its clock)."""
    reason: str | None = None
    """Why a dashboard that looks for a shared snapshot read Redis itself (none, stale, unreadable, Workers tab)."""


@dataclass(frozen=True)
class Snapshot:
    """Everything one refresh read, taken at one instant."""

    taken_at: datetime
    schedules: tuple[ScheduleRow, ...] = ()
    schedulers: tuple[SchedulerRow, ...] = ()
    schedules_more: int = 0
    """Recurring jobs of other schedulers registered but not read this refresh (beyond the per-refresh bound)."""
    history: tuple[HistoryRow, ...] = ()
    totals: QueueTotals = field(default_factory=QueueTotals)
    queues: tuple[QueueRow, ...] = ()
    workers: tuple[WorkerRow, ...] = ()
    metrics: tuple[MetricRow, ...] = ()
    suspended: bool = False
    round_trips: int = 0
    metrics_taken_at: datetime | None = None
    """When ``metrics`` were read: ``taken_at`` for a full read; earlier when a refresh skipped the metrics
    and the App kept the last ones it read; None when none have been read."""
    history_source: str = "rqtop"
    """Where ``history`` came from: "rqtop" (rqtop's worker or ``rqtop collect``) or "rq-registries"."""
    history_note: str | None = None
    """Said beside History when it is not rqtop's own record: the source and RQ's retention window."""
    metrics_source: str = "rqtop"
    """Where ``metrics`` came from: "rqtop" (24 h of hourly buckets) or "rq-registries"."""
    metrics_note: str | None = None
    """Said beside Metrics when they cover less than 24 h: the jobs and the window they really cover."""
    metrics_since: datetime | None = None
    """The earliest end the metrics cover, when they come from RQ's registries."""
    key_prefix: str = "rq"
    """The RQ key prefix read (RQ_KEY_PREFIX / --key-prefix)."""
    other_key_prefixes: tuple[str, ...] = ()
    """When nothing was found under ``key_prefix``: other prefixes whose ``<prefix>:queues`` key one bounded SCAN
    met (a hint to try ``--key-prefix``)."""
    notify: NotifyCounts = field(default_factory=NotifyCounts)
    """The notification outbox's waiting count and failed delivery attempts."""
    collector: CollectorBeat | None = None
    """``rqtop collect``'s heartbeat, or None when no collector ran in the last few passes."""
    read_source: ReadSource | None = None
    """Shared snapshot or direct read (``tui.data.shared_snapshot``); None from a reader that does not say."""
    workers_as_of: datetime | None = None
    """None when this refresh read the workers (or the ones ``worker_reads`` picks); else when the kept ``workers``
    were built: a tab that shows no worker reads none (the epoch when none have been read yet)."""

    def with_metrics_of(self, other: Snapshot) -> Snapshot:
        """This snapshot with ``other``'s metrics and everything said about them (for a read that skipped them)."""
        return replace(self, metrics=other.metrics, metrics_taken_at=other.metrics_taken_at,
                       metrics_source=other.metrics_source, metrics_note=other.metrics_note,
                       metrics_since=other.metrics_since)

