"""Run-time schedule edits (issue 19) through DashboardActions: validated as the file is, whole, raced, audited."""

from __future__ import annotations

import json
import threading

import pytest
import redis

from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import audit, keys
from worker.overrides import Override, effective_entries
from worker.plans import ActionResult
from worker.scheduler import register_effective
from worker.schedules import ScheduleEntry

FILE_ENTRY = ScheduleEntry(name="nightly", task="tests.jobs.ok", cron="0 3 * * *", timeout=60,
                           description="the file's")


@pytest.fixture
def actions(conn: redis.Redis) -> DashboardActions:
    """Actions against a Redis where the scheduler registered the file's one schedule."""
    register_effective(conn, [FILE_ENTRY])
    return DashboardActions(conn, Settings(), who="admin@host")


def _stored(conn: redis.Redis, name: str = "nightly") -> Override | None:
    raw = conn.hget(keys.SCHEDULE_OVERRIDES, name)
    return None if raw is None else Override.from_json(name, raw)


def _effective(conn: redis.Redis) -> dict[str, ScheduleEntry]:
    entries, errors = effective_entries([FILE_ENTRY], conn.hgetall(keys.SCHEDULE_OVERRIDES))
    assert errors == {}
    return {entry.name: entry for entry in entries}


def test_set_stores_only_the_changed_fields_against_the_file_fingerprint(
    conn: redis.Redis, actions: DashboardActions
) -> None:
    """The override holds the edited fields and the file entry's fingerprint; the effective entry merges them."""
    result = actions.set_schedule("nightly", {"interval": 300, "timeout": 120})
    assert result.ok, result.message
    assert "cron: \"0 3 * * *\" -> unset" in result.message and "timeout: 60 -> 120" in result.message
    stored = _stored(conn)
    assert stored is not None and stored.kind == "override" and stored.who == "admin@host"
    assert stored.fields == {"cron": None, "interval": 300, "timeout": 120}
    effective = _effective(conn)["nightly"]
    assert (effective.cron, effective.interval, effective.timeout, effective.description) == (
        None, 300, 120, "the file's")
    assert conn.hget(keys.SCHEDULES, "nightly") == FILE_ENTRY.to_json().encode(), "applied by the scheduler only"

    again = actions.set_schedule("nightly", {"cron": "*/5 * * * *"})
    assert again.ok
    assert _effective(conn)["nightly"].cron == "*/5 * * * *" and _effective(conn)["nightly"].timeout == 120


@pytest.mark.parametrize(("fields", "message"), [
    ({"cron": "61 * * * *"}, "run-time override: schedule 'nightly': field 'cron': invalid cron expression "
                             "'61 * * * *': minute value 61 is out of range 0-59"),
    ({"timezone": "Mars/Olympus"}, "run-time override: schedule 'nightly': field 'timezone': unknown timezone "
                                   "'Mars/Olympus'"),
    ({"timeout": 0}, "run-time override: schedule 'nightly': field 'timeout': must be a whole number from 1 to "
                     "604800, got 0"),
    ({"priority": "urgent"}, "run-time override: schedule 'nightly': field 'priority': unknown priority 'urgent' "
                             "(expected high, normal or low)"),
    ({"task": "os.system"}, "run-time override: schedule 'nightly': field 'task': cannot be changed at run time"),
    ({"cron": "0 0 30 2 *"}, "run-time override: schedule 'nightly': field 'cron': cron expression '0 0 30 2 *' "
                             "never fires (no such date, e.g. 30 February)"),
])
def test_invalid_edit_is_refused_with_the_file_message_and_changes_nothing(
    conn: redis.Redis, actions: DashboardActions, fields: dict[str, object], message: str
) -> None:
    """Same parser and words as the file; the whole edit is refused (a good field beside a bad one is not kept)."""
    before = conn.hgetall(keys.SCHEDULE_OVERRIDES)
    result = actions.set_schedule("nightly", {"description": "good", **fields})
    assert not result.ok
    assert result.message.startswith(message), result.message
    assert "\n" not in result.message
    assert conn.hgetall(keys.SCHEDULE_OVERRIDES) == before == {}
    assert audit.read(conn) == (), "a refused edit writes no audit entry"
    assert audit.refused_counts(conn) == {"schedule_set:not_allowed": 1}


