"""Run-time schedule edits from the dashboard and CLI: set, reset, create and delete one override document.

Each edit reads the file's definition and the current override under WATCH, validates the result with the file's
parser (``worker.overrides``; tasks are never imported here) and writes the whole document in one MULTI/EXEC, so
two admins editing at once end with one of the two edits. The scheduler applies it from its next tick.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from worker import keys, overrides
from worker.overrides import OVERRIDE_LABEL, RUNTIME_LABEL, Override
from worker.schedules import NAME_PATTERN, ScheduleEntry, ScheduleError

ATTEMPTS = 20
"""How many times an edit re-reads and retries when another edit won the race (WATCH)."""


class EditRefused(ValueError):
    """An edit that cannot be made; ``str()`` is one line (the file's words for a bad field)."""


@dataclass(frozen=True)
class EditOutcome:
    """What one edit changed: the schedule's effective table before and after ({} when there was none / is none)."""

    name: str
    before: dict[str, Any]
    after: dict[str, Any]
    message: str

    def shape(self, which: str) -> str:
        """The before or after table as JSON text for the audit ("" when empty)."""
        table = self.before if which == "before" else self.after
        return json.dumps(table, sort_keys=True) if table else ""


def file_entry(client: redis.Redis | redis.client.Pipeline, name: str) -> ScheduleEntry | None:
    """The schedules file's own definition of ``name`` as the scheduler last loaded it, or None."""
    raw = client.hget(keys.FILE_SCHEDULES, name)
    if raw is None:
        return None
    try:
        return ScheduleEntry.from_json(raw)
    except (ValueError, TypeError):
        return None


def stored(client: redis.Redis | redis.client.Pipeline, name: str) -> tuple[Override | None, bool]:
    """The stored override or run-time schedule of ``name`` (None when there is none), and whether a stored
    document was unreadable (one HGET: both answers come from the same read)."""
    raw = client.hget(keys.SCHEDULE_OVERRIDES, name)
    if raw is None:
        return None, False
    try:
        return Override.from_json(name, raw), False
    except ValueError:
        return None, True


def effective_table(base: ScheduleEntry | None, override: Override | None) -> dict[str, Any]:
    """The table the scheduler would run for a file entry and its override (or a run-time schedule); {} for none."""
    if override is not None and override.kind == "runtime":
        return dict(override.fields)
    if base is None:
        return {}
    table = overrides.entry_table(base)
    return overrides.merge(table, override.fields) if override is not None else table


def set_fields(conn: redis.Redis, name: str, fields: Mapping[str, Any], who: str,
               clock: Callable[[], float] = time.time, dry_run: bool = False) -> EditOutcome:
    """Override fields of a file schedule (merged over its current override) or edit a run-time schedule."""

    def change(base: ScheduleEntry | None, current: Override | None) -> Override | None:
        if current is not None and current.kind == "runtime":
            check_runtime_fields(fields, name)
            table = overrides.merge(current.fields, fields)
            overrides.validate(table, RUNTIME_LABEL)
            return Override(name, "runtime", table, who=who, at=clock())
        if base is None:
            raise EditRefused(f"no schedule named {name!r} (run-time schedules are made with 'schedules create')")
        overrides.check_fields(fields, OVERRIDE_LABEL, name)
        patch = {**(current.fields if current is not None else {}), **fields}  # None: unset the file's value
        for key, other in (("cron", "interval"), ("interval", "cron")):
            if fields.get(key) is not None:
                patch[other] = None
        file_table = overrides.entry_table(base)
        table = overrides.merge(file_table, patch)
        overrides.validate(table, OVERRIDE_LABEL)
        if table == file_table:
            return None  # the edit says what the file says: no override left
        changed = sorted(key for key in set(table) | set(file_table) if table.get(key) != file_table.get(key))
        patch = {key: table.get(key) for key in changed}
        return Override(name, "override", patch, base=overrides.fingerprint(base), who=who, at=clock())

    return _edit(conn, name, change, "set", dry_run)


def reset(conn: redis.Redis, name: str, dry_run: bool = False) -> EditOutcome:
    """Remove a file schedule's override: the file's definition applies again from the next tick."""

    def change(base: ScheduleEntry | None, current: Override | None) -> Override | None:
        if current is not None and current.kind == "runtime":
            raise EditRefused(f"{name} is a run-time schedule, not in the file: remove it with 'schedules delete'")
        if current is None:
            raise EditRefused(f"{name} has no run-time override: it already runs as the file says"
                              if base is not None else f"no schedule named {name!r}")
        return None

    return _edit(conn, name, change, "reset", dry_run)


def create(conn: redis.Redis, table: Mapping[str, Any], who: str,
           clock: Callable[[], float] = time.time, dry_run: bool = False) -> EditOutcome:
    """Add a run-time schedule (its whole table, validated as the file is; the scheduler import-checks the task)."""
    name = table.get("name")
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        try:
            overrides.validate(table, RUNTIME_LABEL)  # the file's message for a missing or bad name
        except ScheduleError as exc:
            raise EditRefused(str(exc)) from None
        raise EditRefused(f"{RUNTIME_LABEL}: field 'name': missing")

    def change(base: ScheduleEntry | None, current: Override | None) -> Override | None:
        if base is not None:
            raise EditRefused(f"{RUNTIME_LABEL}: schedule '{name}': field 'name': the file already has a schedule "
                              f"{name!r} (edit it with 'schedules set')")
        if current is not None:
            raise EditRefused(f"{RUNTIME_LABEL}: schedule '{name}': field 'name': a run-time schedule {name!r} "
                              "already exists (edit it with 'schedules set')")
        overrides.validate(table, RUNTIME_LABEL)
        overrides.check_task(table.get("task"), name, known_modules(conn))
        return Override(name, "runtime", dict(table), who=who, at=clock())

    return _edit(conn, name, change, "create", dry_run)


def known_modules(conn: redis.Redis) -> frozenset[str]:
    """The modules of the schedules file's tasks (the worker import-checked them): where run-time tasks may come
    from."""
    entries = []
    for raw in conn.hvals(keys.FILE_SCHEDULES):
        try:
            entries.append(ScheduleEntry.from_json(raw))
        except (ValueError, TypeError):
            continue
    return overrides.task_modules(entries)


def delete(conn: redis.Redis, name: str, dry_run: bool = False) -> EditOutcome:
    """Remove a run-time schedule (the scheduler unregisters it on its next tick); file schedules are refused."""

    def change(base: ScheduleEntry | None, current: Override | None) -> Override | None:
        if current is None or current.kind != "runtime":
            raise EditRefused(f"{name} is in the schedules file: only run-time schedules can be deleted "
                              "(remove it from the file, or pause it)" if base is not None
                              else f"no run-time schedule named {name!r}")
        return None

    return _edit(conn, name, change, "delete", dry_run)


def check_runtime_fields(fields: Mapping[str, Any], name: str) -> None:
    """A run-time schedule's name cannot be edited (create another one instead)."""
    if "name" in fields and fields["name"] != name:
        raise EditRefused(f"{RUNTIME_LABEL}: schedule '{name}': field 'name': cannot be changed")


def _edit(conn: redis.Redis, name: str, change: Callable[[ScheduleEntry | None, Override | None], Override | None],
          verb: str, dry_run: bool = False) -> EditOutcome:
    """Read under WATCH, compute the new document (or None: remove it), write it whole; retry when raced.
    With ``dry_run`` nothing is written (the same checks, for refusing before the audit records an intent)."""
    for _ in range(ATTEMPTS):
        with conn.pipeline() as pipe:
            try:
                pipe.watch(keys.SCHEDULE_OVERRIDES, keys.FILE_SCHEDULES)
                base, (current, unreadable) = file_entry(pipe, name), stored(pipe, name)
                if unreadable and verb not in ("reset", "delete"):
                    raise EditRefused(f"{name}: its stored run-time edit is unreadable; 'schedules reset' or "
                                      "'schedules delete' removes it")
                try:
                    new = None if unreadable else change(base, current)
                except ScheduleError as exc:
                    raise EditRefused(str(exc)) from None
                if dry_run:
                    pipe.unwatch()
                    return EditOutcome(name, {}, {}, "")
                pipe.multi()
                if new is None:
                    pipe.hdel(keys.SCHEDULE_OVERRIDES, name)
                else:
                    pipe.hset(keys.SCHEDULE_OVERRIDES, name, new.to_json())
                pipe.execute()
            except redis.WatchError:
                continue
        before, after = effective_table(base, current), effective_table(base, new)
        return EditOutcome(name, before, after, _message(verb, name, before, after))
    raise EditRefused(f"{name}: other edits kept winning the race ({ATTEMPTS} attempts); nothing was changed")


def _message(verb: str, name: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    """The one-line result of an edit."""
    changes = overrides.diff(before, after)
    if verb == "reset":
        return f"{name}: override removed; the file's definition applies from the scheduler's next tick"
    if verb == "delete":
        return f"{name}: run-time schedule deleted; the scheduler drops it on its next tick"
    what = "; ".join(changes) if changes else "no field changed"
    lead = "run-time schedule created" if verb == "create" else "saved"
    return f"{name}: {lead} ({what}); the scheduler applies it from its next tick"

