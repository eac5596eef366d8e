"""A job's attempt history and full traceback, from RQ's results stream and executions, read without unpickling.

Each ``rq:results:<id>`` entry is one finished execution (type 1 ok, 2 failed, 3 stopped, 4 retried, 5 max
retries; RQ keeps the last 10); ``rq:executions:<id>`` lists the ones running now. Error texts are
base64(zlib(text)) and are decompressed with a size cap, masked line by line and made printable; a
``return_value`` is never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from tui.data.job_meta import Fields
from tui.data.masking import MaskRules, mask_error, resolve
from worker import keys
from worker.display_text import safe_text
from worker.masking import mask
from worker.safe_decoding import error_text

OUTCOMES = {"1": "completed", "2": "failed", "3": "stopped", "4": "retried", "5": "failed (max retries)"}
TRACEBACK_LINES = 400
"""Most traceback lines kept for the scrollable view."""


@dataclass(frozen=True)
class Attempt:
    """One execution of a job: when it ran, how it ended, on which worker, and its masked one-line error."""

    outcome: str
    started_at: datetime | None
    ended_at: datetime | None
    worker: str | None
    error: str | None = None


@dataclass(frozen=True)
class AttemptHistory:
    """A job's finished attempts (newest first), the executions running now, and its newest full traceback."""

    attempts: tuple[Attempt, ...] = ()
    running: tuple[str, ...] = ()
    traceback: str | None = None


def masked_traceback(text: str | None, patterns: Sequence[str]) -> str | None:
    """A full traceback masked and made printable line by line (at most ``TRACEBACK_LINES`` lines)."""
    if not text:
        return None
    lines = text.splitlines()[:TRACEBACK_LINES]
    return "\n".join(safe_text(mask(line, patterns) or "") for line in lines)


def read_attempts(conn: redis.Redis, job_id: str, task: str | None = None,
                  patterns: Sequence[str] | MaskRules = ()) -> AttemptHistory:
    """The attempt history of one job in one pipelined round (results stream, executions, ``exc_info``)."""
    pipe = conn.pipeline(transaction=False)
    pipe.xrevrange(keys.rq_results(job_id), "+", "-", count=10)
    pipe.smembers(keys.rq_executions(job_id))
    pipe.hget(keys.rq_job(job_id), "exc_info")
    results, executions, exc_info = pipe.execute(raise_on_error=False)
    task_patterns = resolve(patterns, task)
    attempts: list[Attempt] = []
    traceback: str | None = None
    for entry in results if isinstance(results, list) else []:
        if not (isinstance(entry, tuple | list) and len(entry) == 2):
            continue
        fields = Fields(entry[1])
        kind = fields.text("type", 4) or ""
        text = error_text(fields.value("exc_string"), base64_wrapped=True) if kind != "1" else None
        if text and traceback is None:
            traceback = masked_traceback(text, task_patterns)
        started = fields.when("execution_started_at") or fields.when("created_at")
        attempts.append(Attempt(OUTCOMES.get(kind, "unreadable"), started, fields.when("execution_ended_at"),
                                fields.text("worker_name"), mask_error(text, task_patterns)))
    if traceback is None and isinstance(exc_info, bytes):
        traceback = masked_traceback(error_text(exc_info), task_patterns)
    return AttemptHistory(tuple(attempts), _members(executions), traceback)


def _members(reply: Any) -> tuple[str, ...]:
    """A set reply as sorted printable text."""
    if not isinstance(reply, set | list):
        return ()
    return tuple(sorted(safe_text(m.decode(errors="replace")) for m in reply if isinstance(m, bytes)))
