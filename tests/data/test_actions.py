"""DashboardActions without worker processes: read-only refusal, Cancel All Pending and its boundary, audit."""

from __future__ import annotations

import subprocess
import sys
import time

import redis
from rq import Queue, SimpleWorker
from rq.utils import now, utcformat

from tests.jobs import started
from tests.rq_support import plant_running, snapshot
from tests.waiting import wait_for
from tui.data.actions import DashboardActions, default_who
from tui.data.settings import Settings
from worker import audit, keys
from worker.cancel import CANCELED_TTL_S
from worker.plans import ExecutionRef, FailActivePlan, JanitorPlan, JanitorStep
from worker.schedules import ScheduleEntry

PINGER = """
import sys, time, redis
client = redis.Redis.from_url(sys.argv[1])
client.set("test:pinging", 1)
worst = 0.0
while not client.exists("test:stop-pinging"):
    began = time.perf_counter()
    client.ping()
    worst = max(worst, time.perf_counter() - began)
print(worst)
"""
"""A separate process (no GIL shared with the canceller) that records the slowest PING."""


def test_read_only_refuses_everything_and_writes_nothing(conn: redis.Redis) -> None:
    conn.hset(keys.SCHEDULES, "nightly", ScheduleEntry(name="nightly", task="x.y", interval=60).to_json())
    queue = Queue("default", connection=conn)
    for _ in range(3):
        queue.enqueue("tests.jobs.recorded_ok")
    job_id, execution_id = plant_running(conn, "ghost")
    before = snapshot(conn)
    actions = DashboardActions(conn, Settings(read_only=True), who="ro@host")

    results = [
        actions.run_now("nightly"), actions.run_now("missing"), actions.pause("nightly"), actions.resume("nightly"),
        actions.run_janitor(JanitorPlan(steps=(JanitorStep("cancel_old_pending", "x", ("default:" + job_id,)),))),
        actions.fail_active(FailActivePlan((ExecutionRef(job_id, execution_id, "default", "ghost", False),))),
        actions.cancel_pending(actions.plan_cancel_pending()),
    ]
    actions.plan_janitor()
    actions.plan_fail_active()

    assert all("read-only" in r.message for r in results)
    assert results[0].status == "not_allowed" and results[2].changed is False
    assert all(not r.ok for r in results[4:])
    assert snapshot(conn) == before
    assert not conn.exists(keys.AUDIT)


