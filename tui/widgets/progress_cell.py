"""A running job's progress as a table cell: a small bar (when the percentage is known) and its summary."""

from __future__ import annotations

from rich.text import Text

from tui.data.progress import JobProgress

BAR_WIDTH = 10
"""Cells of the bar drawn before the summary."""


def progress_bar(percent: float, width: int = BAR_WIDTH) -> str:
    """``█████░░░░░`` for ``percent`` (0..100) in ``width`` cells."""
    filled = max(0, min(width, round(percent * width / 100)))
    return "█" * filled + "░" * (width - filled)


def progress_text(progress: JobProgress, width: int = BAR_WIDTH) -> Text:
    """The bar (``width`` 0: none) and ``45/200 · 22 % · Synced 38 users``; the message is data, never markup."""
    text = Text()
    if progress.percent is not None and width > 0:
        text.append(progress_bar(progress.percent, width), style="green")
        text.append(" ")
    text.append(progress.summary, style="")
    return text
