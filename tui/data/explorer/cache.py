"""A bounded least-recently-used map from job id to the task name learnt from its ``data`` (which never changes).

A scan that meets a job it has seen before reads its hash without ``data``, so it neither transfers nor walks
the pickle again; the bound keeps the memory a scan of any Redis adds fixed.
"""

from __future__ import annotations

import sys
from collections import OrderedDict

CACHE_MAX = 100_000
"""Job ids remembered (about 15 MB at 36-character ids)."""


class TaskCache:
    """Job id -> task name, at most ``limit`` entries, the least recently used dropped first."""

    def __init__(self, limit: int = CACHE_MAX) -> None:
        self.limit = max(1, limit)
        self._tasks: OrderedDict[bytes, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tasks)

    def get(self, job_id: bytes) -> str | None:
        """The task learnt for ``job_id``, marked as just used; None when unknown."""
        task = self._tasks.get(job_id)
        if task is not None:
            self._tasks.move_to_end(job_id)
        return task

    def put(self, job_id: bytes, task: str) -> None:
        """Remember ``task`` for ``job_id`` (one shared name string), dropping the oldest past the bound."""
        self._tasks[job_id] = sys.intern(task)
        self._tasks.move_to_end(job_id)
        while len(self._tasks) > self.limit:
            self._tasks.popitem(last=False)
