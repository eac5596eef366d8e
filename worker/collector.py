"""``rqtop collect``: harvest RQ's finished and failed registries into history, hourly and 5-minute metrics.

For a deployment whose jobs run on plain ``rq worker`` processes (RQ 2.x or 3.x): nothing in the job code
changes. Each pass reads, per queue and registry, the entries scored at or above a high-water mark kept in
``rqtop:collect:marks`` (RQ scores an entry by its expiry, ``ended + ttl``, so with one TTL per registry a
higher score is a later end), at most ``batch`` of them (when a whole batch shares one score, as RQ's whole-
second scores often do, that score's whole group, at most ``TIE_MAX``, and the mark moves past it); the ids
not collected yet are read (one HMGET of the job hash and the newest results-stream entry each) and recorded
by one script per job: the worker's own end-of-job script (``worker.finish_script``), behind a ``SET NX`` of
``rqtop:collected:<id>``, so a job is counted once however many collectors run and however often a pass re-
reads it. A job rqtop's worker recorded itself (its history hash has a state) is left alone.

Limits, said plainly: a job whose own TTL is shorter than the registry's others can end below the mark and be
missed; more than ``TIE_MAX`` jobs expiring in one second lose the excess; entries scored ``+inf``
(``result_ttl=-1``) are re-read each pass, at most ``batch`` of them.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis

from worker import keys, records
from worker.finish_script import FINISH_LUA
from worker.outage import HEALTH, OUTAGE_ERRORS, wait_for_redis
from worker.queues import queue_names
from worker.records import as_text, sanitize_text
from worker.safe_decoding import error_text, function_name

log = logging.getLogger("rqtop.collect")

HARVESTED: tuple[keys.RqRegistry, ...] = ("finished", "failed")
"""The RQ registries the collector reads: the runs that ended."""

TIE_MAX = 10_000
"""Most entries of one score (one second of expiry) a pass reads when a whole batch shares that score."""
BATCH = 1000
"""Most entries read per queue and registry in one pass."""

INTERVAL_S = 5.0
"""Default pause between passes."""

JOB_FIELDS = ("status", "data", "created_at", "worker_name", "exc_info", "started_at")
"""What the collector reads of a candidate job's hash."""

COLLECT_LUA = """
-- KEYS 7: once-only mark, 8: history index; ARGV 12 queue, 13 worker, 14 created epoch, 15 error,
--   16 mark ttl, 17 history keep
local done = redis.call('HGET', KEYS[1], 'status')
if done ~= 'finished' and done ~= 'failed' and done ~= 'stopped' then return '' end
if redis.call('HEXISTS', KEYS[2], 'state') == 1 then return '' end
if not redis.call('SET', KEYS[7], '1', 'NX', 'EX', tonumber(ARGV[16])) then return '' end
redis.call('HSET', KEYS[2], 'task', ARGV[2], 'queue', ARGV[12], 'worker', ARGV[13], 'created_at', ARGV[14],
  'retries', 0, 'schedule', '', 'error', ARGV[15], 'note', '')
redis.call('ZADD', KEYS[8], 'NX', ARGV[14], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[8], 0, -(tonumber(ARGV[17]) + 1))
""" + FINISH_LUA
"""Record one ended job from RQ's registry once: guard, then the worker's own end-of-job bookkeeping."""


@dataclass(frozen=True)
class PassResult:
    """What one collector pass did: entries read from the registries and runs newly recorded."""

    read: int
    recorded: int


def _mark_key(kind: str, queue: str) -> str:
    """Field of ``keys.COLLECT_MARKS`` for one queue's registry."""
    return f"{kind}:{queue}"


def _one_score(entries: list[tuple[bytes, float]], batch: int) -> float | None:
    """The score a whole batch shares (RQ scores by whole seconds, so many jobs can), or None."""
    if len(entries) < batch or not math.isfinite(entries[0][1]) or entries[0][1] != entries[-1][1]:
        return None
    return entries[0][1]


def _next_mark(entries: list[tuple[bytes, float]], mark: str, tied: bool) -> str:
    """The mark after reading ``entries``: their highest finite score (read again next pass, inclusive), or
    just past it when the whole group of that score was read (``tied``), so a pass always moves on."""
    finite = [score for _, score in entries if math.isfinite(score)]
    if not finite:
        return mark
    return f"({max(finite)!r}" if tied else repr(max(finite))


