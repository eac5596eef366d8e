"""Redis clients that count round trips client-side, and server-side command/write counts from INFO."""

from __future__ import annotations

import redis
from redis.connection import Connection, UnixDomainSocketConnection

from tests.redis_commands import WRITE_COMMANDS
from tests.redis_commands import command_calls as command_stats

__all__ = ["WRITE_COMMANDS", "command_stats", "counting_client", "delta", "round_trips", "writes"]


class _Counter:
    """Mixin counting every packed send: one per single command, one per pipeline execute."""

    sends = 0

    def send_packed_command(self, command, check_health=True):  # type: ignore[no-untyped-def]
        _Counter.sends += 1
        return super().send_packed_command(command, check_health)  # type: ignore[misc]


class CountingConnection(_Counter, Connection):
    """TCP connection that counts round trips."""


class CountingUnixConnection(_Counter, UnixDomainSocketConnection):
    """Unix-socket connection that counts round trips."""


def counting_client(url: str) -> redis.Redis:
    """A client whose connections count sends in ``_Counter.sends`` (shared by both classes)."""
    client = redis.Redis.from_url(url)
    pool = client.connection_pool
    pool.connection_class = (
        CountingUnixConnection if issubclass(pool.connection_class, UnixDomainSocketConnection)
        else CountingConnection
    )
    return client


def round_trips() -> int:
    """Sends counted so far over every counting connection."""
    return _Counter.sends


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Commands called between two command_stats readings (INFO itself excluded)."""
    names = set(before) | set(after)
    diff = {name: after.get(name, 0) - before.get(name, 0) for name in names}
    diff.pop("info", None)
    return {name: count for name, count in diff.items() if count}


def writes(diff: dict[str, int]) -> int:
    """How many of the calls in a delta were writes."""
    return sum(count for name, count in diff.items() if name in WRITE_COMMANDS)
