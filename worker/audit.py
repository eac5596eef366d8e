"""The audit log of operator actions: one Redis stream trimmed by age, so every write an operator makes is on record.

Each action writes two entries: its intent before it touches anything and its outcome after (linked by the
intent's stream id), so an action that acts and then fails (a stall, OOM, a wrong-type key) is on record too.
Refused no-ops (nothing to do, already paused, a run already queued) are not entries: they only bump a counter
in a small hash whose fields come from a fixed vocabulary, so repeating them cannot flood the log.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import redis

from worker import keys
from worker.display_text import safe_text
from worker.records import ERROR_MAX, as_text, epoch_text, one_line

log = logging.getLogger("rqtop.audit")

Phase = Literal["intent", "outcome", ""]
PHASES: tuple[Phase, ...] = ("intent", "outcome", "")
"""An entry's phase; "" for a one-shot entry written before intent/outcome existed."""

Refusal = Literal["unknown", "not_allowed", "already_queued", "unchanged", "nothing_planned"]
REFUSALS: tuple[Refusal, ...] = ("unknown", "not_allowed", "already_queued", "unchanged", "nothing_planned")
"""Why an action did nothing; with the action name, the only fields of the refused-counter hash."""

SHAPE_MAX = 8192
"""Longest before/after shape kept in an entry (a schedule table is far smaller)."""

MAX_EPOCH = 253_402_300_799.0
"""The last second of year 9999: a larger ``at`` cannot be shown as a date."""



@dataclass(frozen=True)
class AuditEntry:
    """One recorded step of an action: who did what to which target, its counts, and how it ended."""

    id: str
    who: str
    action: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)
    at: float | None = None
    ok: bool = False
    phase: Phase = ""
    intent: str = ""
    """For an outcome: the stream id of its intent."""
    error: str = ""
    """For a failed outcome: the one line the failure said."""
    unreadable: tuple[str, ...] = ()
    """Fields (or ``counts.<name>``) that were present but could not be read."""
    before: str = ""
    """For an edit's outcome: the shape it replaced (JSON text; "" when none)."""
    after: str = ""
    """For an edit's outcome: the shape it left (JSON text; "" when it removed it)."""


@dataclass
class Outcome:
    """What the body of ``recorded`` reports: its per-step counts and whether it fully succeeded."""

    counts: dict[str, int] = field(default_factory=dict)
    ok: bool = True
    before: str = ""
    """An edit's shape before it (JSON text), recorded on the outcome."""
    after: str = ""
    """An edit's shape after it (JSON text), recorded on the outcome."""


def _add(conn: redis.Redis, fields: dict[str, str]) -> str:
    """``XADD rqtop:audit MINID ~ <now - AUDIT_KEEP_S>``: trimmed by age, so no burst can push old entries out."""
    oldest_ms = max(int((time.time() - keys.AUDIT_KEEP_S) * 1000), 0)
    entry: dict[Any, Any] = dict(fields)
    return as_text(conn.xadd(keys.AUDIT, entry, minid=f"{oldest_ms}-0", approximate=True))


def _base(who: str, action: str, target: str, now: float | None) -> dict[str, str]:
    """The fields every entry has."""
    return {"who": who, "action": action, "target": target, "at": epoch_text(time.time() if now is None else now)}


def append(
    conn: redis.Redis, who: str, action: str, target: str, counts: dict[str, int], ok: bool,
    now: float | None = None, phase: Phase = "", intent: str = "", error: str = "", before: str = "", after: str = "",
) -> str:
    """Add one entry and return its stream id (``before``/``after``: an edit's shapes, as JSON text)."""
    fields = {**_base(who, action, target, now), "counts": json.dumps(counts, sort_keys=True), "ok": "1" if ok else "0"}
    if phase:
        fields["phase"] = phase
    if intent:
        fields["intent"] = intent
    if error:
        fields["error"] = error[:ERROR_MAX]
    if before:
        fields["before"] = before[:SHAPE_MAX]
    if after:
        fields["after"] = after[:SHAPE_MAX]
    return _add(conn, fields)


def record_intent(conn: redis.Redis, who: str, action: str, target: str, now: float | None = None) -> str:
    """Record that an action is about to act; its id links the outcome."""
    return _add(conn, {**_base(who, action, target, now), "phase": "intent"})


