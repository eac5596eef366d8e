"""The queues RQ knows, read from its ``rq:queues`` set."""

from __future__ import annotations

import redis

from worker import keys
from worker.records import as_text


def queue_names(conn: redis.Redis) -> list[str]:
    """Names of every queue RQ knows (members of ``rq:queues``), sorted."""
    prefix = keys.rq_queue("")
    names = []
    for raw in conn.smembers(keys.RQ_QUEUES):
        text = as_text(raw)
        if text.startswith(prefix):
            names.append(text[len(prefix) :])
    return sorted(names)
