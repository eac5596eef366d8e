"""Who did it: audit entries name the OS user, sudo caller, SSH client, Redis ACL user and role, and `rqtop audit`
filters them by actor, action and time."""

from __future__ import annotations

import json

import redis
from rq import Queue

from tests import jobs
from tests.cli_support import one_error_line, rqtop
from tui.data.actions import DashboardActions, default_actor
from tui.data.settings import Settings
from worker import audit, keys


def test_an_action_records_who_did_it(conn: redis.Redis, monkeypatch) -> None:
    monkeypatch.setenv("SUDO_USER", "alice")
    monkeypatch.setenv("SSH_CLIENT", "203.0.113.7 52144 22")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    job = Queue("default", connection=conn).enqueue(jobs.ok, 1).id
    actions = DashboardActions(conn, Settings(role="operator"), redis_user="rqtop-operator")
    assert actions.job_action(actions.plan_job_action("cancel", [job])).counts["done"] == 1
    entry = audit.read(conn, 1)[0]
    assert entry.who.startswith("alice@")
    assert entry.actor["sudo_user"] == "alice" and entry.actor["ssh_client"] == "203.0.113.7"
    assert entry.actor["redis_user"] == "rqtop-operator" and entry.actor["role"] == "operator"
    assert entry.actor["os_user"]


def test_ssh_connection_is_used_when_ssh_client_is_absent(monkeypatch) -> None:
    monkeypatch.delenv("SSH_CLIENT", raising=False)
    monkeypatch.setenv("SSH_CONNECTION", "198.51.100.2 40000 10.0.0.1 22")
    assert default_actor("x@h", "", "viewer").ssh_client == "198.51.100.2"


def test_audit_filters_by_actor_action_and_time(conn: redis.Redis, redis_url: str) -> None:
    conn.xadd(keys.AUDIT, {"who": "alice@old", "action": "rerun", "target": "long ago", "at": "1.0"}, id="1000-0")
    alice = audit.Actor("alice@box", "alice", "", "203.0.113.7", "rqtop-operator", "operator")
    bob = audit.Actor("bob@box", "bob", "", "", "rqtop-admin", "admin")
    audit.append(conn, alice, "rerun", "1 job(s) on default: a", {"done": 1}, True)
    audit.append(conn, bob, "dismiss", "1 job(s) on default: b", {"done": 1}, True)
    audit.append(conn, alice, "cancel", "1 job(s) on default: c", {"done": 1}, True)

    def entries(*args: str) -> list[dict[str, object]]:
        result = rqtop("audit", "--json", *args, url=redis_url)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["entries"]

    assert [e["action"] for e in entries("--actor", "alice")] == ["cancel", "rerun", "rerun"]
    assert [e["target"] for e in entries("--actor", "ALICE", "--since", "1h")] == ["1 job(s) on default: c",
                                                                                  "1 job(s) on default: a"]
    assert [e["who"] for e in entries("--action", "dismiss")] == ["bob@box"]
    assert [e["action"] for e in entries("--actor", "203.0.113.7", "--action", "rerun")] == ["rerun"]
    assert entries("--actor", "rqtop-admin")[0]["role"] == "admin"
    assert entries("--since", "2026-01-01T00:00:00Z", "--limit", "1")[0]["action"] == "cancel"
    assert entries("--actor", "nobody") == []
    text = rqtop("audit", "--action", "dismiss", url=redis_url).stdout
    assert "bob@box" in text and "alice" not in text
    assert "--since" in one_error_line(rqtop("audit", "--since", "yesterday", url=redis_url))


def test_a_viewer_may_read_the_audit(conn: redis.Redis, read_only_url: str) -> None:
    audit.append(conn, "op@host", "rerun", "x", {"done": 1}, True)
    result = rqtop("audit", "--json", url=read_only_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["entries"][0]["who"] == "op@host"