def test_cancel_pending_respects_boundary_and_nothing_canceled_runs(conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    planned = [queue.enqueue("tests.jobs.recorded_ok").id for _ in range(20)]
    run_id = keys.run_id("nightly", "0123456789ab")
    queue.enqueue("tests.jobs.recorded_ok", job_id=run_id)
    planned.append(run_id)
    conn.set(keys.active("nightly"), run_id)
    conn.hset(keys.sched_state("nightly"), mapping={"last_job_id": run_id, "last_status": "pending"})
    conn.hset(keys.history_item(run_id), mapping={"state": "pending", "task": "tests.jobs.recorded_ok"})
    other = Queue("low", connection=conn).enqueue("tests.jobs.recorded_ok").id

    actions = DashboardActions(conn, Settings(), who="op@host")
    plan = actions.plan_cancel_pending()
    assert {(c.queue, c.size, c.last_id) for c in plan.cuts} == {("default", 21, run_id), ("low", 1, other)}
    after = [queue.enqueue("tests.jobs.recorded_ok").id for _ in range(5)]
    result = actions.cancel_pending(plan)

    assert result.ok and result.counts == {"canceled": 22, "missing": 0, "skipped": 0, "taken": 0}
    assert [raw.decode() for raw in conn.lrange("rq:queue:default", 0, -1)] == after
    for job_id in planned:
        assert conn.hget(keys.rq_job(job_id), "status") == b"canceled"
        assert conn.zscore("rq:canceled:default", job_id) is not None
        assert 0 < conn.ttl(keys.rq_job(job_id)) <= CANCELED_TTL_S
    assert conn.zscore("rq:canceled:low", other) is not None
    assert conn.get(keys.active("nightly")) is None
    assert conn.hget(keys.sched_state("nightly"), "last_status") == b"canceled"
    assert conn.hget(keys.history_item(run_id), "state") == b"canceled"

    SimpleWorker([queue, Queue("low", connection=conn)], connection=conn).work(burst=True)
    assert set(started(conn)) == set(after)
    entry, intent = audit.read(conn)
    assert (entry.action, entry.who, entry.counts["canceled"], entry.ok) == ("cancel_pending", "op@host", 22, True)
    assert (entry.phase, entry.intent, intent.action) == ("outcome", intent.id, "cancel_pending")


def test_cancel_pending_keeps_an_at_front_enqueue_made_between_plan_and_confirm(conn: redis.Redis) -> None:
    """Issue 14.12: one at_front enqueue after the plan used to cancel nothing ("30 started by workers first")."""
    queue = Queue("default", connection=conn)
    ids = [job.id for job in queue.enqueue_many([Queue.prepare_data("tests.jobs.nap", (0,)) for _ in range(30)])]
    actions = DashboardActions(conn, Settings(), who="tester@host")
    plan = actions.plan_cancel_pending()
    urgent = queue.enqueue("tests.jobs.nap", 0, at_front=True)
    later = queue.enqueue("tests.jobs.nap", 0)

    result = actions.cancel_pending(plan)

    assert result.counts == {"canceled": 30, "missing": 0, "skipped": 0, "taken": 0}, result.message
    assert conn.lrange(keys.rq_queue("default"), 0, -1) == [urgent.id.encode(), later.id.encode()]
    assert {raw.decode() for raw in conn.zrange("rq:canceled:default", 0, -1)} == set(ids)
    assert urgent.get_status(refresh=True) == "queued" and later.get_status(refresh=True) == "queued"


def test_cancel_pending_drops_orphan_ids_and_keeps_templates(conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    template = keys.template_id("nightly")
    queue.enqueue("tests.jobs.recorded_ok", job_id=template)
    conn.zadd(keys.RQ_SCHEDULED_JOBS, {template: time.time() + 60})
    conn.rpush("rq:queue:default", "no-such-job")
    finished = queue.enqueue("tests.jobs.recorded_ok", job_id="already-done")
    conn.hset(keys.rq_job(finished.id), "status", "finished")
    actions = DashboardActions(conn, Settings())
    result = actions.cancel_pending(actions.plan_cancel_pending())
    assert result.counts == {"canceled": 1, "missing": 1, "skipped": 1, "taken": 0}
    assert conn.hget(keys.rq_job(template), "status") == b"canceled"
    assert conn.ttl(keys.rq_job(template)) == -1, "a template hash must never expire"
    assert conn.hget(keys.rq_job(finished.id), "status") == b"finished"
    assert conn.llen("rq:queue:default") == 0


def test_cancel_50k_is_fast_and_never_blocks_redis(conn: redis.Redis, redis_url: str) -> None:
    total = 50_000
    stamp = utcformat(now())
    pipe = conn.pipeline(transaction=False)
    for index in range(total):
        job_id = f"bulk{index:06d}"
        pipe.hset(keys.rq_job(job_id), mapping={"status": "queued", "origin": "default", "enqueued_at": stamp})
        pipe.rpush("rq:queue:default", job_id)
        if index % 5000 == 4999:
            pipe.execute()
    pipe.sadd(keys.RQ_QUEUES, "rq:queue:default")
    pipe.execute()
    actions = DashboardActions(conn, Settings())
    plan = actions.plan_cancel_pending()
    assert plan.total == total

    pinger = subprocess.Popen([sys.executable, "-c", PINGER, redis_url], stdout=subprocess.PIPE, text=True)
    wait_for(lambda: conn.exists("test:pinging"), 10, "the pinger to start")
    began = time.perf_counter()
    result = actions.cancel_pending(plan)
    elapsed = time.perf_counter() - began
    conn.set("test:stop-pinging", 1)
    worst = float(pinger.communicate(timeout=10)[0])
    print(f"\ncancel {total} jobs: {elapsed:.2f} s ({total / elapsed:,.0f}/s), worst PING {worst * 1000:.1f} ms")
    assert result.counts["canceled"] == total
    assert conn.zcard("rq:canceled:default") == total and conn.llen("rq:queue:default") == 0
    assert elapsed < 10
    assert worst < 0.15, "queue.empty() blocks ~200 ms per 50k ids; the chunked script must not"


def test_run_now_unknown_and_unreadable_schedule(conn: redis.Redis) -> None:
    conn.hset(keys.SCHEDULES, "broken", "{not json")
    actions = DashboardActions(conn, Settings(), who="op@host")
    missing = actions.run_now("nope")
    assert (missing.status, missing.job_id) == ("unknown", None) and "nope" in missing.message
    assert actions.run_now("broken").status == "unknown"
    assert audit.read(conn) == () and audit.refused_counts(conn) == {"run_now:unknown": 2}
    assert conn.llen("rq:queue:default") == 0


def test_default_who_prefers_sudo_user(monkeypatch) -> None:
    monkeypatch.setenv("SUDO_USER", "alice")
    monkeypatch.setenv("USER", "root")
    assert default_who().startswith("alice@")
    monkeypatch.delenv("SUDO_USER")
    assert default_who().startswith("root@")
