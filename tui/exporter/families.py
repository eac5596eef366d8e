"""Metric families from one ReadState: rq-exporter's names and labels where it has them, then rqtop's own.

Every label value is Redis text shown elsewhere: passed through ``safe_text`` (no terminal controls), and the
exposition format escapes quotes, backslashes and newlines. When the last read failed only the exporter's own
families are yielded, with ``rqtop_up 0``: no number read earlier is served as if it were fresh.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)

from tui.data.metrics import DURATION_BOUNDS_S
from tui.data.models import QueueRow, Snapshot, WorkerRow
from tui.exporter.cache import ReadState
from tui.exporter.task_totals import TaskTotals
from worker import records
from worker.display_text import safe_text

LIVE = ("online", "late", "suspended")
"""Worker statuses exported as live workers (rq-exporter lists the workers whose RQ hash is there)."""

NEEDS_RQTOP = " Needs rqtop's worker or `rqtop collect` (plain RQ: from RQ's registries, as far as they keep)."

RQ_JOB_STATUSES = ("queued", "started", "finished", "failed", "deferred", "scheduled", "canceled")


def _label(text: str | None) -> str:
    """A label value: Redis text without terminal controls ("" for None)."""
    return safe_text(text or "")


def job_counts(row: QueueRow) -> dict[str, int]:
    """``rq_jobs`` of one queue by RQ's status names (scheduled: RQ's scheduled zset, retries included)."""
    return {"queued": row.pending, "started": row.active, "finished": row.completed, "failed": row.failed,
            "deferred": row.deferred, "scheduled": row.scheduled + row.retry + row.retry_unknown,
            "canceled": row.canceled}


def worker_state(row: WorkerRow) -> str:
    """RQ's ``state`` of the worker hash (busy, idle, suspended, started), else rqtop's status."""
    return _label(row.state or row.status)


def own_families(state: ReadState) -> Iterator[Metric]:
    """The exporter's own health: up, when and how the numbers were read, what a read costs."""
    yield GaugeMetricFamily("rqtop_up", "1 when the last read of Redis succeeded (then every other metric is from "
                            "it), 0 when it failed (then only these rqtop_* health metrics are served).",
                            value=0 if state.snapshot is None else 1)
    yield GaugeMetricFamily("rqtop_last_read_timestamp_seconds", "When the served read started (epoch seconds).",
                            value=state.read_at)
    yield GaugeMetricFamily("rqtop_read_duration_seconds", "How long the last read of Redis took.",
                            value=state.read_s)
    yield GaugeMetricFamily("rqtop_read_commands", "Redis commands the last read sent (all read-only, pipelined).",
                            value=state.commands)
    yield GaugeMetricFamily("rqtop_read_round_trips", "Pipelined round trips of the last read (at most 3).",
                            value=state.round_trips)
    yield CounterMetricFamily("rqtop_reads", "Reads of Redis since the exporter started (at most one per "
                              "--min-interval, however often it is scraped).", value=state.reads)
    yield CounterMetricFamily("rqtop_read_errors", "Reads of Redis that failed since the exporter started.",
                              value=state.errors)
    yield SummaryMetricFamily("rq_request_processing_seconds", "Time spent collecting RQ data (rq-exporter's "
                              "name; one observation per read, not per scrape).",
                              count_value=state.reads, sum_value=state.read_s_total)


def rq_exporter_families(snapshot: Snapshot) -> Iterator[Metric]:
    """rq-exporter's metrics, same names and labels: workers and their counters, jobs per queue and status."""
    workers = GaugeMetricFamily("rq_workers", "RQ workers (live ones: online, late or suspended).",
                                labels=["name", "state", "queues"])
    success = CounterMetricFamily("rq_workers_success", "RQ workers success count (RQ's successful_job_count).",
                                  labels=["name", "queues"])
    failed = CounterMetricFamily("rq_workers_failed", "RQ workers fail count (RQ's failed_job_count).",
                                 labels=["name", "queues"])
    working = CounterMetricFamily("rq_workers_working_time", "RQ workers spent seconds (RQ's total_working_time).",
                                  labels=["name", "queues"])
    for row in snapshot.workers:
        if row.status not in LIVE:
            continue
        name, queues = _label(row.name), _label(",".join(row.queues))
        workers.add_metric([name, worker_state(row), queues], 1)
        success.add_metric([name, queues], row.processed or 0)
        failed.add_metric([name, queues], row.failed or 0)
        working.add_metric([name, queues], row.working_time_s or 0.0)
    yield from (workers, success, failed, working)
    jobs = GaugeMetricFamily("rq_jobs", "RQ jobs by state (started: live started entries, abandoned ones are in "
                             "rqtop_queue_abandoned_jobs; finished/failed: entries whose job hash is still kept; "
                             "scheduled: RQ's scheduled registry, retries included).", labels=["queue", "status"])
    for queue in snapshot.queues:
        for status, count in job_counts(queue).items():
            jobs.add_metric([_label(queue.name), status], count)
    yield jobs


