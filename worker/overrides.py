"""Run-time schedule edits: an override of a file schedule or a run-time schedule, stored as plain JSON in Redis.

One hash (``keys.SCHEDULE_OVERRIDES``) maps a schedule name to one JSON document, written whole (a single HSET
under WATCH), so two admins editing at once end with one edit, never a mix:

    {"kind": "override" | "runtime", "fields": {...}, "base": "<fingerprint>", "who": "...", "at": <epoch>}

``fields`` are keys of a ``[[schedule]]`` table: for an override, only the fields it changes (applied over the
file's entry, ``cron`` replacing ``interval`` and back; a null removes the key); for a run-time schedule, its whole
table. Every document is validated by ``worker.schedules.parse_document``, the file's own parser and messages:
the dashboard and CLI with ``check_imports=False`` (they never import a task), the scheduler with imports checked.
``base`` is the fingerprint of the file entry an override was made against: when the file's entry changes
under it, the row says so (the override still applies, over the new entry).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from worker.records import as_text
from worker.schedules import ENTRY_KEYS, ScheduleEntry, ScheduleError, parse_document

Kind = Literal["override", "runtime"]
KINDS: tuple[Kind, ...] = ("override", "runtime")

EDITABLE_FIELDS = ("cron", "interval", "timezone", "priority", "timeout", "expires_after_min", "kwargs", "notify",
                   "description")
"""The fields an override may change (the task, name and webhook stay the file's)."""

OVERRIDE_LABEL = "run-time override"
"""What the file's messages name instead of a file path, for an override."""
RUNTIME_LABEL = "run-time schedule"
"""What the file's messages name instead of a file path, for a run-time schedule."""


@dataclass(frozen=True)
class Override:
    """One stored run-time edit: an override of a file schedule, or a whole run-time schedule."""

    name: str
    kind: Kind
    fields: dict[str, Any] = field(default_factory=dict)
    base: str = ""
    """Fingerprint of the file entry an override was made against ("" for a run-time schedule)."""
    who: str = ""
    at: float = 0.0

    def to_json(self) -> str:
        """The stored document (plain JSON, sorted keys; never a pickle)."""
        document = {"kind": self.kind, "fields": self.fields, "base": self.base, "who": self.who, "at": self.at}
        return json.dumps(document, sort_keys=True)

    @classmethod
    def from_json(cls, name: str, text: str | bytes) -> Override:
        """Inverse of ``to_json``; ValueError with one line when the document is not one."""
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"override of {name!r} is not JSON ({type(exc).__name__})") from None
        if not isinstance(data, dict) or data.get("kind") not in KINDS or not isinstance(data.get("fields"), dict):
            raise ValueError(f"override of {name!r} is not an override document")
        at = data.get("at", 0.0)
        return cls(name=name, kind=data["kind"], fields=dict(data["fields"]), base=str(data.get("base", "")),
                   who=str(data.get("who", "")), at=float(at) if isinstance(at, (int, float)) else 0.0)


def entry_table(entry: ScheduleEntry) -> dict[str, Any]:
    """A parsed entry as its ``[[schedule]]`` table: what a file would say (TOML has no null: unset keys left out)."""
    return {key: value for key, value in asdict(entry).items() if value is not None}


def fingerprint(entry: ScheduleEntry) -> str:
    """A short, stable digest of a file entry's definition (an override remembers the one it was made against)."""
    return hashlib.sha256(entry.to_json().encode()).hexdigest()[:16]


def merge(table: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``table`` with ``fields`` applied: ``cron`` and ``interval`` replace each other; a None value removes a key."""
    merged = dict(table)
    for key, value in fields.items():
        if key == "cron" and value is not None:
            merged.pop("interval", None)
        if key == "interval" and value is not None:
            merged.pop("cron", None)
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def validate(table: Mapping[str, Any], label: str, check_imports: bool = False) -> ScheduleEntry:
    """One schedule table through the file's parser; ScheduleError (one line per problem, the file's words)."""
    return parse_document({"schedule": [dict(table)]}, label, check_imports=check_imports)[0]


def check_fields(fields: Mapping[str, Any], label: str, name: str) -> None:
    """Refuse a field an override may not change, in the file's words."""
    for key in sorted(fields):
        if key not in EDITABLE_FIELDS:
            known = "unknown key" if key not in ENTRY_KEYS else "cannot be changed at run time"
            raise ScheduleError([f"{label}: schedule '{name}': field '{key}': {known} "
                                 f"(editable: {', '.join(EDITABLE_FIELDS)})"])