@contextmanager
def recorded(conn: redis.Redis, who: str, action: str, target: str,
             clock: Any = time.time) -> Iterator[Outcome]:
    """Intent before the body acts, outcome after; a body that raises gets a failed outcome and the error goes on.

    When the intent cannot be written the body never runs. When the failed outcome cannot be written either
    (the same fault), that is logged and the original error is the one raised.
    """
    intent = record_intent(conn, who, action, target, now=clock())
    outcome = Outcome()
    try:
        yield outcome
    except Exception as exc:
        try:
            append(conn, who, action, target, outcome.counts, False, now=clock(), phase="outcome", intent=intent,
                   error=f"{type(exc).__name__}: {one_line(exc)}")
        except redis.RedisError as also:
            log.info("audit: the outcome of %s (%s) could not be recorded: %s", action, intent, one_line(also))
        raise
    append(conn, who, action, target, outcome.counts, outcome.ok, now=clock(), phase="outcome", intent=intent,
           before=outcome.before, after=outcome.after)


def refused(conn: redis.Redis, action: str, reason: Refusal) -> None:
    """Count a refused no-op (``HINCRBY rqtop:audit:refused <action>:<reason>``); best effort, never raises."""
    try:
        conn.hincrby(keys.AUDIT_REFUSED, f"{action}:{reason}", 1)
    except redis.RedisError as exc:
        log.info("audit: refused %s (%s) not counted: %s", action, reason, one_line(exc))


def refused_counts(conn: redis.Redis) -> dict[str, int]:
    """The refused no-op counters, by ``<action>:<reason>``; unreadable values are left out."""
    counts = {as_text(name): _count(value) for name, value in conn.hgetall(keys.AUDIT_REFUSED).items()}
    return {name: value for name, value in sorted(counts.items()) if value is not None}


def read(conn: redis.Redis, limit: int = 50) -> tuple[AuditEntry, ...]:
    """The newest ``limit`` entries, newest first; malformed fields read as empty, never raise."""
    rows = (conn.xrevrange(keys.AUDIT, "+", "-", count=max(limit, 0)) if limit > 0 else None) or []
    return tuple(_entry(entry_id, fields or {}) for entry_id, fields in rows)


def _count(value: Any) -> int | None:
    """A finite whole number as an int (from JSON or Redis text), else None."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (bytes, str)):
        try:
            value = float(as_text(value))
        except ValueError:
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _counts(raw: str) -> tuple[dict[str, int], tuple[str, ...]]:
    """The counts JSON object as ints, and the names of the ones that were not readable."""
    if not raw:
        return {}, ()
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return {}, ("counts",)
    if not isinstance(parsed, dict):
        return {}, ("counts",)
    counts: dict[str, int] = {}
    bad: list[str] = []
    for name, value in parsed.items():
        number = _count(value)
        if number is None:
            bad.append(safe_text(f"counts.{name}"))
        else:
            counts[safe_text(str(name))] = number
    return counts, tuple(bad)


def _epoch(raw: str | None) -> float | None:
    """An epoch that a date can be made of, else None."""
    try:
        at = float(raw) if raw is not None else None
    except ValueError:
        return None
    return at if at is not None and math.isfinite(at) and 0 <= at <= MAX_EPOCH else None


def _entry(entry_id: Any, fields: dict[Any, Any]) -> AuditEntry:
    """Decode one stream entry, whatever it holds; every field becomes safe display text (``safe_text``)."""
    text = {as_text(key): safe_text(as_text(value)) for key, value in fields.items()}
    counts, bad = _counts(text.get("counts", ""))
    at = _epoch(text.get("at"))
    if at is None and text.get("at"):
        bad = ("at", *bad)
    phase = text.get("phase", "")
    return AuditEntry(
        id=safe_text(as_text(entry_id)), who=text.get("who", ""), action=text.get("action", ""),
        target=text.get("target", ""), counts=counts, at=at, ok=text.get("ok") == "1",
        phase=phase if phase in PHASES else "", intent=text.get("intent", ""), error=text.get("error", ""),
        unreadable=bad, before=text.get("before", ""), after=text.get("after", ""),
    )
