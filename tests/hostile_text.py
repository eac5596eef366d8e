"""Terminal escapes and markup planted in every field rqtop shows, and the check that none reaches the output."""

from __future__ import annotations

import base64
import json
import pickle
import unicodedata
import zlib
from dataclasses import asdict, is_dataclass
from typing import Any

import redis

from tests.data.reader_support import NOW, put_history, put_run, put_worker_record
from worker import audit, keys

ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;aGk=\x07\x9b1m\r\u202e\x7f\u200b"
"""Set the window title (OSC 0), clear the screen (CSI 2J), write the clipboard (OSC 52), C1 CSI, CR, a bidi
override, DEL and a zero-width space."""
MARKUP = "[/][@click=app.quit]x[/]"
"""A closing tag with nothing open (a MarkupError if parsed) and a working link if parsed."""


def hostile(tag: str) -> str:
    """A value starting with ``tag`` that carries every escape and the markup."""
    return f"{tag}{ESCAPES}{MARKUP}"


def unsafe(text: str, allowed: str = "") -> list[str]:
    """The characters of ``text`` a terminal could act on or that spoof display (besides ``allowed``)."""
    return [c for c in text if c not in allowed and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")
            and c not in "\u200c\u200d"]


NOT_SHOWN = frozenset({"redis_id"})
"""Fields that hold a Redis key to read again, never shown (the screen tests check that)."""


def strings(value: Any) -> list[str]:
    """Every string inside ``value`` (dataclasses, mappings, sequences), keys included, ``NOT_SHOWN`` left out."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in NOT_SHOWN for s in strings(k) + strings(v)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [s for item in value for s in strings(item)]
    return []


def _pickled(func_name: str) -> bytes:
    return zlib.compress(pickle.dumps((func_name, None, (), {}), protocol=pickle.HIGHEST_PROTOCOL))


QUEUE = hostile("q")
"""A queue with pending jobs and no worker listening: named in the Workers tab's warning line."""
JOB_IDS = (hostile("id1"), hostile("id2"), hostile("id3"))
SCHEDULE = hostile("s1")
HISTORY_ID = hostile("hid")
METRIC_TASK = hostile("m")
RUN_NOW_JOB = "run-now-job"
"""A history entry that failed with a hostile error, for the Run-now outcome toast."""


def plant_everything(conn: redis.Redis) -> None:
    """Hostile text in queue names, job ids, hashes and results, workers, history, schedules, metrics and audit."""
    conn.sadd(keys.RQ_QUEUES, keys.rq_queue(QUEUE), keys.rq_queue("default"))
    traceback = f"Traceback (most recent call last):\n  File \"x.py\", line 1\nValueError: {hostile('exc')}"
    for index, job_id in enumerate(JOB_IDS):
        conn.hset(keys.rq_job(job_id), mapping={
            "data": _pickled("tests.jobs.say_hello" if index else hostile("func")),
            "status": "failed" if index == 2 else "queued", "origin": hostile("origin"),
            "description": hostile("desc"), "worker_name": hostile("wn"),
            "created_at": "2026-01-01T00:00:00Z", "enqueued_at": "2026-01-01T00:00:01Z",
            "exc_info": zlib.compress(traceback.encode()),
        })
        conn.rpush(keys.rq_queue(QUEUE), job_id)
        conn.rpush(keys.rq_queue("default"), job_id)
        conn.zadd(keys.rq_registry("wip", "default"), {f"{job_id}:{hostile('exec')}": NOW + 60})
    conn.xadd(f"rq:results:{JOB_IDS[1]}", {"type": 2, "worker_name": hostile("rw"),
                                           "exc_string": base64.b64encode(zlib.compress(traceback.encode()))})
    put_worker_record(conn, hostile("w"), NOW - 1, hostname=hostile("host"), version=hostile("v"),
                      queues=hostile("wq"), current_job_id=JOB_IDS[0], current_task=hostile("task"),
                      current_started=f"{NOW - 5:.6f}", mode="all")
    rq_worker = hostile("rqw")
    conn.sadd(keys.RQ_WORKERS, keys.rq_worker(rq_worker))
    conn.hset(keys.rq_worker(rq_worker), mapping={"hostname": hostile("rqhost"), "version": hostile("rqv"),
                                                   "queues": hostile("rqq"), "last_heartbeat": f"{NOW - 1:.6f}",
                                                   "birth": f"{NOW - 100:.6f}"})
    conn.sadd(keys.rq_worker_executions(rq_worker), f"{JOB_IDS[1]}:e1")
    put_history(conn, HISTORY_ID, NOW - 30, task=hostile("ht"), queue=hostile("hq"), state="failed",
                worker=hostile("hw"), error=hostile("herr"), note=hostile("hn"), schedule=hostile("hs"))
    put_history(conn, RUN_NOW_JOB, NOW - 20, state="failed", error=f"ValueError: {hostile('toast')}")
    conn.hset(keys.SCHEDULES, mapping={
        SCHEDULE: json.dumps({"name": SCHEDULE, "task": hostile("st"), "description": hostile("sd"),
                              "cron": hostile("cron"), "timezone": "UTC", "run_now_reason": hostile("why")}),
        hostile("s2"): json.dumps({"name": "s2", "task": "tests.jobs.say_hello", "cron": "0 6 * * *",
                                   "timezone": hostile("tz"), "priority": "normal"}),
    })
    conn.hset(keys.sched_state(SCHEDULE), mapping={"last_run": f"{NOW - 60:.6f}", "last_status": hostile("ls")})
    conn.set(keys.active(SCHEDULE), JOB_IDS[0])
    put_run(conn, METRIC_TASK, NOW - 60, 0.5, failed=True)
    audit.append(conn, hostile("who"), hostile("act"), hostile("tgt"), {hostile("step"): 1}, ok=True, now=NOW)
