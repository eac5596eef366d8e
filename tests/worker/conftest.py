"""Fixtures of the worker tests: schedule entries running a test job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from worker.schedules import ScheduleEntry


@pytest.fixture
def entry() -> Callable[..., ScheduleEntry]:
    """Build a ScheduleEntry running a test job, with overrides."""

    def make(name: str = "nightly", **overrides: Any) -> ScheduleEntry:
        fields: dict[str, Any] = {"name": name, "task": "tests.jobs.ok", "interval": 60, "priority": "normal"}
        fields.update(overrides)
        return ScheduleEntry(**fields)

    return make