def test_reset_removes_the_override_and_is_audited_with_before_and_after(
    conn: redis.Redis, actions: DashboardActions
) -> None:
    assert actions.set_schedule("nightly", {"cron": "*/5 * * * *"}).ok
    reset = actions.reset_schedule("nightly")
    assert reset.ok and conn.hget(keys.SCHEDULE_OVERRIDES, "nightly") is None
    assert not actions.reset_schedule("nightly").ok, "nothing left to reset"
    outcomes = [e for e in audit.read(conn) if e.phase == "outcome"][::-1]
    assert [(e.action, e.target) for e in outcomes] == [("schedule_set", "nightly"), ("schedule_reset", "nightly")]
    assert json.loads(outcomes[0].before)["cron"] == "0 3 * * *"
    assert json.loads(outcomes[0].after)["cron"] == "*/5 * * * *"
    assert json.loads(outcomes[1].before)["cron"] == "*/5 * * * *"
    assert json.loads(outcomes[1].after)["cron"] == "0 3 * * *"


def test_an_empty_field_unsets_the_files_value(conn: redis.Redis, actions: DashboardActions) -> None:
    """None (the form's cleared field) removes the file's timeout, also over an earlier override."""
    assert actions.set_schedule("nightly", {"description": "x"}).ok
    assert actions.set_schedule("nightly", {"timeout": None}).ok
    stored = _stored(conn)
    assert stored is not None and stored.fields == {"description": "x", "timeout": None}
    assert _effective(conn)["nightly"].timeout is None


def test_an_edit_back_to_the_file_leaves_no_override(conn: redis.Redis, actions: DashboardActions) -> None:
    assert actions.set_schedule("nightly", {"timeout": 90}).ok
    assert actions.set_schedule("nightly", {"timeout": 60}).ok
    assert conn.hget(keys.SCHEDULE_OVERRIDES, "nightly") is None


def test_create_edit_and_delete_a_runtime_schedule(conn: redis.Redis, actions: DashboardActions) -> None:
    table = {"name": "adhoc", "task": "tests.jobs.ok", "interval": 30, "kwargs": {"value": 1}}
    created = actions.create_schedule(table)
    assert created.ok, created.message
    stored = _stored(conn, "adhoc")
    assert stored is not None and stored.kind == "runtime" and stored.fields == table
    assert actions.set_schedule("adhoc", {"interval": 45}).ok
    assert _effective(conn)["adhoc"].interval == 45
    duplicate = actions.create_schedule(table)
    assert not duplicate.ok and "already exists" in duplicate.message
    clash = actions.create_schedule({**table, "name": "nightly"})
    assert not clash.ok and "the file already has a schedule 'nightly'" in clash.message
    assert not actions.delete_schedule("nightly").ok, "a file schedule is never deleted at run time"
    assert not actions.reset_schedule("adhoc").ok
    assert actions.delete_schedule("adhoc").ok and _stored(conn, "adhoc") is None


def test_create_refuses_a_bad_table_in_the_file_words(conn: redis.Redis, actions: DashboardActions) -> None:
    result = actions.create_schedule({"name": "adhoc", "task": "tests.jobs.ok"})
    assert not result.ok
    assert result.message == ("run-time schedule: schedule 'adhoc': field 'cron': one of 'cron' or 'interval' "
                              "is required")
    bad_name = actions.create_schedule({"name": "Bad Name", "task": "tests.jobs.ok", "interval": 5})
    assert not bad_name.ok and "field 'name': 'Bad Name' must be 1-64 of a-z, 0-9 and _" in bad_name.message
    assert conn.hgetall(keys.SCHEDULE_OVERRIDES) == {}


def test_read_only_refuses_every_edit(conn: redis.Redis) -> None:
    register_effective(conn, [FILE_ENTRY])
    actions = DashboardActions(conn, Settings(read_only=True))
    for result in (actions.set_schedule("nightly", {"timeout": 5}), actions.reset_schedule("nightly"),
                   actions.create_schedule({"name": "x", "task": "tests.jobs.ok", "interval": 5}),
                   actions.delete_schedule("x")):
        assert not result.ok and "read-only" in result.message
    assert conn.hgetall(keys.SCHEDULE_OVERRIDES) == {}


