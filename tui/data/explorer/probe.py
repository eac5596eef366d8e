"""The cheap first look a scan takes at each job: the few hash fields a filter can rule a job out by.

A filter on task, worker or text needs, to reject a job, only its ``status`` (the states it may be in), its
``data`` (the task name, from the pickle's first opcodes), its ``worker_name`` or its ``description``. The
probe reads just those and rejects a job only when the full match (``match.matches``) would certainly reject it
too; everything else is kept and matched on its full row. Rejections are where a scan spends its time (a task
filter matching 1 % of jobs rejects 99 %), so they cost no row, no masking and no datetime.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from itertools import compress
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
KEEP = 256
"""``keep_data``'s mark of a job kept without a task learnt (its ``data`` is no bytes, or a 256th name)."""
UNKNOWN = bytes([1]) + bytes(255)
"""``bytes.translate`` table: 1 where the cache's number is 0 (unknown)."""
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
        self._payloads: dict[bytes, int] = {}
        """``data`` -> the cache's task number (0: unreadable)."""
        self._table_names: list[str] = []
        self._table = bytes(256)

    def task_ok(self, task: str) -> bool:
        """Whether a job of ``task`` can match the filter's task terms (remembered per name: there are few)."""
        verdict = self._verdicts.get(task)
        if verdict is None:
            verdict = self._verdicts[task] = not self.tasks or task_matches(task, self.tasks)
        return verdict

    def verdicts(self, cache: TaskCache) -> bytes:
        """Per task number of ``cache``: 1 when a job of that task can match, else 0 (0 for number 0, unknown);
        rebuilt only when the cache learnt a new name."""
        names = cache.names
        if len(self._table_names) != len(names):
            self._table_names = list(names)
            self._table = bytes([0] + [self.task_ok(name) for name in names[1:]]).ljust(256, b"\0")
        return self._table

    def known(self, job_keys: list[bytes], tasks: bytes, cache: TaskCache) -> tuple[list[bytes], list[bytes]]:
        """(keys whose task is unknown, keys whose known task can match), ``tasks`` being the cache's numbers for
        ``job_keys``: a job of a known task that cannot match needs no read at all. C-level (``compress``)."""
        if tasks.count(0) == len(tasks):
            return job_keys, []
        unknown = list(compress(job_keys, tasks.translate(UNKNOWN))) if 0 in tasks else []
        return unknown, list(compress(job_keys, tasks.translate(self.verdicts(cache))))

    def keep_data(self, ids: list[bytes], datas: list[Any], cache: TaskCache) -> tuple[list[bytes], list[int]]:
        """(the ids whose ``data`` (an HGET reply each) names a task that can match, or is no bytes at all: missing
        field, error reply, the full read says what the job is; the cache's task number of each id, 0 when
        unreadable).

        Jobs of one task often carry the very same payload (a schedule's runs, retries, fan-outs), so a payload
        seen before gives its task without inflating it again (a bounded memo, exact: keyed by the whole bytes);
        the lookups and the selection run in C (``map``, ``compress``)."""
        memo = self._payloads
        numbers: list[Any] = list(map(memo.get, datas))
        if None in numbers:
            for at, data in enumerate(datas):
                if numbers[at] is None:
                    numbers[at] = self._judge(data, cache) if data.__class__ is bytes else KEEP
        table = self.verdicts(cache)
        oks = [*table, 1]  # KEEP (256): kept, learnt as unknown
        oks[0] = self._unreadable_ok
        kept = list(compress(ids, map(oks.__getitem__, numbers)))
        if KEEP in numbers:
            numbers = [0 if number == KEEP else number for number in numbers]
        return kept, numbers

    def _judge(self, data: bytes, cache: TaskCache) -> int:
        """The cache's number of the task ``data`` names (0: unreadable; ``KEEP`` when the cache numbers no more
        names, left to the full match), remembered for this payload when it is short."""
        task = function_name(data)
        number = cache.number(task) if task != UNREADABLE else 0
        if number == 0 and task != UNREADABLE:
            return KEEP  # an unnumbered task: kept for the full match to judge (rare: past 255 names)
        if len(data) <= PAYLOAD_BYTES_MAX:
            if len(self._payloads) >= PAYLOADS_MAX:
                self._payloads.clear()
            self._payloads[data] = number
        return number

    @property
    def _unreadable_ok(self) -> int:
        """1 when a job whose task is unreadable can match (``task:unreadable``, or no task term)."""
        return int(self.task_ok(UNREADABLE))

    def keep(self, ids: list[bytes], replies: list[list[Any] | None], cache: TaskCache) -> tuple[list[bytes],
                                                                                                  list[int]]:
        """(the ids the probe cannot rule out, an error reply kept: the full read says what it is; the cache's
        task number of each id, 0 when not read or unreadable)."""
        kept: list[bytes] = []
        numbers: list[int] = []
        for job_id, reply in zip(ids, replies, strict=True):
            number = [0]
            if reply is None or self.passes(reply, cache, number):
                kept.append(job_id)
            numbers.append(number[0])
        return kept, numbers

    def passes(self, reply: list[Any], cache: TaskCache, number: list[int]) -> bool:
        """False only when the probed fields rule the job out; ``number[0]`` is set to the cache's number of its
        task when the probe read it."""
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
                number[0] = cache.number(task)
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
