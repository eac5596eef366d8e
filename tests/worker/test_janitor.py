"""The janitor on planted old jobs, dead workers and stale tokens: exact counts per step, templates kept."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import zlib
from base64 import b64decode

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.utils import now, utcformat

from tests.rq_support import iso_ago, plant_running, snapshot
from tui.data.actions import DashboardActions
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from worker import audit, janitor, keys
from worker.plans import JanitorPlan

DAY = 86400.0
EXPECTED = {
    "fail_abandoned": 1, "fail_stuck_active": 1, "cancel_old_pending": 4, "delete_old_completed": 3,
    "delete_old_failed": 1, "delete_old_canceled": 1, "reap_dead_workers": 2, "expire_tokens": 2,
    "trim_metric_tasks": 0, "reconcile_history": 0,
}


def _finished(conn: redis.Redis, queue: Queue, ago: float, job_id: str | None = None) -> str:
    """A job run to completion whose ended_at is ``ago`` seconds in the past."""
    job = queue.enqueue("tests.jobs.recorded_ok", job_id=job_id, result_ttl=-1)
    SimpleWorker([queue], connection=conn).work(burst=True)
    conn.hset(keys.rq_job(job.id), "ended_at", iso_ago(ago))
    return job.id


def plant(conn: redis.Redis) -> dict[str, object]:
    """One instance of every case, each just inside or outside its threshold."""
    queue = Queue("default", connection=conn)
    ids: dict[str, object] = {}
    # Stuck executions: only the old one on a gone worker qualifies.
    ids["stuck"], _ = plant_running(conn, "dead-w", started_at=time.time() - 2000)
    ids["live_long"], _ = plant_running(conn, "live-w", started_at=time.time() - 2000)
    conn.hset(keys.rq_worker("live-w"), mapping={"last_heartbeat": utcformat(now()), "hostname": "elsewhere"})
    plant_running(conn, "dead-w2", started_at=time.time() - 10)
    # Completed: two old, one orphan registry entry, one young, two templates (never deleted).
    ids["old_done"] = [_finished(conn, queue, 2 * 3600) for _ in range(2)]
    ids["young_done"] = _finished(conn, queue, 10)
    ids["template"] = _finished(conn, queue, 2 * DAY, job_id=keys.template_id("nightly"))
    ids["rqs_template"] = _finished(conn, queue, 2 * DAY, job_id="classic-rq-scheduler-job")
    conn.zadd(keys.RQ_SCHEDULED_JOBS, {ids["template"]: time.time() + 60, ids["rqs_template"]: time.time() + 60})
    conn.zadd("rq:finished:default", {"vanished": time.time() + 100})
    # Failed: one 8 days old, one recent.
    failed = [queue.enqueue("tests.jobs.recorded_boom", failure_ttl=30 * 86400) for _ in range(2)]
    SimpleWorker([queue], connection=conn).work(burst=True)
    conn.hset(keys.rq_job(failed[0].id), "ended_at", iso_ago(8 * DAY))
    ids["old_failed"], ids["young_failed"] = failed[0].id, failed[1].id
    # Canceled: one 8 days ago, one now.
    canceled = [queue.enqueue("tests.jobs.recorded_ok") for _ in range(2)]
    for job in canceled:
        job.cancel()
    conn.zadd("rq:canceled:default", {canceled[0].id: time.time() - 8 * DAY})
    ids["old_canceled"], ids["young_canceled"] = canceled[0].id, canceled[1].id
    # Pending: the old head run (with an orphan id) is canceled; the old job behind a young one is not reached.
    pending = [queue.enqueue("tests.jobs.recorded_ok") for _ in range(2)]
    conn.rpush("rq:queue:default", "ghost-id")
    pending += [queue.enqueue("tests.jobs.recorded_ok") for _ in range(4)]
    for index in (0, 1, 2, 4):
        conn.hset(keys.rq_job(pending[index].id), "enqueued_at", iso_ago(2 * 3600))
    ids["old_pending"] = [pending[0].id, pending[1].id, pending[2].id]
    ids["kept_pending"] = [job.id for job in pending[3:]]
    # Workers.
    conn.zadd(keys.WORKERS, {"gone-old": time.time() - 1000, "gone-recent": time.time() - 10,
                             "alive-old": time.time() - 1000})
    for name in ("gone-old", "gone-recent", "alive-old"):
        conn.hset(keys.worker(name), mapping={"name": name, "hostname": "h"})
    conn.hset(keys.rq_worker("alive-old"), mapping={"last_heartbeat": utcformat(now())})
    conn.sadd(keys.RQ_WORKERS, keys.rq_worker("expired"), keys.rq_worker("alive-old"))
    conn.sadd("rq:workers:default", keys.rq_worker("expired"))
    # Tokens: ended, gone long ago -> released; pending, gone just now -> kept.
    for name, status in (("s_done", "finished"), ("s_gone", None), ("s_pending", "queued"), ("s_fresh", None)):
        job_id = keys.run_id(name, "abc")
        conn.hset(keys.SCHEDULES, name, "{}")
        conn.set(keys.active(name), job_id)
        conn.hset(keys.sched_state(name), mapping={
            "last_job_id": job_id, "last_run": time.time() - (10 if name == "s_fresh" else 1000)})
        if status:
            conn.hset(keys.rq_job(job_id), mapping={"status": status, "origin": "elsewhere"})
    # Abandoned: a young execution past its heartbeat deadline on a gone worker (planted after the workers above
    # ran, whose own registry cleanup would fail it).
    ids["abandoned"], execution_id = plant_running(conn, "dead-w3", started_at=time.time() - 10)
    conn.zadd("rq:wip:default", {f"{ids['abandoned']}:{execution_id}": time.time() - 1})
    return ids


def test_janitor_plan_is_read_only_and_exact_then_execute_acts_on_it(conn: redis.Redis) -> None:
    ids = plant(conn)
    settings = janitor.JanitorSettings()
    before = snapshot(conn)
    plan = janitor.plan(conn, settings)
    assert snapshot(conn) == before
    assert {step.name: step.total for step in plan.steps} == EXPECTED
    steps = {step.name: set(step.ids) for step in plan.steps}
    assert steps["delete_old_completed"] == {f"default:{i}" for i in [*ids["old_done"], "vanished"]}
    assert steps["cancel_old_pending"] == {f"default:{i}" for i in [*ids["old_pending"][:2], "ghost-id",
                                                                       ids["old_pending"][2]]}
    assert steps["reap_dead_workers"] == {"gone-old", "expired"}
    assert steps["expire_tokens"] == {keys.active("s_done"), keys.active("s_gone")}

    counts = janitor.execute(conn, plan, settings)

    assert counts == EXPECTED
    assert conn.hget(keys.rq_job(ids["stuck"]), "status") == b"failed"
    assert conn.hget(keys.rq_job(ids["abandoned"]), "status") == b"failed"
    assert conn.hget(keys.rq_job(ids["live_long"]), "status") == b"started"
    for job_id in ids["old_done"]:
        assert not conn.exists(keys.rq_job(job_id)) and conn.zscore("rq:finished:default", job_id) is None
    for key in ("template", "rqs_template", "young_done"):
        assert conn.hget(keys.rq_job(ids[key]), "status") == b"finished", key
    assert not conn.exists(keys.rq_job(ids["old_failed"])) and conn.exists(keys.rq_job(ids["young_failed"]))
    assert not conn.exists(keys.rq_job(ids["old_canceled"])) and conn.exists(keys.rq_job(ids["young_canceled"]))
    assert [raw.decode() for raw in conn.lrange("rq:queue:default", 0, -1)] == ids["kept_pending"]
    assert all(conn.hget(keys.rq_job(i), "status") == b"canceled" for i in ids["old_pending"])
    assert conn.zrange(keys.WORKERS, 0, -1) == [b"alive-old", b"gone-recent"]
    assert not conn.exists(keys.worker("gone-old")) and conn.exists(keys.worker("gone-recent"))
    assert conn.smembers(keys.RQ_WORKERS) == {keys.rq_worker("alive-old").encode()}
    assert conn.smembers("rq:workers:default") == set()
    assert [name for name in ("s_done", "s_gone", "s_pending", "s_fresh") if conn.exists(keys.active(name))] == [
        "s_pending", "s_fresh"]
    last = conn.hgetall(keys.JANITOR_LAST)
    assert float(last[b"at"]) > 0 and int(last[b"cancel_old_pending"]) == 4
    assert janitor.plan(conn, settings).total == 0


def test_execute_rechecks_every_id(conn: redis.Redis) -> None:
    ids = plant(conn)
    settings = janitor.JanitorSettings()
    plan = janitor.plan(conn, settings)
    queue = Queue("default", connection=conn)
    conn.hset(keys.rq_job(ids["old_done"][0]), "ended_at", utcformat(now()))  # no longer old
    conn.hset(keys.rq_worker("dead-w"), mapping={"last_heartbeat": utcformat(now()), "hostname": "elsewhere"})
    conn.lpush("rq:queue:default", queue.enqueue("tests.jobs.recorded_ok").id)  # pushed in front
    conn.set(keys.active("s_gone"), keys.run_id("s_gone", "newer"))  # a new run took the token
    conn.hset(keys.rq_job(keys.run_id("s_gone", "newer")), mapping={"status": "queued"})
    conn.hset(keys.rq_worker("gone-old"), "last_heartbeat", utcformat(now()))  # came back

    counts = janitor.execute(conn, plan, settings)

    assert counts["delete_old_completed"] == 2 and conn.exists(keys.rq_job(ids["old_done"][0]))
    assert counts["fail_stuck_active"] == 0
    assert conn.hget(keys.rq_job(ids["stuck"]), "status") == b"started"
    assert counts["cancel_old_pending"] == 0
    assert counts["expire_tokens"] == 1 and conn.exists(keys.active("s_gone"))
    assert counts["reap_dead_workers"] == 1 and conn.zscore(keys.WORKERS, "gone-old") is not None


def test_janitor_job_and_dashboard_run_are_audited(conn: redis.Redis) -> None:
    plant(conn)
    queue = Queue("high", connection=conn)
    job = queue.enqueue(janitor.run_janitor_job)
    SimpleWorker([queue], connection=conn).work(burst=True)
    assert job.get_status() == "finished"
    assert job.return_value() == EXPECTED
    outcome, intent = audit.read(conn)
    assert (intent.who, intent.action, intent.phase) == ("janitor", "janitor", "intent")
    assert (outcome.who, outcome.counts, outcome.intent, outcome.ok) == ("janitor", EXPECTED, intent.id, True)

    actions = DashboardActions(conn, Settings(), who="op@host")
    assert actions.run_janitor(actions.plan_janitor()).ok  # nothing left to do: counted, not logged
    assert len(audit.read(conn)) == 2 and audit.refused_counts(conn) == {"janitor:nothing_planned": 1}
    conn.zadd(keys.METRIC_TASKS, {"app.stale": time.time() - 3 * DAY})
    plan = actions.plan_janitor()
    result = actions.run_janitor(plan)
    assert result.ok and sum(result.counts.values()) == plan.total == 1
    assert [(e.who, e.phase) for e in audit.read(conn, limit=2)] == [("op@host", "outcome"), ("op@host", "intent")]


def test_janitor_trims_the_metric_task_index_to_the_bucket_retention(conn: redis.Redis) -> None:
    at = time.time()
    retention = keys.METRIC_TTL_S
    conn.zadd(keys.METRIC_TASKS, {"app.days_old": at - 3 * DAY, "app.past_retention": at - retention - 5,
                                  b"app.\xff": at - 2 * DAY, "app.rerun": at - 2 * DAY,
                                  "app.inside_retention": at - retention + 60, "app.recent": at - 10})
    settings = janitor.JanitorSettings()
    before = snapshot(conn)
    plan = janitor.plan(conn, settings, at)
    assert snapshot(conn) == before, "planning reads only"
    (step,) = [step for step in plan.steps if step.name == "trim_metric_tasks"]
    assert step.ids == ("app.days_old", "app.rerun", "app.\ufffd", "app.past_retention")
    conn.zadd(keys.METRIC_TASKS, {"app.rerun": at}, gt=True)  # it ran again before the plan was executed

    counts = janitor.execute(conn, plan, settings, at)

    assert counts["trim_metric_tasks"] == 3
    assert conn.zrange(keys.METRIC_TASKS, 0, -1) == [b"app.inside_retention", b"app.recent", b"app.rerun"]
    assert [step.total for step in janitor.plan(conn, settings, at).steps if step.name == "trim_metric_tasks"] == [0]


def test_a_plan_step_with_no_record_raises_before_anything_is_written(conn: redis.Redis) -> None:
    Queue("default", connection=conn).enqueue("tests.jobs.ok", job_id="kept")
    steps = (janitor.JanitorStep("cancel_old_pending", "x", ("default:kept",)),
             janitor.JanitorStep("no_such_step", "renamed", ("x",)))
    with pytest.raises(ValueError, match="no_such_step"):
        janitor.execute(conn, JanitorPlan(steps=steps), janitor.JanitorSettings(pending_older_than_s=0))
    assert not conn.exists(keys.JANITOR_LAST), "the pass was not recorded"
    assert conn.lrange(keys.rq_queue("default"), 0, -1) == [b"kept"], "the known step did not run either"


def test_plan_and_execute_both_follow_the_step_records(conn: redis.Redis) -> None:
    planned = janitor.plan(conn, janitor.JanitorSettings())
    assert [step.name for step in planned.steps] == [record.name for record in janitor.STEPS]
    counts = janitor.execute(conn, planned, janitor.JanitorSettings())
    assert list(counts) == [record.name for record in janitor.STEPS]
    assert janitor.step_record("expire_tokens").name == "expire_tokens"


def _reason(conn: redis.Redis, job_id: str) -> str:
    """The error of the newest result RQ's results stream holds for ``job_id`` (a failure)."""
    (_id, fields), = conn.xrevrange(keys.rq_results(job_id), count=1)
    assert fields[b"type"] == b"2", "the newest result is a failure"
    return zlib.decompress(b64decode(fields[b"exc_string"])).decode()


