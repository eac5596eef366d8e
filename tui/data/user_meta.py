"""A job's ``meta`` (where RQ users keep progress) as masked display pairs, decoded as plain data only.

RQ stores ``meta`` with the job's serializer: JSON for JSON-serializer jobs, a pickle otherwise. JSON is tried
first, then ``worker.safe_decoding.SafeSerializer.loads``, which refuses every global, so a hostile pickle is
shown as unreadable and never runs. Keys and values are masked with the operator's patterns and made safe text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tui.data.masking import sensitive_key
from worker.display_text import safe_text
from worker.masking import MASK, mask
from worker.safe_decoding import SafeSerializer

META_UNREADABLE = "unreadable (not plain data)"
"""Shown instead of a ``meta`` that is neither JSON nor a plain-data pickle."""

META_MAX_BYTES = 64 * 1024
"""A larger ``meta`` is not decoded (cost follows the screen, not Redis)."""

META_MAX_KEYS, META_VALUE_MAX = 20, 200
"""At most this many keys shown, each value cut to this many characters."""


def _plain(raw: bytes) -> Any:
    """The decoded payload; raises for anything that is not JSON or a plain-data pickle."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return SafeSerializer.loads(raw)


def plain_meta(raw: bytes | None) -> Any:
    """A job's ``meta`` as plain data (JSON, else a plain-data pickle), or None when absent, too large or
    not plain data; never raises."""
    if not raw or len(raw) > META_MAX_BYTES:
        return None
    try:
        return _plain(raw)
    except Exception:  # noqa: BLE001 - a refused or malformed payload is simply not read
        return None


def _shown(value: Any, limit: int = META_VALUE_MAX) -> str:
    """One value as one line of safe text, cut to ``limit``."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    text = safe_text(" ".join(text[: limit * 4].split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def meta_pairs(raw: bytes | None, patterns: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """(key, value) pairs of a job's ``meta`` hash field, masked; ``(("", META_UNREADABLE),)`` when it cannot
    be read as plain data; empty when absent or empty."""
    if not raw:
        return ()
    if len(raw) > META_MAX_BYTES:
        return (("", f"unreadable (larger than {META_MAX_BYTES // 1024} KiB)"),)
    try:
        data = _plain(raw)
    except Exception:  # noqa: BLE001 - any refusal or malformed payload reads as unreadable, never raises
        return (("", META_UNREADABLE),)
    if not isinstance(data, dict):
        return (("", mask(_shown(data), patterns) or ""),) if data not in (None, "", [], ()) else ()
    pairs: list[tuple[str, str]] = []
    for key, value in list(data.items())[:META_MAX_KEYS]:
        name = _shown(key, 60)
        pairs.append((name, MASK if sensitive_key(name, patterns) else mask(_shown(value), patterns) or ""))
    if len(data) > META_MAX_KEYS:
        pairs.append(("…", f"{len(data) - META_MAX_KEYS} more keys"))
    return tuple(pairs)
