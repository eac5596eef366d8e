"""Ground truth for schedules from other schedulers: real ``rqscheduler`` and ``rq cron`` of RQ 2.12 and RQ 3.0.

Each test registers jobs with the scheduler's own code (rq-scheduler's ``cron()``/``schedule()``, an ``rq cron``
config file), runs the real process until it has enqueued, then asserts ``rqtop status --json`` lists every
job with the source, schedule, next run and last run Redis holds, and each scheduler's liveness; a planted
meta pickle that would run code runs nothing and reads as unreadable; Run now queues a copy a plain burst
``rq worker`` of the same RQ then runs, leaving the schedule as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.e2e.procs import ROOT
from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import keys

DEADLINE_S = 25.0


@pytest.fixture(params=["rq2", "rq3"])
def rq_bin(request: pytest.FixtureRequest) -> Path:
    """The bin directory of RQ 2.12 (.venv-rq2) or RQ 3.0 (.venv)."""
    return request.getfixturevalue(f"{request.param}_bin")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes started by a test, terminated (then killed) at its end."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        proc.terminate()
    for proc in started:
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _until(check, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _status(url: str) -> dict:  # type: ignore[type-arg]
    out = subprocess.run([sys.executable, "-m", "tui", "status", "--json", "--url", url], capture_output=True,
                         timeout=60, check=True, env=_env())
    return json.loads(out.stdout)


def _iso(epoch: float) -> str:
    from worker.records import from_epoch
    when = from_epoch(epoch)
    assert when is not None
    return when.isoformat().replace("+00:00", "Z")


REGISTER = """
import sys
from datetime import datetime, timedelta
from redis import Redis
from rq_scheduler import Scheduler
s = Scheduler(connection=Redis.from_url(sys.argv[1]))
s.cron("*/5 * * * *", "tests.jobs.say_hello", args=["cron"], id="rqs-cron", queue_name="default", repeat=10)
s.schedule(datetime.utcnow(), "tests.jobs.say_hello", args=["interval"], interval=600, id="rqs-interval",
           queue_name="default")
