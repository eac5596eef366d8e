"""Cancel pending jobs from the head of a queue with a small Lua script, in chunks, race-safe against workers.

Each call pops at most ``chunk`` ids from the head of ``rq:queue:<q>`` (LPOP is atomic against the
workers' LMOVE, so an id a worker took first is simply not ours) and marks each popped job canceled the way
``Job.cancel`` does (``status`` = canceled, ``ZADD rq:canceled:<origin> <now> <id>``), plus what rqtop needs:
the hash expires after ``CANCELED_TTL_S`` (nothing in RQ trims canceled jobs), a schedule run releases its
``rqtop:active:<name>`` token and marks its schedule state and history record canceled. Ids whose hash is gone
are dropped (as a worker would), ids no longer ``queued`` are dropped untouched, and a job rq-scheduler owns
(a template) is canceled without an expiry so its schedule survives.

``cancel_through`` never scans the queue for its boundary: a call reads the chunk at the head and, when the
boundary is not in it, looks where the last call left it: the same distance from the tail (right while
producers are quiet), else the chunk-wide window just below its last index from the head (workers' pops only
lower it), one window further toward the head per call until found or the head is reached. A call's work is
thus bounded by the chunk, not the queue length (a chunk of 500 costs a few milliseconds, also on a queue of a
million), so Redis keeps answering other clients between chunks.
"""

from __future__ import annotations

import time
from collections import Counter

import redis
from rq.rate_limit import RateLimitRegistry

from worker import keys

CANCELED_TTL_S = 7 * 24 * 3600
"""How long a canceled job hash lives (the janitor trims the canceled registry on the same horizon)."""

CHUNK = 500
"""Ids popped per script call, and how far one call may search for the boundary beyond them."""

_CANCEL_ONE = f"""
local now, cancel_ttl, history_ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local rl = {{}}
local tally = {{0, 0, 0}}
local function cancel_one(id, queue_name)
  local job = {keys.rq_job("")!r} .. id
  local f = redis.call('HMGET', job, 'status', 'origin', 'rate_limit_key')
  if not f[1] then tally[2] = tally[2] + 1 return end
  if f[1] ~= 'queued' then tally[3] = tally[3] + 1 return end
  local origin = f[2] or queue_name
  redis.call('HSET', job, 'status', 'canceled')
  redis.call('ZADD', {keys.rq_registry("canceled", "")!r} .. origin, now, id)
  local template = string.sub(id, 1, {len(keys.SCHEDULE_TEMPLATE_PREFIX)}) == {keys.SCHEDULE_TEMPLATE_PREFIX!r}
  if not template and not redis.call('ZSCORE', {keys.RQ_SCHEDULED_JOBS!r}, id) then
    redis.call('EXPIRE', job, cancel_ttl)
  end
  if f[3] then table.insert(rl, id) table.insert(rl, f[3]) end
  local history = {keys.history_item("")!r} .. id
  if redis.call('EXISTS', history) == 1 then
    redis.call('HSET', history, 'state', 'canceled', 'ended_at', now)
    redis.call('EXPIRE', history, history_ttl)
  end
  local run_prefix = {keys.SCHEDULE_RUN_PREFIX!r}
  if string.sub(id, 1, #run_prefix) == run_prefix then
    local rest = string.sub(id, #run_prefix + 1)
    local dash = string.find(rest, '--', 1, true)
    local name = dash and string.sub(rest, 1, dash - 1) or rest
    if name ~= '' then
      local token = {keys.active("")!r} .. name
      if redis.call('GET', token) == id then redis.call('DEL', token) end
      local state = {keys.sched_state("")!r} .. name
      local last = redis.call('HGET', state, 'last_job_id')
      if not last or last == id then
        redis.call('HSET', state, 'last_status', 'canceled', 'last_ended', now)
      end
    end
  end
  tally[1] = tally[1] + 1
end
"""

