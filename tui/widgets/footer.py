"""The footer: Textual's, with the help and quit keys pinned to the right edge so a narrow terminal never hides them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PINNED_ACTIONS = ("help", "quit")
"""Keys that stay visible at every width (docked right, outside the scrolling row of keys)."""


class PinnedFooter(Footer):
    """A compact footer whose ``?`` and ``q`` are docked right; the palette key shows only on wide terminals."""

    def compose(self) -> ComposeResult:
        """Textual's keys, the pinned ones moved into one box after the rest (docked right by CSS)."""
        keys = list(super().compose())
        pinned = [key for key in keys if isinstance(key, FooterKey)
                  and (key.action in PINNED_ACTIONS or key.has_class("-command-palette"))]
        yield from (key for key in keys if key not in pinned)
        if pinned:
            yield Horizontal(*pinned, classes="pinned-keys")
