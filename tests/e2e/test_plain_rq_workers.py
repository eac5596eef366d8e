"""Ground truth: real plain ``rq worker`` / ``rq worker-pool`` processes of RQ 2.12 and RQ 3, and what
``rqtop status --json`` says about them, field by field."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from tests import jobs
from tests.e2e.plain_rq import PlainRq, status_json
from tests.e2e.procs import WorkerPool
from tests.waiting import wait_for
from worker import keys

ENDED = (b"finished", b"failed")


@pytest.fixture(params=["rq2", "rq3"])
def line(request: pytest.FixtureRequest, redis_url: str, pool: WorkerPool) -> PlainRq:
    """One RQ line: 2.12 from .venv-rq2, 3.x from the test virtualenv."""
    bin_dir: Path = request.getfixturevalue(f"{request.param}_bin")
    return PlainRq(bin_dir, redis_url, pool)


def ended(conn: redis.Redis, *job_ids: str) -> bool:
    """Every job's RQ status is finished or failed."""
    return all(conn.hget(keys.rq_job(j), "status") in ENDED for j in job_ids)


def row(doc: dict[str, Any], section: str, name: str) -> dict[str, Any]:
    """The row called ``name`` of one section of a status document."""
    found = [r for r in doc[section] if r["name"] == name]
    assert len(found) == 1, (name, doc[section])
    return found[0]


def epoch(text: str) -> float:
    """A status document's ISO timestamp as an epoch."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_busy_plain_worker_shows_its_job_elapsed_state_and_rqs_counts(conn: redis.Redis, line: PlainRq) -> None:
    """Current job and elapsed from RQ 2's ``current_job`` or RQ 3's executions; RQ's state; RQ's counters."""
    version = line.version
    worker = line.worker("busy", "gt")
    ran = [line.enqueue("recorded_ok", queue="gt"), line.enqueue("recorded_ok", queue="gt"),
           line.enqueue("recorded_boom", queue="gt")]
    wait_for(lambda: ended(conn, *ran), 20, "three jobs to end")
    release = f"gt:release:{uuid.uuid4().hex}"
    held = line.enqueue("hold", release, queue="gt")
    wait_for(lambda: held in jobs.starts(conn) and conn.hget(keys.rq_worker(worker.name), "state") == b"busy",
             15, "the held job to start")

    doc = status_json(line.url)
    busy = row(doc, "workers", worker.name)
    began = jobs.starts(conn)[held][0][1]
    assert (busy["mode"], busy["version"], busy["status"], busy["state"]) == ("rq", version, "online", "busy")
    assert (busy["current_job"], busy["current_job_id"], busy["queues"]) == ("tests.jobs.hold", held, ["gt"])
    assert abs(busy["current_elapsed_s"] - (epoch(doc["taken_at"]) - began)) < 1.0, busy
    assert (busy["processed"], busy["failed"], busy["attempts"], busy["attempts_failed"]) == (2, 1, None, None)
    assert busy["pid"] == worker.pid and busy["uptime_s"] is not None
    gt = row(doc, "queues", "gt")
    assert (gt["pending"], gt["active"], gt["completed"], gt["failed"]) == (0, 1, 2, 1)

    conn.set(release, 1)
    wait_for(lambda: ended(conn, held) and conn.hget(keys.rq_worker(worker.name), "state") == b"idle", 15,
             "the held job to end")
    idle = row(status_json(line.url), "workers", worker.name)
    assert (idle["state"], idle["current_job"], idle["current_job_id"], idle["current_elapsed_s"]) == (
        "idle", None, None, None)
    assert (idle["processed"], idle["failed"], idle["status"]) == (3, 1, "online")
