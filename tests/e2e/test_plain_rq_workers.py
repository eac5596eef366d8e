"""Ground truth: real plain ``rq worker`` / ``rq worker-pool`` processes of RQ 2.12 and RQ 3, and what
``rqtop status --json`` says about them, field by field."""

from __future__ import annotations

import time
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


def test_counts_match_rq_expired_retry_scheduled_deferred(conn: redis.Redis, line: PlainRq) -> None:
    """Finished entries whose job expired are not counted; a Retry(interval) apart from enqueue_in; deferred."""
    worker = line.worker("counts", "cnt")
    short = line.enqueue("recorded_ok", queue="cnt", result_ttl=1)
    kept = line.enqueue("recorded_ok", queue="cnt")
    boom = line.enqueue("recorded_boom", queue="cnt")
    retried = line.enqueue("recorded_boom", queue="cnt", retry={"max": 2, "interval": 300})
    wait_for(lambda: ended(conn, kept, boom) and conn.hget(keys.rq_job(retried), "status") == b"scheduled",
             20, "the jobs to run and the retry to be scheduled")
    later = line.enqueue("recorded_ok", queue="cnt", in_s=3600)
    line.enqueue("recorded_ok", queue="cnt", depends_on=later)
    wait_for(lambda: not conn.exists(keys.rq_job(short)), 10, "the short result to expire")
    assert conn.zcard(keys.rq_registry("finished", "cnt")) == 2, "RQ keeps the expired entry until it cleans"

    doc = status_json(line.url)
    cnt = row(doc, "queues", "cnt")
    assert {k: cnt[k] for k in ("pending", "active", "completed", "failed", "retry", "scheduled", "deferred",
                                "canceled", "abandoned", "retry_unknown")} == dict(
        pending=0, active=0, completed=1, failed=1, retry=1, scheduled=1, deferred=1, canceled=0, abandoned=0,
        retry_unknown=0)
    assert (doc["totals"]["completed"], doc["totals"]["retry"]) == (1, 1)
    assert row(doc, "workers", worker.name)["processed"] == 2


def test_killed_plain_worker_turns_late_then_gone_and_its_job_abandoned(
    conn: redis.Redis, line: PlainRq, redis_url: str
) -> None:
    """kill -9 mid-job: late once the beat RQ scheduled is missed; when its hash expires and its started entry
    passes its deadline (both hastened here: they take ~60 s more), gone to a reader that saw it, absent from
    a fresh one, and its job abandoned, not active."""
    from tui.data.reader import DashboardReader
    from tui.data.settings import Settings

    worker = line.worker("doomed", "kq")
    held = line.enqueue("hold", f"kq:never:{uuid.uuid4().hex}", queue="kq")
    wait_for(lambda: held in jobs.starts(conn) and conn.hget(keys.rq_worker(worker.name), "state") == b"busy",
             15, "the held job to start")
    reader = DashboardReader(conn, Settings())
    assert [w.status for w in reader.read().workers if w.name == worker.name] == ["online"]
    worker.kill_hard()
    late = wait_for(lambda: (r := row(status_json(redis_url), "workers", worker.name))["status"] == "late" and r,
                    20, "the worker to be late")
    assert (late["current_job_id"], late["state"]) == (held, "busy")
    assert row(status_json(redis_url), "queues", "kq")["active"] == 1, "its entry has not passed its deadline yet"
    assert [w.status for w in reader.read().workers if w.name == worker.name] == ["late"]

    conn.pexpire(keys.rq_worker(worker.name), 1)  # what 60 s more would do
    members = conn.zrange(keys.rq_registry("wip", "kq"), 0, -1)
    conn.zadd(keys.rq_registry("wip", "kq"), {m: time.time() - 1 for m in members}, xx=True)
    wait_for(lambda: not conn.exists(keys.rq_worker(worker.name)), 5, "the hash to expire")
    assert conn.sismember(keys.RQ_WORKERS, keys.rq_worker(worker.name)), "RQ leaves the name behind"
    gone = [w for w in reader.read().workers if w.name == worker.name]
    assert [(w.status, w.current_job) for w in gone] == [("gone", None)]
    doc = status_json(redis_url)
    assert worker.name not in {w["name"] for w in doc["workers"]}
    kq = row(doc, "queues", "kq")
    assert (kq["active"], kq["abandoned"], doc["totals"]["abandoned"], doc["totals"]["active"]) == (0, 1, 1, 0)
    assert_read_only(conn, redis_url, doc)


