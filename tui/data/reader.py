"""DashboardReader: one Snapshot in at most three pipelined, read-only round trips, whatever Redis holds.

Round 1 reads the indexes (queues, workers, schedules, history, metric tasks, suspension); round 2 every
per-item count and hash they name; round 3 the few job hashes those point at (each queue's head job,
each schedule's active run, the job a plain ``rq worker`` runs). Only read commands on
``pipeline(transaction=False)``: no scripts, no MULTI, nothing that cleans up as it reads. Keys are
built from the raw bytes Redis returned, so a non-UTF-8 name is still read (and shown with �). Metric
buckets of settled hours are kept between refreshes, pre-summed per task (``metrics.BucketCache``): a
refresh re-reads only the newest three hours of each task, plus one EXISTS that notices a cached bucket
that has gone. ``read(include_metrics=False)`` skips the metrics entirely (the Jobs and Workers tabs).
Rows of workers, schedules and history items whose replies equal the last refresh's are reused, not
parsed again.

Per queue, ``retry`` and ``scheduled`` are both ZCARD of RQ's scheduled registry (``rq:scheduled:<q>``):
RQ 3 parks a retry-with-interval there exactly like an ``enqueue_in`` job, and telling them apart would
cost one job read per entry; ``deferred`` (waiting on dependencies) is its own column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from tui.data import metrics
from tui.data.job_meta import EPOCH_MAX, EPOCH_MIN, UNREADABLE, Fields, JobDetail, read_job_detail
from tui.data.jobs_page import JobsPage, read_jobs_page
from tui.data.masking import decode, mask_description, mask_error
from tui.data.models import HistoryRow, QueueRow, QueueTotals, ScheduleRow, Snapshot
from tui.data.worker_rows import CURRENT_FIELDS, WorkerRows, current_execution, job_of
from tui.settings import Settings
from worker import keys, records
from worker.display_text import safe_text
from worker.schedules import ScheduleEntry

QUEUE_PREFIX = keys.rq_queue("").encode()
WORKER_PREFIX = keys.rq_worker("").encode()
REGISTRIES = ("wip", "finished", "failed", "deferred", "scheduled", "canceled")
PRIORITY_ORDER = ("high", "default", "low")
NEWEST_FIRST = ("completed", "failed", "canceled")
"""Job lists an operator reads from the latest end backwards."""
MAX_TASKS = 500
"""Metrics rows are read for at most this many tasks, the most recently run first."""

_HOLE = "\x00"
_HALVES: dict[tuple[Callable[..., str], tuple[Any, ...]], tuple[bytes, bytes]] = {}
"""Encoded text before and after the name, per key maker and extra arguments (bounded: cleared at 1,024)."""


def bkey(make: Callable[..., str], raw: bytes, *rest: Any) -> bytes:
    """The key ``make(name, *rest)`` from worker.keys, built around a raw (possibly non-UTF-8) name."""
    halves = _HALVES.get((make, rest))
    if halves is None:
        if len(_HALVES) >= 1024:
            _HALVES.clear()
        head, _, tail = make(_HOLE, *rest).partition(_HOLE)
        halves = _HALVES[(make, rest)] = (head.encode(), tail.encode())
    return halves[0] + raw + halves[1]


def _registry_key(queue: str, kind: str) -> str:
    """RQ's registry key with the queue name first, so ``bkey`` can fill it in."""
    return keys.rq_registry(kind, queue)


def _bucket_key(task: bytes, hour: int) -> bytes:
    """Key of one task's metrics bucket for one hour."""
    return bkey(keys.metric_bucket, task, hour)


def _as(value: Any, kind: type, default: Any) -> Any:
    """``value`` when Redis answered with the expected type, else ``default`` (an error reply, a wrong type)."""
    return value if isinstance(value, kind) else default


