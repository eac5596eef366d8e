"""The dead-execution script: one EVAL ends an execution whose worker is gone, the way RQ's cleanup would, in Redis.

It replaces RQ's ``StartedJobRegistry.cleanup`` for rqtop's recovery paths: that cleanup runs in the calling
process and imports and calls the ``failure_callback_name`` a job hash names, so job data could run code in the
dashboard or CLI. This script runs no Python at all: callbacks are left to workers, and a job failed here gets
no failure callback. Per execution, atomically, only while the ``rq:wip`` entry still has the score the caller
judged (a heartbeat in between re-scores it and the script does nothing):

- status ``queued`` (the horse never started it): the execution is dropped and the job goes back to the head of
  its queue (unless it is already there), ``retries_left`` untouched;
- status ``started`` with ``retries_left > 0``: RQ's retry (``Job.retry``): one retry used, the job re-queued at
  the tail (head with ``enqueue_at_front_on_retry``) or scheduled after its retry interval;
- status ``started`` otherwise: failed as RQ fails an abandoned job (status, ``ended_at``, ``rq:failed:<q>``
  scored by the failure TTL, a results-stream entry of type 2 with the reason, worker and execution ids).

In every case the wip entry, execution hash, job-executions member, worker-executions member and intermediate
list entry go, and rqtop's history and worker record follow. Returns the outcome as a word.
"""

from __future__ import annotations

ABANDON_LUA = """
-- KEYS: 1 wip zset, 2 job hash, 3 execution hash, 4 job executions zset, 5 worker executions set,
--       6 failed zset, 7 results stream, 8 queue list, 9 intermediate list, 10 scheduled zset, 11 rq:queues,
--       12 rqtop worker record, 13 history item, 14 dependents set, 15 dependencies set
-- ARGV: 1 member, 2 execution id, 3 job id, 4 expected worker ('' = any), 5 expected wip score,
--       6 now epoch, 7 now ISO, 8 exc_string (base64 zlib), 9 execution started epoch (''), 10 default failure
--       ttl, 11 queue key, 12 history ttl, 13 error line, 14 worker name for the result
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 'gone' end
if ARGV[5] ~= '' and tonumber(score) ~= tonumber(ARGV[5]) then return 'beat' end
local job = redis.call('HMGET', KEYS[2], 'status', 'worker_name', 'retries_left', 'retry_intervals',
                       'failure_ttl', 'enqueue_at_front_on_retry', 'ended_at')
local status = job[1]
if status ~= 'started' and status ~= 'queued' then return 'skipped' end
if ARGV[4] ~= '' and job[2] and job[2] ~= '' and job[2] ~= ARGV[4] then return 'elsewhere' end
local now = tonumber(ARGV[6])

redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('LREM', KEYS[9], 0, ARGV[3])
if redis.call('HGET', KEYS[12], 'current_job_id') == ARGV[3] then
  redis.call('HSET', KEYS[12], 'current_job_id', '', 'current_task', '', 'current_started', '')
end
local has_history = redis.call('EXISTS', KEYS[13]) == 1

local function push_back(at_front)
  redis.call('SADD', KEYS[11], ARGV[11])
  if redis.call('LPOS', KEYS[8], ARGV[3]) then return end
  if at_front then redis.call('LPUSH', KEYS[8], ARGV[3]) else redis.call('RPUSH', KEYS[8], ARGV[3]) end
end

if status == 'queued' then
  push_back(true)
  if has_history then
    redis.call('HSET', KEYS[13], 'state', 'pending', 'started_at', '', 'ended_at', '')
  end
  return 'requeued'
end

local left = tonumber(job[3])
if left and left > 0 then
  local interval = 0
  if job[4] then
    local ok, intervals = pcall(cjson.decode, job[4])
    if ok and type(intervals) == 'table' and #intervals > 0 then
      interval = tonumber(intervals[math.max(#intervals - left, 0) + 1]) or 0
    end
  end
  redis.call('HSET', KEYS[2], 'retries_left', left - 1)
  if interval > 0 then
    redis.call('HSET', KEYS[2], 'status', 'scheduled')
    redis.call('SADD', KEYS[11], ARGV[11])
    redis.call('ZADD', KEYS[10], now + interval, ARGV[3])
  else
    redis.call('HSET', KEYS[2], 'status', 'queued', 'enqueued_at', ARGV[7])
    push_back(job[6] == '1' and job[7] ~= false)
  end
  if has_history then
    redis.call('HSET', KEYS[13], 'state', 'retry', 'ended_at', string.format('%.6f', now), 'error', ARGV[13])
    redis.call('HINCRBY', KEYS[13], 'retries', 1)
  end
  return 'retried'
end

local ttl = tonumber(job[5]) or tonumber(ARGV[10])
redis.call('HSET', KEYS[2], 'status', 'failed', 'ended_at', ARGV[7])
local fscore = now + ttl
if ttl < 0 then fscore = ttl end
redis.call('ZADD', KEYS[6], fscore, ARGV[3])
local entry = {'type', '2', 'worker_name', ARGV[14], 'exc_string', ARGV[8], 'execution_id', ARGV[2],
               'execution_ended_at', ARGV[6]}
if ARGV[9] ~= '' then
  table.insert(entry, 'execution_started_at')
  table.insert(entry, ARGV[9])
end
redis.call('XADD', KEYS[7], 'MAXLEN', '10', '*', unpack(entry))
if ttl > 0 then
  for _, key in ipairs({KEYS[2], KEYS[7], KEYS[14], KEYS[15]}) do redis.call('EXPIRE', key, ttl) end
elseif ttl < 0 then
  redis.call('PERSIST', KEYS[7])
end
if has_history then
  redis.call('HSET', KEYS[13], 'state', 'failed', 'ended_at', string.format('%.6f', now), 'error', ARGV[13])
  redis.call('EXPIRE', KEYS[13], ARGV[12])
end
return 'failed'
"""
