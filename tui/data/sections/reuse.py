"""Rows that depend only on their replies, kept between refreshes and rebuilt only when a reply changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Reuse:
    """Each row with the replies it was built from; a refresh asks by key and gets the kept row when they match."""

    def __init__(self) -> None:
        self._last: dict[Any, tuple[tuple[Any, ...], Any]] = {}
        self._next: dict[Any, tuple[tuple[Any, ...], Any]] = {}

    def row(self, key: Any, replies: tuple[Any, ...], build: Callable[..., Any]) -> Any:
        """The row kept for ``key`` when ``replies`` equal the last refresh's, else ``build(*replies)``."""
        hit = self._last.get(key)
        row = hit[1] if hit is not None and hit[0] == replies else build(*replies)
        self._next[key] = (replies, row)
        return row

    def turn(self) -> None:
        """End of a refresh: forget the rows it did not ask for."""
        self._last, self._next = self._next, {}