s.enqueue_at(datetime.utcnow() + timedelta(days=1), "tests.jobs.say_hello", job_id="rqs-once")
"""

EVIL = b"cos\nsystem\n(S'touch %s'\ntR."
"""A pickle that would run ``touch <path>`` if anything loaded it."""


def test_rq_scheduler_jobs_read_from_a_real_rqscheduler(rq_bin: Path, redis_url: str, conn: redis.Redis,
                                                        spawn: list, tmp_path: Path) -> None:
    python = str(rq_bin / "python")
    subprocess.run([python, "-c", REGISTER, redis_url], check=True, timeout=30, env=_env())
    witness = tmp_path / "ran"
    conn.hset(keys.rq_job("rqs-evil"), mapping={"meta": EVIL % str(witness).encode(), "origin": "default",
                                                "status": "scheduled"})
    conn.zadd(keys.RQ_SCHEDULED_JOBS, {"rqs-evil": time.time() + 7 * 86400})
    spawn.append(subprocess.Popen([str(rq_bin / "rqscheduler"), "--url", redis_url, "-i", "1"], env=_env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    _until(lambda: conn.hget(keys.rq_job("rqs-interval"), "enqueued_at"), "rqscheduler to enqueue the interval job")
    _until(lambda: (conn.zscore(keys.RQ_SCHEDULED_JOBS, "rqs-interval") or 0) > time.time() + 500,
           "rqscheduler to reschedule it")

    document = _status(redis_url)
    rows = {row["name"]: row for row in document["schedules"] if row["source"] == "rq-scheduler"}
    assert set(rows) == {f"rq-scheduler/{i}" for i in ("rqs-cron", "rqs-interval", "rqs-once", "rqs-evil")}
    for job_id in ("rqs-cron", "rqs-interval", "rqs-once"):
        row = rows[f"rq-scheduler/{job_id}"]
        assert row["next_run"] == _iso(conn.zscore(keys.RQ_SCHEDULED_JOBS, job_id)), job_id
        assert (row["task"], row["queue"], row["unreadable"]) == ("tests.jobs.say_hello", "default", False)
        assert (row["paused"], row["pause_allowed"], row["run_now_allowed"]) == (False, False, True)
    cron, interval, once = (rows[f"rq-scheduler/{i}"] for i in ("rqs-cron", "rqs-interval", "rqs-once"))
    assert (cron["cron"], cron["schedule_text"], cron["repeat_left"], cron["last_run"]) == (
        "*/5 * * * *", "Every 5 minutes", 10, None)
    assert (interval["interval_s"], interval["schedule_text"]) == (600, "Every 10 minutes")
    enqueued = conn.hget(keys.rq_job("rqs-interval"), "enqueued_at").decode()
    assert interval["last_run"][:19] == enqueued[:19]
    assert (once["cron"], once["interval_s"], once["schedule_text"]) == (None, None, "Once")
    evil = rows["rq-scheduler/rqs-evil"]
    assert (evil["schedule_text"], evil["unreadable"], evil["run_now_allowed"]) == ("unreadable", True, False)
    assert not witness.exists(), "the planted pickle ran"
    shared = [s for s in document["schedulers"] if s["source"] == "rq-scheduler"]
    assert [(s["alive"], s["jobs"]) for s in shared] == [(True, 4)]

    before = conn.zscore(keys.RQ_SCHEDULED_JOBS, "rqs-interval")
    actions = DashboardActions(conn, Settings(), who="test")
    result = actions.run_now("rq-scheduler/rqs-interval")
    assert result.status == "queued" and result.job_id and result.job_id != "rqs-interval"
    assert actions.pause("rq-scheduler/rqs-interval").ok is False
    spawn[0].terminate()  # the schedule must stay as it was: nothing else moves it meanwhile
    spawn[0].wait(10)
    subprocess.run([str(rq_bin / "rq"), "worker", "--burst", "--url", redis_url, "default"], check=True,
                   timeout=60, env=_env(), capture_output=True)
    assert conn.hget(keys.rq_job(result.job_id), "status") == b"finished"
    assert conn.zscore(keys.RQ_SCHEDULED_JOBS, "rqs-interval") == before
    assert not witness.exists()


CRON_CONFIG = """
from rq import cron
from tests.jobs import say_hello
cron.register(say_hello, queue_name="default", args=("every",), interval=600, name="every-ten")
cron.register(say_hello, queue_name="default", cron="0 6 * * *", name="daily")
"""


def test_rq_cron_jobs_read_from_a_real_rq_cron(rq_bin: Path, redis_url: str, conn: redis.Redis, spawn: list,
                                               tmp_path: Path) -> None:
    config = tmp_path / "cron_config.py"
    config.write_text(CRON_CONFIG)
    spawn.append(subprocess.Popen([str(rq_bin / "rq"), "cron", str(config), "--url", redis_url], env=_env(),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def enqueued() -> bool:
        names = conn.zrange(keys.RQ_CRON_SCHEDULERS, 0, -1)
        raw = conn.hget(keys.rq_cron_scheduler(names[0].decode()), "cron_jobs") if names else None
        return bool(raw) and any(job.get("latest_enqueue_time") for job in json.loads(raw))

    _until(enqueued, "rq cron to enqueue its interval job")
    (name,) = (n.decode() for n in conn.zrange(keys.RQ_CRON_SCHEDULERS, 0, -1))
    truth = {job["name"]: job for job in json.loads(conn.hget(keys.rq_cron_scheduler(name), "cron_jobs"))}

    document = _status(redis_url)
    rows = {row["name"]: row for row in document["schedules"] if row["source"] == "rq cron"}
    assert set(rows) == {f"rq-cron/{name}/every-ten", f"rq-cron/{name}/daily"}
    every, daily = rows[f"rq-cron/{name}/every-ten"], rows[f"rq-cron/{name}/daily"]
    assert (every["interval_s"], every["cron"], every["schedule_text"]) == (600, None, "Every 10 minutes")
    assert (daily["cron"], daily["schedule_text"], daily["last_run"]) == ("0 6 * * *", "At 06:00 UTC", None)
    for row, job in ((every, truth["every-ten"]), (daily, truth["daily"])):
        assert row["next_run"][:19] == job["next_enqueue_time"][:19]
        assert (row["task"], row["queue"], row["scheduler"], row["scheduler_alive"]) == (
            "tests.jobs.say_hello", "default", name, True)
        assert (row["run_now_allowed"], row["pause_allowed"]) == (True, False)
    assert every["last_run"][:19] == truth["every-ten"]["latest_enqueue_time"][:19]
    (process,) = (s for s in document["schedulers"] if s["source"] == "rq cron")
    assert (process["name"], process["alive"], process["jobs"]) == (name, True, 2)

    actions = DashboardActions(conn, Settings(), who="test")
    result = actions.run_now(f"rq-cron/{name}/daily")
    assert result.status == "queued" and result.job_id
    spawn[0].terminate()
    spawn[0].wait(10)
    subprocess.run([str(rq_bin / "rq"), "worker", "--burst", "--url", redis_url, "default"], check=True,
                   timeout=60, env=_env(), capture_output=True)
    assert conn.hget(keys.rq_job(result.job_id), "status") == b"finished"
    assert actions.pause(f"rq-cron/{name}/daily").ok is False
