"""The schedules section: one row per rqtop schedule definition, with its live state.

Rule: round 1 reads the definitions hash, the set of paused schedules, the run-time edits and the scheduler's
notes on edits it could not apply (two small hashes: one field per edited schedule); round 2, per schedule,
HGETALL of its state, GET of its active-run token and ZSCORE of its template in RQ's scheduled jobs (the next
run), one HMGET of the file's definitions of the overridden schedules (only when there is one, for the diff
and "file changed"), plus, per queue the schedules enqueue to, one ZREVRANGE of the newest ``ATTENTION_SCAN``
ids of RQ's failed registry (a schedule run's id names its schedule: ``sched--<name>--…``); round 3 one HMGET
of the token's job ``status`` and ``started_at`` when a run is active (queued counts as pending, started is
"Running now" with its elapsed time). Rows are reused while their replies equal the last refresh's.

"Needs attention": the schedule has unresolved failures, i.e. runs still in RQ's failed registry. A failed run
leaves it when it is re-run (requeued), dismissed (deleted) or expires (failure_ttl), so whatever is there
has not been dealt with. Only the newest ``ATTENTION_SCAN`` entries of each queue's registry are looked at,
so the cost is one bounded read per queue, never per failed job; a schedule whose failures are all older
than that many failures of other jobs on its queue is not flagged (the Jobs tab's filter still lists them).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tui.data.job_meta import EPOCH_MAX, EPOCH_MIN, UNREADABLE, Fields
from tui.data.masking import MaskRules, decode, mask_description
from tui.data.models import ScheduleRow
from tui.data.sections.raw_keys import bkey
from tui.data.sections.reuse import Reuse
from tui.data.sections.rounds import Replies, Round, reply_as
from worker import keys, overrides, records
from worker.display_text import safe_text
from worker.schedules import ScheduleEntry

ATTENTION_SCAN = 50
"""Newest failed-registry ids read per queue to find a schedule's unresolved failures."""


