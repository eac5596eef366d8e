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
    actor: dict[str, str] = field(default_factory=dict)
    """The known ``ACTOR_FIELDS`` (OS user, sudo caller, SSH client, Redis user, role)."""
    before: str = ""
    """For an edit's outcome: the shape it replaced (JSON text; "" when none)."""
    after: str = ""
    """For an edit's outcome: the shape it left (JSON text; "" when it removed it)."""


ACTOR_FIELDS = ("os_user", "sudo_user", "ssh_client", "redis_user", "role")
"""The entry fields that say who acted beyond ``who`` (written when known)."""


@dataclass(frozen=True)
class Actor:
    """Who acts: ``user@host``, the OS user, the sudo caller, the SSH client's address, the Redis ACL user and the
    role rqtop acted as."""

    who: str
    os_user: str = ""
    sudo_user: str = ""
    ssh_client: str = ""
    redis_user: str = ""
    role: str = ""

    def fields(self) -> dict[str, str]:
        """The known actor fields of an entry."""
        return {"who": self.who, **{name: getattr(self, name) for name in ACTOR_FIELDS if getattr(self, name)}}


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


Who = str | Actor
"""Who acts: ``user@host`` (the worker, older callers) or the whole ``Actor``."""


def _base(who: Who, action: str, target: str, now: float | None) -> dict[str, str]:
    """The fields every entry has, and the actor's when known."""
    actor = who.fields() if isinstance(who, Actor) else {"who": who}
    return {**actor, "action": action, "target": target, "at": epoch_text(time.time() if now is None else now)}


def append(
    conn: redis.Redis, who: Who, action: str, target: str, counts: dict[str, int], ok: bool,
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


def record_intent(conn: redis.Redis, who: Who, action: str, target: str, now: float | None = None) -> str:
    """Record that an action is about to act; its id links the outcome."""
    return _add(conn, {**_base(who, action, target, now), "phase": "intent"})


@contextmanager
def recorded(conn: redis.Redis, who: Who, action: str, target: str,
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


def removed_early(conn: redis.Redis, now: float | None = None) -> float | None:
    """When the newest entry removed before its ``AUDIT_KEEP_S`` was written (XDEL, or XADD/XTRIM with a MAXLEN or
    MINID of someone's own), else None; rqtop's own trim only removes older entries. Redis 7+ reports it
    (``XINFO STREAM`` max-deleted-entry-id); older servers and a missing stream give None."""
    try:
        info: dict[Any, Any] = conn.xinfo_stream(keys.AUDIT)
    except redis.ResponseError:
        return None
    raw = info.get("max-deleted-entry-id") or info.get(b"max-deleted-entry-id")
    millis = as_text(raw).split("-", 1)[0] if raw else ""
    if not millis.isdigit() or int(millis) == 0:
        return None
    removed = int(millis) / 1000
    keep_from = (time.time() if now is None else now) - keys.AUDIT_KEEP_S
    return removed if removed > keep_from else None


SEARCH_SCAN_MAX = 20_000
"""How many entries one filtered ``search`` reads at most (newest first), so a filter never reads the whole log."""


def search(conn: redis.Redis, limit: int = 50, since: float | None = None, actor: str = "", action: str = "",
           scan_max: int = SEARCH_SCAN_MAX) -> tuple[tuple[AuditEntry, ...], bool]:
    """The newest ``limit`` entries at or after ``since`` whose actor (who, OS user, sudo caller, SSH client or
    Redis user) contains ``actor`` and whose action is ``action``; and whether ``scan_max`` cut the search short."""
    low = f"{max(int(since * 1000), 0)}-0" if since is not None else "-"
    found: list[AuditEntry] = []
    high, scanned, page = "+", 0, 500
    while len(found) < limit and scanned < scan_max:
        rows = conn.xrevrange(keys.AUDIT, high, low, count=min(page, scan_max - scanned)) or []
        for entry_id, fields in rows:
            entry = _entry(entry_id, fields or {})
            if _matches(entry, actor, action):
                found.append(entry)
                if len(found) == limit:
                    break
        scanned += len(rows)
        if len(rows) < page or len(found) == limit:
            return tuple(found), False
        high = f"({as_text(rows[-1][0])}"
    return tuple(found), len(found) < limit and scanned >= scan_max


def _matches(entry: AuditEntry, actor: str, action: str) -> bool:
    """True when ``entry`` is ``action`` (any when "") by someone whose names contain ``actor`` (any when "")."""
    if action and entry.action != action:
        return False
    names = (entry.who, *(entry.actor.get(name, "") for name in ("os_user", "sudo_user", "ssh_client", "redis_user")))
    return not actor or any(actor.lower() in name.lower() for name in names)


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
        unreadable=bad, actor={name: text[name] for name in ACTOR_FIELDS if text.get(name)},
        before=text.get("before", ""), after=text.get("after", ""),
    )
