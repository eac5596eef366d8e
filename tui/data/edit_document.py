"""The edit-and-replay editor's document, apart from Redis so the dashboard's screens can check it as typed.

The editor holds a job's call as one JSON document ``{"args": [...], "kwargs": {...}}`` with sensitive values
masked as the drawer masks them (a keyword whose name matches a mask pattern shows ``***``, credentials inside
text are masked). ``unmask`` puts the original's value back wherever the edited document still shows what the
editor showed, so a secret is never put on screen and never replaced by ``***``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tui.data.masking import sensitive_key
from worker.masking import MASK, mask


class NotReplayable(ValueError):
    """The job cannot be edited and replayed, or the edited arguments cannot be used; one line says why."""


@dataclass(frozen=True)
class EditForm:
    """What the editor shows: the call's arguments as one masked JSON document, and where the job lives."""

    job_id: str
    queue: str
    func_name: str
    text: str
    """``{"args": [...], "kwargs": {...}}``, indented, sensitive values masked."""
    masked: int
    """How many values show ``***`` or masked text (each kept as the original's while left as shown)."""


def masked_view(value: Any, patterns: Sequence[str]) -> Any:
    """``value`` as the editor shows it: a sensitive key's value ``***``, text masked, tuples as lists."""
    if isinstance(value, dict):
        return {key: MASK if isinstance(key, str) and sensitive_key(key, patterns) else masked_view(item, patterns)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked_view(item, patterns) for item in value]
    if isinstance(value, str):
        return mask(value, patterns) or value
    return value


def unmask(edited: Any, original: Any, patterns: Sequence[str]) -> Any:
    """``edited`` with every part left exactly as the editor showed it (``masked_view`` of ``original``) put back
    as the original's value, so a masked secret left alone is kept; edited parts are taken as typed."""
    if edited == masked_view(original, patterns):
        return original
    if isinstance(edited, dict) and isinstance(original, dict):
        return {key: _unmask_entry(key, item, original, patterns) for key, item in edited.items()}
    if isinstance(edited, list) and isinstance(original, (list, tuple)):
        return [unmask(item, original[index], patterns) if index < len(original) else item
                for index, item in enumerate(edited)]
    return edited


def _unmask_entry(key: Any, item: Any, original: dict[Any, Any], patterns: Sequence[str]) -> Any:
    """One entry of an edited mapping: the original's value where the editor showed it masked and it still is."""
    if key not in original:
        return item
    if item == MASK and isinstance(key, str) and sensitive_key(key, patterns):
        return original[key]
    return unmask(item, original[key], patterns)


def masked_count(shown: Any, original: Any) -> int:
    """How many leaves the editor shows differently from the original (masked)."""
    if isinstance(shown, dict) and isinstance(original, dict):
        return sum(masked_count(item, original.get(key)) for key, item in shown.items())
    if isinstance(shown, list) and isinstance(original, (list, tuple)):
        return sum(masked_count(item, other) for item, other in zip(shown, original, strict=False))
    return int(shown != original)


def parse_document(text: str) -> tuple[list[Any], dict[str, Any]]:
    """The editor's document as (args, kwargs); NotReplayable saying where it is wrong (line and column)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotReplayable(f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise NotReplayable("not JSON this editor reads: nested too deeply") from None
    if not isinstance(document, dict) or set(document) - {"args", "kwargs"}:
        raise NotReplayable('expected one object with "args" (a list) and "kwargs" (an object), nothing else')
    args, kwargs = document.get("args", []), document.get("kwargs", {})
    if not isinstance(args, list):
        raise NotReplayable('"args" must be a JSON list')
    if not isinstance(kwargs, dict):
        raise NotReplayable('"kwargs" must be a JSON object')
    return args, kwargs
