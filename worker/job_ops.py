"""Job-level state changes (re-run, cancel, retry now, dead letter, dismiss) as one small Lua script, race-safe.

Each id comes with the status it had when the operator confirmed; the script acts on it only while the job hash
still says that status *and* the id is still where that status puts it (LREM from its queue for ``queued``, ZREM
from its registry otherwise). A worker's LMOVE takes a queued id off the list first, so a job a worker took, a
scheduled job the scheduler moved, or a job that ended meanwhile is skipped and counted, never changed. A job is
thus in exactly one place afterwards. Nothing here unpickles: the script reads plain hash fields only.

Re-run requeues **the same id** as RQ's ``FailedJobRegistry.requeue`` does (same payload, same results stream,
so the attempt history stays in one place): started/ended/exception fields cleared, ``number_of_retries`` reset,
the hash made persistent (a finished job's hash would otherwise expire while queued). RQ does not keep the
original ``Retry.max``, so the retry budget is set only when the operator names one (``retries``).
"""

from __future__ import annotations

import base64
import time
import zlib
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timezone

import redis

from worker import job_states, keys
from worker.cancel import CANCELED_TTL_S
from worker.records import as_text

CHUNK = 200
"""Ids per script call: each call stays a few milliseconds, so Redis keeps answering between chunks."""
DEFAULT_FAILURE_TTL_S = 365 * 24 * 3600
"""RQ's default failure TTL, used when a dead-lettered job has none of its own."""

OPS = ("rerun", "cancel", "retry_now", "dead_letter", "dismiss")
"""What the script can do to a job."""
APPLIES = {name: states for name, states in job_states.APPLIES.items() if name not in ("stop", "cancel_running")}
"""The statuses each scripted action applies to (Stop goes through ``worker.fail_active``, the cooperative cancel
through ``worker.cancel_request``)."""
SCRIPT_OP = {"replay": "rerun"}
"""Actions that are another action's script with a narrower set of statuses."""
COUNT_NAMES = ("done", "changed", "missing", "protected")
"""Every count ``apply`` returns: acted on, changed state since the plan, hash gone, a schedule's template."""

