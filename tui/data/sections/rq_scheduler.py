"""The rq-scheduler section: recurring and one-off jobs of plain ``rqscheduler`` processes, and their liveness.

Rule: round 1 reads the soonest ``RQ_SCHEDULER_LIMIT`` entries of ``rq:scheduler:scheduled_jobs`` with their
next run, its ZCARD (the "+M more" count), the rq-scheduler lock and the ZCOUNT of entries overdue by more than
``OVERDUE_S``; round 2 one HMGET per shown job (rqtop's own templates in that zset are skipped: the schedules
section shows them). ``cron_string``/``interval``/``repeat`` sit in the pickled ``meta``: decoded by the
plain-data unpickler that refuses every global (``worker.safe_decoding``); a meta that is anything else reads
as unreadable. rq-scheduler keeps no index of its processes (their ``rq:scheduler_instance:<uuid>`` keys are
found only by SCAN), so liveness is read from what the zset shows: the lock held now means a scheduler is
moving jobs, an entry overdue by more than ``OVERDUE_S`` means none is.
"""

from __future__ import annotations

import json
from typing import Any

from tui.data.job_meta import EPOCH_MAX, EPOCH_MIN, UNREADABLE, Fields, function_name, state_of
from tui.data.masking import MaskRules, decode, mask_description
from tui.data.models import ScheduleRow, SchedulerRow
from tui.data.sections.raw_keys import bkey
from tui.data.sections.rounds import Replies, Round, reply_as
from worker import keys, records
from worker.safe_decoding import SafeSerializer
from worker.schedules import describe

RQ_SCHEDULER_LIMIT = 50
"""Most rq-scheduler jobs read per refresh (soonest next run first); the rest are counted, not read."""

OVERDUE_S = 90.0
"""An entry this far past its run time means no scheduler is moving jobs (rqscheduler's default interval is 60 s,
its lock lives interval + 10 s)."""

JOB_FIELDS = ("data", "meta", "description", "origin", "status", "enqueued_at", "ended_at")

PAUSE_REASON = "rq-scheduler has no pause: its process would enqueue the job anyway (cancel it in the app)"