_THROUGH_BOUNDARY = _CANCEL_ONE + """
-- ARGV[7] before: the boundary's index is below this (workers' pops only lower it); ARGV[8] behind: how many ids
-- were behind it when last seen (producers' pushes only add to it), probed first. The reply's state is 0 = go on,
-- 1 = boundary canceled, 2 = boundary not queued below ARGV[7] (a worker took it); its last two slots are the
-- next call's ARGV[7] and ARGV[8]. No read spans more than a chunk.
local queue, queue_name, boundary = KEYS[1], ARGV[4], ARGV[5]
local limit, before, behind, window = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local function find(first, last)
  if last < first then return nil end
  for i, id in ipairs(redis.call('LRANGE', queue, first, last)) do
    if id == boundary then return first + i - 1 end
  end
  return nil
end
local len = redis.call('LLEN', queue)
local pos = find(0, limit - 1)
if not pos then
  local top = math.min(before - 1, len - 1)
  if top < limit then return {0, 0, 0, 2, rl, before, behind} end
  local probe = len - 1 - behind
  if probe >= limit and probe <= top and redis.call('LINDEX', queue, -(behind + 1)) == boundary then
    pos = probe
  else
    local low = math.max(top - window + 1, limit)
    pos = find(low, top)
    if not pos then
      if low == limit then return {0, 0, 0, 2, rl, before, behind} end
      return {0, 0, 0, 0, rl, low, behind}
    end
  end
end
local n = math.min(pos + 1, limit)
for _, id in ipairs(redis.call('LPOP', queue, n)) do cancel_one(id, queue_name) end
local state = 0
if n == pos + 1 then state = 1 end
return {tally[1], tally[2], tally[3], state, rl, pos + 1 - n, len - 1 - pos}
"""

_LISTED = _CANCEL_ONE + """
local queue, queue_name = KEYS[1], ARGV[4]
local wanted = {}
for i = 5, #ARGV do wanted[ARGV[i]] = true end
while true do
  local head = redis.call('LINDEX', queue, 0)
  if not head or not wanted[head] then break end
  redis.call('LPOP', queue)
  wanted[head] = nil
  cancel_one(head, queue_name)
end
return {tally[1], tally[2], tally[3], 0, rl}
"""


def cancel_through(
    conn: redis.Redis, queue: str, boundary_id: str, max_count: int, chunk: int | None = None
) -> dict[str, int]:
    """Cancel the head of ``queue`` up to and including ``boundary_id``, never more than ``max_count`` ids.

    Jobs behind the boundary (enqueued after the plan) stay. If a worker took the boundary, everything before
    it is gone too, so the call stops. Counts: canceled, missing (hash gone), skipped (no longer queued),
    taken (planned but popped by workers first).
    """
    script = conn.register_script(_THROUGH_BOUNDARY)
    chunk = chunk or CHUNK
    counts: Counter[str] = Counter()
    remaining, before, behind, may_retry = max_count, max_count, 0, False
    while remaining > 0:
        reply = script(
            keys=[keys.rq_queue(queue)],
            args=[*_common_args(), queue, boundary_id, min(chunk, remaining), before, behind, chunk],
        )
        popped = _tally(conn, reply, counts)
        remaining -= popped
        state, before, behind = reply[3], int(reply[5]), int(reply[6])
        may_retry = may_retry or popped > 0
        if state == 1:
            break
        if state == 2:
            if not may_retry:
                break
            before, behind, may_retry = remaining, 0, False  # in case a push at the head moved it back: look anew
    counts["taken"] += max(remaining, 0)
    return _plain(counts)


def cancel_listed(
    conn: redis.Redis, queue: str, job_ids: list[str], chunk: int | None = None
) -> dict[str, int]:
    """Cancel exactly these ids, each only while it sits at the head of ``queue`` (ids in queue order).

    An id that is no longer at the head (a worker took it, or something was pushed in front) is left alone.
    """
    script = conn.register_script(_LISTED)
    chunk = chunk or CHUNK
    counts: Counter[str] = Counter()
    for start in range(0, len(job_ids), chunk):
        part = job_ids[start : start + chunk]
        _tally(conn, script(keys=[keys.rq_queue(queue)], args=[*_common_args(), queue, *part]), counts)
    counts["taken"] += max(len(job_ids) - counts["canceled"] - counts["missing"] - counts["skipped"], 0)
    return _plain(counts)


def _common_args() -> list[object]:
    """ARGV[1..3]: the cancel time, the canceled-hash TTL and the history TTL."""
    return [f"{time.time():.6f}", CANCELED_TTL_S, keys.HISTORY_TTL_S]


def _tally(conn: redis.Redis, reply: list, counts: Counter[str]) -> int:
    """Add one script reply to ``counts``, free rate-limit slots of canceled jobs; return ids popped."""
    canceled, missing, skipped, _state, limited = reply[:5]
    counts["canceled"] += canceled
    counts["missing"] += missing
    counts["skipped"] += skipped
    for index in range(0, len(limited), 2):
        job_id, limit_key = limited[index].decode(), limited[index + 1].decode()
        RateLimitRegistry(key=limit_key, connection=conn).cancel(job_id)
    return canceled + missing + skipped


def _plain(counts: Counter[str]) -> dict[str, int]:
    """A plain dict with every count present."""
    return {name: int(counts.get(name, 0)) for name in ("canceled", "missing", "skipped", "taken")}
