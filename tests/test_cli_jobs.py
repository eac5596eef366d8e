"""`rqtop jobs ls|show` as a real process on real Redis: filters as flags and as a query, warnings, JSON."""

from __future__ import annotations

import json

import pytest
import redis
from rq import Queue, SimpleWorker

from tests import jobs
from tests.cli_support import one_error_line, rqtop


@pytest.fixture
def made(conn: redis.Redis) -> dict[str, list[str]]:
    """Two failed imports on 'high' (one quoting a secret), a completed hello, two pending oks."""
    high, default = Queue("high", connection=conn), Queue("default", connection=conn)
    failed = [high.enqueue(jobs.boom, "import timed out").id, high.enqueue(jobs.boom_with_secret, "pw-999").id]
    done = [default.enqueue(jobs.say_hello).id]
    SimpleWorker([high, default], connection=conn, name="cli-w").work(burst=True)
    pending = [default.enqueue(jobs.ok, i).id for i in range(2)]
    return {"failed": failed, "done": done, "pending": pending}


def test_ls_filters_by_flags_and_query(redis_url: str, made: dict[str, list[str]]) -> None:
    result = rqtop("jobs", "ls", "--state", "failed", "--json", url=redis_url)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {j["id"] for j in doc["jobs"]} == set(made["failed"]) and doc["mode"] == "registry"
    assert all(j["worker"] == "cli-w" and j["error"] for j in doc["jobs"])
    assert all("pw-999" not in j["error"] for j in doc["jobs"])
    scanned = json.loads(rqtop("jobs", "ls", "--query", "task:boom worker:cli-*", "--json", url=redis_url).stdout)
    assert [j["id"] for j in scanned["jobs"]] == [made["failed"][0]] and scanned["scan"]["done"]
    plain = rqtop("jobs", "ls", "--task", "ok", url=redis_url)
    assert plain.returncode == 0 and {line.split("\t")[0] for line in plain.stdout.splitlines()} == set(
        made["pending"])
    assert "2 of 2 jobs" in plain.stderr


def test_completed_hidden_unless_asked(redis_url: str, made: dict[str, list[str]]) -> None:
    hidden = json.loads(rqtop("jobs", "ls", "--json", url=redis_url).stdout)
    assert made["done"][0] not in {j["id"] for j in hidden["jobs"]}
    shown = json.loads(rqtop("jobs", "ls", "--completed", "--json", url=redis_url).stdout)
    assert made["done"][0] in {j["id"] for j in shown["jobs"]}


def test_an_invalid_filter_warns_and_still_lists(redis_url: str, made: dict[str, list[str]]) -> None:
    result = rqtop("jobs", "ls", "--state", "sideways", "--queue", "high", url=redis_url)
    assert result.returncode == 0
    assert "rqtop: warning: ignored state:sideways: unknown state 'sideways'" in result.stderr
    assert {line.split("\t")[0] for line in result.stdout.splitlines()} == set(made["failed"])


def test_ls_by_id_and_show(redis_url: str, made: dict[str, list[str]]) -> None:
    target = made["failed"][1]
    listed = json.loads(rqtop("jobs", "ls", "--id", target, "--json", url=redis_url).stdout)
    assert [j["id"] for j in listed["jobs"]] == [target] and listed["mode"] == "id"
    shown = json.loads(rqtop("jobs", "show", target, "--json", url=redis_url).stdout)
    assert shown["state"] == "failed" and shown["attempts"][0]["outcome"] == "failed"
    assert "ValueError" in shown["traceback"] and "pw-999" not in shown["traceback"] + shown["error"]
    assert shown["health"] == "needs attention: failed, not re-run or dismissed" and shown["attempts_of_max"] == "1"
    assert shown["payload"]["plain"] and shown["payload"]["args"] == "['pw-999']"
    text = rqtop("jobs", "show", target, url=redis_url)
    assert text.returncode == 0 and "Attempt -1: failed" in text.stdout and "Traceback (masked):" in text.stdout
    assert "Health: needs attention" in text.stdout and "Args: " in text.stdout
    assert "unknown-id" in one_error_line(rqtop("jobs", "show", "unknown-id", url=redis_url))