def queue_families(snapshot: Snapshot) -> Iterator[Metric]:
    """Per queue: the oldest pending job's age, abandoned and retrying jobs, and the live workers serving it."""
    age = GaugeMetricFamily("rqtop_queue_oldest_pending_age_seconds", "Age of the queue's oldest pending job "
                            "(queue latency; 0 when nothing is pending).", labels=["queue"])
    abandoned = GaugeMetricFamily("rqtop_queue_abandoned_jobs", "Started entries past their deadline whose worker "
                                  "stopped beating them (RQ's cleanup or rqtop's janitor fails them).",
                                  labels=["queue"])
    retry = GaugeMetricFamily("rqtop_queue_retry_jobs", "Jobs waiting to be retried.", labels=["queue"])
    serving = GaugeMetricFamily("rqtop_queue_workers", "Live workers (online or late) listening on the queue.",
                                labels=["queue"])
    for queue in snapshot.queues:
        name = _label(queue.name)
        age.add_metric([name], queue.oldest_pending_age_s or 0.0)
        abandoned.add_metric([name], queue.abandoned)
        retry.add_metric([name], queue.retry)
        serving.add_metric([name], sum(1 for w in snapshot.workers
                                       if w.status in ("online", "late") and queue.name in w.queues))
    yield from (age, abandoned, retry, serving)
    yield GaugeMetricFamily("rqtop_suspended", "1 when RQ's workers are suspended (rq suspend).",
                            value=1 if snapshot.suspended else 0)


def task_families(snapshot: Snapshot, totals: TaskTotals) -> Iterator[Metric]:
    """Per task: monotonic run/failure counters, the 24 h window's counts, a duration histogram, the last run."""
    hours = records.window_hours(snapshot.taken_at.timestamp())
    totals.update(snapshot.metrics, hours)
    source = GaugeMetricFamily("rqtop_metrics_from_rqtop", "1 when task metrics come from rqtop's hourly "
                               "aggregates (its worker or `rqtop collect` records runs), 0 when from RQ's own "
                               "registries (only as far back as result_ttl/failure_ttl keep jobs).",
                               value=1 if snapshot.metrics_source == "rqtop" else 0)
    yield source
    runs = CounterMetricFamily("rqtop_task_runs", "Terminal runs per task since the exporter started (the first "
                               "24 h included)." + NEEDS_RQTOP, labels=["task"])
    fails = CounterMetricFamily("rqtop_task_failures", "Failed runs per task since the exporter started (the "
                                "first 24 h included)." + NEEDS_RQTOP, labels=["task"])
    canceled = CounterMetricFamily("rqtop_task_canceled", "Runs per task canceled cooperatively (is_cancelled) "
                                   "since the exporter started (the first 24 h included); not counted in "
                                   "rqtop_task_runs." + NEEDS_RQTOP, labels=["task"])
    for task, (count, failed, cancels) in sorted(totals.totals().items()):
        runs.add_metric([_label(task)], count)
        fails.add_metric([_label(task)], failed)
        canceled.add_metric([_label(task)], cancels)
    yield from (runs, fails, canceled)
    runs_24 = GaugeMetricFamily("rqtop_task_runs_24h", "Terminal runs per task over the last 24 h." + NEEDS_RQTOP,
                                labels=["task"])
    fails_24 = GaugeMetricFamily("rqtop_task_failures_24h", "Failed runs per task over the last 24 h." + NEEDS_RQTOP,
                                 labels=["task"])
    canceled_24 = GaugeMetricFamily("rqtop_task_canceled_24h", "Runs per task canceled cooperatively over the last "
                                    "24 h." + NEEDS_RQTOP, labels=["task"])
    last = GaugeMetricFamily("rqtop_task_last_run_timestamp_seconds", "When the task's last run ended (epoch)."
                             + NEEDS_RQTOP, labels=["task"])
    durations = GaugeHistogramMetricFamily("rqtop_task_duration_seconds", "Run durations per task over the last "
                                           "24 h (a gauge histogram: hours leave the window; buckets within 1 %)."
                                           + NEEDS_RQTOP, labels=["task"])
    for row in snapshot.metrics:
        task = _label(row.task)
        runs_24.add_metric([task], row.runs)
        fails_24.add_metric([task], row.failures)
        canceled_24.add_metric([task], row.canceled)
        if row.last_run is not None:
            last.add_metric([task], row.last_run.timestamp())
        if row.duration_le:
            total = max(row.runs, row.duration_le[-1])
            buckets = [(f"{bound:g}", float(count)) for bound, count in zip(DURATION_BOUNDS_S, row.duration_le,
                                                                              strict=True)]
            durations.add_metric([task], [*buckets, ("+Inf", float(total))], row.duration_sum_s or 0.0)
    yield from (runs_24, fails_24, canceled_24, last, durations)


