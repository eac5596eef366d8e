"""Riding out Redis trouble: which errors mean "Redis is gone" or "Redis refuses writes", one state change logged
once, one backoff.

Every loop that talks to Redis from a worker process catches ``OUTAGE_ERRORS`` (unreachable, timed out, or out of
memory: at ``maxmemory`` with noeviction Redis still answers reads and PING but refuses writes), reports them to
``HEALTH`` (which logs each change once, not once per retry) and waits with a ``Backoff`` (doubling, at most
``MAX_BACKOFF_S``); ``wait_for_redis`` is that wait, probing with a small short-lived write since PING proves
nothing about writes.
"""

from __future__ import annotations

import logging
import mmap
import threading
from typing import Protocol

import redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError
from redis.exceptions import TimeoutError as RedisTimeoutError

from worker import keys
from worker.records import one_line

log = logging.getLogger("rqtop.worker")

OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError, OutOfMemoryError)
MAX_BACKOFF_S = 10.0
FIRST_BACKOFF_S = 0.5
PROBE_TTL_S = 5
"""The write probe's key expires by itself after this long."""

_DOWN, _REFUSING = 1, 2
"""Bits of the shared health byte: Redis unreachable; Redis refusing writes (out of memory)."""


def _oom_text(exc: BaseException) -> str:
    """Redis's OOM message without redis-py's "Command # n (...) of pipeline caused error:" preamble."""
    return one_line(exc).rsplit("caused error: ", 1)[-1]


class RedisHealth:
    """Tracks whether Redis is reachable and accepts writes, and logs once per change, from any thread or horse.

    The state is one byte of anonymous shared memory, so a forked work horse and its worker share it: whichever
    notices a change first logs it and the other stays quiet (a horse waiting to write its job's outcome and a
    worker between beats would otherwise both say it).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = mmap.mmap(-1, 1)

    @property
    def down(self) -> bool:
        """Redis was last seen unreachable."""
        return bool(self._state[0] & _DOWN)

    @property
    def refusing(self) -> bool:
        """Redis was last seen refusing writes (out of memory)."""
        return bool(self._state[0] & _REFUSING)

    def lost(self, exc: BaseException) -> None:
        """Note a failed round trip; logs only on a transition (an OOM reply also means Redis is reachable)."""
        oom = isinstance(exc, OutOfMemoryError)
        with self._lock:
            before = self._state[0]
            self._state[0] = _REFUSING if oom else before | _DOWN
        if oom:
            if before & _DOWN:
                log.warning("Redis reachable again")
            if not before & _REFUSING:
                log.warning("Redis refuses writes (OOM: %s); retrying with backoff up to %.0fs",
                            _oom_text(exc), MAX_BACKOFF_S)
        elif not before & _DOWN:
            log.warning("Redis unreachable (%s); retrying with backoff up to %.0fs", one_line(exc), MAX_BACKOFF_S)

    def back(self) -> None:
        """Note a round trip that wrote; logs only on the transition back (reachable, accepting writes)."""
        if not self._state[0]:
            return
        with self._lock:
            before = self._state[0]
            self._state[0] = 0
        if before & _DOWN:
            log.warning("Redis reachable again")
        if before & _REFUSING:
            log.warning("Redis accepts writes again")


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


def probe_write(conn: redis.Redis) -> None:
    """One small write that expires by itself: raises while Redis is unreachable or refuses writes."""
    conn.set(keys.HEALTH_PROBE, "1", ex=PROBE_TTL_S)


def wait_for_redis(conn: redis.Redis, stop: StopSignal, *, pause_first: bool = False) -> bool:
    """Probe with backoff until Redis accepts a write (True) or ``stop`` is set (False); ``pause_first`` waits
    before the first probe too (for a caller that has just seen the failure)."""
    backoff = Backoff()
    while not stop.is_set():
        if pause_first:
            stop.wait(backoff.next())
        try:
            probe_write(conn)
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)
            if not pause_first:
                stop.wait(backoff.next())
            continue
        HEALTH.back()
        return True
    return False
