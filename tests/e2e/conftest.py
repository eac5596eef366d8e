"""Fixtures of the end-to-end tests: worker processes that are always killed, and a short offline threshold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.procs import OFFLINE_AFTER_S, WorkerPool
from tui.data.settings import Settings


@pytest.fixture
def pool(redis_url: str, tmp_path: Path) -> Iterator[WorkerPool]:
    """Worker processes on the test's database; every one still running is killed with its horses afterwards."""
    workers = WorkerPool(redis_url, tmp_path)
    try:
        yield workers
    finally:
        workers.close()


@pytest.fixture
def settings() -> Settings:
    """Dashboard settings with a 3 s offline threshold."""
    return Settings(offline_after_s=OFFLINE_AFTER_S)
