"""rqtop's own records of workers and runs, written by a mixin on RQ's workers at a bounded Redis cost.

Cost per job over plain RQ: at most 2 extra round trips. One pipelined round trip before the job marks it
running (worker current_*, history), and one EVALSHA after it reads the outcome from RQ's job hash and
updates history, metrics, worker counters, schedule state and the dedupe token atomically. The error
line and the "no active work" note ride along in RQ's own terminal pipeline (no extra round trip), and
heartbeats add our last-seen record to RQ's heartbeat in the same round trip, at most once per
``BEAT_EVERY_S`` (RQ beats ~5 times per job; the dashboard calls a worker offline after 60 s).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from worker import __version__, keys
from worker.records import epoch_text, one_line

log = logging.getLogger("rqtop.worker")

OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError)
MAX_BACKOFF_S = 10.0

BEAT_EVERY_S = 1.0
"""A heartbeat re-sends the presence record only when this process last sent it at least this long ago."""

_LAST_SENT: dict[str, float] = {}
"""When this process last queued each worker's full presence record (birth or beat), by worker name."""


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


def task_name(job: Any) -> str:
    """The job's function name as RQ stores it, or "unknown" when it cannot be read."""
    try:
        name = job.func_name
    except Exception:  # noqa: BLE001 - a payload we cannot read is recorded as unknown
        return "unknown"
    return name if isinstance(name, str) and name else "unknown"


def run_schedule(job_id: str) -> str:
    """The schedule a job id is a run of, or "" for an ad-hoc job."""
    if job_id.startswith(keys.SCHEDULE_RUN_PREFIX):
        return keys.schedule_of(job_id) or ""
    return ""



FINISH_LUA = """
-- KEYS: 1 rq job hash, 2 history item, 3 rqtop worker record, 4 metrics task index, 5 schedule state, 6 active token
-- ARGV: 1 job id, 2 task, 3 metrics key prefix, 4 now, 5 started (fallback), 6 history ttl, 7 metric ttl,
--       8 bin floor, 9 bin ratio, 10 schedule name ("" for ad-hoc jobs), 11 bucket seconds
local function epoch_us(v)
  if not v or v == '' then return nil end
  local n = tonumber(v)
  if n then return math.floor(n * 1000000 + 0.5) end
  local y, mo, d, h, mi, s, frac = string.match(v, '^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)%.?(%d*)')
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((mo + 9) % 12) + 2) / 5) + d - 1
  local days = era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
  local us = 0
  if frac ~= '' then us = tonumber(string.sub(frac .. '000000', 1, 6)) end
  return (days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)) * 1000000 + us
end
local function txt(us) return string.format('%.6f', us / 1000000) end

local status = redis.call('HGET', KEYS[1], 'status')
local times = redis.call('HMGET', KEYS[1], 'started_at', 'ended_at')
local state = nil
if status == 'finished' then state = 'completed'
elseif status == 'failed' or status == 'stopped' then state = 'failed'
elseif status == 'queued' or status == 'scheduled' or status == 'deferred' then state = 'retry'
elseif status == 'canceled' then state = 'canceled'
elseif not status then
  local err = redis.call('HGET', KEYS[2], 'error')
  if err and err ~= '' then state = 'failed' else state = 'completed' end
end

local now_us = epoch_us(ARGV[4])
local start_us = epoch_us(times[1]) or epoch_us(ARGV[5])
local end_us = epoch_us(times[2]) or now_us
if not status then start_us, end_us = epoch_us(ARGV[5]), now_us end
if end_us < start_us then end_us = start_us end

if state then
  redis.call('HSET', KEYS[2], 'state', state, 'started_at', txt(start_us), 'ended_at', txt(end_us))
  if state == 'completed' then redis.call('HSET', KEYS[2], 'error', '') end
  if state == 'retry' then redis.call('HINCRBY', KEYS[2], 'retries', 1) end
  redis.call('EXPIRE', KEYS[2], ARGV[6])
end

if state == 'completed' or state == 'failed' then
  local d = (end_us - start_us) / 1000000
  local bucket = tonumber(ARGV[11])
  local hour = math.floor(end_us / 1000000 / bucket)
  local mkey = ARGV[3] .. ARGV[2] .. ':' .. string.format('%d', hour)
  local floor, ratio = tonumber(ARGV[8]), tonumber(ARGV[9])
  local idx = 0
  if d >= floor then idx = math.floor(math.log(d / floor) / math.log(ratio)) + 1 end
  redis.call('HINCRBY', mkey, 'n', 1)
  if state == 'failed' then redis.call('HINCRBY', mkey, 'f', 1) end
  redis.call('HINCRBY', mkey, 'b' .. string.format('%d', idx), 1)
  local raw = redis.call('HGET', mkey, 'max')
  local cur = raw and tonumber(raw)
  if not cur or d > cur then redis.call('HSET', mkey, 'max', string.format('%.6f', d)) end
  redis.call('HSET', mkey, 'last', txt(end_us))
  redis.call('EXPIREAT', mkey, (hour + 1) * bucket + tonumber(ARGV[7]))
  redis.call('ZADD', KEYS[4], end_us / 1000000, ARGV[2])
end

if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HINCRBY', KEYS[3], 'processed', 1)
  if state == 'failed' or state == 'retry' then redis.call('HINCRBY', KEYS[3], 'failed', 1) end
  if redis.call('HGET', KEYS[3], 'current_job_id') == ARGV[1] then
    redis.call('HSET', KEYS[3], 'current_job_id', '', 'current_task', '', 'current_started', '')
  end
end

if ARGV[10] ~= '' and state then
  local last = redis.call('HGET', KEYS[5], 'last_job_id')
  if not last or last == ARGV[1] then
    if state == 'retry' then
      redis.call('HSET', KEYS[5], 'last_status', 'pending')
    else
      redis.call('HSET', KEYS[5], 'last_status', state, 'last_ended', txt(end_us))
    end
  end
  if state ~= 'retry' and redis.call('GET', KEYS[6]) == ARGV[1] then redis.call('DEL', KEYS[6]) end
end
return state or ''
"""
"""Atomic end-of-job bookkeeping; reads the outcome and timestamps from RQ's job hash itself."""
