"""Whether a worker is alive: on this host its pid decides; elsewhere its RQ hash exists with a fresh heartbeat.

A frozen (SIGSTOPped) or stalled worker on this host is alive even once its RQ hash expired: its horse may still
finish the job, so failing that job from outside would leave it in two states. The host and pid come from RQ's
hash, else from rqtop's own record of the worker (which outlives RQ's hash).
"""

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
    """Per worker: on this host, whether its pid still runs; elsewhere, whether its RQ hash exists with a fresh
    heartbeat (an unreadable heartbeat counts as fresh)."""
    unique = sorted({name for name in names if name})
    if not unique:
        return {}
    now = time.time() if now is None else now
    local = socket.gethostname()
    pipe = conn.pipeline(transaction=False)
    for name in unique:
        pipe.exists(keys.rq_worker(name))
        pipe.hmget(keys.rq_worker(name), "last_heartbeat", "hostname", "pid")
        pipe.hmget(keys.worker(name), "hostname", "pid")
    replies = pipe.execute()
    alive: dict[str, bool] = {}
    for index, name in enumerate(unique):
        exists, (beat, host, pid), (own_host, own_pid) = replies[3 * index : 3 * index + 3]
        if not (as_text(host) and as_int(pid)):
            host, pid = own_host, own_pid
        if as_text(host) == local and as_int(pid):
            alive[name] = pid_alive(as_int(pid) or 0)
            continue
        beat_at = to_epoch(beat)
        alive[name] = bool(exists) and not (beat_at is not None and now - beat_at > WORKER_STALE_S)
    return alive
