"""Issue 15 item 23: the CLI's non-destructive verbs never ask, run-now prints its job id, every option has
help, summaries are not cut, `status` help matches its output and `--json` is stable, `audit` has a header,
hides zero counters and speaks JSON."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import click
import redis

from tests.cli_support import rqtop
from tests.test_cli_faults import plant_work
from tui.cli import cli
from tui.data.models import MetricRow, Snapshot, WorkerRow
from tui.data.status_document import status_json
from worker import audit, keys


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command under ``group``, by its full name."""
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        found.append((prefix + name, command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


def test_every_option_of_every_command_has_help() -> None:
    missing = [f"{name} {param.opts[0]}" for name, command in [("rqtop", cli), *_commands(cli)]
               for param in command.params
               if isinstance(param, click.Option) and not param.hidden and not param.help
               and param.opts[0] not in ("--version",)]
    assert missing == []


def test_command_summaries_are_not_cut_in_the_help_listing() -> None:
    result = rqtop("--help")
    assert result.returncode == 0, result.stderr
    listing = result.stdout.split("Commands:", 1)[1]
    assert "..." not in listing, listing


def test_status_help_matches_its_default_output(redis_url: str, conn: redis.Redis) -> None:
    summary = cli.commands["status"].get_short_help_str(200)
    assert "summary line" in summary and "JSON" not in summary.split(";")[0]
    result = rqtop("status", url=redis_url)
    assert result.returncode == 0 and len(result.stdout.strip().splitlines()) == 1


def test_status_json_is_versioned_sorted_rounded_with_hourly_arrays_on_one_line() -> None:
    taken = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
    metric = MetricRow(task="t", runs=3, failures=0, success_rate=99.65432, p50_s=0.123456, p95_s=None, max_s=None,
                       last_run=taken, hourly_runs=(1, 2, 3))
    worker = WorkerRow(name="w", hostname=None, pid=None, mode="rq", version=None, status="online", processed=1,
                       failed=0, current_job="t", last_seen=taken, current_started=taken.timestamp() - 12.3456,
                       birth=taken - timedelta(seconds=60), read_at=taken.timestamp() - 2.04)
    text = status_json(Snapshot(taken_at=taken, metrics=(metric,), workers=(worker,)))
    doc = json.loads(text)
    assert list(doc)[0] == "schema_version" and list(doc)[1:] == sorted(list(doc)[1:])
    assert list(doc["workers"][0]) == sorted(doc["workers"][0]), "a row's keys sorted, the durations among them"
    assert doc["schema_version"] == 1 and doc["metrics"][0]["last_run"] == "2026-12-07T12:00:00Z"
    assert doc["metrics"][0]["p50_s"] == 0.1 and doc["metrics"][0]["success_rate"] == 99.65
    assert (doc["workers"][0]["current_elapsed_s"], doc["workers"][0]["uptime_s"],
            doc["workers"][0]["read_age_s"]) == (12.3, 60.0, 2.0), "durations at taken_at, rounded to 0.1 s"
    assert "current_started" not in doc["workers"][0] and "read_at" not in doc["workers"][0]
    assert '"hourly_runs": [1, 2, 3]' in text


def test_status_json_from_redis_has_the_schema_version_first(redis_url: str) -> None:
    result = rqtop("status", "--json", url=redis_url)
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout))[0] == "schema_version"


def test_pause_and_resume_do_not_ask_even_without_a_terminal(redis_url: str, conn: redis.Redis) -> None:
    plant_work(conn)
    result = rqtop("pause", "nightly", url=redis_url)
    assert result.returncode == 0, result.stderr
    assert conn.sismember(keys.PAUSED, "nightly")
    result = rqtop("resume", "nightly", url=redis_url)
    assert result.returncode == 0, result.stderr
    assert not conn.sismember(keys.PAUSED, "nightly")


def test_run_now_does_not_ask_and_prints_the_job_id(redis_url: str, conn: redis.Redis) -> None:
    plant_work(conn)
    result = rqtop("run-now", "nightly", url=redis_url)
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.strip().splitlines()[-1].removeprefix("job id: ")
    assert job_id and conn.exists(keys.rq_job(job_id))


def test_audit_has_a_header_hides_zero_counters_and_speaks_json(redis_url: str, conn: redis.Redis) -> None:
    with audit.recorded(conn, "ann", "cancel_pending", "low") as outcome:
        outcome.counts, outcome.ok = {"canceled": 3, "missing": 0}, True
    result = rqtop("audit", url=redis_url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("WHEN (UTC)") and "ACTION" in lines[0]
    assert "canceled=3" in result.stdout and "missing=0" not in result.stdout
    doc = json.loads(rqtop("audit", "--json", url=redis_url).stdout)
    assert doc["schema_version"] == 1
    assert [entry["phase"] for entry in doc["entries"]] == ["outcome", "intent"]
    assert doc["entries"][0]["counts"] == {"canceled": 3, "missing": 0}
