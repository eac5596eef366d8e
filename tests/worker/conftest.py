"""Helpers shared by the worker tests: schedule entries and due templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis

from worker import keys
from worker.schedules import ScheduleEntry


@pytest.fixture
def entry() -> Callable[..., ScheduleEntry]:
    """Build a ScheduleEntry running a test job, with overrides."""

    def make(name: str = "nightly", **overrides: Any) -> ScheduleEntry:
        fields: dict[str, Any] = {"name": name, "task": "tests.worker.jobs.ok", "interval": 60, "priority": "normal"}
        fields.update(overrides)
        return ScheduleEntry(**fields)

    return make


def make_due(conn: redis.Redis, name: str) -> None:
    """Move a registered schedule's template into the past so the next tick handles it."""
    assert conn.zadd(keys.RQ_SCHEDULED_JOBS, {keys.template_id(name): 1}, xx=True, ch=True) == 1


def text(value: bytes | None) -> str | None:
    """Decode a bytes reply."""
    return value.decode() if value is not None else None
