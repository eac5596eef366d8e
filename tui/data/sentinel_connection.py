"""Connections to the master a sentinel names that drop their socket when a read is interrupted, as redis-py's plain
connections do: its SentinelManagedConnection keeps it, so after a signal handler's exception (RQ's warm shutdown
raising StopRequested in the middle of a blocking dequeue) the next command on that pooled connection reads the
interrupted command's late reply ("Wrong number of response items from pipeline execution")."""

from __future__ import annotations

from typing import Any

from redis.connection import SSLConnection
from redis.sentinel import SentinelManagedConnection


class MasterConnection(SentinelManagedConnection):
    """SentinelManagedConnection that disconnects on any error while reading a reply (redis-py's default for
    every other connection class)."""

    def read_response(self, disable_decoding: bool = False, *, disconnect_on_error: bool | None = True,
                      **kwargs: Any) -> Any:
        """Read one reply; on any exception the socket is closed, so no late reply reaches the next command."""
        return super().read_response(disable_decoding, disconnect_on_error=disconnect_on_error, **kwargs)


class MasterSSLConnection(MasterConnection, SSLConnection):
    """MasterConnection over TLS."""


def master_connection_class(tls: bool) -> type[MasterConnection]:
    """The connection class for a Sentinel-found master (TLS or not)."""
    return MasterSSLConnection if tls else MasterConnection
