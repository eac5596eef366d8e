"""Progress and cooperative cancel for task authors: ``report_progress`` and ``is_cancelled`` inside any RQ job.

Both find the running job themselves (RQ's ``get_current_job``, RQ 2.12 and 3.x, rqtop's worker or a plain
``rq worker``) and cost at most one pipelined round trip a second however often a tight loop calls them: the
progress is kept in memory and written (JSON, never a pickle, ``SET ... EX``) at most once per
``WRITE_INTERVAL_S``, and that same round trip reads the cancel flag, so ``is_cancelled`` answers from its cache
in between. rqtop's worker deletes both keys when the run ends; after a plain worker the TTL does.

Example::

    from worker.progress import is_cancelled, report_progress

    def sync_users(users):
        for done, user in enumerate(users, 1):
            sync(user)
            report_progress(done, len(users), f"Synced {done} users")
            if is_cancelled():
                return "cancelled"
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from worker import keys

WRITE_INTERVAL_S = 1.0
"""At most one progress write (and cancel read) per this many seconds per job."""

MESSAGE_MAX = 200
"""A progress message is cut to this many characters before it is stored."""


@dataclass
class _JobState:
    """What this process knows of one running job's progress and cancel flag."""

    job_id: str
    conn: Any
    first_at: float | None = None
    first_processed: float = 0.0
    last_sync: float = float("-inf")
    cancelled: bool = False
    pending: tuple[float, float | None, str, float] | None = field(default=None)
    """The latest call's (processed, total, message, at) not yet written."""


_state: _JobState | None = None
_clock: Callable[[], float] = time.time
_get_current_job: Callable[[], Any] | None = None


def _current() -> _JobState | None:
    """The state of the job this process runs now (a new job resets it), or None outside a job."""
    global _state, _get_current_job
    if _get_current_job is None:
        from rq import get_current_job

        _get_current_job = get_current_job
    job = _get_current_job()
    if job is None:
        return None
    if _state is None or _state.job_id != job.id:
        _state = _JobState(job_id=job.id, conn=job.connection)
    return _state


def progress_document(processed: float, total: float | None, message: str, first_at: float, first_processed: float,
                      now: float) -> dict[str, Any]:
    """The JSON document stored in ``rqtop:progress:<id>`` (the reader's ``tui.data.progress`` parses it)."""
    doc: dict[str, Any] = {"processed": processed, "total": total, "message": message[:MESSAGE_MAX],
                           "first_at": round(first_at, 3), "first_processed": first_processed,
                           "updated_at": round(now, 3)}
    return doc


def _sync(state: _JobState, now: float) -> None:
    """One pipelined round trip: the pending progress (if any) written with its TTL, the cancel flag read."""
    with state.conn.pipeline(transaction=False) as pipe:
        if state.pending is not None:
            processed, total, message, at = state.pending
            doc = progress_document(processed, total, message, state.first_at or at, state.first_processed, at)
            pipe.set(keys.progress(state.job_id), json.dumps(doc), ex=keys.PROGRESS_TTL_S)
        pipe.exists(keys.cancel_flag(state.job_id))
        replies = pipe.execute()
    state.pending = None
    state.last_sync = now
    state.cancelled = state.cancelled or bool(replies[-1])


def report_progress(processed: float, total: float | None = None, message: str = "") -> None:
    """Record that ``processed`` of ``total`` items are done (``message`` says what); a no-op outside an RQ job.

    Written at most once a second (the latest call's values win); raises nothing the job did not cause.
    """
    state = _current()
    if state is None:
        return
    now = _clock()
    if state.first_at is None:
        state.first_at, state.first_processed = now, float(processed)
    state.pending = (processed, total, message if isinstance(message, str) else str(message), now)
    if now - state.last_sync >= WRITE_INTERVAL_S:
        _sync(state, now)


def is_cancelled() -> bool:
    """True once an operator asked to cancel this running job (``rqtop jobs cancel-running``): return early then.

    Reads Redis at most once a second (shared with ``report_progress``'s write); False outside an RQ job.
    """
    state = _current()
    if state is None:
        return False
    now = _clock()
    if not state.cancelled and now - state.last_sync >= WRITE_INTERVAL_S:
        _sync(state, now)
    return state.cancelled


def cancel_requested(conn: Any, job_id: str) -> bool:
    """Whether a cooperative cancel was asked for ``job_id`` (one EXISTS): the worker's check when the run ends."""
    return bool(conn.exists(keys.cancel_flag(job_id)))