def _killed_plain_worker(conn: redis.Redis, name: str, queue: str, pid: int) -> str:
    """What ``kill -9`` leaves of a plain RQ worker on this host mid-job: its hash (last beat 2 min ago) and
    registrations, and its job's started entry past its heartbeat deadline; returns the job id."""
    job_id, execution_id = plant_running(conn, name, queue=queue, started_at=time.time() - 120)
    conn.hset(keys.rq_worker(name), mapping={"name": name, "hostname": socket.gethostname(), "pid": pid,
                                             "state": "busy", "current_job": job_id, "queues": queue,
                                             "last_heartbeat": iso_ago(120)})
    conn.sadd(keys.RQ_WORKERS, keys.rq_worker(name))
    conn.sadd(keys.rq_queue_workers(queue), keys.rq_worker(name))
    conn.zadd(keys.rq_registry("wip", queue), {f"{job_id}:{execution_id}": time.time() - 30})
    return job_id


def _abandoned(conn: redis.Redis) -> dict[str, int]:
    """Abandoned count per queue, as the dashboard reads it."""
    return {row.name: row.abandoned for row in DashboardReader(conn, Settings()).read().queues}


def test_janitor_fails_a_killed_plain_workers_abandoned_job_as_rq_cleanup_would(conn: redis.Redis) -> None:
    """Past its deadline on a dead worker: failed with RQ's AbandonedJobError at once, young as it is; a live
    worker's late entry is not touched."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])  # its pid no longer runs once reaped
    ended.wait()
    job_id = _killed_plain_worker(conn, "plain-killed", "default", ended.pid)
    late_job = _killed_plain_worker(conn, "plain-stalled", "other", os.getpid())  # its pid runs: alive
    assert _abandoned(conn) == {"default": 1, "other": 1}
    settings = janitor.JanitorSettings()
    before = snapshot(conn)
    plan = janitor.plan(conn, settings)
    assert snapshot(conn) == before, "planning reads only"
    steps = {step.name: step for step in plan.steps}
    assert steps["fail_abandoned"].ids == tuple(
        f"default:{member.decode()}" for member in conn.zrange("rq:wip:default", 0, -1))
    assert len(steps["fail_abandoned"].ids) == 1 and plan.total == 1, plan
    assert "abandoned" in steps["fail_abandoned"].description

    counts = janitor.execute(conn, plan, settings)

    assert counts["fail_abandoned"] == 1 and sum(counts.values()) == 1, counts
    assert conn.hget(keys.rq_job(job_id), "status") == b"failed"
    assert _reason(conn, job_id) == "AbandonedJobError: the worker running it stopped sending heartbeats"
    assert conn.zcard("rq:wip:default") == 0 and conn.zscore("rq:failed:default", job_id) is not None
    assert conn.hget(keys.rq_job(late_job), "status") == b"started" and conn.zcard("rq:wip:other") == 1
    assert _abandoned(conn) == {"default": 0, "other": 1}
    assert janitor.plan(conn, settings).total == 0, "a second pass finds nothing"
