"""Which RQ statuses each job-level action applies to, and where a state's ids are listed; plain data, no rq
import, so the CLI can build its verbs (and their help) beside an older rq without loading RQ code."""

from __future__ import annotations

APPLIES: dict[str, tuple[str, ...]] = {
    "rerun": ("failed", "stopped", "finished"),
    "replay": ("failed", "stopped"),
    "cancel": ("queued", "scheduled", "deferred"),
    "stop": ("started",),
    "cancel_running": ("started",),
    "retry_now": ("scheduled",),
    "dead_letter": ("queued", "scheduled", "deferred"),
    "dismiss": ("queued", "scheduled", "deferred", "failed", "stopped", "finished", "canceled"),
}
"""The statuses (RQ's ``status`` field) each action applies to; ``replay`` is re-run scoped to the dead letter."""
SOURCES: dict[str, str] = {"queued": "queue", "failed": "failed", "finished": "finished", "scheduled": "scheduled",
                           "deferred": "deferred", "canceled": "canceled", "started": "wip"}
"""Where a state's ids are listed: the pending list or ``rq:<registry>:<queue>``."""
