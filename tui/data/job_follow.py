"""One job's state for ``--wait``: its RQ status, progress and error in one pipelined, read-only round trip.

The error is rqtop's sanitized line from the history item (RQ's own traceback is never decoded here); the
progress is ``tui.data.progress``'s (the progress key, else ``meta["progress"]``, plain data only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis

from tui.data.masking import decode
from tui.data.progress import JobProgress, job_progress
from worker import keys
from worker.display_text import safe_text
from worker.masking import mask

SUCCEEDED = ("finished",)
"""RQ statuses a follower ends on with exit code 0."""
UNSUCCESSFUL = ("failed", "stopped", "canceled")
"""RQ statuses a follower ends on with exit code 1."""


@dataclass(frozen=True)
class JobState:
    """What a follower prints about one job at one instant."""

    job_id: str
    status: str | None
    """RQ's status (queued, started, finished, failed, stopped, canceled, …), None when the hash is gone."""
    progress: JobProgress | None = None
    error: str = ""
    history_state: str | None = None
    """rqtop's history state (completed, failed, canceled …), the outcome when RQ's hash already expired."""

    @property
    def ended(self) -> bool:
        """The run is over (or the job is gone: nothing more will happen)."""
        return self.status in SUCCEEDED + UNSUCCESSFUL or self.status is None

    @property
    def succeeded(self) -> bool:
        """It finished (or, its hash gone, rqtop's history says completed)."""
        return self.status in SUCCEEDED or (self.status is None and self.history_state == "completed")


def read_job_state(conn: redis.Redis, job_id: str, patterns: Sequence[str] = ()) -> JobState:
    """One round trip: HMGET status and meta of RQ's hash, GET of the progress key, HMGET of the history item."""
    pipe = conn.pipeline(transaction=False)
    pipe.hmget(keys.rq_job(job_id), ["status", "meta"])
    pipe.get(keys.progress(job_id))
    pipe.hmget(keys.history_item(job_id), ["state", "error"])
    (status, meta), raw_progress, (state, error) = pipe.execute()
    text = safe_text(" ".join((decode(error) or "").split()))[:300]
    return JobState(job_id=job_id, status=decode(status), progress=job_progress(raw_progress, meta, patterns),
                    error=mask(text, patterns) or "", history_state=decode(state))