def assert_read_only(conn: redis.Redis, redis_url: str, doc: dict[str, Any]) -> None:
    """Nothing writes any more: a refresh sends zero write commands (INFO commandstats), and an ACL user that
    may only read gets the same document."""
    from tests.cli_support import with_user
    from tests.redis_commands import WRITE_COMMANDS, command_calls
    from tui.data.reader import DashboardReader
    from tui.data.settings import Settings

    before = command_calls(conn)
    DashboardReader(conn, Settings()).read()
    after = command_calls(conn)
    assert {c: n - before.get(c, 0) for c, n in after.items() if c in WRITE_COMMANDS and n != before.get(c, 0)} == {}
    user = f"plain_reader_{uuid.uuid4().hex[:6]}"
    conn.execute_command("ACL", "SETUSER", user, "reset", "on", ">pw", "~*", "&*", "+@read", "+@connection",
                         "+select", "+info", "+ping", "+client")
    try:
        as_reader = status_json(with_user(redis_url, user, "pw"))
    finally:
        conn.execute_command("ACL", "DELUSER", user)
    assert {**as_reader, "taken_at": None, "metrics_taken_at": None} == {**doc, "taken_at": None,
                                                                          "metrics_taken_at": None}


def test_rq_key_prefix_deployment_read_with_the_flag_or_env_and_hinted_without(
    conn: redis.Redis, rq3_bin: Path, redis_url: str, pool: WorkerPool
) -> None:
    """RQ 3 under RQ_KEY_PREFIX=acme: without the prefix rqtop hints at it; with --key-prefix or the env it
    reads the worker and counts exactly as under rq:."""
    line = PlainRq(rq3_bin, redis_url, pool, env={"RQ_KEY_PREFIX": "acme"})
    worker = line.worker("prefixed", "pq")
    done = line.enqueue("recorded_ok", queue="pq")
    wait_for(lambda: conn.hget(f"acme:job:{done}", "status") == b"finished", 20, "the prefixed job to run")
    assert not conn.exists(keys.rq_job(done)) and conn.exists("acme:queues")

    bare = status_json(redis_url)
    assert (bare["queues"], bare["workers"], bare["key_prefix"], bare["other_key_prefixes"]) == ([], [], "rq",
                                                                                                ["acme"])
    for doc in (status_json(redis_url, "--key-prefix", "acme"), status_json(redis_url, env={"RQ_KEY_PREFIX": "acme"})):
        assert (doc["key_prefix"], doc["other_key_prefixes"]) == ("acme", [])
        pq = row(doc, "queues", "pq")
        assert (pq["completed"], pq["pending"], pq["active"]) == (1, 0, 0)
        plain = row(doc, "workers", worker.name)
        assert (plain["status"], plain["state"], plain["processed"], plain["queues"]) == ("online", "idle", 1, ["pq"])


def test_worker_pool_members_show_with_rqs_counts(conn: redis.Redis, line: PlainRq) -> None:
    """``rq worker-pool -n 2``: two plain workers whose processed counts add up to the jobs that ran."""
    line.worker_pool("pool", "wp", num=2)
    ran = [line.enqueue("recorded_ok", queue="wp") for _ in range(4)]
    wait_for(lambda: ended(conn, *ran), 30, "the pool to run four jobs")
    members = wait_for(lambda: len(w := [r for r in status_json(line.url)["workers"] if r["queues"] == ["wp"]]) == 2
                       and w, 15, "both pool workers to show")
    assert {(w["mode"], w["status"], w["state"]) for w in members} == {("rq", "online", "idle")}
    assert sum(w["processed"] for w in members) == 4 and sum(w["failed"] for w in members) == 0
    assert all(w["current_job"] is None for w in members)


