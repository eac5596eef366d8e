"""Cancel pending jobs from the head of a queue with a small Lua script, in chunks, race-safe against workers.

Each call pops at most ``chunk`` ids from the head of ``rq:queue:<q>`` (LPOP is atomic against the
workers' LMOVE, so an id a worker took first is simply not ours) and marks each popped job canceled the way
``Job.cancel`` does (``status`` = canceled, ``ZADD rq:canceled:<origin> <now> <id>``), plus what rqtop needs:
the hash expires after ``CANCELED_TTL_S`` (nothing in RQ trims canceled jobs), a schedule run releases its
``rqtop:active:<name>`` token and marks its schedule state and history record canceled. Ids whose hash is gone
are dropped (as a worker would), ids no longer ``queued`` are dropped untouched, and a job rq-scheduler owns
(a template) is canceled without an expiry so its schedule survives.

One bad job is never fatal and never takes others with it: every key is type-checked before the first write
(and the rest runs under ``pcall``), so a job whose ``rq:job:<id>`` is not a hash (or whose canceled registry
is not a sorted set) is counted ``skipped`` and set aside: pushed back, untouched, at the tail of its own queue,
where the Jobs tab shows it and the next Cancel All Pending skips it again.

Jobs pushed at the head after the plan (``at_front=True``) are kept: the plan holds the first ids of each
queue, a call starts cancelling at the first of them still in the head window (or the last call's leftover of
it), never before ``boundary index + 1 - remaining``, and pushes back the ids in front of that start in order.

``cancel_through`` never scans the queue for its boundary: a call reads the chunk at the head and, when the
boundary is not in it, looks where the last call left it: the same distance from the tail (right while
producers are quiet), else the chunk-wide window just below its last index from the planned segment's start
(workers' pops only lower it), one window further toward the head per call until found or the head is reached.
A call's work is thus bounded by the chunk, not the queue length (a chunk of 500 costs a few milliseconds, also
on a queue of a million), so Redis keeps answering other clients between chunks; only ids pushed at the head
after the plan are popped and pushed back with the chunk.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import redis
from rq.rate_limit import RateLimitRegistry

from worker import keys
from worker.plans import CancelPendingPlan, QueueCut
from worker.queues import queue_names
from worker.records import as_text

CANCELED_TTL_S = 7 * 24 * 3600
"""How long a canceled job hash lives (the janitor trims the canceled registry on the same horizon)."""

CHUNK = 500
"""Ids popped per script call, and how far one call may search for the boundary beyond them."""

_CANCEL_ONE = f"""
local now, cancel_ttl, history_ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local rl = {{}}
local tally = {{0, 0, 0}}
local put_back = 0
local function kind(key) return redis.call('TYPE', key)['ok'] end
local function fits(key, want) local found = kind(key) return found == want or found == 'none' end
local function set_aside(id)
  -- a job rqtop cannot read or cancel safely stays pending, untouched, at the tail of its own queue
  redis.call('RPUSH', KEYS[1], id)
  put_back = put_back + 1
  tally[3] = tally[3] + 1
end
local function cancel_job(id, queue_name)
  local job = {keys.rq_job("")!r} .. id
  local job_kind = kind(job)
  if job_kind == 'none' then tally[2] = tally[2] + 1 return end
  if job_kind ~= 'hash' then set_aside(id) return end
  local f = redis.call('HMGET', job, 'status', 'origin', 'rate_limit_key')
  if not f[1] then tally[2] = tally[2] + 1 return end
  if f[1] ~= 'queued' then tally[3] = tally[3] + 1 return end
  local origin = f[2] or queue_name
  local registry = {keys.rq_registry("canceled", "")!r} .. origin
  if not fits(registry, 'zset') then set_aside(id) return end
  redis.call('HSET', job, 'status', 'canceled')
  redis.call('ZADD', registry, now, id)
  local template = string.sub(id, 1, {len(keys.SCHEDULE_TEMPLATE_PREFIX)}) == {keys.SCHEDULE_TEMPLATE_PREFIX!r}
  if not template and not (fits({keys.RQ_SCHEDULED_JOBS!r}, 'zset')
                           and redis.call('ZSCORE', {keys.RQ_SCHEDULED_JOBS!r}, id)) then
    redis.call('EXPIRE', job, cancel_ttl)
  end
  if f[3] then table.insert(rl, id) table.insert(rl, f[3]) end
  local history = {keys.history_item("")!r} .. id
  if kind(history) == 'hash' then
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
      if kind(token) == 'string' and redis.call('GET', token) == id then redis.call('DEL', token) end
      local state = {keys.sched_state("")!r} .. name
      if kind(state) == 'hash' then
        local last = redis.call('HGET', state, 'last_job_id')
        if not last or last == id then
          redis.call('HSET', state, 'last_status', 'canceled', 'last_ended', now)
        end
      end
    end
  end
  tally[1] = tally[1] + 1