def effective_override(file_entry: ScheduleEntry, override: Override, check_imports: bool = False) -> ScheduleEntry:
    """The file entry with an override's fields applied, validated (ScheduleError when the pair no longer fits)."""
    check_fields(override.fields, OVERRIDE_LABEL, file_entry.name)
    return validate(merge(entry_table(file_entry), override.fields), OVERRIDE_LABEL, check_imports)


def runtime_entry(override: Override, check_imports: bool = False) -> ScheduleEntry:
    """A run-time schedule's entry, validated; its table must carry its own name."""
    if override.fields.get("name") != override.name:
        raise ScheduleError([f"{RUNTIME_LABEL}: schedule '{override.name}': field 'name': does not match its key"])
    return validate(override.fields, RUNTIME_LABEL, check_imports)


def read_overrides(raw: Mapping[Any, Any]) -> tuple[dict[str, Override], dict[str, str]]:
    """Decode an HGETALL of the overrides hash: the readable documents, and one line per unreadable one."""
    found: dict[str, Override] = {}
    bad: dict[str, str] = {}
    for key, value in raw.items():
        name = as_text(key)
        try:
            found[name] = Override.from_json(name, value)
        except ValueError as exc:
            bad[name] = str(exc)
    return found, bad


def effective_entries(
    file_entries: Iterable[ScheduleEntry], raw_overrides: Mapping[Any, Any], check_imports: bool = True,
) -> tuple[tuple[ScheduleEntry, ...], dict[str, str]]:
    """What the scheduler runs: the file's entries (overridden where an override fits) then the run-time schedules,
    and per schedule the one line saying why an override or run-time schedule was not applied."""
    overrides, errors = read_overrides(raw_overrides)
    entries: list[ScheduleEntry] = []
    names: set[str] = set()
    for entry in file_entries:
        names.add(entry.name)
        override = overrides.get(entry.name)
        if override is None:
            entries.append(entry)
        elif override.kind != "override":
            errors[entry.name] = f"{RUNTIME_LABEL}: schedule '{entry.name}': the file has a schedule of that name; " \
                                 "the file's is used"
            entries.append(entry)
        else:
            try:
                entries.append(effective_override(entry, override, check_imports))
            except ScheduleError as exc:
                errors[entry.name] = f"{exc.messages[0]} (the file's definition is used)"
                entries.append(entry)
    modules = task_modules(file_entries)
    for name, override in sorted(overrides.items()):
        if name in names:
            continue
        if override.kind != "runtime":
            errors[name] = f"{OVERRIDE_LABEL}: schedule '{name}': the file has no such schedule any more"
            continue
        try:
            check_task(override.fields.get("task"), name, modules)
            entries.append(runtime_entry(override, check_imports))
        except ScheduleError as exc:
            errors[name] = f"{exc.messages[0]} (not scheduled)"
    return tuple(entries), errors


def task_modules(file_entries: Iterable[ScheduleEntry]) -> frozenset[str]:
    """The modules the schedules file's tasks live in: a run-time schedule may run a task from one of them only."""
    return frozenset(entry.task.rpartition(".")[0] for entry in file_entries)


def check_task(task: Any, name: str, modules: frozenset[str]) -> None:
    """Refuse a run-time task outside the file's task modules (no ``os.system`` through a Redis write)."""
    if isinstance(task, str) and task.rpartition(".")[0] not in modules:
        allowed = ", ".join(sorted(modules)) or "none: the file has no schedule"
        raise ScheduleError([f"{RUNTIME_LABEL}: schedule '{name}': field 'task': {task!r} is not in a module of the "
                             f"schedules file's tasks (allowed: {allowed})"])


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """``field: old -> new`` for every field that differs between two schedule tables, in field order."""
    lines = []
    for key in [k for k in ENTRY_KEYS_ORDER if k in before or k in after]:
        old, new = before.get(key), after.get(key)
        if old != new:
            lines.append(f"{key}: {_show(old)} -> {_show(new)}")
    return tuple(lines)


ENTRY_KEYS_ORDER = ("name", "task", "description", "cron", "interval", "timezone", "priority", "timeout",
                    "expires_after_min", "kwargs", "notify", "webhook", "run_now", "run_now_reason")
"""Schedule table keys in the order a file (and a diff) lists them."""


def _show(value: Any) -> str:
    """A field value in a diff: JSON, or "unset"."""
    return "unset" if value is None else json.dumps(value, sort_keys=True)
