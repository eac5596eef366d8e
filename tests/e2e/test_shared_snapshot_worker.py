"""A real `rqtop worker --mode scheduler` shares the dashboard snapshot: a dashboard reading it shows the same tabs
(the same Snapshot) as one reading Redis itself, names the publisher, and reads directly again, saying so, once
the publisher is killed and its snapshot goes stale."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import signal
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from rq import Queue

from tests import jobs
from tests.e2e.plain_rq import PlainRq
from tests.e2e.procs import WorkerPool
from tests.waiting import wait_for
from tui.data.models import Snapshot
from tui.data.queue_reads import QueueReads
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.data.shared_snapshot import NO_SNAPSHOT, TTL_INTERVALS, SharedSnapshotReader, publisher_label
from tui.data.status_document import status_document
from tui.data.worker_reads import WorkerReads
from worker import keys

SCHEDULES = """
[[schedule]]
name = "nightly"
task = "tests.jobs.say_hello"
description = "Say hello once a day"
cron = "0 3 * * *"
"""
INTERVAL_S = 2.0


def _as_tabs_show(snapshot: Snapshot) -> Snapshot:
    """The snapshot less what depends on who read it: its round trips, its source, each queue row's read time (the
    publisher reads as a Background Jobs tab does: queues only when new, nothing here changes them after the jobs
    ran) and the ages computed from the clock, which the envelope carries to the microsecond only (``_clock_ages``
    compares those to 1 ms)."""
    return dataclasses.replace(
        snapshot, round_trips=0, read_source=None, totals=dataclasses.replace(snapshot.totals, as_of_s=None),
        queues=tuple(dataclasses.replace(q, oldest_pending_age_s=None, read_at=None) for q in snapshot.queues))


def _clock_ages(snapshot: Snapshot) -> list[float | None]:
    """Every age a row computes from the reader's clock, in row order."""
    return [q.oldest_pending_age_s for q in snapshot.queues]


def _as_the_jobs_tab(reader: DashboardReader) -> Snapshot:
    """A direct read as the Background Jobs tab (what the shared snapshot stands in for) asks for it."""
    return reader.read(workers=WorkerReads.off_screen(INTERVAL_S), queues=QueueReads.off_screen(INTERVAL_S))


def _same_ages(shared: Snapshot, direct: Snapshot) -> bool:
    """The clock-derived ages agree to a millisecond (both None, or both numbers that close)."""
    pairs = list(zip(_clock_ages(shared), _clock_ages(direct), strict=True))
    return all((a is None) == (b is None) and (a is None or b is None or math.isclose(a, b, abs_tol=1e-3))
               for a, b in pairs)


def _read_from(reader: SharedSnapshotReader, kind: str) -> Snapshot | None:
    """One dashboard refresh when it came from ``kind`` ("shared" or "direct"), else None (to poll on)."""
    snapshot = reader.read()
    return snapshot if snapshot.read_source is not None and snapshot.read_source.kind == kind else None


def _frozen_at(at: float) -> Callable[[], float]:
    """A clock stopped at ``at`` (the direct read sees the instant the publisher read)."""
    return lambda: at


