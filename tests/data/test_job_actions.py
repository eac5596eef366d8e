"""Job-level actions against a real Redis without workers: each action on every state it applies to, skips,
read-only refusal, and the audit entry naming exactly the ids changed."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import redis
from rq import Queue, Retry
from rq.job import Job

from tests import jobs
from tests.rq_support import contents as snapshot
from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import audit, keys
from worker.plans import JobActionPlan, JobRef


def _status(conn: redis.Redis, job_id: str) -> str:
    return (conn.hget(keys.rq_job(job_id), "status") or b"").decode()


def _make(conn: redis.Redis, state: str, queue_name: str = "default") -> str:
    """A job in ``state`` (RQ status), placed where RQ puts it, without running anything."""
    queue = Queue(queue_name, connection=conn)
    if state == "queued":
        return queue.enqueue(jobs.ok, 1).id
    if state == "scheduled":
        return queue.enqueue_in(timedelta(hours=1), jobs.ok, 1).id
    if state == "deferred":
        parent = queue.enqueue(jobs.ok, 0)
        return queue.enqueue(jobs.ok, 1, depends_on=parent).id
    job = queue.enqueue(jobs.ok, 1, retry=Retry(max=2))
    conn.lrem(keys.rq_queue(queue_name), 0, job.id)
    registry = {"failed": "failed", "stopped": "failed", "finished": "finished", "canceled": "canceled"}[state]
    conn.hset(keys.rq_job(job.id), mapping={"status": state, "started_at": "2026-01-01T00:00:00.000000Z",
                                            "ended_at": "2026-01-01T00:00:01.000000Z", "number_of_retries": "2",
                                            "retries_left": "0"})
    conn.zadd(keys.rq_registry(registry, queue_name), {job.id: time.time() + 3600})
    if state == "finished":
        conn.expire(keys.rq_job(job.id), 500)
    return job.id


def _places(conn: redis.Redis, job_id: str, queue: str = "default") -> list[str]:
    """Every list or registry of ``queue`` holding ``job_id``."""
    found = ["queue"] if conn.lpos(keys.rq_queue(queue), job_id) is not None else []
    for kind in ("failed", "finished", "scheduled", "deferred", "canceled", "wip"):
        if conn.zscore(keys.rq_registry(kind, queue), job_id) is not None:
            found.append(kind)
    return found


@pytest.fixture
def actions(conn: redis.Redis) -> DashboardActions:
    return DashboardActions(conn, Settings(), who="op@host")


@pytest.mark.parametrize("state", ["failed", "stopped", "finished"])
def test_rerun_requeues_the_same_id_with_a_fresh_counter(conn: redis.Redis, actions: DashboardActions,
                                                         state: str) -> None:
    job_id = _make(conn, state)
    plan = actions.plan_job_action("rerun", [job_id], retries=3)
    assert [job.status for job in plan.jobs] == [state]
    result = actions.job_action(plan)
    assert result.ok and result.counts["done"] == 1, result
    assert _status(conn, job_id) == "queued" and _places(conn, job_id) == ["queue"]
    fields = conn.hgetall(keys.rq_job(job_id))
    assert b"started_at" not in fields and b"number_of_retries" not in fields
    assert fields[b"retries_left"] == b"3" and conn.ttl(keys.rq_job(job_id)) == -1
    assert Job.fetch(job_id, connection=conn).func_name == "tests.jobs.ok"  # same payload


@pytest.mark.parametrize("state", ["queued", "scheduled", "deferred"])
def test_cancel_moves_into_the_canceled_registry_only(conn: redis.Redis, actions: DashboardActions,
                                                      state: str) -> None:
    job_id = _make(conn, state)
    result = actions.job_action(actions.plan_job_action("cancel", [job_id]))
    assert result.counts["done"] == 1
    assert _status(conn, job_id) == "canceled" and _places(conn, job_id) == ["canceled"]


def test_retry_now_brings_a_scheduled_job_forward_keeping_its_budget(conn: redis.Redis,
                                                                      actions: DashboardActions) -> None:
    job_id = _make(conn, "scheduled")
    conn.hset(keys.rq_job(job_id), "retries_left", "2")
    actions.job_action(actions.plan_job_action("retry_now", [job_id]))
    assert _status(conn, job_id) == "queued" and _places(conn, job_id) == ["queue"]
    assert conn.hget(keys.rq_job(job_id), "retries_left") == b"2"


@pytest.mark.parametrize("state", ["queued", "scheduled", "deferred"])
def test_dead_letter_fails_with_the_reason(conn: redis.Redis, actions: DashboardActions, state: str) -> None:
    job_id = _make(conn, state)
    actions.job_action(actions.plan_job_action("dead_letter", [job_id], reason="bad import file"))
    assert _status(conn, job_id) == "failed" and _places(conn, job_id) == ["failed"]
    assert Job.fetch(job_id, connection=conn).latest_result().exc_string == "DeadLetter: bad import file"


def test_replay_applies_to_the_dead_letter_only(conn: redis.Redis, actions: DashboardActions) -> None:
    failed, finished = _make(conn, "failed"), _make(conn, "finished")
    plan = actions.plan_job_action("replay", [failed, finished, "nope"])
    assert [job.job_id for job in plan.jobs] == [failed]
    assert dict(plan.skipped) == {finished: "finished", "nope": "missing"}
    actions.job_action(plan)
    assert _status(conn, failed) == "queued" and _status(conn, finished) == "finished"


@pytest.mark.parametrize("state", ["queued", "scheduled", "deferred", "failed", "finished", "canceled"])
def test_dismiss_deletes_the_job_and_every_entry(conn: redis.Redis, actions: DashboardActions, state: str) -> None:
    job_id = _make(conn, state)
    actions.job_action(actions.plan_job_action("dismiss", [job_id]))
    assert not conn.exists(keys.rq_job(job_id)) and _places(conn, job_id) == []


def test_a_job_that_changed_state_after_the_plan_is_skipped_and_counted(conn: redis.Redis,
                                                                        actions: DashboardActions) -> None:
    moved, kept = _make(conn, "queued"), _make(conn, "queued")
    plan = actions.plan_job_action("cancel", [moved, kept])
    conn.lmove(keys.rq_queue("default"), keys.rq_intermediate("default"), "LEFT", "RIGHT")  # a worker took it
    result = actions.job_action(plan)
    assert result.counts == {"done": 1, "changed": 1, "missing": 0, "protected": 0}
    assert _status(conn, moved) == "queued" and _status(conn, kept) == "canceled"
    outcome = audit.read(conn, 1)[0]
    assert outcome.phase == "outcome" and outcome.target.endswith(f": {kept}") and moved not in outcome.target
    intent = audit.read(conn, 2)[1]
    assert intent.phase == "intent" and moved in intent.target and kept in intent.target


def test_a_status_that_changed_is_skipped(conn: redis.Redis, actions: DashboardActions) -> None:
    job_id = _make(conn, "failed")
    plan = JobActionPlan("dismiss", (JobRef(job_id, "default", "finished"),))  # planned as another status
    assert actions.job_action(plan).counts["changed"] == 1
    assert conn.exists(keys.rq_job(job_id))


def test_the_not_applicable_are_listed_not_planned(conn: redis.Redis, actions: DashboardActions) -> None:
    queued, failed = _make(conn, "queued"), _make(conn, "failed")
    plan = actions.plan_job_action("rerun", [queued, failed])
    assert [job.job_id for job in plan.jobs] == [failed] and plan.skipped == ((queued, "queued"),)


def test_selection_plans_one_registry_of_one_queue(conn: redis.Redis, actions: DashboardActions) -> None:
    ids = [_make(conn, "failed", "imports") for _ in range(3)] + [_make(conn, "stopped", "imports")]
    other = _make(conn, "failed", "default")
    plan = actions.plan_queue_job_action("rerun", "imports", "failed")
    assert sorted(job.job_id for job in plan.jobs) == sorted(ids) and plan.per_queue() == {"imports": 4}
    actions.job_action(plan)
    assert conn.llen(keys.rq_queue("imports")) == 4 and _status(conn, other) == "failed"
    assert actions.plan_queue_job_action("dismiss", "imports", "failed").total == 0


def test_read_only_refuses_every_job_action_and_writes_nothing(conn: redis.Redis) -> None:
    ids = [_make(conn, state) for state in ("queued", "failed", "scheduled")]
    before = snapshot(conn)
    ro = DashboardActions(conn, Settings(read_only=True), who="ro@host")
    for action in ("rerun", "cancel", "retry_now", "dead_letter", "dismiss", "stop", "replay"):
        result = ro.job_action(ro.plan_job_action(action, ids))
        assert not result.ok and "read-only" in result.message
    for plan in (ro.plan_worker_action("suspend"), ro.plan_worker_action("shutdown", ["w"])):
        assert not ro.worker_action(plan).ok
    assert snapshot(conn) == before


def test_suspend_and_resume_use_rqs_key(conn: redis.Redis, actions: DashboardActions) -> None:
    actions.worker_action(actions.plan_worker_action("suspend"))
    assert conn.exists(keys.RQ_SUSPENDED)
    from rq.suspension import is_suspended
    assert is_suspended(conn)
    actions.worker_action(actions.plan_worker_action("resume"))
    assert not is_suspended(conn)
    entries = audit.read(conn, 4)
    assert [entry.action for entry in entries] == ["resume", "resume", "suspend", "suspend"]


def test_shutdown_publishes_rqs_command(conn: redis.Redis, actions: DashboardActions) -> None:
    conn.sadd(keys.RQ_WORKERS, keys.rq_worker("w1"))
    listener = conn.pubsub()
    listener.subscribe(keys.rq_pubsub("w1"))
    listener.get_message(timeout=1)
    result = actions.worker_action(actions.plan_worker_action("shutdown", ["w1", "ghost"]))
    assert result.counts == {"sent": 1, "not_listening": 0}
    message = listener.get_message(timeout=1)
    assert message and json.loads(message["data"]) == {"command": "shutdown"}
    listener.close()


def test_edit_and_replay_makes_a_new_linked_job_and_keeps_the_original(conn: redis.Redis,
                                                                       actions: DashboardActions) -> None:
    job = Queue("default", connection=conn).enqueue(jobs.say_hello, "world", meta={"tenant": "acme"})
    conn.lrem(keys.rq_queue("default"), 0, job.id)
    conn.hset(keys.rq_job(job.id), "status", "failed")
    conn.zadd(keys.rq_registry("failed", "default"), {job.id: 9e9})
    result = actions.edit_replay(job.id, kwargs_json='{"name": "ops"}', args_json="[]")
    assert result.ok, result.message
    new_id = conn.lindex(keys.rq_queue("default"), 0).decode()
    replay = Job.fetch(new_id, connection=conn)  # the test process may unpickle its own test data
    assert (replay.func_name, replay.args, replay.kwargs) == ("tests.jobs.say_hello", (), {"name": "ops"})
    assert replay.meta == {"tenant": "acme", "replay_of": job.id} and replay.get_status() == "queued"
    assert _status(conn, job.id) == "failed" and conn.hget(keys.rq_job(job.id), "rqtop_replayed_as") == new_id.encode()
    assert audit.read(conn, 1)[0].action == "edit_replay"


def test_edit_and_replay_refuses_what_is_not_plain_data(conn: redis.Redis, actions: DashboardActions) -> None:
    import pickle
    import zlib

    job_id = _make(conn, "failed")
    hostile = zlib.compress(pickle.dumps(("tests.jobs.ok", None, [Settings()], {})))  # an object, not plain data
    conn.hset(keys.rq_job(job_id), "data", hostile)
    queued, failed = _make(conn, "queued"), _make(conn, "failed")
    def state() -> list[object]:  # HGETALL, not DUMP: a hash-table encoded hash dumps in its rehash order
        return [*(conn.hgetall(keys.rq_job(i)) for i in (job_id, queued, failed)),
                conn.lrange(keys.rq_queue("default"), 0, -1), conn.zrange(keys.rq_registry("failed", "default"), 0, -1),
                sorted(conn.keys("rq:*"))]

    before = state()
    result = actions.edit_replay(job_id, args_json="[1]")
    assert not result.ok and "not plain data" in result.message
    assert not actions.edit_replay(queued).ok  # not in the dead letter
    assert "not JSON" in actions.edit_replay(failed, args_json="{bad").message
    assert state() == before


def test_stop_on_a_gone_worker_fails_the_job_through_the_registry(conn: redis.Redis,
                                                                   actions: DashboardActions) -> None:
    from tests.rq_support import plant_running

    job_id, _execution = plant_running(conn, "ghost-worker")
    plan = actions.plan_job_action("stop", [job_id])
    assert plan.total == 1 and not plan.stops[0].worker_alive
    result = actions.job_action(plan)
    assert result.counts["failed_dead"] == 1, result
    assert _status(conn, job_id) == "failed" and _places(conn, job_id) == ["failed"]


def test_a_schedulers_template_is_never_dismissed(conn: redis.Redis, actions: DashboardActions) -> None:
    job_id = _make(conn, "canceled")
    conn.zadd(keys.RQ_SCHEDULED_JOBS, {job_id: time.time() + 60})  # rq-scheduler owns it: deleting drops the schedule
    result = actions.job_action(actions.plan_job_action("dismiss", [job_id]))
    assert result.counts["protected"] == 1 and conn.exists(keys.rq_job(job_id))
    assert _places(conn, job_id) == ["canceled"]
