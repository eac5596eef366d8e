"""Parse and validate schedules.toml into frozen entries, in full, before anything is registered."""

from __future__ import annotations

import importlib
import inspect
import json
import math
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cron_descriptor import ExpressionDescriptor, Options
from croniter import CroniterBadDateError, croniter

from worker.notify.config import NOTIFY_TABLE_KEYS, POLICIES, NotifyConfigError, addresses, webhook_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PRIORITY_QUEUES = {"high": "high", "normal": "default", "low": "low"}
"""Priority name -> RQ queue; workers listen to high, default, low in that order."""

QUEUE_PRIORITIES = {queue: priority for priority, queue in PRIORITY_QUEUES.items()}

NAME_PATTERN = re.compile(r"[a-z0-9_]{1,64}")
TOP_LEVEL_KEYS = {"timezone", "schedule", "notify"}
ENTRY_KEYS = {
    "name", "task", "description", "cron", "interval", "priority", "timezone",
    "expires_after_min", "timeout", "kwargs", "run_now", "run_now_reason", "notify", "webhook",
}
DEFAULT_PATH = "schedules.toml"

MAX_INTERVAL_S = 366 * 86400
"""Longest ``interval``: a year (a rarer run is a cron's job); beyond it next-run times overflow."""
MAX_TIMEOUT_S = 7 * 86400
"""Longest ``timeout``: a week, far inside what RQ (a C ``alarm``) and Redis expiries accept."""
MAX_EXPIRES_AFTER_MIN = 7 * 24 * 60
"""Longest ``expires_after_min``: a week of waiting in the queue."""
INT_LIMITS = {"interval": MAX_INTERVAL_S, "timeout": MAX_TIMEOUT_S, "expires_after_min": MAX_EXPIRES_AFTER_MIN}

CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12), ("day-of-week", 0, 7))
"""The five cron fields rqtop accepts, with the range of their numbers (croniter alone lets */61 through)."""


class ScheduleError(ValueError):
    """A schedules file that cannot be used; ``str()`` is one line naming file, schedule and field."""

    def __init__(self, messages: list[str]):
        super().__init__(messages[0])
        self.messages = messages


@dataclass(frozen=True)
class ScheduleEntry:
    """One recurring job: what runs, when, and at which priority."""

    name: str
    task: str
    description: str = ""
    cron: str | None = None
    interval: int | None = None
    priority: str = "normal"
    timezone: str = "UTC"
    expires_after_min: int | None = None
    timeout: int | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    run_now: bool = True
    run_now_reason: str | None = None
    notify: str | None = None
    """failures, all or never; None: all when a global alert target is configured, else never."""
    webhook: str | None = None
    """This schedule's own webhook URL (instead of the global one)."""

    @property
    def queue(self) -> str:
        """The RQ queue this schedule's jobs go to."""
        return PRIORITY_QUEUES[self.priority]

    @property
    def ttl_s(self) -> int | None:
        """RQ ``ttl``: how long a run may wait in the queue before it is dropped."""
        return self.expires_after_min * 60 if self.expires_after_min else None

    @property
    def schedule_text(self) -> str:
        """Friendly text, e.g. "Every 15 minutes" or "At 06:00 UTC"."""
        return describe(self.cron, self.interval, self.timezone)

    def next_run(self, after: float) -> float:
        """Epoch of the first run strictly after ``after``, computed with croniter in the entry's timezone."""
        if self.interval:
            return after + self.interval
        start = datetime.fromtimestamp(after, tz=ZoneInfo(self.timezone))
        return float(croniter(self.cron, start).get_next(float))

    def to_json(self) -> str:
        """The definition stored in Redis so a dashboard on another host can show it."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> ScheduleEntry:
        """Inverse of ``to_json``; raises ValueError (or TypeError) on a malformed document."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("schedule definition is not an object")
        known = {key: value for key, value in data.items() if key in ENTRY_KEYS}
        return cls(**known)


