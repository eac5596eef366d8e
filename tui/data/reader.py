"""DashboardReader: one Snapshot in at most three pipelined, read-only round trips, whatever Redis holds.

Each section of the Snapshot is read by one planner (``tui.data.sections``): round 1 reads every
planner's indexes (queues, workers, schedules, rq-scheduler's jobs, rq cron's schedulers, history,
suspension, metric tasks); round 2 every per-item
count and hash they name; round 3 the few job hashes those point at (each queue's head job, each
schedule's active run, the job a plain ``rq worker`` runs, at most ``retry_kinds.CLASSIFY_PER_REFRESH``
scheduled jobs not classified before as retry or scheduled). Only read commands on
``pipeline(transaction=False)``: no scripts, no MULTI, nothing that cleans up as it reads. Keys are
built from the raw bytes Redis returned (``sections.raw_keys.bkey``). Metric buckets of settled hours are
kept between refreshes (``metrics.BucketCache``); ``read(include_metrics=False)`` leaves the metrics
planner out, so nothing of the metrics is read (the Jobs and Workers tabs). The dashboard passes a
``WorkerReads``: then rounds 2 and 3 re-read only the workers on screen, new ones, and a slice of the rest per
refresh (each about once per heartbeat cadence); the others keep their last rows (``worker_reads``); on a tab
that shows no worker (``WorkerReads.off_screen``) nothing of the workers is read and the last rows come back whole
(``Snapshot.workers_as_of``). Likewise a
``QueueReads``: rounds 2 and 3 re-read the counts of the queues on screen, new ones, and the stalest others, about
each once per ``QUEUE_CADENCE_S``; the others keep their last counts with ``read_at``, and the total cards, sums
of the rows, say how old their oldest count is (``QueueTotals.as_of_s``; ``queue_reads``). Rows of
workers, schedules and history items whose replies equal the last refresh's are reused, not parsed again.
Adding a section is adding a planner to ``read``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import redis

from tui.data import metrics
from tui.data.job_meta import JobDetail, read_job_detail
from tui.data.jobs_page import JobsPage, read_jobs_page
from tui.data.models import HistoryRow, Snapshot, WorkerRow
from tui.data.queue_reads import QueueCounts, QueueReads
from tui.data.sections.collector import CollectorPlanner
from tui.data.sections.history import HistoryPlanner
from tui.data.sections.notify import NotifyPlanner
from tui.data.sections.prefix_hint import PrefixHintPlanner
from tui.data.sections.queues import QueuesPlanner, queue_totals
from tui.data.sections.raw_keys import HALVES as _HALVES  # noqa: F401 - the bounded halves table, for tests
from tui.data.sections.raw_keys import bkey  # noqa: F401 - the raw-bytes key builder, importable from here
from tui.data.sections.registry_history import registry_metrics
from tui.data.sections.retry_kinds import RetryKinds
from tui.data.sections.reuse import Reuse
from tui.data.sections.rounds import Planner, Replies, Round
from tui.data.sections.rq_cron import RqCronPlanner
from tui.data.sections.rq_scheduler import RqSchedulerPlanner
from tui.data.sections.schedules import SchedulesPlanner
from tui.data.sections.suspension import SuspensionPlanner
from tui.data.sections.task_metrics import MetricsPlanner
from tui.data.sections.workers import WorkersPlanner
from tui.data.settings import Settings
from tui.data.worker_reads import WorkerReads
from tui.data.worker_rows import WorkerRows
from worker import keys, records

if TYPE_CHECKING:  # the Jobs explorer is imported when first used: `rqtop status` never loads it (~30 ms)
    from tui.data.explorer.attempts import AttemptHistory
    from tui.data.explorer.pages import ExplorerPage, ExplorerReader
    from tui.data.explorer.query import Filter

NEWEST_FIRST = ("completed", "failed", "canceled")
"""Job lists an operator reads from the latest end backwards."""


def with_progress(history: tuple[HistoryRow, ...], workers: tuple[WorkerRow, ...]) -> tuple[HistoryRow, ...]:
    """History rows of running executions with the progress their worker's row already carries (a row whose
    progress the history section read itself keeps it: its worker was not re-read, its kept row is older)."""
    running = {w.current_job_id: w.progress for w in workers if w.current_job_id and w.progress is not None}
    if not running:
        return history
    return tuple(replace(h, progress=running[h.id]) if h.state == "running" and h.id in running
                 and h.progress is None else h for h in history)


def _as_of(kept_at: float | None) -> datetime | None:
    """``Snapshot.workers_as_of`` from the workers section's ``kept_at``."""
    return None if kept_at is None else datetime.fromtimestamp(kept_at, timezone.utc)