def test_json_serializer_worker_shows_its_running_job(conn: redis.Redis, line: PlainRq) -> None:
    """``rq worker --serializer rq.serializers.JSONSerializer``: the running job's name read from JSON data."""
    worker = line.worker("json", "jq", extra=("--serializer", "rq.serializers.JSONSerializer"))
    release = f"jq:release:{uuid.uuid4().hex}"
    held = line.enqueue("hold", release, queue="jq", json=True)
    wait_for(lambda: held in jobs.starts(conn), 15, "the JSON job to start")
    busy = row(status_json(line.url), "workers", worker.name)
    assert (busy["current_job"], busy["current_job_id"], busy["state"], busy["unreadable"]) == (
        "tests.jobs.hold", held, "busy", False)
    conn.set(release, 1)
    wait_for(lambda: ended(conn, held), 15, "the JSON job to end")
    assert row(status_json(line.url), "workers", worker.name)["processed"] == 1


def test_with_scheduler_moves_enqueue_in_and_retries_back_and_the_counts_follow(conn: redis.Redis,
                                                                                 line: PlainRq) -> None:
    """``rq worker --with-scheduler``: an ``enqueue_in`` job and a ``Retry(interval)`` wait as scheduled and
    retry apart; once RQ's own scheduler moves them back they run, and the counts say so."""
    retried = line.enqueue("recorded_boom", queue="ws", retry={"max": 1, "interval": 8})
    line.worker("sched", "ws", extra=("--with-scheduler",))
    wait_for(lambda: conn.hget(keys.rq_job(retried), "status") == b"scheduled", 20, "the first attempt to fail")
    waiting = line.enqueue("recorded_ok", queue="ws", in_s=6)
    ws = row(status_json(line.url), "queues", "ws")
    assert (ws["scheduled"], ws["retry"], ws["retry_unknown"], ws["failed"], ws["completed"]) == (1, 1, 0, 0, 0)

    wait_for(lambda: ended(conn, waiting, retried), 40, "RQ's scheduler to run both again")
    assert conn.hget(keys.rq_job(retried), "status") == b"failed", "one retry, then dead"
    doc = status_json(line.url)
    ws = row(doc, "queues", "ws")
    assert (ws["scheduled"], ws["retry"], ws["pending"], ws["failed"], ws["completed"]) == (0, 0, 0, 1, 1)
    plain = [w for w in doc["workers"] if w["queues"] == ["ws"]]
    assert [(w["processed"], w["failed"]) for w in plain] == [(1, 2)], "RQ counts each failed attempt"


def test_rq_worker_with_rqtops_worker_class_records_history_and_metrics(conn: redis.Redis, rq3_bin: Path,
                                                                         redis_url: str, pool: WorkerPool) -> None:
    """``rq worker -w worker.rqtop_worker.RqtopWorker`` (RQ 3): plain ``rq worker`` command line, rqtop's records:
    history from rqtop with no registry note, and exact metrics rows."""
    line = PlainRq(rq3_bin, redis_url, pool)
    line.worker("classed", "cw", extra=("-w", "worker.rqtop_worker.RqtopWorker"))
    ran = [line.enqueue("sleep_then", 0.01, queue="cw"), line.enqueue("sleep_then", 0.01, queue="cw"),
           line.enqueue("sleep_then", 0.01, True, queue="cw")]
    wait_for(lambda: ended(conn, *ran), 20, "three jobs to end")
    doc = wait_for(lambda: len((d := status_json(redis_url))["history"]) == 3 and d, 10, "three history rows")
    assert (doc["history_source"], doc["history_note"], doc["metrics_note"]) == ("rqtop", None, None)
    assert {h["id"]: h["state"] for h in doc["history"]} == {ran[0]: "completed", ran[1]: "completed",
                                                             ran[2]: "failed"}
    [metric] = doc["metrics"]
    assert (metric["task"], metric["runs"], metric["failures"]) == ("tests.jobs.sleep_then", 3, 1)
    [worker] = [w for w in doc["workers"] if w["queues"] == ["cw"]]
    assert (worker["processed"], worker["failed"]) == (2, 1)
