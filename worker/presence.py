"""rqtop's own record of a live worker (``rqtop:worker:<name>``), refreshed with RQ's heartbeat at a bounded cost.

Heartbeats add our last-seen record to RQ's heartbeat in the same round trip, at most once per
``BEAT_EVERY_S`` (RQ beats ~5 times per job; the dashboard calls a worker offline after 60 s).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from worker import __version__, keys
from worker.records import epoch_text

BEAT_EVERY_S = 1.0
"""A heartbeat re-sends the presence record only when this process last sent it at least this long ago."""

_LAST_SENT: dict[str, float] = {}
"""When this process last queued each worker's full presence record (birth or beat), by worker name."""


@dataclass
class PresenceRecord:
    """The static part of rqtop:worker:<name>; written on birth and refreshed with every heartbeat."""

    name: str
    mode: str
    queues: tuple[str, ...]
    hostname: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    birth: float = field(default_factory=time.time)

    def static_fields(self) -> dict[str, Any]:
        """Fields that never change during the worker's life."""
        import rq

        return {
            "name": self.name, "hostname": self.hostname, "pid": self.pid, "mode": self.mode,
            "version": __version__, "rq_version": rq.__version__, "birth": epoch_text(self.birth),
            "queues": ",".join(self.queues),
        }

    def birth_commands(self, pipe: Any, now: float) -> None:
        """Queue the full record (counters at zero, idle) onto ``pipe``."""
        _LAST_SENT[self.name] = now
        key = keys.worker(self.name)
        pipe.delete(key)
        pipe.hset(key, mapping={
            **self.static_fields(), "last_seen": epoch_text(now), "processed": 0, "failed": 0,
            "current_job_id": "", "current_task": "", "current_started": "",
        })
        pipe.zadd(keys.WORKERS, {self.name: now})
        pipe.expire(key, keys.WORKER_RECORD_TTL_S)

    def beat_commands(self, pipe: Any, now: float) -> bool:
        """Queue last_seen (and the static fields, so a reaped record heals) onto ``pipe``, unless this process
        sent the record less than ``BEAT_EVERY_S`` ago; returns whether it queued anything."""
        last = _LAST_SENT.get(self.name)
        if last is not None and 0 <= now - last < BEAT_EVERY_S:
            return False
        _LAST_SENT[self.name] = now
        key = keys.worker(self.name)
        pipe.hset(key, mapping={**self.static_fields(), "last_seen": epoch_text(now)})
        pipe.zadd(keys.WORKERS, {self.name: now})
        pipe.expire(key, keys.WORKER_RECORD_TTL_S)
        return True

    def death_commands(self, pipe: Any) -> None:
        """Queue removal of the record (a clean shutdown)."""
        _LAST_SENT.pop(self.name, None)
        pipe.delete(keys.worker(self.name))
        pipe.zrem(keys.WORKERS, self.name)