def _cron_fires(cron: str) -> bool:
    """Whether a valid cron expression has a next run at all (``0 0 30 2 *`` passes croniter.is_valid but never
    fires, and the scheduler would crash computing its next run)."""
    try:
        croniter(cron, datetime.now(timezone.utc)).get_next(datetime)
    except CroniterBadDateError:
        return False
    return True


def load_schedules(path: str | Path, check_imports: bool = True) -> tuple[ScheduleEntry, ...]:
    """Read and validate a schedules file; raise ScheduleError listing every problem found."""
    label = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScheduleError([f"{label}: cannot read file ({exc.strerror or exc})"]) from None
    except UnicodeDecodeError as exc:
        raise ScheduleError([f"{label}: not UTF-8 text (byte {exc.start} cannot be decoded)"]) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError([f"{label}: TOML syntax error: {exc}"]) from None
    return parse_document(document, label, check_imports=check_imports)


def parse_document(document: dict[str, Any], label: str, check_imports: bool = True) -> tuple[ScheduleEntry, ...]:
    """Validate a decoded schedules document; every error is collected, the first is the message."""
    errors: list[str] = []
    for key in sorted(set(document) - TOP_LEVEL_KEYS):
        errors.append(f"{label}: unknown top-level key '{key}' (expected: timezone, [notify], [[schedule]])")
    _check_notify_table(document.get("notify", {}), label, errors)
    default_tz = document.get("timezone", "UTC")
    if not isinstance(default_tz, str) or not _valid_timezone(default_tz):
        errors.append(f"{label}: field 'timezone': unknown timezone {default_tz!r}")
        default_tz = "UTC"
    if "schedule" not in document:
        errors.append(f"{label}: no [[schedule]] entries; write 'schedule = []' to mean no schedules on purpose")
    raw_entries = document.get("schedule", [])
    if not isinstance(raw_entries, list):
        errors.append(f"{label}: 'schedule' must be an array of tables ([[schedule]])")
        raw_entries = []
    entries: list[ScheduleEntry] = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_entries, start=1):
        entry = _parse_entry(raw, position, label, default_tz, seen, errors, check_imports)
        if entry is not None:
            entries.append(entry)
    if errors:
        raise ScheduleError(errors)
    return tuple(entries)


