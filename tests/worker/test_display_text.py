"""safe_text: every terminal control and display-spoofing character is replaced, ordinary Unicode is kept."""

from __future__ import annotations

import json
import sys
import time
import unicodedata

import pytest

from worker.display_text import _UNSAFE, safe_text

SPOOFING = ("Cc", "Cf", "Cs", "Zl", "Zp")


def test_the_character_class_covers_every_control_and_format_character_of_this_python() -> None:
    missing = [f"U+{cp:04X}" for cp in range(sys.maxunicode + 1)
               if unicodedata.category(chr(cp)) in SPOOFING and cp not in (0x200C, 0x200D)
               and not _UNSAFE.fullmatch(chr(cp))]
    assert not missing, f"add to UNSAFE_CHARACTERS: {missing}"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;title\x07", "?]0;title?"),  # OSC 0: sets the window title
        ("\x1b[2Jgone", "?[2Jgone"),  # CSI 2J: clears the screen
        ("\x1b]52;c;aGk=\x07", "?]52;c;aGk=?"),  # OSC 52: writes the clipboard
        ("\x9b31mred\x9d0;t\x9c", "?31mred?0;t?"),  # C1 CSI, OSC and ST
        ("a\rb\nc\td", "a b c d"),  # one line
        ("evil\u202etxt.exe\u2066x\u2069", "evil?txt.exe?x?"),  # bidi override and isolates
        ("zero\u200bwidth\ufeff\u2060\x7f\u2028", "zero?width????"),  # zero-width, BOM, word joiner, DEL, LS
        ("lone \ud800 surrogate", "lone ? surrogate"),
    ],
)
def test_controls_are_replaced(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


@pytest.mark.parametrize(
    "text", ["café 東京 Ωμέγα", "👩‍👩‍👧 family (ZWJ kept)", "नमस्ते", "a\u00a0b", "[/][@click=app.quit]"],
)
def test_ordinary_unicode_and_brackets_are_kept(text: str) -> None:
    assert safe_text(text) == text


def test_printable_text_costs_one_c_call() -> None:
    cells = [f"worker-{i}.example.com" for i in range(100_000)]
    started = time.perf_counter()
    shown = [safe_text(cell) for cell in cells]
    assert shown == cells
    assert time.perf_counter() - started < 0.5, "100,000 printable cells must take well under a refresh"


def test_json_output_escapes_what_safe_text_would_have_replaced() -> None:
    """`status --json` uses json.dumps' default ensure_ascii: C0 and DEL as escapes, C1 and bidi as \\u escapes."""
    document = json.dumps({"id": "\x1b]0;t\x07\x7f\x9b\u202e"})
    assert document.isascii() and document.isprintable()