class Collector:
    """Harvests RQ's registries into rqtop's records, one bounded pass at a time."""

    def __init__(self, conn: redis.Redis, batch: int = BATCH) -> None:
        self.conn = conn
        self.batch = batch
        self._script = conn.register_script(COLLECT_LUA)

    def collect_once(self, now: float | None = None) -> PassResult:
        """One pass over every queue's finished and failed registries; how many entries were read and recorded."""
        now = time.time() if now is None else now
        queues = queue_names(self.conn)
        fields = [_mark_key(kind, q) for q in queues for kind in HARVESTED]
        marks = [as_text(m) or repr(now) for m in (self.conn.hmget(keys.COLLECT_MARKS, fields) if fields else [])]
        pipe = self.conn.pipeline(transaction=False)
        for field, mark in zip(fields, marks, strict=True):
            kind, _, queue = field.partition(":")
            pipe.zrangebyscore(keys.rq_registry(kind, queue), mark, "+inf", start=0, num=self.batch, withscores=True)
        replies = pipe.execute() if fields else []
        ties = [_one_score(entries, self.batch) for entries in replies]
        if any(score is not None for score in ties):  # read each whole tie group (bounded), then move past it
            for field, score in zip(fields, ties, strict=True):
                if score is not None:
                    kind, _, queue = field.partition(":")
                    pipe.zrangebyscore(keys.rq_registry(kind, queue), score, score, start=0, num=TIE_MAX,
                                       withscores=True)
            groups = iter(pipe.execute())
            replies = [next(groups) if score is not None else entries for entries, score in zip(replies, ties,
                                                                                                 strict=True)]
        candidates = [(field.partition(":")[2], member) for field, entries in zip(fields, replies, strict=True)
                      for member, _ in entries]
        recorded = self._record(candidates, now)
        moved: dict[Any, Any] = {field: _next_mark(entries, mark, score is not None)
                 for field, mark, entries, score in zip(fields, marks, replies, ties, strict=True)}
        if moved:
            self.conn.hset(keys.COLLECT_MARKS, mapping=moved)
        return PassResult(read=len(candidates), recorded=recorded)

    def _record(self, candidates: list[tuple[str, bytes]], now: float) -> int:
        """Read the candidates not collected yet and record each once; how many were recorded now."""
        if not candidates:
            return 0
        pipe = self.conn.pipeline(transaction=False)
        for _, job_id in candidates:
            pipe.exists(keys.collected(as_text(job_id)))
        fresh = [c for c, seen in zip(candidates, pipe.execute(), strict=True) if not seen]
        if not fresh:
            return 0
        pipe = self.conn.pipeline(transaction=False)
        for _, job_id in fresh:
            pipe.hmget(keys.rq_job(as_text(job_id)), list(JOB_FIELDS))
            pipe.xrevrange(keys.rq_results(as_text(job_id)), "+", "-", count=1)
        replies = pipe.execute(raise_on_error=False)
        pipe = self.conn.pipeline(transaction=False)
        for index, (queue, raw_id) in enumerate(fresh):
            values, results = replies[2 * index], replies[2 * index + 1]
            if not isinstance(values, list) or values[0] is None:
                continue  # the job hash expired or was deleted: nothing left to record
            self._queue_script(pipe, queue, as_text(raw_id), dict(zip(JOB_FIELDS, values, strict=True)),
                               results, now)
        return sum(1 for state in pipe.execute() if as_text(state))

    def _queue_script(self, pipe: Any, queue: str, job_id: str, job: dict[str, Any], results: Any,
                      now: float) -> None:
        """Queue the once-only recording of one job on ``pipe``."""
        task = function_name(job["data"])
        created = records.to_epoch(job["created_at"]) or now
        started = records.to_epoch(job["started_at"]) or now
        error = ""
        if as_text(job["status"]) != "finished":
            newest = results[0][1] if isinstance(results, list) and results else {}
            text = error_text(newest.get(b"exc_string"), base64_wrapped=True) or error_text(job["exc_info"])
            error = sanitize_text(text or "") or "Job failed"
        self._script(keys=[
            keys.rq_job(job_id), keys.history_item(job_id), keys.COLLECT_NO_WORKER, keys.METRIC_TASKS,
            keys.sched_state("-"), keys.active("-"), keys.collected(job_id), keys.HISTORY,
        ], args=[
            job_id, task, keys.PREFIX + "m:", repr(now), repr(started), keys.HISTORY_TTL_S, keys.METRIC_TTL_S,
            repr(records.BIN_FLOOR_S), repr(records.BIN_RATIO), "", keys.METRIC_BUCKET_S,
            queue, as_text(job["worker_name"]), records.epoch_text(created), error, keys.HISTORY_TTL_S,
            keys.HISTORY_KEEP,
        ], client=pipe)


def beat(conn: redis.Redis, interval: float) -> None:
    """Say the collector is alive (one pipelined HSET + EXPIRE): the dashboard and exporter show its liveness."""
    pipe = conn.pipeline(transaction=False)
    pipe.hset(keys.COLLECT_HEARTBEAT, mapping={"at": repr(time.time()), "interval": repr(interval),
                                               "host": socket.gethostname(), "pid": os.getpid()})
    pipe.expire(keys.COLLECT_HEARTBEAT, max(30, int(3 * interval) + 1))
    pipe.execute()


def run_collector(conn: redis.Redis, interval: float = INTERVAL_S, stop: threading.Event | None = None,
                  batch: int = BATCH) -> None:
    """Collect every ``interval`` seconds until ``stop`` is set; an outage waits for Redis and carries on."""
    stop = stop or threading.Event()
    collector = Collector(conn, batch)
    while not stop.is_set():
        try:
            result = collector.collect_once()
            beat(conn, interval)
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)
            if not wait_for_redis(conn, stop, pause_first=True):
                return
            continue
        if result.recorded:
            log.info("collected %d run(s) from RQ's registries", result.recorded)
        stop.wait(interval)