def test_two_admins_editing_at_once_end_with_one_whole_edit(conn: redis.Redis, redis_url: str) -> None:
    """Many rounds of two concurrent edits of the same fields: the result is always exactly one of them."""
    register_effective(conn, [FILE_ENTRY])
    first = {"cron": "*/5 * * * *", "timeout": 111, "description": "edit A"}
    second = {"interval": 600, "timeout": 222, "description": "edit B"}
    for _ in range(25):
        conn.delete(keys.SCHEDULE_OVERRIDES)
        start = threading.Barrier(2)
        results: list[ActionResult] = []

        def edit(fields: dict[str, object], who: str, start: threading.Barrier, results: list[ActionResult]) -> None:
            admin = DashboardActions(redis.Redis.from_url(redis_url), Settings(), who=who)
            start.wait()
            results.append(admin.set_schedule("nightly", fields))

        threads = [threading.Thread(target=edit, args=(fields, who, start, results))
                   for fields, who in ((first, "a"), (second, "b"))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert all(result.ok for result in results), [r.message for r in results]
        final = _effective(conn)["nightly"]
        shape = (final.cron, final.interval, final.timeout, final.description)
        assert shape in (("*/5 * * * *", None, 111, "edit A"), (None, 600, 222, "edit B")), shape


def test_the_row_shows_overridden_its_diff_and_a_file_that_changed_under_it(
    conn: redis.Redis, actions: DashboardActions
) -> None:
    """After a deploy changes the file's entry, the override still applies and the row says the file changed."""
    from tui.data.reader import DashboardReader

    reader = DashboardReader(conn, Settings())
    assert actions.set_schedule("nightly", {"cron": "*/5 * * * *"}).ok
    register_effective(conn, [FILE_ENTRY])  # the scheduler's tick
    row = next(row for row in reader.read().schedules if row.name == "nightly")
    assert (row.override, row.file_changed, row.cron) == ("overridden", False, "*/5 * * * *")
    assert row.override_diff == ('cron: "0 3 * * *" -> "*/5 * * * *"',)

    deployed = ScheduleEntry(name="nightly", task="tests.jobs.ok", cron="0 4 * * *", timeout=60,
                             description="the new file's")
    _, entries = register_effective(conn, [deployed])  # a restart with the new file
    assert entries[0].cron == "*/5 * * * *" and entries[0].description == "the new file's"
    row = next(row for row in reader.read().schedules if row.name == "nightly")
    assert (row.override, row.file_changed) == ("overridden", True)
    assert row.override_diff == ('cron: "0 4 * * *" -> "*/5 * * * *"',)
    assert actions.set_schedule("nightly", {"timeout": 61}).ok, "a new edit is made against the file as it is now"
    assert next(row for row in reader.read().schedules if row.name == "nightly").file_changed is False


def test_hostile_edit_documents_never_break_a_refresh_or_the_scheduler(
    conn: redis.Redis, actions: DashboardActions
) -> None:
    """Not JSON, the wrong shape, escapes and a wrong-type key: rows read, the scheduler notes them and goes on."""
    from tui.data.reader import DashboardReader

    conn.hset(keys.SCHEDULE_OVERRIDES, mapping={
        "nightly": b"\x80\x04not json",
        "ghost": json.dumps({"kind": "runtime", "fields": {"name": "ghost", "task": "os.system", "interval": 5,
                                                          "kwargs": {"command": "touch /tmp/pwned"}}}),
        "evil\x1b[31m": json.dumps({"kind": "override", "fields": {"cron": "\x1b[2J"}}),
    })
    _, entries = register_effective(conn, [FILE_ENTRY])
    assert [entry.name for entry in entries] == ["nightly"]
    errors = {k.decode(): v.decode() for k, v in conn.hgetall(keys.OVERRIDE_ERRORS).items()}
    assert errors["ghost"] == ("run-time schedule: schedule 'ghost': field 'task': 'os.system' is not in a module "
                               "of the schedules file's tasks (allowed: tests.jobs) (not scheduled)")
    assert errors["nightly"].startswith("override of 'nightly' is not JSON")
    assert "the file has no such schedule" in errors["evil\x1b[31m"]
    rows = {row.name: row for row in DashboardReader(conn, Settings()).read().schedules}
    assert rows["nightly"].override == "overridden" and "not JSON" in rows["nightly"].override_error
    assert "ghost" not in rows and not conn.hexists(keys.SCHEDULES, "ghost")
    refused = actions.create_schedule({"name": "ghost2", "task": "os.system", "interval": 5})
    assert not refused.ok and "'os.system' is not in a module of the schedules file's tasks" in refused.message
    conn.delete(keys.SCHEDULE_OVERRIDES)
    conn.set(keys.SCHEDULE_OVERRIDES, "a string, not a hash")
    rows = {row.name: row for row in DashboardReader(conn, Settings()).read().schedules}
    assert rows["nightly"].override == ""