end
local function cancel_one(id, queue_name)
  -- every key is type-checked before the first write; an error all the same leaves the job pending, set aside
  local ok = pcall(cancel_job, id, queue_name)
  if not ok then set_aside(id) end
end
"""

_THROUGH_BOUNDARY = _CANCEL_ONE + """
-- ARGV[6] limit: ids to cancel at most; ARGV[7] before: the boundary's index counted from the planned segment's
-- start is below this (workers' pops only lower it, pushes at the head move start and boundary alike); ARGV[8]
-- behind: how many ids were behind the boundary when last seen (tail pushes only add), probed first; ARGV[9]
-- window: the chunk; ARGV[10] remaining: planned ids not yet handled; ARGV[11..]: ids known to be the planned
-- segment's head (from the plan or the last call). The segment starts at the first known id in the head window
-- (ids before it were pushed at the head after the plan and are kept), and never before index boundary+1-remaining.
-- Reply: canceled, missing, skipped, state (0 = go on, 1 = boundary handled, 2 = boundary not found: a worker
-- took it), rate-limited pairs, next before, next behind, next known ids. No read spans more than a window.
local queue, queue_name, boundary = KEYS[1], ARGV[4], ARGV[5]
local limit, before, behind = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local window, remaining = tonumber(ARGV[9]), tonumber(ARGV[10])
local known, any_known = {}, false
for i = 11, #ARGV do known[ARGV[i]] = true any_known = true end
local len = redis.call('LLEN', queue)
local head = redis.call('LRANGE', queue, 0, window - 1)
local start = 0
if any_known then
  for i, id in ipairs(head) do
    if known[id] then start = i - 1 break end
  end
end
local function rest_of_head(first)
  local ids = {}
  for i = first + 1, #head do table.insert(ids, head[i]) end
  return ids
end
local pos = nil
for i = start + 1, #head do
  if head[i] == boundary then pos = i - 1 break end
end
if not pos then
  local probe = len - 1 - behind
  if probe >= #head and redis.call('LINDEX', queue, probe) == boundary then
    pos = probe
  else
    local top = math.min(start + before - 1, len - 1)
    if top < #head then return {0, 0, 0, 2, rl, before, behind, {}} end
    local low = math.max(top - window + 1, #head)
    for i, id in ipairs(redis.call('LRANGE', queue, low, top)) do
      if id == boundary then pos = low + i - 1 break end
    end
    if not pos then
      if low == #head then return {0, 0, 0, 2, rl, before, behind, {}} end
      return {0, 0, 0, 0, rl, low - start, behind, rest_of_head(start)}
    end
  end
end
start = math.max(start, pos + 1 - remaining)
local n = math.min(pos + 1 - start, limit)
local popped = redis.call('LPOP', queue, start + n)
for first = start, 1, -1000 do  -- ids pushed at the head after the plan go back in their order
  local kept = {}
  for i = first, math.max(first - 999, 1), -1 do table.insert(kept, popped[i]) end
  redis.call('LPUSH', queue, unpack(kept))
end
for i = start + 1, start + n do cancel_one(popped[i], queue_name) end
local state = 0
if start + n == pos + 1 then state = 1 end
local next_known = {}
for i = start + n + 1, math.min(pos + 1, #head) do table.insert(next_known, head[i]) end
return {tally[1], tally[2], tally[3], state, rl, pos - n - start + 1, len - 1 - pos + put_back, next_known}
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


def plan(conn: redis.Redis) -> CancelPendingPlan:
    """Per queue: how many jobs are pending, the id at the tail (the boundary) and the ids at the head (reads only)."""
    queues = queue_names(conn)
    pipe = conn.pipeline(transaction=False)
    for queue in queues:
        pipe.llen(keys.rq_queue(queue))
        pipe.lindex(keys.rq_queue(queue), -1)
        pipe.lrange(keys.rq_queue(queue), 0, CHUNK - 1)
    replies = pipe.execute() if queues else []
    cuts = []
    for index, queue in enumerate(queues):
        size, last, head = replies[3 * index : 3 * index + 3]
        last_id = as_text(last) or None
        head_ids = [as_text(raw) for raw in head]
        if last_id in head_ids:
            head_ids = head_ids[: head_ids.index(last_id) + 1]
        if int(size) and last_id:
            cuts.append(QueueCut(queue, int(size), last_id, tuple(head_ids)))
    return CancelPendingPlan(cuts=tuple(cuts))


COUNT_NAMES = ("canceled", "missing", "skipped", "taken")
"""Every count ``execute`` returns."""


def execute(conn: redis.Redis, cancel_plan: CancelPendingPlan, chunk: int | None = None) -> dict[str, int]:
    """Cancel each planned queue's pending jobs up to its boundary; counts summed over the queues."""
    counts: Counter[str] = Counter()
    for cut in cancel_plan.cuts:
        if cut.last_id and cut.size > 0:
            counts.update(cancel_through(conn, cut.queue, cut.last_id, cut.size, chunk, cut.head))
    return _plain(counts)


def cancel_through(
    conn: redis.Redis, queue: str, boundary_id: str, max_count: int, chunk: int | None = None,
    head_ids: tuple[str, ...] = (),
) -> dict[str, int]:
    """Cancel the head of ``queue`` up to and including ``boundary_id``, never more than ``max_count`` ids.

    Jobs behind the boundary (enqueued after the plan) stay, and so do jobs pushed at the head after the plan:
    ``head_ids`` (the planned head, from the plan) tell where the planned segment starts. If a worker took the
    boundary, everything before it is gone too, so the call stops. Counts: canceled, missing (hash gone),
    skipped (no longer queued, or unreadable and set aside at the tail), taken (planned but popped by workers).
    """
    script = conn.register_script(_THROUGH_BOUNDARY)
    chunk = chunk or CHUNK
    counts: Counter[str] = Counter()
    remaining, before, behind, may_retry = max_count, max_count, 0, False
    known = list(head_ids[:chunk])
    while remaining > 0:
        reply = script(
            keys=[keys.rq_queue(queue)],
            args=[*_common_args(), queue, boundary_id, min(chunk, remaining), before, behind, chunk, remaining,
                  *known],
        )
        popped = _tally(conn, reply, counts)
        remaining -= popped
        state, before, behind = reply[3], int(reply[5]), int(reply[6])
        known = [as_text(raw) for raw in reply[7]]
        may_retry = may_retry or popped > 0
        if state == 1:
            break
        if state == 2:
            if not may_retry:
                break
            before, behind, may_retry = remaining, 0, False  # look anew from where the boundary could be
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


def _common_args() -> list[Any]:
    """ARGV[1..3]: the cancel time, the canceled-hash TTL and the history TTL."""
    return [f"{time.time():.6f}", CANCELED_TTL_S, keys.HISTORY_TTL_S]


def _tally(conn: redis.Redis, reply: list, counts: Counter[str]) -> int:
    """Add one script reply to ``counts``, free rate-limit slots of canceled jobs; return ids popped."""
    canceled, missing, skipped, _state, limited = reply[:5]
    counts["canceled"] += canceled
    counts["missing"] += missing
    counts["skipped"] += skipped
    for index in range(0, len(limited), 2):
        job_id, limit_key = as_text(limited[index]), as_text(limited[index + 1])
        RateLimitRegistry(key=limit_key, connection=conn).cancel(job_id)
    return canceled + missing + skipped


def _plain(counts: Counter[str]) -> dict[str, int]:
    """A plain dict with every count present."""
    return {name: int(counts.get(name, 0)) for name in COUNT_NAMES}