class DashboardReader:
    """Reads everything the three tabs show without writing; cost depends on what is shown, not on queue sizes."""

    def __init__(self, conn: redis.Redis, settings: Settings) -> None:
        self.conn = conn
        self.settings = settings
        self._trips = 0
        self._buckets = metrics.BucketCache()
        self._workers = WorkerRows()
        self._queues = QueueCounts()
        self._schedules = Reuse()
        self._history = Reuse()
        self._retry_kinds = RetryKinds()
        self._explorer: ExplorerReader | None = None

    def read(self, include_metrics: bool = True, workers: WorkerReads | None = None,
             queues: QueueReads | None = None) -> Snapshot:
        """One Snapshot, taken at ``settings.clock()``; with ``include_metrics`` False nothing of the metrics is
        read (``metrics`` empty, ``metrics_taken_at`` None), for a screen that does not show them; with
        ``workers`` only the workers it picks are re-read (``worker_reads``), the rest keep their last rows; with
        ``queues`` likewise the queues' counts (``queue_reads``)."""
        now = self.settings.clock()
        rules = self.settings.mask_rules
        suspension = SuspensionPlanner()
        counts = QueuesPlanner(now, self._retry_kinds, self._queues, queues)
        roster = WorkersPlanner(self._workers, now, self.settings.offline_after_s, suspension, rules, workers)
        schedules = SchedulesPlanner(self._schedules, rules)
        rq_scheduler = RqSchedulerPlanner(rules, now)
        rq_cron = RqCronPlanner(rules, now)
        history = HistoryPlanner(self._history, self.settings.history_limit, rules, counts, now, roster)
        tasks = MetricsPlanner(self._buckets, now) if include_metrics else None
        hint = PrefixHintPlanner(counts, roster)
        notify = NotifyPlanner()
        collector = CollectorPlanner(now)
        planners: list[Planner[Any]] = [counts, roster, schedules, rq_scheduler, rq_cron, history, suspension, hint,
                                        notify, collector]
        if tasks is not None:
            planners.append(tasks)
        two, three = self._rounds(planners)
        queue_rows = counts.rows(two, three)
        taken_at = records.from_epoch(now)
        assert taken_at is not None
        ours = schedules.rows(two, three)
        templates = sum(1 for row in ours if row.next_run is not None)
        foreign = rq_scheduler.rows(two, three) + rq_cron.rows(two, three)
        shared = rq_scheduler.scheduler(templates)
        worker_rows = roster.rows(two, three)
        history_rows = history.rows(two, three)
        if not roster.skipped:  # kept rows carry their last read's progress: History read the live one itself
            history_rows = with_progress(history_rows, worker_rows)
        fallback = history.fallback
        metric_rows = tasks.rows(two, three) if tasks is not None else ()
        plain = registry_metrics(fallback, now) if tasks is not None and not metric_rows and fallback else None
        return Snapshot(taken_at=taken_at, schedules=ours + foreign, history=history_rows,
                        schedulers=((shared,) if shared else ()) + rq_cron.schedulers,
                        schedules_more=rq_scheduler.more(templates) + sum(
                            s.jobs - s.jobs_shown for s in rq_cron.schedulers),
                        totals=queue_totals(queue_rows, now), queues=queue_rows, workers=worker_rows,
                        metrics=plain.rows if plain else metric_rows,
                        suspended=suspension.rows(two, three), round_trips=self._trips,
                        metrics_taken_at=taken_at if tasks is not None else None,
                        history_source=history.source, history_note=fallback.note if fallback else None,
                        metrics_source=history.source if plain else "rqtop",
                        metrics_note=plain.note if plain else None, metrics_since=plain.since if plain else None,
                        key_prefix=keys.RQ_PREFIX[:-1], other_key_prefixes=hint.rows(two, three),
                        notify=notify.rows(two, three), collector=collector.rows(two, three),
                        workers_as_of=_as_of(roster.kept_at))

    def jobs_page(self, queue: str, source: str = "pending", offset: int = 0, limit: int | None = None) -> JobsPage:
        """One page of a queue or registry (``offset`` < 0: the last page) with the length of each of the queue's
        lists, in two round trips; ended jobs (completed, failed, canceled) newest first, the rest in the order
        they will run or expire."""
        return read_jobs_page(self.conn, queue, source, offset, limit or self.settings.page_size,
                              self.settings.mask_rules, newest_first=source in NEWEST_FIRST, counts=True,
                              now=self.settings.clock())

    def job_detail(self, job_id: str, worker: str | None = None) -> JobDetail:
        """One job's metadata for the detail screen, in one round trip (with ``worker``'s RQ state when named)."""
        return read_job_detail(self.conn, job_id, self.settings.mask_rules, worker)

    def explorer_page(self, flt: Filter, offset: int = 0, limit: int = 50, rescan: bool = False) -> ExplorerPage:
        """One page of the Jobs explorer (``explorer.pages``): by id, by paging registries, or by an incremental
        scan kept between calls."""
        from tui.data.explorer.pages import ExplorerReader

        if self._explorer is None:
            self._explorer = ExplorerReader(self.conn, self.settings.mask_rules, self.settings.clock)
        return self._explorer.page(flt, offset, limit, rescan)

    def matching_ids(self, flt: Filter) -> list[str]:
        """Every job id matching ``flt`` (the Jobs tab's "act on all matching"), read with a reader of its own so
        the shown page's scan is left alone; TooManyMatches above ``explorer.pages.MATCH_CAP``."""
        from tui.data.explorer.pages import ExplorerReader

        return ExplorerReader(self.conn, self.settings.mask_rules, self.settings.clock,
                              scan_budget_s=2.0).matching_ids(flt)

    def job_attempts(self, job_id: str, task: str | None = None) -> AttemptHistory:
        """A job's attempt history, running executions and masked traceback, in one round trip."""
        from tui.data.explorer.attempts import read_attempts

        return read_attempts(self.conn, job_id, task, self.settings.mask_rules)

    def _rounds(self, planners: list[Planner[Any]]) -> tuple[Replies, Replies]:
        """Run rounds 1, 2 and 3 over every planner; the replies of rounds 2 and 3 (an empty round is not sent)."""
        self._trips = 0
        r1 = Round(self.conn)
        for planner in planners:
            planner.first(r1)
        one = self._run(r1)
        r2 = Round(self.conn)
        for planner in planners:
            planner.second(one, r2)
        two = self._run(r2)
        r3 = Round(self.conn)
        for planner in planners:
            planner.third(two, r3)
        return two, self._run(r3)

    def _run(self, round_: Round) -> Replies:
        """Execute one round and count it."""
        if round_.size:
            self._trips += 1
        return round_.run()
