"""The cheap first look a scan takes at each job: the few hash fields a filter can rule a job out by.

A filter on task, worker or text needs, to reject a job, only its ``status`` (the states it may be in), its
``data`` (the task name, from the pickle's first opcodes), its ``worker_name`` or its ``description``. The
probe reads just those and rejects a job only when the full match (``match.matches``) would certainly reject it
too; everything else is kept and matched on its full row. Rejections are where a scan spends its time (a task
filter matching 1 % of jobs rejects 99 %), so they cost no row, no masking and no datetime.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from tui.data.explorer.cache import TaskCache
from tui.data.explorer.match import STATE_INCLUDES, task_matches
from tui.data.explorer.query import STATES, Filter
from tui.data.job_meta import Fields
from tui.data.masking import decode
from worker.masking import MASK
from worker.safe_decoding import UNREADABLE, function_name

POSSIBLE_STATES: dict[bytes, frozenset[str]] = {
    b"queued": frozenset({"pending"}), b"created": frozenset({"pending"}), b"rate_limited": frozenset({"pending"}),
    b"started": frozenset({"running", "abandoned"}), b"finished": frozenset({"completed"}),
    b"failed": frozenset({"failed"}), b"stopped": frozenset({"stopped"}),
    b"scheduled": frozenset({"scheduled", "retrying"}), b"ready_to_enqueue": frozenset({"scheduled", "retrying"}),
    b"deferred": frozenset({"deferred"}), b"canceled": frozenset({"canceled"}),
}
"""RQ status -> the explorer states a job with it can be in (``rows.refine_state``); other values: any."""
PAYLOADS_MAX = 4096
"""Distinct ``data`` values remembered with their task by one scan (emptied when full)."""
PAYLOAD_BYTES_MAX = 1024
"""Longer ``data`` values are not remembered (the memo stays under ~5 MB)."""
DESCRIPTION_CHARS = 1200
"""Characters of a description decoded for the text check (``mask_description`` decodes as many)."""


def allowed_states(flt: Filter) -> frozenset[str]:
    """The explorer states ``flt`` lists (as ``match.matches`` decides them)."""
    if flt.states:
        return frozenset(s for state in flt.states for s in STATE_INCLUDES.get(state, (state,)))
    return frozenset(s for s in STATES if s != "completed" or flt.include_completed)


class Probe:
    """The fields a filter reads first and the test that rejects a job by them alone."""

    def __init__(self, flt: Filter) -> None:
        self.allowed = allowed_states(flt)
        self.tasks = flt.tasks
        self.text = tuple(w.lower() for w in flt.text if MASK[0] not in w and "…" not in w)
        """Words a masked, cut description can only contain if the decoded one does."""
        self.workers = flt.workers
        self._verdicts: dict[str, bool] = {}
        self.reads_task = bool(flt.tasks or flt.text)
        fields = ["status"] + ["data"] * self.reads_task + ["description"] * bool(self.text)
        fields += ["worker_name"] * bool(flt.workers)
        useful = len(fields) > 1 or self.allowed != frozenset(STATES)
        self.fields: tuple[str, ...] = tuple(fields) if useful else ()
        """Empty when nothing can be ruled out early: every scanned job is matched on its full row."""
        self.data_only = self.fields[1:] == ("data",)
        """A task filter (with or without states): the probe reads ``data`` alone, one HGET per job, and leaves the
        state to the full match of the few jobs whose task can match (``keep_data``)."""
        self._payloads: dict[bytes, tuple[int, bool]] = {}

    def task_ok(self, task: str) -> bool:
        """Whether a job of ``task`` can match the filter's task terms (remembered per name: there are few)."""
        verdict = self._verdicts.get(task)
        if verdict is None:
            verdict = self._verdicts[task] = not self.tasks or task_matches(task, self.tasks)
        return verdict

    def known(self, ids: list[bytes], cache: TaskCache) -> tuple[list[bytes], list[bytes]]:
        """(ids whose task the cache does not know, ids whose known task can match): a job of a known task that
        cannot match needs no read at all."""
        return cache.split(ids, self.task_ok)

    def keep_data(self, ids: list[bytes], datas: list[Any], cache: TaskCache) -> list[bytes]:
        """The ids whose ``data`` (an HGET reply each) names a task that can match, or is no bytes at all (missing
        field, error reply: the full read says what the job is); learns every readable task into ``cache``.

        Jobs of one task often carry the very same payload (a schedule's runs, retries, fan-outs), so a payload
        seen before gives its task without inflating it again (a bounded memo, exact: keyed by the whole bytes)."""
        kept: list[bytes] = []
        learnt_ids: list[bytes] = []
        learnt: list[int] = []
        memo = self._payloads
        seen = memo.get
        for job_id, data in zip(ids, datas, strict=True):
            known = seen(data) if data.__class__ is bytes else None
            if known is None:
                if data.__class__ is not bytes:
                    kept.append(job_id)
                    continue
                known = self._judge(data, cache)
            number, ok = known
            if number:
                learnt_ids.append(job_id)
                learnt.append(number)
            if ok:
                kept.append(job_id)
        if learnt_ids:
            cache.put_numbered(learnt_ids, learnt)
        return kept

    def _judge(self, data: bytes, cache: TaskCache) -> tuple[int, bool]:
        """(the cache's number of the task ``data`` names, 0 when unreadable; whether that task can match),
        remembered for this payload when it is short."""
        task = function_name(data)
        known = (cache.number(task) if task != UNREADABLE else 0, self.task_ok(task))
        if len(data) <= PAYLOAD_BYTES_MAX:
            if len(self._payloads) >= PAYLOADS_MAX:
                self._payloads.clear()
            self._payloads[data] = known
        return known

    def keep(self, ids: list[bytes], replies: list[list[Any] | None], cache: TaskCache) -> list[bytes]:
        """The ids the probe cannot rule out (an error reply is kept: the full read says what it is)."""
        if self.fields[1:] != ("data",):
            return [job_id for job_id, reply in zip(ids, replies, strict=True)
                    if reply is None or self.passes(job_id, reply, cache)]
        kept, learnt = [], []  # the usual task filter, without a call per job beyond the name itself
        allowed, verdicts, possible_of = self.allowed, self._verdicts, POSSIBLE_STATES.get
        for job_id, reply in zip(ids, replies, strict=True):
            if reply is None:
                kept.append(job_id)
                continue
            status, data = reply
            if status is None and data is None:
                kept.append(job_id)
                continue
            task = function_name(data)
            if task != UNREADABLE:
                learnt.append((job_id, task))
            possible = possible_of(status) if isinstance(status, bytes) else None
            if (possible is None or possible & allowed) and (verdicts[task] if task in verdicts
                                                              else self.task_ok(task)):
                kept.append(job_id)
        cache.put_many(learnt)
        return kept

    def passes(self, job_id: bytes, reply: list[Any], cache: TaskCache) -> bool:
        """False only when the probed fields rule the job out; learns its task into ``cache`` on the way."""
        status = reply[0]
        if status is None and not any(reply):
            return True  # gone or not RQ's: the full read says which
        possible = POSSIBLE_STATES.get(status) if isinstance(status, bytes) else None
        if possible is not None and not possible & self.allowed:
            return False
        at, task = 1, ""
        if self.reads_task:
            task = function_name(reply[at])
            at += 1
            if task != UNREADABLE:
                cache.put(job_id, task)
            if not self.task_ok(task):
                return False
        if self.text:
            described = f"{task} {decode(reply[at], DESCRIPTION_CHARS) or ''}".lower()
            at += 1
            if not all(word in described for word in self.text):
                return False
        if self.workers:
            worker = Fields({b"w": reply[at]} if reply[at] else {}).text("w")
            if not worker or not any(fnmatchcase(worker, w) for w in self.workers):
                return False
        return True
