"""Plainly written floor refreshes that rqtop's reader is measured against (raw pipelined reads, no classes).

``spec_floor`` is the floor the issue defines: every queue and registry count, every worker hash with its
current job, one 50-job page. ``SameReadsFloor`` issues the same commands as rqtop's refresh (its own
schedules, history and metric buckets too, settled hours kept between refreshes as one pre-summed
histogram per task) and folds each task's bins into p50/p95, the least work that puts the same figures on
screen; with ``cache=False`` it re-reads all 24 hourly buckets every time, as naive code would.
"""

from __future__ import annotations

from typing import Any

import redis

from worker import keys, records

REGISTRIES = ("wip", "finished", "failed", "deferred", "scheduled", "canceled")
HISTORY = 50
MAX_TASKS = 500
SETTLE_HOURS = 2


def _names(raw: Any, prefix: str) -> list[str]:
    """Members of an index set with a key prefix removed."""
    return sorted(m.decode().removeprefix(prefix) for m in raw)


def spec_floor(conn: redis.Redis, page: int = 50) -> int:
    """Counts, workers with their current job, one page; three round trips. Returns the number of replies."""
    p = conn.pipeline(transaction=False)
    p.smembers(keys.RQ_QUEUES)
    p.smembers(keys.RQ_WORKERS)
    p.zrange(keys.WORKERS, 0, -1)
    queue_keys, worker_keys, ours = p.execute()
    queues = _names(queue_keys, "rq:queue:")
    names = sorted(set(_names(worker_keys, "rq:worker:")) | {n.decode() for n in ours})
    p = conn.pipeline(transaction=False)
    for q in queues:
        p.llen(keys.rq_queue(q))
        for kind in REGISTRIES:
            p.zcard(keys.rq_registry(kind, q))
    for name in names:
        p.hgetall(keys.rq_worker(name))
        p.smembers(keys.rq_worker_executions(name))
    p.lrange(keys.rq_queue(queues[0] if queues else "default"), 0, page - 1)
    values = p.execute()
    executions = values[len(queues) * 7 + 1 : -1 : 2]
    job_ids = [m.split(b":")[0] for s in executions for m in s] + list(values[-1])
    p = conn.pipeline(transaction=False)
    for job_id in job_ids:
        p.hmget(b"rq:job:" + job_id, "status", "origin", "created_at", "started_at", "ended_at", "data")
    return len(values) + len(p.execute())


def _fold(into: dict[int, int], bucket: dict[bytes, bytes]) -> None:
    """Add one bucket's b<idx> counts to a histogram."""
    for field, count in bucket.items():
        if field[:1] == b"b":
            index = int(field[1:])
            into[index] = into.get(index, 0) + int(count)


class SameReadsFloor:
    """rqtop's reads written plainly; keeps each task's settled hours as one summed histogram."""

    def __init__(self, cache: bool = True) -> None:
        self.cache = cache
        self.settled: dict[bytes, tuple[int, dict[int, int], list[bytes]]] = {}

    def read(self, conn: redis.Redis, now: float) -> int:
        """One refresh in three round trips; returns the number of replies."""
        p = conn.pipeline(transaction=False)
        p.smembers(keys.RQ_QUEUES)
        p.smembers(keys.RQ_WORKERS)
        p.zrange(keys.WORKERS, 0, -1)
        p.hgetall(keys.SCHEDULES)
        p.smembers(keys.PAUSED)
        p.zrevrange(keys.HISTORY, 0, HISTORY - 1)
        hours = records.window_hours(now)
        p.zrevrangebyscore(keys.METRIC_TASKS, "+inf", hours[0] * keys.METRIC_BUCKET_S, start=0, num=MAX_TASKS)
        p.exists(keys.RQ_SUSPENDED)
        queue_keys, worker_keys, ours, schedules, _, history, tasks, _ = p.execute()
        queues = _names(queue_keys, "rq:queue:")
        names = sorted(set(_names(worker_keys, "rq:worker:")) | {n.decode() for n in ours})
        cut = hours[-1] - SETTLE_HOURS
        p = conn.pipeline(transaction=False)
        for q in queues:
            p.llen(keys.rq_queue(q))
            for kind in REGISTRIES:
                p.zcard(keys.rq_registry(kind, q))
            p.lindex(keys.rq_queue(q), 0)
        for name in names:
            p.hgetall(keys.rq_worker(name))
            p.hgetall(keys.worker(name))
            p.smembers(keys.rq_worker_executions(name))
        for name in schedules:
            p.hgetall(b"rqtop:sched:" + name)
            p.get(b"rqtop:active:" + name)
            p.zscore(keys.RQ_SCHEDULED_JOBS, b"rqtop-schedule--" + name)
        for job_id in history:
            p.hgetall(b"rqtop:history:" + job_id)
        plans = []
        for task in tasks:
            cached = self.settled.get(task) if self.cache else None
            wanted = hours if cached is None or cached[0] != hours[0] else hours[-SETTLE_HOURS - 1 :]
            for hour in wanted:
                p.hgetall(b"rqtop:m:" + task + b":%d" % hour)
            if cached is not None and wanted is not hours and cached[2]:
                p.exists(*cached[2])
            plans.append((task, wanted, cached))
        values = p.execute()
        at = len(queues) * 8
        heads = values[7:at:8]
        workers = values[at : at + 3 * len(names)]
        at += 3 * len(names)
        tokens = values[at + 1 : at + 3 * len(schedules) : 3]
        at += 3 * len(schedules) + len(history)
        p = conn.pipeline(transaction=False)
        for head in heads:
            if head:
                p.hget(b"rq:job:" + head, "enqueued_at")
        for token in tokens:
            if token:
                p.hget(b"rq:job:" + token, "status")
        for rq_hash, ours_hash, running in zip(workers[::3], workers[1::3], workers[2::3], strict=True):
            if running and rq_hash and not ours_hash.get(b"current_job_id"):
                p.hmget(b"rq:job:" + min(running).split(b":")[0], "data", "started_at")
                p.hget(b"rq:execution:" + min(running), "created_at")
        third = p.execute()
        for task, wanted, cached in plans:
            if cached is not None and wanted is not hours:
                bins = dict(cached[1])
                fresh = values[at : at + len(wanted)]
                at += len(wanted) + (1 if cached[2] else 0)
            else:
                bins, fresh = {}, []
                present = []
                for hour, bucket in zip(hours, values[at : at + len(hours)], strict=True):
                    if hour < cut:
                        _fold(bins, bucket)
                        if bucket:
                            present.append(b"rqtop:m:" + task + b":%d" % hour)
                    else:
                        fresh.append(bucket)
                at += len(hours)
                if self.cache:
                    self.settled[task] = (hours[0], dict(bins), present)
            for bucket in fresh:
                _fold(bins, bucket)
            records.percentile_from_bins(bins, 50)
            records.percentile_from_bins(bins, 95)
        return len(values) + len(third)
