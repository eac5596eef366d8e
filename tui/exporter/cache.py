"""One Snapshot per min-interval, shared by every scrape: a lock makes concurrent scrapes wait for one read."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from tui.data.models import Snapshot
from tui.data.queue_reads import QueueReads
from tui.data.reader import DashboardReader
from tui.data.sections.rounds import Replies, Round
from tui.data.worker_reads import WorkerReads
from worker.records import one_line


class CountingReader(DashboardReader):
    """The dashboard's reader, counting the Redis commands of each read (the exporter exports that cost)."""

    commands = 0

    def read(self, include_metrics: bool = True, workers: WorkerReads | None = None,
             queues: QueueReads | None = None) -> Snapshot:
        """One Snapshot, with ``commands`` set to the number of commands it sent."""
        self.commands = 0
        return super().read(include_metrics, workers, queues)

    def _run(self, round_: Round) -> Replies:
        """Execute one round, adding its commands to ``commands``."""
        self.commands += round_.size
        return super()._run(round_)


@dataclass(frozen=True)
class ReadState:
    """The outcome of the last read: a Snapshot, or the error that stopped it (then no numbers are served)."""

    snapshot: Snapshot | None
    read_at: float
    """Epoch seconds when the read started."""
    read_s: float
    commands: int
    round_trips: int
    reads: int
    """Reads tried since the exporter started (this one included)."""
    errors: int
    read_s_total: float
    error: str | None = None


class SnapshotCache:
    """Serves the last ReadState while it is younger than ``min_interval_s``, else reads once under a lock."""

    def __init__(self, reader: CountingReader, min_interval_s: float,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 say: Callable[[str], None] | None = None) -> None:
        self.reader = reader
        self._say = say
        """Told one line when reads start failing and when they work again."""
        self.min_interval_s = min_interval_s
        self._clock, self._wall = clock, wall
        self._lock = threading.Lock()
        self._state: ReadState | None = None
        self._attempted = 0.0

    def get(self) -> ReadState:
        """The current ReadState: a failed read is kept for ``min_interval_s`` too (an outage is not hammered)."""
        with self._lock:
            if self._state is None or self._clock() - self._attempted >= self.min_interval_s:
                self._attempted = self._clock()
                self._state = self._read(self._state)
            return self._state

    def _read(self, last: ReadState | None) -> ReadState:
        """One read of the whole Snapshot, timed; a Redis error becomes a state with no snapshot."""
        reads, errors, spent = (last.reads, last.errors, last.read_s_total) if last else (0, 0, 0.0)
        started, began = self._wall(), time.perf_counter()
        try:
            snapshot, error = self.reader.read(), None
        except redis.RedisError as exc:
            snapshot, error = None, f"{type(exc).__name__}: {one_line(exc)}"
        except Exception as exc:  # a reader bug must not turn /metrics into a 500: it is served as rqtop_up 0
            snapshot, error = None, f"unexpected {type(exc).__name__}: {one_line(exc)}"
        took = time.perf_counter() - began
        if self._say is not None and (error is None) != (last is None or last.error is None):
            self._say(f"cannot read Redis ({error}): serving rqtop_up 0" if error else "reading Redis again")
        return ReadState(snapshot=snapshot, read_at=started, read_s=took, commands=self.reader.commands,
                         round_trips=snapshot.round_trips if snapshot else 0, reads=reads + 1,
                         errors=errors + (snapshot is None), read_s_total=spent + took, error=error)
