"""Whether a worker is alive: its RQ hash exists, its heartbeat is fresh and, on this host, its pid still runs."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable

import redis
from rq.defaults import DEFAULT_WORKER_TTL

from worker import keys
from worker.records import as_int, as_text, to_epoch

WORKER_STALE_S = float(DEFAULT_WORKER_TTL + 60)
"""A worker whose last heartbeat is older than this is not alive (RQ's longest heartbeat TTL)."""


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists on this host and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def workers_alive(conn: redis.Redis, names: Iterable[str], now: float | None = None) -> dict[str, bool]:
    """Per worker: its RQ hash exists, its heartbeat is fresh and, on this host, its pid still runs."""
    unique = sorted({name for name in names if name})
    if not unique:
        return {}
    now = time.time() if now is None else now
    local = socket.gethostname()
    pipe = conn.pipeline(transaction=False)
    for name in unique:
        pipe.exists(keys.rq_worker(name))
        pipe.hmget(keys.rq_worker(name), "last_heartbeat", "hostname", "pid")
    replies = pipe.execute()
    alive: dict[str, bool] = {}
    for index, name in enumerate(unique):
        exists, (beat, host, pid) = replies[2 * index], replies[2 * index + 1]
        if not exists:
            alive[name] = False
            continue
        beat_at = to_epoch(beat)
        if beat_at is not None and now - beat_at > WORKER_STALE_S:
            alive[name] = False
        elif as_text(host) == local and as_int(pid) is not None:
            alive[name] = pid_alive(as_int(pid) or 0)
        else:
            alive[name] = True  # exists with a fresh (or unreadable) heartbeat on another host: assume alive
    return alive
