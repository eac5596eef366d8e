"""Keys built around the raw bytes Redis returned, so a non-UTF-8 name is still read (and shown with �)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_HOLE = "\x00"
HALVES: dict[tuple[Callable[..., str], tuple[Any, ...]], tuple[bytes, bytes]] = {}
"""Encoded text before and after the name, per key maker and extra arguments (bounded: cleared at 1,024)."""


def bkey(make: Callable[..., str], raw: bytes, *rest: Any) -> bytes:
    """The key ``make(name, *rest)`` from worker.keys, built around a raw (possibly non-UTF-8) name."""
    halves = HALVES.get((make, rest))
    if halves is None:
        if len(HALVES) >= 1024:
            HALVES.clear()
        head, _, tail = make(_HOLE, *rest).partition(_HOLE)
        halves = HALVES[(make, rest)] = (head.encode(), tail.encode())
    return halves[0] + raw + halves[1]

