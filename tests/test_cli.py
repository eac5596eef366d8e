"""The `rqtop` command line, run as a real process: exit codes, one-line errors, status --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from rq import Queue

from tests.cli_support import ROOT, one_error_line, rqtop


def test_unknown_flag_is_one_line_exit_2() -> None:
    line = one_error_line(rqtop("--bogus"))
    assert "--bogus" in line


def test_malformed_url_is_one_line_exit_2() -> None:
    line = one_error_line(rqtop("status", "--json", "--url", "http://example"))
    assert "scheme" in line


def test_unreachable_url_is_one_line_exit_2() -> None:
    line = one_error_line(rqtop("status", "--json", "--url", "redis://:hunter2@127.0.0.1:1/0"))
    assert "cannot reach Redis" in line
    assert "hunter2" not in line and "***" in line


def test_schedules_check_accepts_the_checked_in_file() -> None:
    result = rqtop("schedules", "check", "schedules.toml")
    assert result.returncode == 0, result.stderr
    assert "schedules OK" in result.stdout


def test_schedules_check_names_file_schedule_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[schedule]]\nname = "nightly"\ntask = "worker.demo_tasks.db_pruning"\ncron = "61 * * * *"\n')
    line = one_error_line(rqtop("schedules", "check", str(bad)))
    assert "bad.toml" in line and "'nightly'" in line and "'cron'" in line


def test_a_cron_that_never_fires_is_refused_before_anything_is_registered(
    tmp_path: Path, redis_url: str, conn: redis.Redis
) -> None:
    bad = tmp_path / "never.toml"
    bad.write_text('[[schedule]]\nname = "fine"\ntask = "worker.demo_tasks.db_pruning"\ncron = "0 3 * * *"\n'
                   '[[schedule]]\nname = "leap"\ntask = "worker.demo_tasks.db_pruning"\ncron = "0 0 30 2 *"\n')
    line = one_error_line(rqtop("schedules", "check", str(bad)))
    assert "never.toml" in line and "'leap'" in line and "'cron'" in line and "never fires" in line
    assert "'leap'" in one_error_line(rqtop("worker", "--schedules", str(bad), "--burst", url=redis_url))
    assert conn.dbsize() == 0, "the good schedule before it was not registered either"


def test_worker_refuses_bad_schedules_without_registering(tmp_path: Path, redis_url: str, conn: redis.Redis) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[schedule]]\nname = "x"\ntask = "worker.demo_tasks.db_pruning"\ninterval = 0\n')
    line = one_error_line(rqtop("worker", "--schedules", str(bad), "--burst", url=redis_url))
    assert "'interval'" in line
    assert conn.dbsize() == 0


def test_status_json_has_the_documented_schema(redis_url: str, conn: redis.Redis) -> None:
    Queue("default", connection=conn).enqueue("worker.demo_tasks.cache_warm")
    result = rqtop("status", "--json", url=redis_url)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) >= {"taken_at", "schedules", "history", "totals", "queues", "workers", "metrics"}
    assert set(doc["totals"]) >= {"active", "pending", "completed", "failed", "retry"}
    assert doc["totals"]["pending"] == 1
    queue = next(q for q in doc["queues"] if q["name"] == "default")
    assert set(queue) >= {"name", "pending", "active", "completed", "failed", "retry", "scheduled",
                          "oldest_pending_age_s"}
    assert queue["pending"] == 1


def test_destructive_twin_needs_yes_without_a_terminal(redis_url: str, conn: redis.Redis) -> None:
    Queue("default", connection=conn).enqueue("worker.demo_tasks.cache_warm")
    line = one_error_line(rqtop("cancel-pending", url=redis_url))
    assert "--yes" in line
    assert conn.llen("rq:queue:default") == 1


def test_cancel_pending_with_yes_prints_counts(redis_url: str, conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    for _ in range(3):
        queue.enqueue("worker.demo_tasks.cache_warm")
    result = rqtop("cancel-pending", "--yes", url=redis_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Canceled 3 pending jobs in default."
    assert conn.llen("rq:queue:default") == 0


def test_read_only_refuses_actions(redis_url: str, conn: redis.Redis) -> None:
    Queue("default", connection=conn).enqueue("worker.demo_tasks.cache_warm")
    result = rqtop("cancel-pending", "--yes", "--read-only", url=redis_url)
    assert result.returncode == 2
    assert conn.llen("rq:queue:default") == 1


@pytest.mark.parametrize("args", [
    ("--read-only", "janitor", "--yes"), ("--read-only", "cancel-pending", "--yes"),
    ("--read-only", "pause", "nightly", "--yes"), ("fail-active", "--read-only", "--yes"),
])
def test_read_only_before_or_after_the_subcommand_refuses_without_touching_redis(
    args: tuple[str, ...], redis_url: str, conn: redis.Redis
) -> None:
    Queue("default", connection=conn).enqueue("worker.demo_tasks.cache_warm")
    before = {key: conn.type(key) for key in conn.keys("*")}
    line = one_error_line(rqtop(*args, url=redis_url))
    assert "read-only" in line and "nothing was changed" in line
    assert {key: conn.type(key) for key in conn.keys("*")} == before and conn.llen("rq:queue:default") == 1


def test_url_before_the_subcommand_is_the_one_used(redis_url: str, conn: redis.Redis) -> None:
    Queue("default", connection=conn).enqueue("worker.demo_tasks.cache_warm")
    result = rqtop("-u", redis_url, "status", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["pending"] == 1


def test_demo_refuses_a_database_it_did_not_write(redis_url: str, conn: redis.Redis) -> None:
    """The demo replaces the registered schedules: pointed at a database in use, it stops before writing."""
    conn.hset("rqtop:schedules", "billing_close", "{}")
    line = one_error_line(rqtop("demo", "--no-dashboard", "--duration", "1", url=redis_url))
    assert "rqtop demo did not write" in line
    assert conn.keys("*") == [b"rqtop:schedules"] and conn.hkeys("rqtop:schedules") == [b"billing_close"]


@pytest.mark.parametrize("verb", ["run-now", "pause", "resume"])
def test_unknown_schedule_name_exits_2(verb: str, redis_url: str) -> None:
    result = rqtop(verb, "no_such_schedule", "--yes", url=redis_url)
    assert result.returncode == 2
    assert "no_such_schedule" in (result.stdout + result.stderr)


def _beside_rq2(rq2_bin: Path, *args: str, url: str) -> subprocess.CompletedProcess[str]:
    """`python -m tui ARGS` with RQ 2.12 (from .venv-rq2) first on the path: rqtop installed beside an rq 2 app."""
    site = next((rq2_bin.parent / "lib").glob("python3*/site-packages"))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "RQ_REDIS_URL", "RQ_KEY_PREFIX")}
    env.update(PYTHONPATH=f"{site}{os.pathsep}{ROOT}", RQ_REDIS_URL=url)
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=60, input="")


def test_beside_rq2_status_reads_and_the_worker_says_it_needs_rq3(rq2_bin: Path, redis_url: str,
                                                                  conn: redis.Redis) -> None:
    """With rq 2.12 installed the dashboard's status works (it imports no rq); `rqtop worker` refuses in one line."""
    probe = _beside_rq2(rq2_bin, "--version", url=redis_url)
    assert probe.returncode == 0, probe.stderr
    found = subprocess.run([sys.executable, "-c", "import importlib.metadata as m; print(m.version('rq'))"],
                           capture_output=True, text=True, env={"PYTHONPATH": str(next(
                               (rq2_bin.parent / "lib").glob("python3*/site-packages")))})
    assert found.stdout.strip() == "2.12.0", "the rq these runs see is 2.12"
    Queue("default", connection=conn).enqueue("tests.jobs.say_hello")
    status = _beside_rq2(rq2_bin, "status", "--json", url=redis_url)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["queues"][0]["pending"] == 1
    line = one_error_line(_beside_rq2(rq2_bin, "worker", "--mode", "worker", url=redis_url))
    assert "needs rq >= 3.0 (installed: rq 2.12.0)" in line


def test_a_key_prefix_rq_refuses_is_one_line_exit_2(redis_url: str) -> None:
    assert "--key-prefix" in one_error_line(rqtop("status", "--key-prefix", "bad prefix!", url=redis_url))