def schedule_families(snapshot: Snapshot) -> Iterator[Metric]:
    """Per schedule: next and last run, last status, paused; per scheduler: whether it shows signs of life."""
    labels = ["schedule", "source", "queue"]
    next_run = GaugeMetricFamily("rqtop_schedule_next_run_timestamp_seconds", "When the schedule runs next "
                                 "(epoch; absent when paused or unknown).", labels=labels)
    last_run = GaugeMetricFamily("rqtop_schedule_last_run_timestamp_seconds", "When the schedule last ran (epoch)."
                                 " rqtop's schedules; for rq-scheduler / rq cron as far as they record it.",
                                 labels=labels)
    status = GaugeMetricFamily("rqtop_schedule_last_status", "1 for the schedule's last run status (rqtop's "
                               "schedules: needs rqtop's scheduler).", labels=[*labels, "status"])
    paused = GaugeMetricFamily("rqtop_schedule_paused", "1 when the schedule is paused.", labels=labels)
    for row in snapshot.schedules:
        values = [_label(row.name), _label(row.source), _label(row.queue)]
        if row.next_run is not None:
            next_run.add_metric(values, row.next_run.timestamp())
        if row.last_run is not None:
            last_run.add_metric(values, row.last_run.timestamp())
        if row.last_status:
            status.add_metric([*values, _label(row.last_status)], 1)
        paused.add_metric(values, 1 if row.paused else 0)
    yield from (next_run, last_run, status, paused)
    up = GaugeMetricFamily("rqtop_scheduler_up", "1 when a scheduler shows signs of life: rqtop's (a live "
                           "`rqtop worker` in mode all or scheduler), rq-scheduler's, each `rq cron`.",
                           labels=["source", "name"])
    for worker in snapshot.workers:
        if worker.mode in ("all", "scheduler") and worker.status != "gone":
            up.add_metric(["rqtop", _label(worker.name)], 1 if worker.status in ("online", "late") else 0)
    for scheduler in snapshot.schedulers:
        up.add_metric([_label(scheduler.source), _label(scheduler.name)], 1 if scheduler.alive else 0)
    yield up
    beat = snapshot.collector
    yield GaugeMetricFamily("rqtop_collector_up", "1 while `rqtop collect` sends its heartbeat (at most 3 passes "
                            "overdue), 0 when it stopped or never ran.", value=1 if beat and beat.alive else 0)
    seen = GaugeMetricFamily("rqtop_collector_last_seen_timestamp_seconds", "When `rqtop collect` last finished a "
                             "pass (absent when it never ran or its heartbeat expired).")
    if beat is not None:
        seen.add_metric([], beat.seen_at.timestamp())
    yield seen


def families(state: ReadState, totals: TaskTotals) -> Iterator[Metric]:
    """Every family for one scrape: the exporter's own, then, when the read succeeded, the Snapshot's."""
    yield from own_families(state)
    snapshot = state.snapshot
    if snapshot is None:
        return
    yield from rq_exporter_families(snapshot)
    yield from queue_families(snapshot)
    yield from task_families(snapshot, totals)
    yield from schedule_families(snapshot)
