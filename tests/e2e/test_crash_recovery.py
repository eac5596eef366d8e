"""A worker SIGKILLed mid-job: Fail Active, the janitor or a restart on the same host fails its job, exactly once."""

from __future__ import annotations

import time
import zlib
from base64 import b64decode

import redis
from rq import Queue

from tests import jobs
from tests.e2e.procs import WorkerPool, WorkerProcess, start_holding
from tests.waiting import wait_for
from tui.data.actions import DashboardActions
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from worker import janitor, keys
from worker.fail_active import DEAD_WORKER_REASON
from worker.runner import RESTART_REASON


def crash_mid_job(pool: WorkerPool, conn: redis.Redis, tag: str) -> tuple[WorkerProcess, str]:
    """A worker SIGKILLed, horse included, while its job runs; the job is left "started" in the wip registry."""
    worker, job_id = start_holding(pool, conn, tag)
    horses = worker.kill_hard()
    assert horses == [jobs.starts(conn)[job_id][0][0]], "the horse running the job died with its worker"
    assert conn.hget(keys.rq_job(job_id), "status") == b"started"
    assert any(m.decode().startswith(f"{job_id}:") for m in conn.zrange("rq:wip:default", 0, -1))
    return worker, job_id


def homes(conn: redis.Redis, job_id: str, queue: str = "default") -> list[str]:
    """Every place the job is: registries, the queue list and the intermediate list."""
    found = [kind for kind in ("finished", "failed", "canceled", "scheduled", "deferred")
             if conn.zscore(keys.rq_registry(kind, queue), job_id) is not None]
    if any(m.decode().split(":", 1)[0] == job_id for m in conn.zrange(keys.rq_registry("wip", queue), 0, -1)):
        found.append("wip")
    for name, key in (("queued", keys.rq_queue(queue)), ("intermediate", keys.rq_queue(queue) + ":intermediate")):
        if conn.lpos(key, job_id) is not None:
            found.append(name)
    return found


def assert_failed_once(conn: redis.Redis, job_id: str, worker: WorkerProcess, reason: str) -> None:
    """Failed registry only, status failed, one failure result naming the dead worker and the reason, ran once."""
    assert homes(conn, job_id) == ["failed"]
    assert conn.hget(keys.rq_job(job_id), "status") == b"failed"
    results = conn.xrange(f"rq:results:{job_id}")
    assert len(results) == 1, results
    fields = results[0][1]
    assert (fields[b"type"], fields[b"worker_name"]) == (b"2", worker.name.encode())
    assert zlib.decompress(b64decode(fields[b"exc_string"])).decode() == f"AbandonedJobError: {reason}"
    assert len(jobs.starts(conn)[job_id]) == 1, "the failed job was not run again"
    history = conn.hgetall(keys.history_item(job_id))
    assert history[b"state"] == b"failed" and reason.encode() in history[b"error"], history

    snapshot = DashboardReader(conn, Settings()).read()
    (row,) = [row for row in snapshot.history if row.id == job_id]
    assert row.state == "failed" and reason in (row.error or "")
    assert snapshot.totals.failed == 1
    dead = next(w for w in snapshot.workers if w.name == worker.name)
    assert dead.current_job_id != job_id, "a dead worker's row must not keep showing the job that was failed"


def test_fail_active_fails_a_crashed_workers_job(conn: redis.Redis, pool: WorkerPool) -> None:
    """The dead-worker path of Fail Active: planned as not alive, failed through RQ's cleanup, with the reason."""
    worker, job_id = crash_mid_job(pool, conn, "crash-fa")
    actions = DashboardActions(conn, Settings(), who="e2e@test")
    plan = actions.plan_fail_active()
    assert [(t.job_id, t.worker, t.worker_alive) for t in plan.targets] == [(job_id, worker.name, False)]
    result = actions.fail_active(plan)
    assert result.ok and result.counts["failed_dead"] == 1 and result.counts["stopped"] == 0, result
    assert_failed_once(conn, job_id, worker, DEAD_WORKER_REASON)
    assert actions.fail_active(actions.plan_fail_active()).counts["failed_dead"] == 0, "nothing left to fail"


def test_janitor_fails_a_crashed_workers_job_and_spares_a_live_one(conn: redis.Redis, pool: WorkerPool) -> None:
    """Janitor plan (short threshold) names only the dead worker's job; execute fails it with the janitor's reason."""
    alive, live_job = start_holding(pool, conn, "busy")
    worker, job_id = crash_mid_job(pool, conn, "crash-jan")
    settings = janitor.JanitorSettings(stuck_active_after_s=2.0)
    young = janitor.plan(conn, settings, time.time())
    assert young.total == 0, "a job running under the threshold is not stuck yet"
    later = time.time() + 5
    plan = janitor.plan(conn, settings, later)
    steps = {step.name: step.ids for step in plan.steps}
    assert steps["fail_stuck_active"] == tuple(
        f"default:{member.decode()}" for member in conn.zrange("rq:wip:default", 0, -1)
        if member.decode().startswith(f"{job_id}:")
    ) and len(steps["fail_stuck_active"]) == 1
    assert plan.total == 1, steps
    counts = janitor.execute(conn, plan, settings, later)
    assert counts["fail_stuck_active"] == 1 and sum(counts.values()) == 1, counts
    assert_failed_once(conn, job_id, worker, janitor.STUCK_REASON)
    assert conn.hget(keys.rq_job(live_job), "status") == b"started" and homes(conn, live_job) == ["wip"]
    assert alive.alive()
    assert janitor.plan(conn, settings, later).total == 0, "a second pass finds nothing"


def test_new_worker_on_the_same_host_fails_the_orphaned_job_at_startup(conn: redis.Redis, pool: WorkerPool) -> None:
    """Stale-run recovery: the next worker on this host fails the dead one's run, spares a live one's, then works."""
    alive, live_job = start_holding(pool, conn, "neighbour")
    worker, job_id = crash_mid_job(pool, conn, "crash-restart")
    heir = pool.rqtop("heir")
    wait_for(lambda: conn.hget(keys.rq_job(job_id), "status") == b"failed", 15, "the orphaned job to be failed")
    wait_for(lambda: "failed 1 run(s) orphaned by a previous worker on this host" in heir.log(), 5, heir.log)
    assert_failed_once(conn, job_id, worker, RESTART_REASON)
    assert conn.hget(keys.rq_job(live_job), "status") == b"started" and homes(conn, live_job) == ["wip"]
    assert alive.alive()
    after = Queue("default", connection=conn).enqueue(jobs.recorded_ok, "after")
    wait_for(lambda: conn.hget(keys.rq_job(after.id), "status") == b"finished", 10, "the heir to run a new job")
    assert jobs.starts(conn)[after.id][0][0] != alive.pid
    assert conn.hget(keys.rq_job(after.id), "worker_name") == heir.name.encode()
