"""The audit log of operator actions: one capped Redis stream, so every write the dashboard makes is on record."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from worker import keys
from worker.display_text import safe_text


@dataclass(frozen=True)
class AuditEntry:
    """One recorded action: who did what to which target, with its per-step counts."""

    id: str
    who: str
    action: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)
    at: float | None = None
    ok: bool = False


def append(
    conn: redis.Redis, who: str, action: str, target: str, counts: dict[str, int], ok: bool,
    now: float | None = None,
) -> str:
    """Add one entry (``XADD rqtop:audit MAXLEN ~ AUDIT_MAXLEN``) and return its stream id."""
    fields = {
        "who": who,
        "action": action,
        "target": target,
        "counts": json.dumps(counts, sort_keys=True),
        "at": f"{time.time() if now is None else now:.6f}",
        "ok": "1" if ok else "0",
    }
    entry_id = conn.xadd(keys.AUDIT, fields, maxlen=keys.AUDIT_MAXLEN, approximate=True)
    return _text(entry_id)


def read(conn: redis.Redis, limit: int = 50) -> tuple[AuditEntry, ...]:
    """The newest ``limit`` entries, newest first; malformed fields read as empty, never raise."""
    rows = conn.xrevrange(keys.AUDIT, "+", "-", count=max(limit, 0)) if limit > 0 else []
    return tuple(_entry(entry_id, fields) for entry_id, fields in rows)


def _entry(entry_id: Any, fields: dict[Any, Any]) -> AuditEntry:
    """Decode one stream entry; every field becomes safe display text (``safe_text``)."""
    text = {_text(key): safe_text(_text(value)) for key, value in fields.items()}
    try:
        raw_counts = json.loads(text.get("counts", "") or "{}")
        counts = {safe_text(str(k)): int(v) for k, v in raw_counts.items()} if isinstance(raw_counts, dict) else {}
    except (ValueError, TypeError):
        counts = {}
    try:
        at: float | None = float(text["at"])
    except (KeyError, ValueError):
        at = None
    return AuditEntry(
        id=safe_text(_text(entry_id)), who=text.get("who", ""), action=text.get("action", ""),
        target=text.get("target", ""), counts=counts, at=at, ok=text.get("ok") == "1",
    )


def _text(value: Any) -> str:
    """Redis bytes as text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)
