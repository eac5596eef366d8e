"""`rqtop schedules set|reset|create|delete|export` as real processes: one-line refusals, audit, a file that checks."""

from __future__ import annotations

import json
from pathlib import Path

import redis

from tests.cli_support import one_error_line, rqtop
from worker import audit, keys
from worker.overrides import Override
from worker.scheduler import register_effective
from worker.schedules import ScheduleEntry, load_schedules

FILE_ENTRY = ScheduleEntry(name="nightly", task="tests.jobs.ok", cron="0 3 * * *", timeout=60)


def _registered(conn: redis.Redis) -> None:
    register_effective(conn, [FILE_ENTRY, ScheduleEntry(name="hourly", task="tests.jobs.say_hello", interval=3600)])


def test_set_saves_an_override_and_reset_removes_it(conn: redis.Redis, redis_url: str) -> None:
    _registered(conn)
    done = rqtop("schedules", "set", "nightly", "--interval", "120", "--queue", "high", "--kwargs", '{"value": 7}',
                 "--notify", "failures", url=redis_url)
    assert done.returncode == 0, done.stderr
    assert "nightly: saved (" in done.stdout and "interval: unset -> 120" in done.stdout
    raw = conn.hget(keys.SCHEDULE_OVERRIDES, "nightly")
    assert raw is not None
    stored = Override.from_json("nightly", raw)
    assert stored.fields == {"cron": None, "interval": 120, "kwargs": {"value": 7}, "notify": "failures",
                             "priority": "high"}
    reset = rqtop("schedules", "reset", "nightly", url=redis_url)
    assert reset.returncode == 0 and "override removed" in reset.stdout
    assert conn.hget(keys.SCHEDULE_OVERRIDES, "nightly") is None
    shapes = [(e.action, json.loads(e.before).get("interval"), json.loads(e.after).get("interval"))
              for e in audit.read(conn) if e.phase == "outcome"][::-1]
    assert shapes == [("schedule_set", None, 120), ("schedule_reset", 120, None)]
    printed = rqtop("audit", url=redis_url)
    assert 'before={"cron": "0 3 * * *"' in printed.stdout


def test_bad_edits_are_one_line_exit_2_and_change_nothing(conn: redis.Redis, redis_url: str) -> None:
    _registered(conn)
    cases = {
        ("--cron", "61 * * * *"): "rqtop: error: run-time override: schedule 'nightly': field 'cron': invalid cron "
                                  "expression '61 * * * *': minute value 61 is out of range 0-59",
        ("--timezone", "Nowhere/City"): "rqtop: error: run-time override: schedule 'nightly': field 'timezone': "
                                        "unknown timezone 'Nowhere/City'",
        ("--kwargs", "{not json"): "rqtop: error: --kwargs: not JSON (",
        ("--kwargs", "[1, 2]"): "rqtop: error: --kwargs: must be a JSON object, got list",
        ("--queue", "urgent"): "rqtop: error: --queue: unknown queue 'urgent' (expected high, default, low)",
        ("--cron", "* * * * *", "--interval", "5"): "rqtop: error: --cron and --interval: give one of them",
        (): "rqtop: error: set: give at least one field to change",
    }
    for flags, message in cases.items():
        line = one_error_line(rqtop("schedules", "set", "nightly", *flags, url=redis_url))
        assert line.startswith(message), (flags, line)
    unknown = one_error_line(rqtop("schedules", "set", "nope", "--timeout", "5", url=redis_url))
    assert unknown == "rqtop: error: no schedule named 'nope' (run-time schedules are made with 'schedules create')"
    assert conn.hgetall(keys.SCHEDULE_OVERRIDES) == {}
    assert audit.read(conn) == ()


def test_read_only_refuses_every_edit_verb(conn: redis.Redis, redis_url: str) -> None:
    _registered(conn)
    for argv in (("set", "nightly", "--timeout", "5"), ("reset", "nightly"), ("delete", "x"),
                 ("create", "x", "--task", "tests.jobs.ok", "--interval", "5")):
        line = one_error_line(rqtop("--read-only", "schedules", *argv, url=redis_url))
        assert "refused in read-only mode" in line and "nothing was changed" in line
    assert conn.hgetall(keys.SCHEDULE_OVERRIDES) == {}


def test_create_delete_and_export_round_trip_through_check(conn: redis.Redis, redis_url: str, tmp_path: Path) -> None:
    """The exported file holds the overridden file entries and the run-time one; `schedules check` accepts it."""
    _registered(conn)
    assert rqtop("schedules", "set", "nightly", "--cron", "*/10 * * * *", "--timezone", "Europe/Berlin",
                 url=redis_url).returncode == 0
    created = rqtop("schedules", "create", "adhoc", "--task", "tests.jobs.say_hello", "--interval", "90",
                    "--kwargs", '{"name": "x\\u001b[31m"}', "--priority", "low", url=redis_url)
    assert created.returncode == 0, created.stderr
    assert "adhoc: run-time schedule created" in created.stdout
    exported = rqtop("schedules", "export", url=redis_url)
    assert exported.returncode == 0, exported.stderr
    path = tmp_path / "schedules.toml"
    path.write_text(exported.stdout)
    checked = rqtop("schedules", "check", str(path))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == f"{path}: 3 schedules OK"
    entries = {entry.name: entry for entry in load_schedules(path)}
    assert (entries["nightly"].cron, entries["nightly"].timezone, entries["nightly"].timeout) == (
        "*/10 * * * *", "Europe/Berlin", 60)
    assert entries["adhoc"] == ScheduleEntry(name="adhoc", task="tests.jobs.say_hello", interval=90,
                                             priority="low", kwargs={"name": "x\x1b[31m"})
    assert entries["hourly"].interval == 3600
    assert "\ntimezone = \"UTC\"\n" in exported.stdout

    refused = one_error_line(rqtop("schedules", "delete", "nightly", url=redis_url))
    assert "only run-time schedules can be deleted" in refused
    assert rqtop("schedules", "delete", "adhoc", url=redis_url).returncode == 0
    assert conn.hget(keys.SCHEDULE_OVERRIDES, "adhoc") is None


def test_export_leaves_out_what_the_scheduler_could_not_apply(conn: redis.Redis, redis_url: str,
                                                               tmp_path: Path) -> None:
    """A run-time schedule whose task does not import (checked in the worker) is named in a comment, not exported;
    one outside the file's task modules is refused at once."""
    _registered(conn)
    outside = one_error_line(rqtop("schedules", "create", "broken", "--task", "no_such_module.fn", "--interval",
                                   "60", url=redis_url))
    assert outside == ("rqtop: error: run-time schedule: schedule 'broken': field 'task': 'no_such_module.fn' is not "
                       "in a module of the schedules file's tasks (allowed: tests.jobs)")
    assert rqtop("schedules", "create", "broken", "--task", "tests.jobs.no_such_function", "--interval", "60",
                 url=redis_url).returncode == 0
    register_effective(conn, [FILE_ENTRY])  # the scheduler's next tick: imports checked there
    error = conn.hget(keys.OVERRIDE_ERRORS, "broken")
    assert error is not None and b"field 'task': 'tests.jobs' has no callable 'no_such_function'" in error
    assert not conn.hexists(keys.SCHEDULES, "broken")
    exported = rqtop("schedules", "export", url=redis_url).stdout
    assert "# not applied: run-time schedule: schedule 'broken': field 'task': 'tests.jobs' has no callable" in exported
    path = tmp_path / "schedules.toml"
    path.write_text(exported)
    assert [entry.name for entry in load_schedules(path)] == ["nightly"]
