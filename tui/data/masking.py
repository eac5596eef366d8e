"""Safe text for the screen: decode bytes defensively, drop control characters, mask secrets, shorten errors.

Job descriptions carry each argument's repr and error texts can quote them, so everything shown passes
through ``mask`` with the operator's field-name patterns (``Settings.mask_patterns``): a value whose key
matches (``password='x'``, ``token=abc``, JSON ``"api_key": "..."``, ``Authorization: Bearer ...``), a
quoted literal that itself contains a pattern (``boom('secret-password-123')``) and the password of a
URL are replaced by ``***``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from worker.records import ERROR_MAX

MASK = "***"

_URL_CREDENTIALS = re.compile(r"(?P<pre>\b[a-z][a-z0-9+.\-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)(?P<at>@)", re.I)
_VALUE = (
    r"(?:(?:bearer|basic|token|digest)\s+[^\s,;&'\"]+"
    r"|b?'[^']*'|b?\"[^\"]*\""
    r"|[^\s,;&()\[\]{}'\"]+)"
)
_EXC_HEAD = re.compile(r"[A-Za-z_](?:[\w.]*\w)?")


def printable(text: str) -> str:
    """``text`` on one line: tabs and newlines become spaces, other control characters become ``?``."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char in "\t\r\n":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs"):
            out.append("?")
        else:
            out.append(char)
    return "".join(out)


def decode(raw: bytes | str | None, limit: int | None = None) -> str | None:
    """Bytes from Redis as printable text (invalid UTF-8 replaced), cut to ``limit``; None stays None."""
    if raw is None:
        return None
    if limit is not None:
        raw = raw[: limit * 4 + 4]  # at most 4 bytes per character: never decode more than can be shown
    text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8", errors="replace")
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return printable(text)


@lru_cache(maxsize=32)
def _patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """The key=value and quoted-literal regexes for one set of field-name patterns."""
    names = "|".join(re.escape(p) for p in patterns if p)
    if not names:
        return None
    key = rf"[\w.\-]*(?:{names})[\w.\-]*"
    pair = re.compile(rf"(?P<key>(?P<q>['\"]?){key}(?P=q))(?P<sep>\s*[=:]\s*)(?P<value>{_VALUE})", re.I)
    body = rf"[^'\"\n]*(?:{names})[^'\"\n]*"
    literal = re.compile(rf"(?<![\w'\"])(?P<pre>[bru]?)(?P<q>['\"])(?P<body>{body})(?P=q)(?![\w'\"]|\s*[=:])", re.I)
    return pair, literal


def _masked_value(value: str) -> str:
    """``***`` keeping the value's quotes or auth scheme, so the shape of the text stays readable."""
    if value[:1] in ("'", '"'):
        return value[0] + MASK + value[0]
    if value[:2] in ("b'", 'b"'):
        return value[:2] + MASK + value[1]
    scheme, sep, _ = value.partition(" ")
    if sep and scheme.lower() in ("bearer", "basic", "token", "digest"):
        return f"{scheme} {MASK}"
    return MASK


def mask(text: str | None, patterns: Sequence[str]) -> str | None:
    """``text`` with every sensitive value replaced by ``***`` (case-insensitive field-name patterns)."""
    if not text:
        return text
    text = _URL_CREDENTIALS.sub(lambda m: m["pre"] + MASK + m["at"], text)
    compiled = _patterns(tuple(p.lower() for p in patterns))
    if compiled is None:
        return text
    pair, literal = compiled
    text = pair.sub(lambda m: m["key"] + m["sep"] + _masked_value(m["value"]), text)
    return literal.sub(lambda m: m["pre"] + m["q"] + MASK + m["q"], text)


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
    line = printable(masked or "")
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
    """The patterns masked everywhere, plus extra patterns for named tasks (``RQTOP_MASK_TASK_PATTERNS``)."""

    patterns: tuple[str, ...]
    per_task: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def for_task(self, task: str | None) -> tuple[str, ...]:
        """Patterns for one task's description, arguments and errors."""
        extra = next((more for name, more in self.per_task if name == task), ())
        return self.patterns + extra


def resolve(patterns: Sequence[str] | MaskRules, task: str | None) -> Sequence[str]:
    """Plain patterns as they are; MaskRules narrowed to one task."""
    return patterns.for_task(task) if isinstance(patterns, MaskRules) else patterns
