"""Keys built around the raw bytes Redis returned, so a non-UTF-8 name is still read (and shown with �)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from worker import keys

_HOLE = "\x00"
HALVES: dict[tuple[Callable[..., str], tuple[Any, ...], str], tuple[bytes, bytes]] = {}
"""Encoded text before and after the name, per key maker, extra arguments and RQ key prefix (bounded: cleared
at 1,024)."""


def _halves(make: Callable[..., str], rest: tuple[Any, ...]) -> tuple[bytes, bytes]:
    """The encoded text before and after the name in ``make(name, *rest)``."""
    cache_key = (make, rest, keys.RQ_PREFIX)
    halves = HALVES.get(cache_key)
    if halves is None:
        if len(HALVES) >= 1024:
            HALVES.clear()
        head, _, tail = make(_HOLE, *rest).partition(_HOLE)
        halves = HALVES[cache_key] = (head.encode(), tail.encode())
    return halves


def bkey(make: Callable[..., str], raw: bytes, *rest: Any) -> bytes:
    """The key ``make(name, *rest)`` from worker.keys, built around a raw (possibly non-UTF-8) name."""
    head, tail = _halves(make, rest)
    return head + raw + tail


def bkeys(make: Callable[..., str], raws: list[bytes], *rest: Any) -> list[bytes]:
    """``bkey(make, raw, *rest)`` of every raw name (a refresh builds three keys per worker)."""
    head, tail = _halves(make, rest)
    return [head + raw + tail for raw in raws]

