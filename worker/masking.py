"""Secret masking shared by the dashboard, the CLI and the worker's log: one set of rules, ``***`` for each secret.

Job descriptions carry each argument's repr and error texts can quote them, so what is shown or logged passes
through ``mask`` with field-name patterns (``DEFAULT_MASK_PATTERNS``, or the operator's ``RQTOP_MASK_PATTERNS``):
a value whose key matches (``password='x'``, ``pwd=x``, ``token=abc``, JSON ``"api_key": "..."``,
``Authorization: Bearer ...``), a quoted literal that itself contains a pattern (``boom('secret-password-123')``),
the password of a URL and an AWS access key id (``AKIA``/``ASIA`` + 16) are replaced by ``***``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from functools import lru_cache

MASK = "***"
DEFAULT_MASK_PATTERNS = ("password", "passwd", "pwd", "secret", "token", "key", "authorization", "cookie",
                         "credential")
"""Field-name patterns masked unless ``RQTOP_MASK_PATTERNS`` names others (case-insensitive substrings)."""

_URL_CREDENTIALS = re.compile(r"(?P<pre>\b[a-z][a-z0-9+.\-]*://[^\s:/@]*:)(?P<secret>\S+)(?P<at>@)", re.I)
"""A URL's ``user:password@``; the password runs to the token's last ``@``, so ``/ # ? @`` in it stay masked."""
_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
_VALUE = (
    r"(?:(?:bearer|basic|token|digest)\s+[^\s,;&'\"]+"
    r"|b?'[^']*'|b?\"[^\"]*\""
    r"|[^\s,;&()\[\]{}'\"]+)"
)


class Unmasked(tuple[str, ...]):
    """The patterns of a view that masks nothing (an admin's, issue 17): ``mask`` returns the text as it is, without
    even the URL-password and AWS-key rules; the text is still made safe (``safe_text``) where it is shown."""


UNMASKED = Unmasked()


def patterns_from_env() -> tuple[str, ...]:
    """``RQTOP_MASK_PATTERNS`` (comma-separated, lower-cased), else ``DEFAULT_MASK_PATTERNS``."""
    names = tuple(p.strip().lower() for p in os.environ.get("RQTOP_MASK_PATTERNS", "").split(",") if p.strip())
    return names or DEFAULT_MASK_PATTERNS


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
    """``text`` with every sensitive value replaced by ``***`` (case-insensitive field-name patterns); ``UNMASKED``
    leaves it as it is."""
    if not text or isinstance(patterns, Unmasked):
        return text
    text = _URL_CREDENTIALS.sub(lambda m: m["pre"] + MASK + m["at"], text)
    text = _AWS_KEY_ID.sub(MASK, text)
    compiled = _patterns(tuple(p.lower() for p in patterns))
    if compiled is None:
        return text
    pair, literal = compiled
    text = pair.sub(lambda m: m["key"] + m["sep"] + _masked_value(m["value"]), text)
    return literal.sub(lambda m: m["pre"] + m["q"] + MASK + m["q"], text)


class MaskingLogFilter(logging.Filter):
    """Masks each record's message and traceback text before any handler writes it: RQ's worker logs every
    job's description (its arguments) and every failure's exception text."""

    def __init__(self, patterns: Sequence[str] | None = None) -> None:
        super().__init__()
        self.patterns = tuple(patterns) if patterns is not None else patterns_from_env()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the message with its masked text (args folded in) and pre-format a masked traceback."""
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: let logging report it as it would
            return True
        record.msg, record.args = mask(message, self.patterns) or message, None
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(self._formatter.formatException(record.exc_info), self.patterns)
        return True


def install_log_masking(*names: str) -> None:
    """Add one ``MaskingLogFilter`` to each named logger (idempotent)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingLogFilter) for f in logger.filters):
            logger.addFilter(MaskingLogFilter())
