"""Riding out a Redis outage: which errors mean "Redis is gone", one state change logged once, one backoff.

Every loop that talks to Redis from a worker process catches ``OUTAGE_ERRORS``, reports them to ``HEALTH``
(which logs "unreachable" and "reachable again" once per change, not once per retry) and waits with a
``Backoff`` (doubling, at most ``MAX_BACKOFF_S``); ``wait_for_redis`` is that wait for a PING to answer.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from worker.records import one_line

log = logging.getLogger("rqtop.worker")

OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError)
MAX_BACKOFF_S = 10.0
FIRST_BACKOFF_S = 0.5


class RedisHealth:
    """Tracks whether Redis is reachable and logs once per change (lost / back), from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down = False

    def lost(self, exc: BaseException) -> None:
        """Note a connection failure; logs only on the transition to down."""
        with self._lock:
            if self.down:
                return
            self.down = True
        log.warning("Redis unreachable (%s); retrying with backoff up to %.0fs", one_line(exc), MAX_BACKOFF_S)

    def back(self) -> None:
        """Note a successful round trip; logs only on the transition to up."""
        if not self.down:
            return
        with self._lock:
            if not self.down:
                return
            self.down = False
        log.warning("Redis reachable again")


HEALTH = RedisHealth()


class _DropRqConnectionNoise(logging.Filter):
    """Drops RQ's per-retry "could not connect" lines; RedisHealth logs the state change once instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "could not connect to Redis instance" not in str(record.msg)


logging.getLogger("rq.worker").addFilter(_DropRqConnectionNoise())


class Backoff:
    """A wait that doubles after each failed attempt, up to ``MAX_BACKOFF_S``, and starts over after a success."""

    def __init__(self, first: float = FIRST_BACKOFF_S) -> None:
        self.first = min(first, MAX_BACKOFF_S)
        self._next = self.first

    def next(self) -> float:
        """The wait before the next attempt (and double the one after it)."""
        delay = self._next
        self._next = min(delay * 2, MAX_BACKOFF_S)
        return delay

    def reset(self) -> None:
        """An attempt succeeded: the next failure waits ``first`` again."""
        self._next = self.first


class StopSignal(Protocol):
    """What ends a wait early: a ``threading.Event`` or anything shaped like one."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


def wait_for_redis(conn: redis.Redis, stop: StopSignal, *, pause_first: bool = False) -> bool:
    """PING with backoff until Redis answers (True) or ``stop`` is set (False); ``pause_first`` waits before
    the first PING too (for a caller that has just seen the failure)."""
    backoff = Backoff()
    while not stop.is_set():
        if pause_first:
            stop.wait(backoff.next())
        try:
            conn.ping()
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)
            if not pause_first:
                stop.wait(backoff.next())
            continue
        HEALTH.back()
        return True
    return False
