"""Run now for recurring jobs of other schedulers: a fresh copy on the job's queue, the schedule left untouched.

An rq-scheduler job is copied byte for byte: its ``data`` field (function and arguments, as its scheduler
wrote them) goes into a new job hash with a new id, so nothing is unpickled here. An ``rq cron`` job is
enqueued the way ``rq cron`` would, from its plain JSON definition (function name, JSON args and kwargs,
queue, timeouts); a definition that is not plain data is refused with the reason. The new job is queued
with raw commands in one MULTI/EXEC (job hash, queue list, queue index), so a plain ``rq worker`` of RQ 2 or
3 runs it; no RQ module is imported.
"""

from __future__ import annotations

import json
import pickle
import re
import time
import uuid
import zlib
from typing import Any

import redis

from worker import keys
from worker.plans import RunNowResult
from worker.records import as_text

FUNC_NAME = re.compile(r"[A-Za-z_][\w.]{0,199}")
"""A dotted function name Run now may enqueue (the worker imports it, as ``rq cron`` itself would have)."""

COPIED_FIELDS = ("data", "origin", "description", "timeout", "ttl", "failure_ttl")
"""What a copy of an rq-scheduler job keeps (not its ``meta``: that holds the schedule, which stays put)."""

CRON_OPTIONS = {"job_timeout": "timeout", "timeout": "timeout", "result_ttl": "result_ttl", "ttl": "ttl",
                "failure_ttl": "failure_ttl"}
"""Job options of an ``rq cron`` definition -> the job hash field they set (plain integers only)."""


def run_now_problem(item: dict[str, Any]) -> str | None:
    """Why Run now cannot enqueue this ``rq cron`` job (None when it can): it needs a plain dotted function
    name, a queue, and arguments that are plain JSON."""
    func, queue = item.get("func_name"), item.get("queue_name")
    if not (isinstance(func, str) and FUNC_NAME.fullmatch(func)):
        return "its function name is not a plain dotted name"
    if not (isinstance(queue, str) and queue):
        return "it names no queue"
    for field, kind in (("args", list), ("kwargs", dict)):
        if _json_field(item.get(field), kind) is None:
            return f"its {field} are not plain JSON data"
    return None


def copy_rq_scheduler_job(conn: redis.Redis, job_id: str, row: str) -> RunNowResult:
    """Queue a copy of rq-scheduler job ``job_id`` (new id, same data bytes) on its queue."""
    values = conn.hmget(keys.rq_job(job_id), list(COPIED_FIELDS))
    fields = {name: value for name, value in zip(COPIED_FIELDS, values, strict=True) if value}
    if not conn.zscore(keys.RQ_SCHEDULED_JOBS, job_id) and not fields:
        return RunNowResult(row, "unknown", None, f"{row}: rq-scheduler has no such job")
    if "data" not in fields or "origin" not in fields:
        return RunNowResult(row, "not_allowed", None, f"{row}: its job hash has no data or queue to copy")
    new_id = _enqueue(conn, as_text(fields.pop("origin")), fields)
    return RunNowResult(row, "queued", new_id,
                        f"Queued {new_id}: a copy of rq-scheduler job {job_id}; its schedule is unchanged")


def enqueue_cron_job(conn: redis.Redis, scheduler: str, name: str, row: str) -> RunNowResult:
    """Queue one run of ``rq cron`` job ``name`` of ``scheduler`` as ``rq cron`` would, from its JSON definition."""
    try:
        jobs = json.loads(conn.hget(keys.rq_cron_scheduler(scheduler), "cron_jobs") or b"[]")
    except ValueError:
        jobs = None
    if not isinstance(jobs, list):
        return RunNowResult(row, "not_allowed", None, f"{row}: the scheduler's cron_jobs field is not JSON")
    item = next((job for job in jobs if isinstance(job, dict) and (job.get("name") or job.get("func_name")) == name),
                None)
    if item is None:
        return RunNowResult(row, "unknown", None, f"{row}: rq cron scheduler {scheduler!r} has no job {name!r}")
    problem = run_now_problem(item)
    if problem is not None:
        return RunNowResult(row, "not_allowed", None, f"{row}: not available: {problem}")
    args = _json_field(item.get("args"), list) or []
    kwargs = _json_field(item.get("kwargs"), dict) or {}
    payload = (item["func_name"], None, tuple(args), kwargs)
    fields: dict[str, Any] = {"data": zlib.compress(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)),
                              "description": f"{item['func_name']}() (Run now of rq cron job {name})"}
    fields.update({field: str(item[option]) for option, field in CRON_OPTIONS.items()
                   if isinstance(item.get(option), int) and not isinstance(item.get(option), bool)})
    new_id = _enqueue(conn, item["queue_name"], fields)
    return RunNowResult(row, "queued", new_id, f"Queued {new_id}: one run of rq cron job {name}; its schedule "
                                               "is unchanged")


def _enqueue(conn: redis.Redis, queue: str, fields: dict[str, Any]) -> str:
    """Write a queued job hash with ``fields`` and push it on ``queue``, in one transaction; its new id."""
    new_id = uuid.uuid4().hex
    stamp = _rq_time(time.time())
    with conn.pipeline(transaction=True) as pipe:
        mapping: dict[Any, Any] = {**fields, "origin": queue, "status": "queued", "created_at": stamp,
                                   "enqueued_at": stamp}
        pipe.hset(keys.rq_job(new_id), mapping=mapping)
        pipe.sadd(keys.RQ_QUEUES, keys.rq_queue(queue))
        pipe.rpush(keys.rq_queue(queue), new_id)
        pipe.execute()
    return new_id


def _rq_time(epoch: float) -> str:
    """RQ's UTC timestamp format (``utcformat``)."""
    seconds = int(epoch)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int((epoch - seconds) * 1e6):06d}Z"


def _json_field(raw: Any, kind: type) -> Any:
    """A JSON-string field of a cron definition as ``kind``; ``kind()`` when absent; None when it is anything else."""
    if raw is None:
        return kind()
    try:
        value = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return value if isinstance(value, kind) else None

