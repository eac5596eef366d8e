"""The word every benchmark prints beside a target: one place, so every script says it the same way."""

from __future__ import annotations


def verdict(ok: bool) -> str:
    """MET / NOT MET."""
    return "MET" if ok else "NOT MET"