_DEPS = keys.rq_dependencies("\0").split("\0")
_SCRIPT = f"""
local op, now, now_iso, arg = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local job_prefix, results_prefix = {keys.rq_job("")!r}, {keys.rq_results("")!r}
local rq_prefix, queues_key = {keys.RQ_PREFIX!r}, {keys.RQ_QUEUES!r}
local templates, template_prefix = {keys.RQ_SCHEDULED_JOBS!r}, {keys.SCHEDULE_TEMPLATE_PREFIX!r}
local cancel_ttl, deps_head, deps_tail = {CANCELED_TTL_S}, {_DEPS[0]!r}, {_DEPS[1]!r}
local registry_of = {{failed = 'failed', stopped = 'failed', finished = 'finished', scheduled = 'scheduled',
                      deferred = 'deferred', canceled = 'canceled'}}
local function registry(kind, origin) return rq_prefix .. kind .. ':' .. origin end
local function queue_key(origin) return rq_prefix .. 'queue:' .. origin end
local function is_template(id)
  if string.sub(id, 1, #template_prefix) == template_prefix then return true end
  return redis.call('TYPE', templates)['ok'] == 'zset' and redis.call('ZSCORE', templates, id) ~= false
end
-- take the id out of where its status puts it; false when it is no longer there (a worker or scheduler had it)
local function take(id, status, origin)
  if status == 'queued' then return redis.call('LREM', queue_key(origin), 1, id) == 1 end
  local kind = registry_of[status]
  if not kind then return false end
  return redis.call('ZREM', registry(kind, origin), id) == 1
end
-- a deferred job leaves its parents' dependents sets, so RQ never enqueues it when they finish
local function detach(id)
  local deps = deps_head .. id .. deps_tail
  if redis.call('TYPE', deps)['ok'] ~= 'set' then return end
  for _, parent in ipairs(redis.call('SMEMBERS', deps)) do
    local dependents = job_prefix .. parent .. ':dependents'
    if redis.call('TYPE', dependents)['ok'] == 'set' then redis.call('SREM', dependents, id) end
  end
end
local function enqueue(job, id, origin)
  redis.call('HSET', job, 'status', 'queued', 'enqueued_at', now_iso, 'origin', origin)
  redis.call('RPUSH', queue_key(origin), id)
  redis.call('SADD', queues_key, queue_key(origin))
end
-- dismiss deletes: a caller whose ACL lacks DEL is refused here, before the first write (Redis does not roll a
-- script back, so a refusal half-way would leave a job taken out of its registry but not deleted)
if op == 'dismiss' then redis.call('DEL', job_prefix .. ':acl-probe') end
-- dead letter appends to the results stream: likewise refused up front (NOMKSTREAM on a key that never exists)
if op == 'dead_letter' then redis.call('XADD', results_prefix .. ':acl-probe', 'NOMKSTREAM', '*', 'p', '1') end
local tally, done = {{0, 0, 0, 0}}, {{}}
for i = 5, #ARGV, 2 do
  local id, expected = ARGV[i], ARGV[i + 1]
  local job = job_prefix .. id
  local code = 2
  if redis.call('TYPE', job)['ok'] ~= 'hash' then
    code = 3
  else
    local f = redis.call('HMGET', job, 'status', 'origin', 'failure_ttl', 'retries_left')
    local status, origin = f[1], f[2]
    if not status then
      code = 3
    elseif status ~= expected or not origin then
      code = 2
    elseif (op == 'dismiss' or op == 'cancel' or op == 'dead_letter') and is_template(id) then
      code = 4
    elseif take(id, status, origin) then
      code = 1
      if op == 'rerun' then
        redis.call('HDEL', job, 'started_at', 'ended_at', 'exc_info', 'number_of_retries')
        if arg ~= '' then redis.call('HSET', job, 'retries_left', arg) end
        redis.call('PERSIST', job)
        enqueue(job, id, origin)
      elseif op == 'retry_now' then
        enqueue(job, id, origin)
      elseif op == 'cancel' then
        redis.call('HSET', job, 'status', 'canceled')
        redis.call('ZADD', registry('canceled', origin), now, id)
        redis.call('EXPIRE', job, cancel_ttl)
      elseif op == 'dead_letter' then
        if status == 'deferred' then detach(id) end
        local ttl = tonumber(f[3]) or {DEFAULT_FAILURE_TTL_S}
        redis.call('HSET', job, 'status', 'failed', 'ended_at', now_iso)
        if f[4] then redis.call('HSET', job, 'retries_left', '0') end
        redis.call('ZADD', registry('failed', origin), now + ttl, id)
        redis.call('XADD', results_prefix .. id, 'MAXLEN', '10', '*', 'type', '2', 'worker_name', '',
                   'exc_string', arg, 'execution_ended_at', tostring(now))
        if ttl > 0 then redis.call('EXPIRE', job, ttl) redis.call('EXPIRE', results_prefix .. id, ttl) end
      elseif op == 'dismiss' then
        if status == 'deferred' then detach(id) end
        redis.call('LREM', queue_key(origin), 0, id)
        for _, kind in ipairs({{'failed', 'finished', 'scheduled', 'deferred', 'canceled'}}) do
          redis.call('ZREM', registry(kind, origin), id)
        end
        redis.call('DEL', job, results_prefix .. id, deps_head .. id .. deps_tail)
      end
    end
  end
  tally[code] = tally[code] + 1
  if code == 1 then table.insert(done, id) end
end
return {{tally, done}}
"""


def exc_blob(text: str) -> str:
    """RQ's results-stream encoding of an error text: base64(zlib(text))."""
    return base64.b64encode(zlib.compress(text.encode())).decode()


def iso_now(now: float) -> str:
    """RQ's job-hash timestamp format (ISO-8601 UTC with ``Z``)."""
    return datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def apply(
    conn: redis.Redis, action: str, jobs: Iterable[tuple[str, str]], arg: str = "", now: float | None = None,
) -> tuple[dict[str, int], list[str]]:
    """Run ``action`` on each (job id, status confirmed) pair; counts and the ids acted on, in order."""
    op = SCRIPT_OP.get(action, action)
    if op not in OPS:
        raise ValueError(f"unknown job action {action!r}")
    script = conn.register_script(_SCRIPT)
    at = time.time() if now is None else now
    pairs = list(jobs)
    counts: Counter[str] = Counter()
    changed_ids: list[str] = []
    for start in range(0, len(pairs), CHUNK):
        args: list[str] = [op, f"{at:.6f}", iso_now(at), arg]
        for job_id, status in pairs[start : start + CHUNK]:
            args += [job_id, status]
        tally, done = script(args=args)
        for name, value in zip(COUNT_NAMES, tally, strict=True):
            counts[name] += int(value)
        changed_ids += [as_text(raw) for raw in done]
    return {name: int(counts.get(name, 0)) for name in COUNT_NAMES}, changed_ids