class SchedulesPlanner:
    """Reads every schedule's definition, state, token and next run, and the status of an active run."""

    def __init__(self, reuse: Reuse, mask_rules: MaskRules) -> None:
        self._reuse = reuse
        self.mask_rules = mask_rules
        self.definitions: dict[bytes, bytes] = {}
        self._paused: Any = ()
        self._index = (0, 0)
        self._slots: list[tuple[int, int, int]] = []
        """Round-2 slots per schedule: its state, its token, its next run."""
        self._token_slots: list[int | None] = []
        self._edit_index = (0, 0)
        self._edits: dict[bytes, Any] = {}
        self._edit_errors: dict[bytes, Any] = {}
        self._file_names: list[bytes] = []
        self._file_slot: int | None = None
        self._failed_slots: dict[str, int] = {}
        """Round-2 slot of each schedule queue's newest failed ids."""

    def first(self, r1: Round) -> None:
        self._index = (r1.add("hgetall", keys.SCHEDULES), r1.add("smembers", keys.PAUSED))
        self._edit_index = (r1.add("hgetall", keys.SCHEDULE_OVERRIDES), r1.add("hgetall", keys.OVERRIDE_ERRORS))

    def second(self, one: Replies, r2: Round) -> None:
        definitions, paused = (one[slot] for slot in self._index)
        self.definitions = dict(sorted(reply_as(definitions, dict, {}).items()))
        self._paused = reply_as(paused, set, ())
        self._edits = reply_as(one[self._edit_index[0]], dict, {})
        self._edit_errors = reply_as(one[self._edit_index[1]], dict, {})
        self._file_names = sorted(name for name in self._edits if isinstance(name, bytes) and name in self.definitions)
        self._file_slot = r2.add("hmget", keys.FILE_SCHEDULES, *self._file_names) if self._file_names else None
        self._slots = [(r2.add("hgetall", bkey(keys.sched_state, n)), r2.add("get", bkey(keys.active, n)),
                        r2.add("zscore", keys.RQ_SCHEDULED_JOBS, bkey(keys.template_id, n)))
                       for n in self.definitions]
        queues = sorted({queue for queue in map(_queue_of, self.definitions.values()) if queue})
        self._failed_slots = {queue: r2.add("zrevrange", keys.rq_registry("failed", queue), 0, ATTENTION_SCAN - 1)
                              for queue in queues}

    def third(self, two: Replies, r3: Round) -> None:
        self._token_slots = [r3.add("hmget", bkey(keys.rq_job, t), "status", "started_at")
                             if isinstance(t, bytes) and t else None
                             for t in (two[slots[1]] for slots in self._slots)]

    def _failures(self, two: Replies) -> tuple[Counter[str], dict[str, str]]:
        """Unresolved failures per schedule name among the failed ids read, and each one's newest failed run."""
        counts: Counter[str] = Counter()
        newest: dict[str, str] = {}
        for slot in self._failed_slots.values():
            for member in reply_as(two[slot], list, []):
                job_id = member.decode("utf-8", errors="replace") if isinstance(member, bytes) else ""
                name = keys.schedule_of(job_id) if job_id.startswith(keys.SCHEDULE_RUN_PREFIX) else None
                if name:
                    counts[name] += 1
                    newest.setdefault(name, job_id)
        return counts, newest

    def rows(self, two: Replies, three: Replies) -> tuple[ScheduleRow, ...]:
        paused, row, edits, errors = self._paused, self._reuse.row, self._edits, self._edit_errors
        files = dict(zip(self._file_names, reply_as(two[self._file_slot], list, []), strict=False)) \
            if self._file_slot is not None else {}
        counts, newest = self._failures(two)
        schedules = tuple(
            row(n, (n, raw, n in paused, two[a], two[b], two[c], None if t is None else three[t],
                    counts.get(decode(n) or "", 0), newest.get(decode(n) or ""),
                    (edits.get(n), files.get(n), errors.get(n))), self._row)
            for (n, raw), (a, b, c), t in zip(self.definitions.items(), self._slots, self._token_slots, strict=True)
        )
        self._reuse.turn()
        return schedules

    def _row(self, name: bytes, definition: bytes, paused: bool, state_reply: Any, token: Any,
             next_score: Any, token_job: Any, failures: int, latest_failure: str | None,
             edit: tuple[Any, Any, Any] = (None, None, None)) -> ScheduleRow:
        """One schedule with its live state; a definition that does not parse gives a row saying "unreadable"."""
        state = Fields(state_reply)
        active_id = decode(token) if isinstance(token, bytes) and token else None
        token_status, started = token_job if isinstance(token_job, list) and len(token_job) == 2 else (None, None)
        running_since = Fields({b"s": started}).when("s") if token_status == b"started" and started else None
        live: dict[str, Any] = dict(
            name=decode(name) or "", next_run=records.from_epoch(next_score if isinstance(next_score, float)
                                                                 and EPOCH_MIN <= next_score <= EPOCH_MAX else None),
            pending=1 if token_status == b"queued" else 0, last_run=state.when("last_run"),
            last_status=state.text("last_status", 20), paused=paused, active_job_id=active_id,
            skipped=state.number("skipped") or 0, running=token_status == b"started", running_since=running_since,
            failures=failures, latest_failure=safe_text(latest_failure) if latest_failure else None,
            latest_failure_key=latest_failure, **_edit_state(decode(name) or "", *edit),
        )
        try:
            entry = ScheduleEntry.from_json(definition)
            patterns = self.mask_rules.for_task(entry.task)
            return ScheduleRow(
                task=decode(entry.task) or UNREADABLE, description=mask_description(entry.description, patterns) or "",
                cron=None if entry.cron is None else safe_text(entry.cron), interval_s=entry.interval,
                schedule_text=safe_text(entry.schedule_text), timezone=safe_text(entry.timezone),
                priority=safe_text(entry.priority), queue=safe_text(entry.queue),
                expires_after_s=entry.ttl_s, run_now_allowed=bool(entry.run_now), timeout_s=entry.timeout,
                notify=None if entry.notify is None else safe_text(entry.notify),
                run_now_reason=mask_description(entry.run_now_reason, patterns), **live,
            )
        except Exception:  # noqa: BLE001 - any malformed definition becomes an "unreadable" row
            return ScheduleRow(task=UNREADABLE, description=UNREADABLE, cron=None, interval_s=None,
                               schedule_text="—", timezone="", priority=UNREADABLE, queue="", **live)


def _edit_state(name: str, raw_edit: Any, raw_file: Any, raw_error: Any) -> dict[str, Any]:
    """The row's run-time edit fields: kind, diff against the file, "file changed", the scheduler's note."""
    error = safe_text(decode(raw_error) or "") if isinstance(raw_error, bytes) else ""
    if not isinstance(raw_edit, bytes):
        return {"override_error": error} if error else {}
    try:
        edit = overrides.Override.from_json(name, raw_edit)
    except ValueError:
        return {"override": "overridden", "override_error": error or "the run-time edit is unreadable"}
    if edit.kind == "runtime":
        return {"override": "run-time", "override_error": error}
    state: dict[str, Any] = {"override": "overridden", "override_error": error}
    try:
        file_entry = ScheduleEntry.from_json(raw_file) if isinstance(raw_file, bytes) else None
    except (ValueError, TypeError):
        file_entry = None
    if file_entry is not None:
        table = overrides.entry_table(file_entry)
        changed = overrides.diff(table, overrides.merge(table, edit.fields))
        state["override_diff"] = tuple(safe_text(line) for line in changed)
        state["file_changed"] = overrides.fingerprint(file_entry) != edit.base
    return state


def _queue_of(definition: bytes) -> str | None:
    """The queue a schedule definition enqueues to (None when it does not parse)."""
    try:
        return ScheduleEntry.from_json(definition).queue or None
    except Exception:  # noqa: BLE001 - the row says "unreadable"; here it only has no queue to look at
        return None
