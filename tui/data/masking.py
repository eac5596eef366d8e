"""Safe text for the screen: decode bytes defensively, drop control characters, mask secrets, shorten errors.

Job descriptions carry each argument's repr and error texts can quote them, so everything shown passes
through ``worker.masking.mask`` with the operator's field-name patterns (``Settings.mask_patterns``) and
``worker.display_text.safe_text``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from worker.display_text import safe_text
from worker.masking import UNMASKED, mask
from worker.records import ERROR_MAX

_EXC_HEAD = re.compile(r"[A-Za-z_](?:[\w.]*\w)?")


def decode(raw: bytes | str | None, limit: int | None = None) -> str | None:
    """Bytes from Redis as safe display text (invalid UTF-8 replaced, controls replaced: ``safe_text``), cut to
    ``limit``; None stays None."""
    if raw is None:
        return None
    if limit is not None:
        raw = raw[: limit * 4 + 4]  # at most 4 bytes per character: never decode more than can be shown
    text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8", errors="replace")
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return safe_text(text)


def error_line(text: str | None) -> str | None:
    """The "ExcType: first line" of an error text or a full traceback, without the module path."""
    lines = [line for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return None
    line = lines[0]
    frames = [i for i, candidate in enumerate(lines) if candidate.strip().startswith('File "')]
    if lines[0].startswith("Traceback") and frames:
        after = [candidate for candidate in lines[frames[-1] + 1 :] if not candidate[:1].isspace()]
        line = after[0] if after else lines[-1]
    elif lines[0].startswith("Traceback"):
        line = lines[-1]
    line = line.strip()
    head, sep, rest = line.partition(": ")
    if sep and _EXC_HEAD.fullmatch(head):
        return f"{head.rsplit('.', 1)[-1]}: {rest.strip()}"
    if _EXC_HEAD.fullmatch(line.rstrip(":")):
        return line.rstrip(":").rsplit(".", 1)[-1]
    return line


def mask_error(text: str | None, patterns: Sequence[str], limit: int = ERROR_MAX) -> str | None:
    """A one-line, masked, printable error summary of at most ``limit`` characters; None when empty."""
    line = error_line(text)
    if not line:
        return None
    line = line[: limit * 4]  # bound the regex work; anything past the cut is never shown
    head, sep, rest = line.partition(": ")
    masked = f"{head}: {mask(rest, patterns)}" if sep and _EXC_HEAD.fullmatch(head) else mask(line, patterns)
    line = safe_text(masked or "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def mask_description(raw: bytes | str | None, patterns: Sequence[str], limit: int = 300) -> str | None:
    """A job or schedule description, decoded, masked and on one line; None when absent or empty."""
    text = decode(raw, limit * 4)
    if not text:
        return None
    text = mask(text, patterns) or ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class MaskRules:
    """The patterns masked everywhere, plus extra patterns for named tasks (``RQTOP_MASK_TASK_PATTERNS``); with
    ``unmasked`` (an admin's view, ``Settings.payloads_unmasked``) nothing is masked, everything still made safe."""

    patterns: tuple[str, ...]
    per_task: tuple[tuple[str, tuple[str, ...]], ...] = ()
    unmasked: bool = False

    def for_task(self, task: str | None) -> tuple[str, ...]:
        """Patterns for one task's description, arguments and errors (``UNMASKED`` for an unmasked view)."""
        if self.unmasked:
            return UNMASKED
        extra = next((more for name, more in self.per_task if name == task), ())
        return self.patterns + extra


def resolve(patterns: Sequence[str] | MaskRules, task: str | None) -> Sequence[str]:
    """Plain patterns as they are; MaskRules narrowed to one task."""
    return patterns.for_task(task) if isinstance(patterns, MaskRules) else patterns


def sensitive_key(name: str, patterns: Sequence[str]) -> bool:
    """Whether a field name contains one of the (case-insensitive) mask patterns, as ``mask`` treats keys."""
    lowered = name.lower()
    return any(p and p.lower() in lowered for p in patterns)
