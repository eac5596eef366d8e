"""The three pipelined read rounds of a refresh: ``Round`` counts the slots, ``Planner`` is what a section implements.

A refresh runs round 1 (indexes), round 2 (per-item reads the indexes name) and round 3 (follow-ups the
per-item replies point at) over every planner, in the order the reader lists them; each planner remembers
the slots ``add`` gave it and reads its replies back from them, so no slot is counted anywhere else.

A round is one pipeline on the wire, built without redis-py's ``Pipeline``: that costs tens of microseconds of
Python per command (command objects, per-command packing, callbacks), about 60 % of a 58,000-command refresh at
10,000 workers. Here each command is packed into one buffer as it is added (the hot per-worker reads with a
preformatted header), the buffer goes out with the connection's ``send_packed_command`` and the replies are parsed
by hiredis straight from the socket (``explorer.bulk.exchange``, the same wire as a pipeline: one round trip, read
commands only); the few replies a planner wants shaped as redis-py shapes them (HGETALL a dict, SMEMBERS a set,
scores as floats, SCAN's cursor an int, a stream's entries as ``(id, dict)``) are shaped here, RESP2 or RESP3
alike. An error reply (a key of another type) comes back as its ``redis.ResponseError`` in its slot, not raised. A
connection that fails is disconnected, never handed back half-read, and the error raised: the caller owns the
reconnect loop, as with every rqtop client (the pool replaces a connection the server closed before handing it
out).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, TypeVar

import redis

from tui.data.explorer.bulk import exchange

Replies = list[Any]
"""One round's replies, by slot; an error reply is its exception object."""

RowsT = TypeVar("RowsT", covariant=True)

Shape = Callable[[Any], Any]
"""Turns one raw reply into what redis-py would have returned for that command."""


def _encode(value: Any) -> bytes:
    """One argument as redis-py's encoder writes it (bytes as they are, text UTF-8, numbers as their repr)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bool):
        raise TypeError("a bool is not a Redis argument")
    if isinstance(value, (int, float)):
        return repr(value).encode()
    raise TypeError(f"cannot send {type(value).__name__} to Redis")


def pack(parts: tuple[bytes, ...]) -> bytes:
    """RESP of one command."""
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def _as_dict(reply: Any) -> Any:
    """HGETALL: RESP2's flat field/value list as a dict (RESP3 already sends one)."""
    return dict(zip(reply[::2], reply[1::2], strict=False)) if isinstance(reply, list) else reply


def _as_set(reply: Any) -> Any:
    """SMEMBERS: RESP2's list as a set (RESP3 already sends one)."""
    return set(reply) if isinstance(reply, list) else reply


def _as_float(reply: Any) -> Any:
    """ZSCORE: a float (RESP3 already sends a double), None for a missing member."""
    return float(reply) if isinstance(reply, bytes) else reply


def _as_pairs(reply: Any) -> Any:
    """A range WITHSCORES as redis-py returns it: ``(member, float score)`` pairs."""
    if not isinstance(reply, list) or not reply:
        return reply
    if isinstance(reply[0], list):
        return [(member, float(score)) for member, score in reply]
    return [(member, float(score)) for member, score in zip(reply[::2], reply[1::2], strict=False)]


def _as_scan(reply: Any) -> Any:
    """SCAN: ``(cursor as int, keys)``."""
    if isinstance(reply, list) and len(reply) == 2 and isinstance(reply[0], bytes):
        return int(reply[0]), reply[1]
    return reply


def _as_stream(reply: Any) -> Any:
    """XRANGE / XREVRANGE: ``(entry id, {field: value})`` per entry."""
    if not isinstance(reply, list):
        return reply
    return [(entry[0], _as_dict(entry[1])) if isinstance(entry, list) and len(entry) == 2 else entry
            for entry in reply]


def _range(name: bytes, key: Any, low: Any, high: Any, withscores: bool = False, start: int | None = None,
           num: int | None = None, count: int | None = None) -> tuple[tuple[bytes, ...], Shape | None]:
    """A Z*RANGE* or X*RANGE command with redis-py's keyword arguments."""
    parts = [name, _encode(key), _encode(low), _encode(high)]
    if withscores:
        parts.append(b"WITHSCORES")
    if start is not None and num is not None:
        parts += [b"LIMIT", _encode(start), _encode(num)]
    if count is not None:
        parts += [b"COUNT", _encode(count)]
    return tuple(parts), _as_pairs if withscores else None