class RqSchedulerPlanner:
    """Reads rq-scheduler's soonest jobs, their hashes and the signs of a running scheduler."""

    def __init__(self, mask_rules: MaskRules, now: float) -> None:
        self.mask_rules = mask_rules
        self.now = now
        self._index = (0, 0, 0, 0)
        self._jobs: list[tuple[bytes, float | None, int]] = []
        """Round-2 slot per shown job: (id, next run, slot of its HMGET)."""
        self._templates = 0
        self._lock: Any = None
        self._total = 0
        self._overdue = 0

    def first(self, r1: Round) -> None:
        self._index = (r1.add("zrange", keys.RQ_SCHEDULED_JOBS, 0, RQ_SCHEDULER_LIMIT - 1, withscores=True),
                       r1.add("zcard", keys.RQ_SCHEDULED_JOBS), r1.add("get", keys.RQ_SCHEDULER_LOCK),
                       r1.add("zcount", keys.RQ_SCHEDULED_JOBS, "-inf", self.now - OVERDUE_S))

    def second(self, one: Replies, r2: Round) -> None:
        entries, total, lock, overdue = (one[slot] for slot in self._index)
        self._total = reply_as(total, int, 0)
        self._overdue = reply_as(overdue, int, 0)
        self._lock = lock if isinstance(lock, bytes) else None
        template = keys.SCHEDULE_TEMPLATE_PREFIX.encode()
        self._jobs, self._templates = [], 0
        for member, score in reply_as(entries, list, []):
            if not isinstance(member, bytes):
                continue
            if member.startswith(template):
                self._templates += 1
                continue
            when = score if isinstance(score, float) and EPOCH_MIN <= score <= EPOCH_MAX else None
            self._jobs.append((member, when, r2.add("hmget", bkey(keys.rq_job, member), list(JOB_FIELDS))))

    def third(self, two: Replies, r3: Round) -> None:
        """Nothing to follow up: the job hash holds everything the row shows."""

    def rows(self, two: Replies, three: Replies) -> tuple[ScheduleRow, ...]:
        alive = True if self._lock else (False if self._overdue else None)
        return tuple(self._row(job_id, when, Fields.from_hmget(JOB_FIELDS, two[slot]), alive)
                     for job_id, when, slot in self._jobs)

    def more(self, templates: int) -> int:
        """rq-scheduler jobs not shown: the ZCARD less the shown ones and rqtop's own templates (``templates``: how
        many the schedules section found in the zset)."""
        return max(0, self._total - len(self._jobs) - max(self._templates, templates))

    def scheduler(self, templates: int) -> SchedulerRow | None:
        """The shared zset's liveness, when it holds foreign jobs or a scheduler holds its lock."""
        shown = len(self._jobs)
        jobs = shown + self.more(templates)
        if not jobs and not self._lock:
            return None
        if self._lock:
            alive, note = True, "a scheduler holds rq:scheduler_lock: it is moving due jobs now"
        elif self._overdue:
            alive, note = False, (f"{self._overdue} jobs overdue by more than {OVERDUE_S:.0f} s: "
                                  "no rqscheduler (or rqtop scheduler) is running")
        else:
            alive, note = True, f"no job is overdue by more than {OVERDUE_S:.0f} s"
        lock_at = records.to_epoch(records.as_text(self._lock)) if self._lock else None
        return SchedulerRow(source="rq-scheduler", name=keys.RQ_SCHEDULED_JOBS, alive=alive, note=note,
                            last_seen=records.from_epoch(lock_at), jobs=jobs, jobs_shown=shown)

    def _row(self, job_id: bytes, when: float | None, job: Fields, alive: bool | None) -> ScheduleRow:
        """One rq-scheduler job: schedule from its plain-data meta, last run from the hash RQ re-enqueues."""
        task = function_name(job.value("data")) if job else UNREADABLE
        meta = _plain_meta(job.value("meta"))
        cron = meta.get("cron_string") if isinstance(meta, dict) else None
        interval = meta.get("interval") if isinstance(meta, dict) else None
        repeat = meta.get("repeat") if isinstance(meta, dict) else None
        cron = cron if isinstance(cron, str) and cron.isprintable() and len(cron) <= 100 else None
        interval = interval if isinstance(interval, int) and not isinstance(interval, bool) and interval > 0 else None
        local = isinstance(meta, dict) and meta.get("use_local_timezone") is True
        unreadable = meta is None or task == UNREADABLE or job.bad
        if meta is None:
            text = UNREADABLE
        elif cron or interval:
            text = describe(cron, interval, "local" if local else "UTC")
        else:
            text = "Once"
        status = job.text("status", 40)
        last_run = job.when("enqueued_at")
        patterns = self.mask_rules.for_task(task)
        run_reason = None if job and task != UNREADABLE else (
            "its job hash is gone" if not job else "its job data is unreadable: nothing to copy safely")
        name = decode(job_id) or ""
        return ScheduleRow(
            name=keys.RQ_SCHEDULER_ROW + name, task=decode(task) or UNREADABLE,
            description=mask_description(job.value("description"), patterns) or "", cron=cron, interval_s=interval,
            schedule_text=text, timezone="local" if local else "UTC", priority="normal", queue=job.text("origin") or "",
            next_run=records.from_epoch(when), pending=1 if status == "queued" else 0, last_run=last_run,
            last_status=state_of(status) if last_run is not None else None, paused=False,
            run_now_allowed=run_reason is None, run_now_reason=run_reason, source="rq-scheduler",
            pause_allowed=False, pause_reason=PAUSE_REASON, scheduler_alive=alive,
            repeat_left=repeat if isinstance(repeat, int) and not isinstance(repeat, bool) else None,
            unreadable=unreadable,
        )


def _plain_meta(raw: bytes | None) -> dict[str, Any] | None:
    """The job's ``meta`` as plain data (pickle refusing every global, or RQ's JSON serializer); {} when absent;
    None when it is anything else."""
    if not raw:
        return {}
    try:
        value = json.loads(raw) if raw[:1] == b"{" else SafeSerializer.loads(raw)
    except Exception:  # noqa: BLE001 - a refused global, a truncated or foreign stream: unreadable, never run
        return None
    return value if isinstance(value, dict) else None
