"""The ``rq cron`` section: every job of the newest-beating ``rq cron`` processes, and each process's liveness.

Rule: round 1 reads the ``CRON_SCHEDULER_LIMIT`` newest heartbeats of ``rq:cron_schedulers``;
round 2 one HGETALL of each named scheduler hash, whose ``cron_jobs`` is plain JSON (cron or interval, queue,
latest and next enqueue time): nothing is unpickled. At most ``CRON_JOB_LIMIT`` jobs per scheduler become rows.
A scheduler is alive while its heartbeat is younger than RQ's hash TTL (120 s) and its hash exists.
"""

from __future__ import annotations

import json
from typing import Any

from tui.data.job_meta import EPOCH_MAX, EPOCH_MIN, UNREADABLE, Fields
from tui.data.masking import MaskRules, decode
from tui.data.models import ScheduleRow, SchedulerRow
from tui.data.sections.raw_keys import bkey
from tui.data.sections.rounds import Replies, Round, reply_as
from worker import keys, records
from worker.foreign_runs import FUNC_NAME, run_now_problem
from worker.schedules import describe

CRON_SCHEDULER_LIMIT = 10
"""Most ``rq cron`` processes read per refresh (newest heartbeat first); the rest are counted."""

CRON_JOB_LIMIT = 50
"""Most jobs shown per ``rq cron`` process."""

HEARTBEAT_TTL_S = 120.0
"""RQ's ``DEFAULT_CRON_SCHEDULER_TTL``: a scheduler that has not beaten for this long is gone."""

PAUSE_REASON = "rq cron has no pause: remove the job from its config file and restart rq cron"


class RqCronPlanner:
    """Reads the newest ``rq cron`` schedulers' hashes and turns their JSON job lists into rows."""

    def __init__(self, mask_rules: MaskRules, now: float) -> None:
        self.mask_rules = mask_rules
        self.now = now
        self._index = 0
        self._schedulers: list[tuple[bytes, float | None, int]] = []
        self.schedulers: tuple[SchedulerRow, ...] = ()

    def first(self, r1: Round) -> None:
        self._index = r1.add("zrevrange", keys.RQ_CRON_SCHEDULERS, 0, CRON_SCHEDULER_LIMIT - 1, withscores=True)

    def second(self, one: Replies, r2: Round) -> None:
        entries = one[self._index]
        self._schedulers = [
            (member, score if isinstance(score, float) and EPOCH_MIN <= score <= EPOCH_MAX else None,
             r2.add("hgetall", bkey(keys.rq_cron_scheduler, member)))
            for member, score in reply_as(entries, list, []) if isinstance(member, bytes)
        ]

    def third(self, two: Replies, r3: Round) -> None:
        """Nothing to follow up: the scheduler hash holds every job's state."""

    def rows(self, two: Replies, three: Replies) -> tuple[ScheduleRow, ...]:
        rows: list[ScheduleRow] = []
        schedulers: list[SchedulerRow] = []
        for member, beat, slot in self._schedulers:
            name = decode(member) or ""
            hash_ = Fields(two[slot])
            age = None if beat is None else self.now - beat
            alive = bool(hash_) and age is not None and age < HEARTBEAT_TTL_S
            jobs = _cron_jobs(hash_.value("cron_jobs"))
            host, pid = hash_.text("hostname", 100), hash_.text("pid", 20)
            where = f"{host}:{pid}" if host else "its hash has expired"
            seen = "never" if age is None else f"{max(0.0, age):.0f} s ago"
            note = f"{'alive' if alive else 'gone'}: {where}, last heartbeat {seen}"
            if jobs is None:
                note += "; its cron_jobs field is unreadable"
            shown = (jobs or [])[:CRON_JOB_LIMIT]
            schedulers.append(SchedulerRow(source="rq cron", name=name, alive=alive, note=note,
                                           last_seen=records.from_epoch(beat), jobs=len(jobs or []),
                                           jobs_shown=len(shown)))
            rows.extend(self._row(name, job, alive) for job in shown)
        self.schedulers = tuple(schedulers)
        return tuple(rows)

    def _row(self, scheduler: str, job: Any, alive: bool) -> ScheduleRow:
        """One cron job of one scheduler, from its plain JSON definition."""
        item = job if isinstance(job, dict) else {}
        func = item.get("func_name")
        task = func if isinstance(func, str) and FUNC_NAME.fullmatch(func) else UNREADABLE
        label = decode(str(item.get("name") or func or "")) or UNREADABLE
        cron = item.get("cron") if isinstance(item.get("cron"), str) else None
        interval = item.get("interval")
        interval = interval if isinstance(interval, int) and not isinstance(interval, bool) and interval > 0 else None
        cron = decode(cron, 100) if cron else None
        queue = item.get("queue_name")
        reason = run_now_problem(item)
        return ScheduleRow(
            name=f"{keys.RQ_CRON_ROW}{scheduler}/{label}", task=task, description="", cron=cron, interval_s=interval,
            schedule_text=describe(cron, interval) if cron or interval else UNREADABLE, timezone="UTC",
            priority="normal", queue=decode(queue, 100) or "" if isinstance(queue, str) else "",
            next_run=_when(item.get("next_enqueue_time")), pending=0, last_run=_when(item.get("latest_enqueue_time")),
            last_status="queued" if item.get("latest_enqueue_time") else None, paused=False,
            run_now_allowed=reason is None, run_now_reason=reason, source="rq cron", pause_allowed=False,
            pause_reason=PAUSE_REASON, scheduler=scheduler, scheduler_alive=alive,
            unreadable=task == UNREADABLE or not (cron or interval),
        )


def _cron_jobs(raw: bytes | None) -> list[Any] | None:
    """The ``cron_jobs`` JSON list; [] when absent; None when it is not a JSON list."""
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, list) else None


def _when(value: Any) -> Any:
    """An RQ ISO time from the JSON as an aware datetime; None for anything else."""
    epoch = records.to_epoch(value) if isinstance(value, str) else None
    return records.from_epoch(epoch if epoch is not None and EPOCH_MIN <= epoch <= EPOCH_MAX else None)
