"""Ask a running job to stop at its next checkpoint: the cooperative cancel flag, set only on a started job.

The flag (``rqtop:cancel:<id>``) is what ``worker.progress.is_cancelled`` reads; rqtop's worker then ends the run
as *canceled* (RQ's canceled registry, history, metrics) instead of finished, whether or not the task looked:
a task without checkpoints runs to completion first. The hard stop (RQ's stop command) is its own action.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from worker import keys
from worker.records import as_text

CANCEL_NOTE = "a task without checkpoints finishes first, then is marked canceled"
"""Said in every confirmation of a cooperative cancel."""


@dataclass(frozen=True)
class CancelRequest:
    """The outcome of one request: ``status`` is requested, already_requested, not_running or unknown."""

    job_id: str
    status: str
    message: str

    @property
    def ok(self) -> bool:
        """The flag is set (now or before)."""
        return self.status in ("requested", "already_requested")


def request_cancel(conn: redis.Redis, job_id: str, who: str = "", now: float | None = None) -> CancelRequest:
    """Set the cancel flag of ``job_id`` when RQ says it is running (status ``started``); refuse otherwise."""
    status = as_text(conn.hget(keys.rq_job(job_id), "status"))
    if not status:
        return CancelRequest(job_id, "unknown", f"no job {job_id}")
    if status != "started":
        return CancelRequest(job_id, "not_running", f"{job_id} is {status}, not running: nothing to cancel")
    body = json.dumps({"who": who, "at": round(time.time() if now is None else now, 3)})
    if not conn.set(keys.cancel_flag(job_id), body, ex=keys.CANCEL_TTL_S, nx=True):
        return CancelRequest(job_id, "already_requested", f"cancel of {job_id} already requested; {CANCEL_NOTE}")
    return CancelRequest(job_id, "requested", f"cancel of {job_id} requested: it stops at its next checkpoint; "
                                              f"{CANCEL_NOTE}")