def _parse_entry(
    raw: Any, position: int, label: str, default_tz: str, seen: set[str], errors: list[str], check_imports: bool
) -> ScheduleEntry | None:
    """Validate one [[schedule]] table, appending an error line per bad field."""
    name = raw.get("name") if isinstance(raw, dict) else None
    where = f"{label}: schedule '{name}'" if isinstance(name, str) and name else f"{label}: schedule #{position}"
    before = len(errors)

    def bad(field_name: str, problem: str) -> None:
        errors.append(f"{where}: field '{field_name}': {problem}")

    if not isinstance(raw, dict):
        errors.append(f"{where}: must be a table")
        return None
    for key in sorted(set(raw) - ENTRY_KEYS):
        bad(key, f"unknown key (expected one of: {', '.join(sorted(ENTRY_KEYS))})")
    if not isinstance(name, str) or not name:
        bad("name", "missing")
    elif not NAME_PATTERN.fullmatch(name):
        bad("name", f"{name!r} must be 1-64 of a-z, 0-9 and _")
    elif name in seen:
        bad("name", f"duplicate name {name!r}")
    else:
        seen.add(name)

    task = raw.get("task")
    func: Callable[..., Any] | None = None
    if not isinstance(task, str) or not task.strip():
        bad("task", "missing")
    elif check_imports:
        func = _import_task(task, lambda problem: bad("task", problem))

    cron, interval = raw.get("cron"), raw.get("interval")
    if cron is None and interval is None:
        bad("cron", "one of 'cron' or 'interval' is required")
    elif cron is not None and interval is not None:
        bad("cron", "give either 'cron' or 'interval', not both")
    elif cron is not None and not isinstance(cron, str):
        bad("cron", f"must be a string, got {cron!r}")
    elif cron is not None and (problem := _cron_problem(cron)):
        bad("cron", problem)
    elif cron is not None and not croniter.is_valid(cron):
        bad("cron", f"invalid cron expression {cron!r}")
    elif cron is not None and not _cron_fires(cron):
        bad("cron", f"cron expression {cron!r} never fires (no such date, e.g. 30 February)")

    priority = raw.get("priority", "normal")
    if not isinstance(priority, str) or priority not in PRIORITY_QUEUES:
        bad("priority", f"unknown priority {priority!r} (expected high, normal or low)")
    tz = raw.get("timezone", default_tz)
    if not isinstance(tz, str) or not _valid_timezone(tz):
        bad("timezone", f"unknown timezone {tz!r}")
    for int_field, limit in INT_LIMITS.items():
        value = raw.get(int_field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= limit):
            bad(int_field, f"must be a whole number from 1 to {limit}, got {value!r}")
    kwargs = raw.get("kwargs", {})
    if not isinstance(kwargs, dict):
        bad("kwargs", "must be a table")
        kwargs = {}
    elif (found := _not_plain_data(kwargs, "kwargs")) is not None:
        bad(found[0], f"{found[1]}; kwargs must be plain JSON data (strings, numbers, booleans, arrays, tables)")
    description = raw.get("description", "")
    if not isinstance(description, str):
        bad("description", "must be a string")
    run_now = raw.get("run_now", True)
    if not isinstance(run_now, bool):
        bad("run_now", "must be true or false")
    reason = raw.get("run_now_reason")
    if reason is not None and not isinstance(reason, str):
        bad("run_now_reason", "must be a string")
    notify = raw.get("notify")
    if notify is not None and notify not in POLICIES:
        bad("notify", f"must be one of {', '.join(POLICIES)}, got {notify!r}")
    webhook = raw.get("webhook")
    if webhook is not None:
        problem = _notify_problem(webhook, "webhook")
        if problem:
            bad("webhook", problem)
    if func is not None and isinstance(kwargs, dict):
        missing = _missing_parameters(func, kwargs)
        if missing:
            bad("kwargs", f"task needs parameter(s) {', '.join(missing)} that the schedule does not give")

    if len(errors) > before:
        return None
    assert isinstance(name, str) and isinstance(task, str)  # both checked above: an error returned None
    return ScheduleEntry(
        name=name, task=task, description=description, cron=cron, interval=interval, priority=priority,
        timezone=tz, expires_after_min=raw.get("expires_after_min"), timeout=raw.get("timeout"),
        kwargs=dict(kwargs), run_now=run_now, run_now_reason=reason, notify=notify, webhook=webhook,
    )


def _notify_problem(value: Any, kind: str) -> str | None:
    """Why a webhook URL or an address list is unusable (one phrase), or None."""
    if not isinstance(value, str):
        return "must be a string"
    try:
        if kind == "webhook":
            webhook_url(value, kind)
        else:
            addresses(value, kind)
    except NotifyConfigError as exc:
        return str(exc).split(": ", 1)[1]
    return None


def _check_notify_table(table: Any, label: str, errors: list[str]) -> None:
    """Validate the optional ``[notify]`` table (email, webhook), one error line per bad field."""
    if not isinstance(table, dict):
        errors.append(f"{label}: 'notify' must be a table ([notify])")
        return
    for key in sorted(set(table) - set(NOTIFY_TABLE_KEYS)):
        errors.append(f"{label}: [notify]: field '{key}': unknown key (expected one of: email, webhook)")
    for key in NOTIFY_TABLE_KEYS:
        if key in table and (problem := _notify_problem(table[key], key)):
            errors.append(f"{label}: [notify]: field '{key}': {problem}")


def load_notify_table(path: str | Path) -> dict[str, Any]:
    """The ``[notify]`` table of a schedules file that ``load_schedules`` accepted ({} when it has none)."""
    document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    table = document.get("notify", {})
    return table if isinstance(table, dict) else {}


