"""A schedule's active token (``rqtop:active:<name>``), released only by the run that holds it."""

from __future__ import annotations

import redis

from worker import keys

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def release_token(conn: redis.Redis, name: str, job_id: str) -> bool:
    """Delete ``rqtop:active:<name>`` only while it still holds ``job_id`` (atomic compare-and-delete)."""
    return bool(conn.eval(_RELEASE, 1, keys.active(name), job_id))