class _Round:
    """One non-transactional pipeline; ``add`` returns the slot its reply will be in."""

    def __init__(self, conn: redis.Redis) -> None:
        self.pipe = conn.pipeline(transaction=False)
        self.size = 0

    def add(self, command: str, *args: Any, **kwargs: Any) -> int:
        getattr(self.pipe, command)(*args, **kwargs)
        self.size += 1
        return self.size - 1

    def each(self, command: str, args: list[Any]) -> range:
        """Queue ``command`` once per argument (the hot path: three per worker); the range of their slots."""
        method = getattr(self.pipe, command)
        for arg in args:
            method(arg)
        self.size += len(args)
        return range(self.size - len(args), self.size)

    def run(self) -> list[Any]:
        """The replies in order; an error reply comes back as its exception object, not raised."""
        return self.pipe.execute(raise_on_error=False) if self.size else []


class _Reuse:
    """Rows that depend only on their replies, kept between refreshes and rebuilt only when a reply changed."""

    def __init__(self) -> None:
        self._last: dict[Any, tuple[tuple[Any, ...], Any]] = {}
        self._next: dict[Any, tuple[tuple[Any, ...], Any]] = {}

    def row(self, key: Any, replies: tuple[Any, ...], build: Callable[..., Any]) -> Any:
        """The row kept for ``key`` when ``replies`` equal the last refresh's, else ``build(*replies)``."""
        hit = self._last.get(key)
        row = hit[1] if hit is not None and hit[0] == replies else build(*replies)
        self._next[key] = (replies, row)
        return row

    def turn(self) -> None:
        """End of a refresh: forget the rows it did not ask for."""
        self._last, self._next = self._next, {}


