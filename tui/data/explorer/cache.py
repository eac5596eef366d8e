"""A bounded map from job key (``rq:job:<id>``) to the task name learnt from its ``data`` (which never changes),
compact enough to remember every job of a million-job Redis, and looked up a SCAN chunk at a time in C.

A scan that meets a job it has seen before needs no Redis read at all when the job's task rules it out. What is
learnt is kept per SCAN chunk: the span of the keyspace the chunk covered (SCAN's cursors read as positions:
Redis walks its table in reverse-binary order, so ``position(cursor)`` only grows through a scan and a key keeps
its place when the table is resized), the 64-bit hashes of its keys (``array``) and one byte per key naming its
task (up to 255 distinct names): about 9 bytes per id, 1.5 M ids in 14 MB. A chunk seen again is answered by
comparing hash arrays; one whose bounds moved (jobs came and went) by a dict built from the few chunks that
overlap it, mapped over its hashes: the per-key work stays in C (``map``, ``zip``, ``bytes``), which made a cold
scan's bookkeeping about three times cheaper than a hash table walked in Python. When the ids reach the bound
everything is forgotten and fills again (the bound is on memory, never on correctness: an unknown id is just
read). Two ids sharing a 64-bit hash (about 1 in 10^7 at 1.5 M ids) would share a task name.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from itertools import compress, repeat

CACHE_MAX = 1_500_000
"""Job ids remembered."""
NAMES_MAX = 255
"""Distinct task names remembered; jobs of further tasks are not cached (read each time)."""
END = 1 << 64
"""The position after the last one: where a scan whose next cursor is 0 ends."""
INVERT = bytes([1, 0]) + bytes(254)
"""``bytes.translate`` table turning 0/1 flags the other way round."""


def position(cursor: int) -> int:
    """Where SCAN ``cursor`` stands in the keyspace: its 64 bits reversed (Redis increments cursors reversed)."""
    return int(f"{cursor:064b}"[::-1], 2) if cursor else 0


def key_hashes(job_keys: list[bytes]) -> array[int]:
    """The 64-bit hashes the cache knows ``job_keys`` by, in order."""
    return array("q", map(hash, job_keys))


class TaskCache:
    """Job key -> task number (``name``) for at most ``limit`` ids, remembered per SCAN chunk; emptied when full."""

    def __init__(self, limit: int = CACHE_MAX) -> None:
        self.limit = max(1, limit)
        self.names: list[str] = [""]
        """Task names by number; 0 is "not known"."""
        self._numbers: dict[str, int] = {}
        self._clear()

    def _clear(self) -> None:
        """Forget every id (the names stay: they are few and shared)."""
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._hashes: list[array[int]] = []
        self._tasks: list[bytes] = []
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def number(self, task: str) -> int:
        """The small number ``task`` is stored as (given on first use); 0 when no more names are remembered."""
        number = self._numbers.get(task)
        if number is None:
            if len(self.names) > NAMES_MAX:
                return 0
            number = self._numbers[task] = len(self.names)
            self.names.append(task)
        return number

    def _overlapping(self, start: int, end: int) -> range:
        """Indexes of the chunks kept that share a position with [start, end) (they never overlap each other)."""
        first = max(0, bisect_right(self._starts, start) - 1)
        if first < len(self._ends) and self._ends[first] <= start:
            first += 1
        last = bisect_right(self._starts, end - 1) if end > start else first
        return range(first, max(first, last))

    def known(self, start: int, end: int, hashes: array[int]) -> bytes:
        """The task number of each of ``hashes`` (a chunk SCAN returned over [start, end)), 0 when unknown."""
        found = self._overlapping(start, end)
        if not found:
            return bytes(len(hashes))
        if len(found) == 1 and self._hashes[found[0]] == hashes:
            return self._tasks[found[0]]
        table: dict[int, int] = {}
        for at in found:
            table.update(zip(self._hashes[at], self._tasks[at], strict=True))
        return bytes(map(table.get, hashes, repeat(0)))

    def learn(self, start: int, end: int, hashes: array[int], tasks: bytes) -> None:
        """Remember ``tasks[i]`` (numbers from ``number``; 0: unknown) for ``hashes[i]``, the chunk SCAN returned
        over [start, end); it replaces what was kept over that span, and a chunk kept that reaches past the span
        keeps, over the part outside it, its keys the new chunk does not hold. Beyond the bound everything is
        forgotten first (and a chunk larger than the bound keeps its head)."""
        if len(hashes) > self.limit:
            hashes, tasks = hashes[:self.limit], tasks[:self.limit]
        found = self._overlapping(start, end)
        before: list[tuple[int, int, array[int], bytes]] = []
        after: list[tuple[int, int, array[int], bytes]] = []
        for at in found:
            old_start, old_end = self._starts[at], self._ends[at]
            if old_start >= start and old_end <= end:
                continue
            held = set(hashes)
            rest = bytes(map(held.__contains__, self._hashes[at])).translate(INVERT)
            rest_hashes = array("q", compress(self._hashes[at], rest))
            rest_tasks = bytes(compress(self._tasks[at], rest))
            if old_start < start:
                before.append((old_start, start, rest_hashes, rest_tasks))
            if old_end > end:
                after.append((end, old_end, rest_hashes, rest_tasks))
        pieces = [*before, (start, end, hashes, bytes(tasks)), *after]
        added = sum(len(piece[3]) for piece in pieces) - sum(len(self._tasks[at]) for at in found)
        if self._count + added > self.limit:
            self._clear()
            found, pieces, added = range(0), [(start, end, hashes, bytes(tasks))], len(hashes)
        at = found.start if found else bisect_right(self._starts, start)
        stop = found.stop if found else at
        self._starts[at:stop] = [piece[0] for piece in pieces]
        self._ends[at:stop] = [piece[1] for piece in pieces]
        self._hashes[at:stop] = [piece[2] for piece in pieces]
        self._tasks[at:stop] = [piece[3] for piece in pieces]
        self._count += added

    def get(self, job_key: bytes) -> str | None:
        """The task learnt for ``job_key``, None when unknown (a walk of every chunk: for tests and one-off
        questions, never a scan's loop)."""
        h = hash(job_key)
        for hashes, tasks in zip(self._hashes, self._tasks, strict=True):
            if h in hashes:
                number = tasks[hashes.index(h)]
                return self.names[number] if number else None
        return None