def _cron_problem(cron: str) -> str | None:
    """Why a cron string is not five in-range fields (croniter reads a sixth as seconds, lets */61 through)."""
    parts = cron.split()
    if len(parts) != len(CRON_FIELDS):
        return (f"invalid cron expression {cron!r}: {len(parts)} field(s); give exactly 5 "
                "(minute hour day-of-month month day-of-week), no seconds or year")
    for text, (field_name, low, high) in zip(parts, CRON_FIELDS, strict=True):
        for item in text.split(","):
            base, _, step = item.partition("/")
            if step and not (step.isdigit() and 1 <= int(step) <= high):
                return f"invalid cron expression {cron!r}: {field_name} step {step!r} is out of range 1-{high}"
            for number in re.findall(r"\d+", base.partition("#")[0]):
                if not low <= int(number) <= high:
                    return f"invalid cron expression {cron!r}: {field_name} value {number} is out of range {low}-{high}"
    return None


def _not_plain_data(value: Any, where: str) -> tuple[str, str] | None:
    """The first (dotted path, problem) in ``value`` that JSON cannot carry as-is (TOML dates, nan/inf)."""
    if isinstance(value, dict):
        for key, item in value.items():
            found = _not_plain_data(item, f"{where}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _not_plain_data(item, f"{where}[{index}]")
            if found is not None:
                return found
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return where, f"{value!r} is not a finite number"
    if value is None or isinstance(value, (str, int, float, bool)):
        return None
    return where, f"a TOML {type(value).__name__} (quote it as a string)"


def _import_task(path: str, report: Callable[[str], None]) -> Callable[..., Any] | None:
    """Import ``module.attr``; report a one-line problem and return None when it does not resolve."""
    module_name, _, attr = path.rpartition(".")
    if not module_name:
        report(f"{path!r} is not a dotted path like 'package.module.function'")
        return None
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is a config error here
        report(f"cannot import {module_name!r} ({type(exc).__name__}: {exc})")
        return None
    func = getattr(module, attr, None)
    if not callable(func):
        report(f"{module_name!r} has no callable {attr!r}")
        return None
    return func


def _missing_parameters(func: Callable[..., Any], kwargs: dict[str, Any]) -> list[str]:
    """Required parameters of ``func`` that ``kwargs`` does not supply."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return []
    return [
        name
        for name, param in signature.parameters.items()
        if param.default is inspect.Parameter.empty
        and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
        and name not in kwargs
    ]


def _valid_timezone(name: str) -> bool:
    """True when ``name`` is a known IANA timezone."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_CLOCK_TIME = re.compile(r"\d{2}:\d{2}(?!.*\d{2}:\d{2})")
"""The last HH:MM of a description, where the zone the schedule runs in is named."""


def describe(cron: str | None, interval: int | None, tz: str = "UTC") -> str:
    """Friendly text for a cron expression (cron-descriptor, in English and 24-hour time, with the zone after
    its last time of day: "At 09:00 UTC, only on Monday") or an interval; "Cron <expr>" when it cannot say."""
    if interval:
        return _describe_interval(interval)
    if not cron:
        return "—"
    options = Options()
    options.use_24hour_time_format, options.locale_code = True, "en_US"  # attributes: 1.x takes no arguments
    try:
        text = ExpressionDescriptor(cron, options).get_description()
    except Exception:  # cron-descriptor raises its FormatException and, for odd input, whatever its parser hits
        return f"Cron {cron}"
    return _CLOCK_TIME.sub(lambda match: f"{match.group(0)} {tz}", text, count=1) if text else f"Cron {cron}"


def _describe_interval(seconds: int) -> str:
    """'Every 90 seconds', 'Every 5 minutes', 'Every 2 hours'."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"Every {unit}" if count == 1 else f"Every {count} {unit}s"
    return f"Every {seconds} seconds"


def now_utc() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(tz=timezone.utc)
