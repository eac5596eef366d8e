"""Safe display text: the one function every Redis-sourced string passes before a terminal shows it.

A name, id or error read from Redis may carry terminal controls (ESC, the C1 CSI/OSC introducers, BEL, DEL)
that would set the window title, clear the screen or write the clipboard (OSC 52), and Unicode format
characters (bidi overrides, zero-width and invisible characters) that make text display as something it is
not. ``safe_text`` keeps ordinary Unicode and replaces each such character with ``?`` (tab, CR and LF with a
space, so a value stays on one line): the introducer of an escape sequence is gone, and what followed it
(``]0;title``) is inert, visible text. Textual-free and stdlib-only, so the dashboard's data layer, the CLI
and the worker all use it.
"""

from __future__ import annotations

import re

REPLACEMENT = "?"

UNSAFE_CHARACTERS = (
    "\x00-\x1f\x7f-\x9f"  # C0 controls (ESC, BEL, CR, LF, TAB...), DEL, C1 controls (CSI \x9b, OSC \x9d...)
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"  # soft hyphen, Arabic/Syriac/Mongolian
    "\u200b\u200e-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"  # zero-width, marks, separators, bidi controls
    "\ud800-\udfff\ufeff\ufff9-\ufffb"  # lone surrogates, BOM / zero-width no-break space, annotations
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"  # language tags
)
"""Every character of Unicode categories Cc, Cf, Cs, Zl and Zp except ZWNJ/ZWJ (U+200C/D, which scripts and
emoji need), as a regex class body; tests/worker/test_display_text.py checks it against ``unicodedata``."""

_UNSAFE = re.compile(f"[{UNSAFE_CHARACTERS}]")
_SPACES = frozenset("\t\n\r")


def _replace(match: re.Match[str]) -> str:
    """A space for a line break or tab, ``?`` for any other unsafe character."""
    return " " if match.group() in _SPACES else REPLACEMENT


def safe_text(text: str) -> str:
    """``text`` with every terminal control and display-spoofing format character replaced (see the module)."""
    if text.isprintable():  # the common case, in C: no Cc/Cf/Cs/Zl/Zp character can be in it
        return text
    return _UNSAFE.sub(_replace, text)