def _command(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[bytes, ...], Shape | None]:
    """The wire parts of one redis-py style call (``add("zrange", key, 0, 9, withscores=True)``) and its shape."""
    if name == "execute_command":
        return tuple(_encode(a) for a in args), None
    if name in ("zrange", "zrevrange", "zrevrangebyscore", "zrangebyscore"):
        return _range(name.upper().encode(), *args, **kwargs)
    if name == "xrevrange":
        stream, _ = _range(b"XREVRANGE", *args, **kwargs)
        return stream, _as_stream
    if name == "scan":
        scan = [b"SCAN", _encode(args[0] if args else kwargs.get("cursor", 0))]
        if kwargs.get("match") is not None:
            scan += [b"MATCH", _encode(kwargs["match"])]
        if kwargs.get("count") is not None:
            scan += [b"COUNT", _encode(kwargs["count"])]
        return tuple(scan), _as_scan
    if kwargs:
        raise TypeError(f"Round.add({name!r}) takes no keyword arguments")
    flat: list[bytes] = [name.upper().encode()]
    for arg in args:
        flat.extend(_encode(a) for a in arg) if isinstance(arg, (list, tuple)) else flat.append(_encode(arg))
    return tuple(flat), SHAPES.get(name)


SHAPES: dict[str, Shape] = {"hgetall": _as_dict, "smembers": _as_set, "zscore": _as_float}
"""Commands whose raw reply is shaped as redis-py shapes it (the others come back as Redis sent them)."""

EACH_COMMANDS = frozenset({"hgetall", "hmget", "hget", "get", "smembers", "pttl", "llen", "lindex", "zcard", "zcount"})
"""The plain key commands ``each`` sends by the thousand, packed from one preformatted head and tail."""


class _Each(NamedTuple):
    """Commands ``Round.each`` queued: one per key, the same arguments after each."""

    name: bytes
    keys: list[bytes]
    rest: tuple[bytes, ...]


class Round:
    """One pipelined round trip of read commands; ``add`` returns the slot its reply will be in."""

    def __init__(self, conn: redis.Redis) -> None:
        self.conn = conn
        self.size = 0
        self._sent: list[tuple[bytes, ...] | _Each] = []
        """What ``add`` and ``each`` queued, in slot order (``commands`` spells it out; a refresh never asks)."""
        self._packed: list[bytes] = []
        self._shapes: dict[int, Shape] = {}

    @property
    def commands(self) -> list[tuple[bytes, ...]]:
        """Every command's wire parts, in slot order (what a benchmark replays)."""
        out: list[tuple[bytes, ...]] = []
        for sent in self._sent:
            if isinstance(sent, _Each):
                out.extend((sent.name, key, *sent.rest) for key in sent.keys)
            else:
                out.append(sent)
        return out

    def add(self, command: str, *args: Any, **kwargs: Any) -> int:
        """Queue one read command, named and called as on redis-py's client; the slot of its reply."""
        parts, shape = _command(command, args, kwargs)
        self._sent.append(parts)
        self._packed.append(pack(parts))
        if shape is not None:
            self._shapes[self.size] = shape
        self.size += 1
        return self.size - 1

    def each(self, command: str, args: list[Any], tail: tuple[Any, ...] = ()) -> range:
        """Queue ``command key *tail`` once per key in ``args`` (the hot path: four per worker, ``tail`` the
        fields of an HMGET); the range of their slots."""
        if command not in EACH_COMMANDS:
            for arg in args:
                self.add(command, arg, *tail)
            return range(self.size - len(args), self.size)
        shape, name, rest = SHAPES.get(command), command.upper().encode(), tuple(_encode(a) for a in tail)
        head = b"*%d\r\n$%d\r\n%s\r\n" % (2 + len(rest), len(name), name)
        end = b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in rest)
        keys = args if all(type(k) is bytes for k in args) else [_encode(k) for k in args]
        self._sent.append(_Each(name, keys, rest))
        self._packed.append(b"".join([head + b"$%d\r\n%s\r\n" % (len(k), k) + end for k in keys]))
        if shape is not None:
            self._shapes.update(dict.fromkeys(range(self.size, self.size + len(keys)), shape))
        self.size += len(keys)
        return range(self.size - len(keys), self.size)

    def run(self) -> Replies:
        """The replies in order, shaped; an error reply comes back as its exception object, not raised."""
        if not self.size:
            return []
        replies = exchange(self.conn, b"".join(self._packed), self.size)
        for slot, shape in self._shapes.items():
            reply = replies[slot]
            if not isinstance(reply, Exception):
                replies[slot] = shape(reply)
        return replies


def score_map(reply: Any) -> dict[Any, float]:
    """member -> score of a ZRANGE ... WITHSCORES sent as a raw command (``Round.add("execute_command", "ZRANGE",
    key, 0, -1, "WITHSCORES")``): RESP3's ``[member, score]`` pairs (scores already doubles) or RESP2's flat list
    alike, without shaping every pair first (~25 ms a refresh at 10,000 workers); {} for an error reply or a
    wrong type."""
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
