"""The end-of-job script: one EVALSHA records a run's outcome in history, metrics, worker counters and schedule state.

It reads the outcome and timestamps from RQ's job hash itself, so the worker pays one round trip per job for
all of rqtop's bookkeeping after it ends.
"""

from worker import keys

_RECENT = (f"local RECENT_PREFIX, RECENT_S, RECENT_SLOTS, RECENT_TTL = {keys.METRIC_RECENT_PREFIX!r}, "
           f"{keys.METRIC_RECENT_S}, {keys.METRIC_RECENT_SLOTS}, {keys.METRIC_RECENT_TTL_S}\n")
"""The recent window's key prefix, bucket length, bucket count and TTL, as Lua locals."""

_FINISH_BODY = _RECENT + """
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

if state == 'completed' or state == 'failed' or state == 'canceled' then
  local d = (end_us - start_us) / 1000000
  local bucket = tonumber(ARGV[11])
  local hour = math.floor(end_us / 1000000 / bucket)
  local mkey = ARGV[3] .. ARGV[2] .. ':' .. string.format('%d', hour)
  if state == 'canceled' then
    -- a canceled run is counted on its own: not a run of the success rate, not a duration of the percentiles
    redis.call('HINCRBY', mkey, 'c', 1)
  else
    local floor, ratio = tonumber(ARGV[8]), tonumber(ARGV[9])
    local idx = 0
    if d >= floor then idx = math.floor(math.log(d / floor) / math.log(ratio)) + 1 end
    redis.call('HINCRBY', mkey, 'n', 1)
    if state == 'failed' then redis.call('HINCRBY', mkey, 'f', 1) end
    redis.call('HINCRBY', mkey, 'b' .. string.format('%d', idx), 1)
    local raw = redis.call('HGET', mkey, 'max')
    local cur = raw and tonumber(raw)
    if not cur or d > cur then redis.call('HSET', mkey, 'max', string.format('%.6f', d)) end
  end
  redis.call('HSET', mkey, 'last', txt(end_us))
  redis.call('EXPIREAT', mkey, (hour + 1) * bucket + tonumber(ARGV[7]))
  redis.call('ZADD', KEYS[4], end_us / 1000000, ARGV[2])
  -- the recent window: one hash per task, a ring of RECENT_SLOTS 5-minute buckets (field s<i> names the bucket
  -- slot i holds; n<i>, f<i>, c<i> its runs, failures, cancels); a run older than the window is left out
  local slot = math.floor(end_us / 1000000 / RECENT_S)
  if slot > math.floor(now_us / 1000000 / RECENT_S) - RECENT_SLOTS then
    local rkey = RECENT_PREFIX .. ARGV[2]
    local i = string.format('%d', slot % RECENT_SLOTS)
    local named = string.format('%d', slot)
    local held = redis.call('HGET', rkey, 's' .. i)
    if held ~= named then
      if held and tonumber(held) and tonumber(held) > slot then named = nil
      else redis.call('HSET', rkey, 's' .. i, named, 'n' .. i, 0, 'f' .. i, 0, 'c' .. i, 0) end
    end
    if named then
      if state == 'canceled' then redis.call('HINCRBY', rkey, 'c' .. i, 1)
      else
        redis.call('HINCRBY', rkey, 'n' .. i, 1)
        if state == 'failed' then redis.call('HINCRBY', rkey, 'f' .. i, 1) end
      end
      redis.call('EXPIREAT', rkey, math.floor(now_us / 1000000) + RECENT_TTL)
    end
  end
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
"""

_RETURN = """return state or ''
"""

FINISH_LUA = _FINISH_BODY + _RETURN
"""Atomic end-of-job bookkeeping; reads the outcome and timestamps from RQ's job hash itself."""

_NOTIFY_TAIL = """
-- notify: KEYS 7 policy hash, 8 outbox stream, 9 Run-now-notify address; ARGV 12 worker name
if state == 'completed' or state == 'failed' or state == 'canceled' then
  local policy = 'never'
  if ARGV[10] ~= '' then policy = redis.call('HGET', KEYS[7], ARGV[10]) or 'never' end
  local wanted = policy == 'all' or (policy == 'failures' and state == 'failed')
  local to = redis.call('GET', KEYS[9])
  if wanted or to then
    local h = redis.call('HMGET', KEYS[2], 'queue', 'retries', 'error')
    local system = '0'
    if wanted then system = '1' end
    redis.call('XADD', KEYS[8], '*', 'job_id', ARGV[1], 'schedule', ARGV[10], 'state', state, 'task', ARGV[2],
      'queue', h[1] or '', 'started_at', txt(start_us), 'ended_at', txt(end_us),
      'attempts', tostring((tonumber(h[2]) or 0) + 1), 'error', h[3] or '', 'worker', ARGV[12],
      'system', system, 'to', to or '')
    if to then redis.call('DEL', KEYS[9]) end
  end
end
"""

NOTIFY_FINISH_LUA = _FINISH_BODY + _NOTIFY_TAIL + _RETURN
"""The worker's end-of-job script: ``FINISH_LUA`` plus, when the schedule's notify policy or a Run-now-notify
address asks, one outbox entry appended in the same round trip (never a network call from the job's path)."""