class DashboardReader:
    """Reads everything the three tabs show without writing; cost depends on what is shown, not on queue sizes."""

    def __init__(self, conn: redis.Redis, settings: Settings) -> None:
        self.conn = conn
        self.settings = settings
        self._trips = 0
        self._buckets = metrics.BucketCache()
        self._workers = WorkerRows()
        self._reuse = _Reuse()

    def read(self, include_metrics: bool = True) -> Snapshot:
        """One Snapshot, taken at ``settings.clock()``; with ``include_metrics`` False nothing of the metrics is
        read (``metrics`` empty, ``metrics_taken_at`` None), for a screen that does not show them."""
        now = self.settings.clock()
        self._trips = 0
        r1 = _Round(self.conn)
        r1.add("smembers", keys.RQ_QUEUES)
        r1.add("smembers", keys.RQ_WORKERS)
        r1.add("zrange", keys.WORKERS, 0, -1, withscores=True)
        r1.add("hgetall", keys.SCHEDULES)
        r1.add("smembers", keys.PAUSED)
        r1.add("zrevrange", keys.HISTORY, 0, max(1, self.settings.history_limit) - 1)
        r1.add("exists", keys.RQ_SUSPENDED)
        hours = records.window_hours(now)
        if include_metrics:  # only tasks whose last run is inside the window: older ones would show 0 runs
            r1.add("zrevrangebyscore", keys.METRIC_TASKS, "+inf", hours[0] * keys.METRIC_BUCKET_S,
                   start=0, num=MAX_TASKS, withscores=True)
        queue_set, rq_workers, our_workers, definitions, paused, history_ids, suspended, *tasks = self._run(r1)
        queues = sorted(
            (m[len(QUEUE_PREFIX):] for m in _as(queue_set, set, ()) if m.startswith(QUEUE_PREFIX)),
            key=lambda q: (PRIORITY_ORDER.index(q.decode(errors="replace")) if q in (b"high", b"default", b"low")
                           else len(PRIORITY_ORDER), q),
        )
        seen = dict(_as(our_workers, list, []))
        names = sorted({m[len(WORKER_PREFIX):] for m in _as(rq_workers, set, ()) if m.startswith(WORKER_PREFIX)}
                       | set(seen))
        definitions = dict(sorted(_as(definitions, dict, {}).items()))
        history_ids = _as(history_ids, list, []) if self.settings.history_limit > 0 else []
        tasks = _as(tasks[0], list, []) if tasks else []

        r2 = _Round(self.conn)
        queue_slots = [[r2.add("llen", bkey(keys.rq_queue, q))]
                       + [r2.add("zcard", bkey(_registry_key, q, kind)) for kind in REGISTRIES]
                       + [r2.add("lindex", bkey(keys.rq_queue, q), 0)] for q in queues]
        worker_slots = list(zip(r2.each("hgetall", [bkey(keys.rq_worker, n) for n in names]),
                                r2.each("hgetall", [bkey(keys.worker, n) for n in names]),
                                r2.each("smembers", [bkey(keys.rq_worker_executions, n) for n in names]),
                                strict=True))
        sched_slots = [(r2.add("hgetall", bkey(keys.sched_state, n)), r2.add("get", bkey(keys.active, n)),
                        r2.add("zscore", keys.RQ_SCHEDULED_JOBS, bkey(keys.template_id, n))) for n in definitions]
        history_slots = r2.each("hgetall", [bkey(keys.history_item, i) for i in history_ids])
        metric_plans = [self._buckets.plan(r2.add, _bucket_key, t, hours) for t, _ in tasks]
        two = self._run(r2)

        r3 = _Round(self.conn)
        heads = [two[slots[-1]] for slots in queue_slots]
        head_slots = [r3.add("hget", bkey(keys.rq_job, h), "enqueued_at") if isinstance(h, bytes) else None
                      for h in heads]
        tokens = [two[slots[1]] for slots in sched_slots]
        token_slots = [r3.add("hget", bkey(keys.rq_job, t), "status") if isinstance(t, bytes) and t else None
                       for t in tokens]
        current_runs = [current_execution(two[b], two[c]) for _, b, c in worker_slots]
        current_ids = [job_of(run) for run in current_runs]
        current_slots = [(r3.add("hmget", bkey(keys.rq_job, job_of(run)), list(CURRENT_FIELDS)),
                          r3.add("hget", bkey(keys.rq_execution, run), "created_at")) if run else None
                         for run in current_runs]
        for plan in metric_plans:
            self._buckets.recheck(r3.add, _bucket_key, plan, two)
        three = self._run(r3)
        if include_metrics:
            self._buckets.prune(t for t, _ in tasks)

        def third(slot: int | None) -> Any:
            return None if slot is None else three[slot]

        def current(slots: tuple[int, int] | None) -> Any:
            """The ``CURRENT_READ`` replies: the job's HMGET and its execution's created_at (an error stays whole)."""
            if slots is None:
                return None
            job = three[slots[0]]
            return [*job, three[slots[1]]] if isinstance(job, list) else job

        queue_rows = tuple(self._queue_row(q, [two[s] for s in slots[:-1]], third(h), now)
                           for q, slots, h in zip(queues, queue_slots, head_slots, strict=True))
        workers = self._workers.rows(
            [(n, two[a], two[b], two[c], job_id, current(j))
             for n, (a, b, c), job_id, j in zip(names, worker_slots, current_ids, current_slots, strict=True)],
            seen, now, self.settings.offline_after_s, suspended == 1)
        paused = _as(paused, set, ())
        schedules = tuple(
            self._reuse.row((b"schedule", n), (n, raw, n in paused, two[a], two[b], two[c], third(t)),
                            self._schedule_row)
            for (n, raw), (a, b, c), t in zip(definitions.items(), sched_slots, token_slots, strict=True)
        )
        history = tuple(row for i, s in zip(history_ids, history_slots, strict=True)
                        if (row := self._reuse.row((b"history", i), (i, two[s]), self._history_row)) is not None)
        self._reuse.turn()
        metric_rows = metrics.sort_rows(
            self._buckets.row(decode(t) or UNREADABLE, plan, two, three, score)
            for (t, score), plan in zip(tasks, metric_plans, strict=True)
        )
        totals = QueueTotals(**{f: sum(getattr(r, f) for r in queue_rows)
                                for f in ("active", "pending", "completed", "failed", "retry")})
        taken_at = records.from_epoch(now)
        assert taken_at is not None
        return Snapshot(taken_at=taken_at, schedules=schedules,
                        history=history, totals=totals, queues=queue_rows, workers=workers, metrics=metric_rows,
                        suspended=suspended == 1, round_trips=self._trips,
                        metrics_taken_at=taken_at if include_metrics else None)

    def jobs_page(self, queue: str, source: str = "pending", offset: int = 0, limit: int | None = None) -> JobsPage:
        """One page of a queue or registry (``offset`` < 0: the last page), in two round trips; ended jobs
        (completed, failed, canceled) newest first, the rest in the order they will run or expire."""
        return read_jobs_page(self.conn, queue, source, offset, limit or self.settings.page_size,
                              self.settings.mask_rules, newest_first=source in NEWEST_FIRST)

    def job_detail(self, job_id: str) -> JobDetail:
        """One job's metadata for the detail screen, in one round trip."""
        return read_job_detail(self.conn, job_id, self.settings.mask_rules)

    def _run(self, round_: _Round) -> list[Any]:
        """Execute one round and count it."""
        if round_.size:
            self._trips += 1
        return round_.run()

    def _queue_row(self, name: bytes, counts: list[Any], head_enqueued: Any, now: float) -> QueueRow:
        """Counts of one queue and the age of its head (oldest) pending job."""
        pending, wip, finished, failed, deferred, scheduled, canceled = (_as(c, int, 0) for c in counts)
        enqueued = records.to_epoch(head_enqueued) if isinstance(head_enqueued, bytes) else None
        return QueueRow(name=decode(name) or "", pending=pending, active=wip, completed=finished, failed=failed,
                        retry=scheduled, scheduled=scheduled, deferred=deferred, canceled=canceled,
                        oldest_pending_age_s=max(0.0, now - enqueued) if pending and enqueued is not None else None)

    def _schedule_row(self, name: bytes, definition: bytes, paused: bool, state_reply: Any, token: Any,
                      next_score: Any, token_status: Any) -> ScheduleRow:
        """One schedule with its live state; a definition that does not parse gives a row saying "unreadable"."""
        rules = self.settings.mask_rules
        state = Fields(state_reply)
        active_id = decode(token) if isinstance(token, bytes) and token else None
        live = dict(
            name=decode(name) or "", next_run=records.from_epoch(next_score if isinstance(next_score, float)
                                                                 and EPOCH_MIN <= next_score <= EPOCH_MAX else None),
            pending=1 if token_status == b"queued" else 0, last_run=state.when("last_run"),
            last_status=state.text("last_status", 20), paused=paused, active_job_id=active_id,
            skipped=state.number("skipped") or 0,
        )
        try:
            entry = ScheduleEntry.from_json(definition)
            patterns = rules.for_task(entry.task)
            return ScheduleRow(
                task=decode(entry.task) or UNREADABLE, description=mask_description(entry.description, patterns) or "",
                cron=None if entry.cron is None else safe_text(entry.cron), interval_s=entry.interval,
                schedule_text=safe_text(entry.schedule_text), timezone=safe_text(entry.timezone),
                priority=safe_text(entry.priority), queue=safe_text(entry.queue),
                expires_after_s=entry.ttl_s, run_now_allowed=bool(entry.run_now),
                run_now_reason=mask_description(entry.run_now_reason, patterns), **live,
            )
        except Exception:  # noqa: BLE001 - any malformed definition becomes an "unreadable" row
            return ScheduleRow(task=UNREADABLE, description=UNREADABLE, cron=None, interval_s=None,
                               schedule_text="—", timezone="", priority=UNREADABLE, queue="", **live)

    def _history_row(self, job_id: bytes, raw: Any) -> HistoryRow | None:
        """One execution from rqtop's history; None when its hash has expired."""
        item = Fields(raw)
        if not item and not item.bad:
            return None
        state = item.text("state", 20)
        task = item.text("task")
        row = dict(
            id=decode(job_id) or "", task=task or UNREADABLE, queue=item.text("queue") or "",
            created_at=item.when("created_at"), ended_at=item.when("ended_at"), started_at=item.when("started_at"),
            retries=item.number("retries") or 0, schedule=item.text("schedule") or None,
            worker=item.text("worker") or None,
            error=mask_error(item.text("error", 400), self.settings.mask_rules.for_task(task)),
            note=item.text("note", 200) or None,
        )
        bad = item.bad or state not in records.HISTORY_STATES
        return HistoryRow(state=UNREADABLE if bad else str(state), **row)
