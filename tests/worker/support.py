"""Helpers shared by the worker tests: due templates and bytes replies."""

from __future__ import annotations

import redis

from worker import keys


def make_due(conn: redis.Redis, name: str) -> None:
    """Move a registered schedule's template into the past so the next tick handles it."""
    assert conn.zadd(keys.RQ_SCHEDULED_JOBS, {keys.template_id(name): 1}, xx=True, ch=True) == 1


def text(value: bytes | None) -> str | None:
    """Decode a bytes reply."""
    return value.decode() if value is not None else None
