"""A bounded map from job key (``rq:job:<id>``) to the task name learnt from its ``data`` (which never changes),
compact enough to remember every job of a million-job Redis.

A scan that meets a job it has seen before needs no Redis read at all when the job's task rules it out. Ids are
kept as their 64-bit hash in an open-addressing table (``array``) beside one byte naming the task (up to 255
distinct names), about 10 bytes per id instead of ~110 for a dict of bytes: 1.5 M ids take 20 MB. When the
table is full it is emptied and fills again (the bound is on memory, never on correctness: an unknown id is
just read). Two ids sharing a 64-bit hash (about 1 in 10^7 at 1.5 M ids) would share a task name.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

CACHE_MAX = 1_500_000
"""Job ids remembered (table of 2^21 slots: 16 MB of hashes + 2 MB of task numbers)."""
NAMES_MAX = 255
"""Distinct task names remembered; jobs of further tasks are not cached (read each time)."""


class TaskCache:
    """Job id -> task name for at most ``limit`` ids; emptied when full."""

    def __init__(self, limit: int = CACHE_MAX) -> None:
        self.limit = max(1, limit)
        self._full = 1 << max(4, (self.limit * 4 // 3).bit_length())
        self._size = 16  # the full table is allocated by the first put: a reader that never scans holds none
        self._clear()

    def _clear(self) -> None:
        """Forget every id (the names stay: they are few and shared)."""
        self._mask = self._size - 1
        self._hashes = array("q", bytes(8 * self._size))
        self._tasks = bytearray(self._size)
        self._count = 0
        if not hasattr(self, "_names"):
            self._names: list[str] = [""]
            self._numbers: dict[str, int] = {}

    def __len__(self) -> int:
        return self._count

    def get(self, job_id: bytes) -> str | None:
        """The task learnt for ``job_id``; None when unknown."""
        h = hash(job_id) or 1
        hashes, mask = self._hashes, self._mask
        at = h & mask
        while True:
            found = hashes[at]
            if found == h:
                return self._names[self._tasks[at]]
            if not found:
                return None
            at = (at + 1) & mask

    def get_many(self, ids: list[bytes]) -> list[str | None]:
        """``get`` of each id, in one call (a scan asks for a thousand at a time)."""
        hashes, mask, tasks, names = self._hashes, self._mask, self._tasks, self._names
        out: list[str | None] = []
        append = out.append
        for job_id in ids:
            h = hash(job_id) or 1
            at = h & mask
            found = hashes[at]
            while found and found != h:
                at = (at + 1) & mask
                found = hashes[at]
            append(names[tasks[at]] if found else None)
        return out

    def split(self, ids: list[bytes], wanted: Callable[[str], bool]) -> tuple[list[bytes], list[bytes]]:
        """(ids whose task is unknown, ids whose known task is ``wanted``), in one pass; ``wanted`` is asked once
        per task name."""
        hashes, mask, tasks, names = self._hashes, self._mask, self._tasks, self._names
        verdicts: list[bool | None] = [None] * len(names)
        unknown: list[bytes] = []
        kept: list[bytes] = []
        for job_id in ids:
            h = hash(job_id) or 1
            at = h & mask
            found = hashes[at]
            while found and found != h:
                at = (at + 1) & mask
                found = hashes[at]
            if not found:
                unknown.append(job_id)
                continue
            number = tasks[at]
            verdict = verdicts[number]
            if verdict is None:
                verdict = verdicts[number] = wanted(names[number])
            if verdict:
                kept.append(job_id)
        return unknown, kept

    def put_many(self, pairs: list[tuple[bytes, str]]) -> None:
        """``put`` of each (id, task), in one call."""
        numbers = self._numbers
        for job_id, task in pairs:
            number = numbers.get(task)
            if number is None or self._count >= self.limit:
                self.put(job_id, task)
                continue
            h = hash(job_id) or 1
            hashes, mask = self._hashes, self._mask
            at = h & mask
            found = hashes[at]
            while found and found != h:
                at = (at + 1) & mask
                found = hashes[at]
            if not found:
                self._count += 1
                hashes[at] = h
            self._tasks[at] = number

    def number(self, task: str) -> int:
        """The small number ``task`` is stored as (given on first use); 0 when no more names are remembered."""
        number = self._numbers.get(task)
        if number is None:
            if len(self._names) > NAMES_MAX:
                return 0
            number = self._numbers[task] = len(self._names)
            self._names.append(task)
        return number

    def put_numbered(self, ids: list[bytes], numbers: list[int]) -> None:
        """Remember task ``numbers[i]`` (from ``number``, never 0) for ``ids[i]``: a scan's batch, in one loop.
        A batch that would overfill the table empties it first (and one larger than the bound keeps its head)."""
        if len(ids) > self.limit:
            ids, numbers = ids[:self.limit], numbers[:self.limit]
        if self._size < self._full or self._count + len(ids) > self.limit:
            self._size = self._full
            self._clear()
        hashes, mask, tasks = self._hashes, self._mask, self._tasks
        count = self._count
        for job_id, number in zip(ids, numbers, strict=True):
            h = hash(job_id) or 1
            at = h & mask
            found = hashes[at]
            while found and found != h:
                at = (at + 1) & mask
                found = hashes[at]
            if not found:
                count += 1
                hashes[at] = h
            tasks[at] = number
        self._count = count

    def put(self, job_id: bytes, task: str) -> None:
        """Remember ``task`` for ``job_id``."""
        number = self._numbers.get(task)
        if number is None:
            if len(self._names) > NAMES_MAX:
                return
            number = self._numbers[task] = len(self._names)
            self._names.append(task)
        if self._count >= self.limit or self._size < self._full:
            self._size = self._full
            self._clear()
        h = hash(job_id) or 1
        hashes, mask = self._hashes, self._mask
        at = h & mask
        while hashes[at] and hashes[at] != h:
            at = (at + 1) & mask
        if not hashes[at]:
            self._count += 1
        hashes[at] = h
        self._tasks[at] = number