def _freeze(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _shared_and_direct(conn: redis.Redis, dashboard: SharedSnapshotReader, settings: Settings,
                       *pids: int) -> tuple[Snapshot, Snapshot]:
    """A shared snapshot and a direct Background Jobs read at its instant that show the same tabs, with their
    clock ages within 1 ms: the processes ``pids`` (the runner, the publisher) are stopped between the two reads
    so the world stands still; a beat that landed between the publisher's read and ours means taking the next
    snapshot (up to 10 tries)."""
    for _ in range(10):
        for pid in pids:
            _freeze(pid, signal.SIGSTOP)
        try:
            shared = dashboard.read()
            assert shared.read_source is not None and shared.read_source.kind == "shared", shared.read_source
            direct = _as_the_jobs_tab(DashboardReader(conn, dataclasses.replace(
                settings, clock=_frozen_at(shared.taken_at.timestamp()))))
            if _as_tabs_show(shared) == _as_tabs_show(direct):
                break
        finally:
            for pid in reversed(pids):
                _freeze(pid, signal.SIGCONT)
        wait_for(lambda seen=shared.taken_at: dashboard.read().taken_at != seen, 3 * INTERVAL_S, "the next snapshot",
                 interval=0.1)
    else:
        raise AssertionError(f"shared and direct differ:\n{_as_tabs_show(shared)}\n{_as_tabs_show(direct)}")
    assert _same_ages(shared, direct), (_clock_ages(shared), _clock_ages(direct))
    return shared, direct


def test_the_shared_snapshot_shows_what_a_direct_read_shows_and_falls_back(
        conn: redis.Redis, pool: WorkerPool, tmp_path: Path) -> None:
    schedules = tmp_path / "schedules.toml"
    schedules.write_text(SCHEDULES)
    runner = pool.rqtop("jobs")
    done = [Queue("default", connection=conn).enqueue(jobs.say_hello, str(i)).id for i in range(3)]
    failed = Queue("default", connection=conn).enqueue(jobs.boom).id
    wait_for(lambda: all(conn.hget(keys.rq_job(j), "status") == b"finished" for j in done)
             and conn.hget(keys.rq_job(failed), "status") == b"failed", 30, "the jobs to run")
    publisher = pool.scheduler("publisher", schedules, "--snapshot-interval", str(INTERVAL_S))
    settings = Settings()  # the publisher's read settings: no config file, no RQTOP_* variables
    dashboard = SharedSnapshotReader(DashboardReader(conn, settings))
    label = publisher_label(publisher.name, socket.gethostname())
    first = wait_for(lambda: (s := _read_from(dashboard, "shared")) and s.read_source is not None
                     and s.read_source.publisher == label and s.schedules and s, 30,
                     "a shared snapshot by the publisher, its schedules registered",
                     interval=0.2)
    assert first.workers == () and first.workers_as_of is not None, (
        "the snapshot carries no worker: it serves the tabs that show none (the Workers tab reads its own)")
    assert {h.id for h in first.history} >= {*done, failed} and first.schedules[0].name == "nightly"
    assert first.metrics and first.round_trips == 1

    shared, direct = _shared_and_direct(conn, dashboard, settings, runner.pid, publisher.pid)
    assert status_document(_as_tabs_show(shared))["queues"] == status_document(_as_tabs_show(direct))["queues"]
    assert shared.history and shared.queues

    publisher.kill_hard()
    killed = time.monotonic()
    assert _read_from(dashboard, "shared"), "the last snapshot stays in use while it is fresh"
    fallback = wait_for(lambda: _read_from(dashboard, "direct"), TTL_INTERVALS * INTERVAL_S + 5,
                        "the dashboard to read directly", interval=0.2)
    assert time.monotonic() - killed <= TTL_INTERVALS * INTERVAL_S + 1
    assert fallback.read_source is not None
    assert fallback.read_source.reason == NO_SNAPSHOT or "stale" in (fallback.read_source.reason or "")
    assert {h.id for h in fallback.history} >= {*done, failed}
    assert _as_tabs_show(fallback).queues == _as_tabs_show(shared).queues, "the same counts, read directly"
    assert fallback.history == shared.history and fallback.totals.as_of_s is None, "every row re-read"
    assert fallback.round_trips == direct.round_trips + 1, "one GETRANGE, then the direct read"
    wait_for(lambda: conn.exists(dashboard.key) == 0, INTERVAL_S * TTL_INTERVALS, "the abandoned snapshot to vanish")


@pytest.fixture(params=["rq2", "rq3"])
def line(request: pytest.FixtureRequest, redis_url: str, pool: WorkerPool) -> PlainRq:
    """One RQ line: 2.12 from .venv-rq2, 3.x from the test virtualenv."""
    return PlainRq(request.getfixturevalue(f"{request.param}_bin"), redis_url, pool)


def test_a_plain_rq_deployments_shared_snapshot_shows_what_a_direct_read_shows(
        conn: redis.Redis, pool: WorkerPool, line: PlainRq, tmp_path: Path) -> None:
    """The jobs run by a plain ``rq worker`` of RQ 2.12 or 3.0 (their hashes, registries and results as that line
    writes them), only the publisher is rqtop's: the shared snapshot still equals a direct read at its instant, and
    the dashboard reads directly once the publisher is gone."""
    schedules = tmp_path / "schedules.toml"
    schedules.write_text(SCHEDULES)
    runner = line.worker("shared")
    done = [line.enqueue("say_hello", str(i)) for i in range(3)]
    failed = line.enqueue("boom")
    wait_for(lambda: all(conn.hget(keys.rq_job(j), "status") == b"finished" for j in done)
             and conn.hget(keys.rq_job(failed), "status") == b"failed", 30, "the plain worker to run the jobs")
    publisher = pool.scheduler("publisher", schedules, "--snapshot-interval", str(INTERVAL_S))
    settings = Settings()
    dashboard = SharedSnapshotReader(DashboardReader(conn, settings))
    wait_for(lambda: (s := _read_from(dashboard, "shared")) and s.schedules and s, 30,
             "a shared snapshot with the schedules registered", interval=0.2)
    shared, _ = _shared_and_direct(conn, dashboard, settings, runner.pid, publisher.pid)
    assert {h.id for h in shared.history} >= {*done, failed}, "the plain worker's runs, as RQ's registries hold them"
    states = {h.id: h.state for h in shared.history}
    assert [states[j] for j in done] == ["completed"] * 3 and states[failed] == "failed"
    default = next(q for q in shared.queues if q.name == "default")
    assert (default.completed, default.failed, default.pending) == (3, 1, 0)

    publisher.kill_hard()
    fallback = wait_for(lambda: _read_from(dashboard, "direct"), TTL_INTERVALS * INTERVAL_S + 5,
                        "the dashboard to read directly", interval=0.2)
    assert _as_tabs_show(fallback).queues == _as_tabs_show(shared).queues
    assert {h.id for h in fallback.history} == {h.id for h in shared.history}
