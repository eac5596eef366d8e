"""Fixtures of the notification tests: a real SMTP server, a real HTTP server, schedule entries."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.notify.servers import Hooks, SmtpServer, started_http
from worker.schedules import ScheduleEntry


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """An SMTP server listening for this test."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hooks() -> Iterator[tuple[Hooks, str]]:
    """An HTTP server recording POSTs, and its base URL."""
    yield from started_http()


@pytest.fixture
def entry() -> Callable[..., ScheduleEntry]:
    """Build a ScheduleEntry with overrides."""

    def make(name: str = "nightly", **overrides: Any) -> ScheduleEntry:
        fields: dict[str, Any] = {"name": name, "task": "tests.jobs.ok", "interval": 3600}
        fields.update(overrides)
        return ScheduleEntry(**fields)

    return make
