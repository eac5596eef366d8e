"""The three pipelined read rounds of a refresh: ``Round`` counts the slots, ``Planner`` is what a section implements.

A refresh runs round 1 (indexes), round 2 (per-item reads the indexes name) and round 3 (follow-ups the
per-item replies point at) over every planner, in the order the reader lists them; each planner remembers
the slots ``add`` gave it and reads its replies back from them, so no slot is counted anywhere else.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

import redis

Replies = list[Any]
"""One round's replies, by slot; an error reply is its exception object."""

RowsT = TypeVar("RowsT", covariant=True)


class Round:
    """One non-transactional pipeline; ``add`` returns the slot its reply will be in."""

    def __init__(self, conn: redis.Redis) -> None:
        self.pipe = conn.pipeline(transaction=False)
        self.size = 0

    def add(self, command: str, *args: Any, **kwargs: Any) -> int:
        """Queue one read command; the slot of its reply."""
        getattr(self.pipe, command)(*args, **kwargs)
        self.size += 1
        return self.size - 1

    def each(self, command: str, args: list[Any]) -> range:
        """Queue ``command`` once per argument (the hot path: three per worker); the range of their slots."""
        method = getattr(self.pipe, command)
        for arg in args:
            method(arg)
        self.size += len(args)
        return range(self.size - len(args), self.size)

    def run(self) -> Replies:
        """The replies in order; an error reply comes back as its exception object, not raised."""
        return self.pipe.execute(raise_on_error=False) if self.size else []


def score_map(reply: Any) -> dict[Any, float]:
    """member -> score of a ZRANGE ... WITHSCORES sent as a raw command (``Round.add("execute_command", "ZRANGE",
    key, 0, -1, "WITHSCORES")``): RESP3's ``[member, score]`` pairs (scores already doubles) or RESP2's flat list
    alike, without redis-py's per-member score re-encoding (~25 ms a refresh at 10,000 workers); {} for an error
    reply or a wrong type."""
    if not isinstance(reply, list) or not reply:
        return {}
    if isinstance(reply[0], list):
        return dict(reply)
    return {member: float(score) for member, score in zip(reply[::2], reply[1::2], strict=False)}


class Planner(Protocol[RowsT]):
    """One section's reads over the three rounds and the frozen rows built from their replies."""

    def first(self, r1: Round) -> None:
        """Queue the section's round-1 index reads."""

    def second(self, one: Replies, r2: Round) -> None:
        """Given round 1's replies, queue the per-item reads of round 2."""

    def third(self, two: Replies, r3: Round) -> None:
        """Given round 2's replies, queue the follow-up reads of round 3."""

    def rows(self, two: Replies, three: Replies) -> RowsT:
        """The section's rows from the replies of rounds 2 and 3."""


def reply_as(value: Any, kind: type, default: Any) -> Any:
    """``value`` when Redis answered with the expected type, else ``default`` (an error reply, a wrong type)."""
    return value if isinstance(value, kind) else default
