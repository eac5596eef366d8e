"""Labels a refresh sets every second, touched only when their text or visibility changes (no needless relayout)."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from textual.widgets import Label

_SHOWN: WeakKeyDictionary[Label, str] = WeakKeyDictionary()
"""The text each live label was last given here."""


def set_label(label: Label, text: str, display: bool) -> None:
    """Give ``label`` this text and visibility, updating neither when it already has it."""
    if _SHOWN.get(label) != text:
        _SHOWN[label] = text
        label.update(text)
    if label.display != display:
        label.display = display
