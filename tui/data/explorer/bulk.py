"""HMGET of many job hashes in one round trip, without redis-py's per-command pipeline bookkeeping.

A scan reads two or three fields of up to a thousand hashes per step; redis-py's ``Pipeline`` costs tens of
microseconds of Python per command (command objects, callbacks, response post-processing), which capped a scan
near 15,000 jobs/s. Here the commands are packed once into one buffer and sent with the connection's
``send_packed_command``; the replies are parsed by hiredis (a dependency through ``redis[hiredis]``) straight
from the connection's socket, or with ``read_response`` one by one when that socket is not a plain one. The
wire traffic is a pipeline's: one round trip, only HMGETs (read commands), each a single small call.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any

import redis

try:
    import hiredis
except ImportError:  # pragma: no cover - redis[hiredis] installs it
    hiredis = None  # type: ignore[assignment]

RECV_BYTES = 1 << 18


def _packed(keys: Sequence[bytes], fields: Sequence[str]) -> bytes:
    """RESP for ``HMGET key field...`` of every key, as one buffer."""
    tail = b"".join(b"$%d\r\n%s\r\n" % (len(f), f.encode()) for f in fields)
    head = b"*%d\r\n$5\r\nHMGET\r\n" % (len(fields) + 2)
    return b"".join([head + b"$%d\r\n%s\r\n" % (len(key), key) + tail for key in keys])


def _read_raw(sock: socket.socket, count: int) -> list[Any]:
    """``count`` replies parsed by a fresh hiredis reader from ``sock`` (errors come back as ReplyError values)."""
    reader = hiredis.Reader()
    replies: list[Any] = []
    append, gets = replies.append, reader.gets
    while len(replies) < count:
        reply = gets()
        if reply is False:
            chunk = sock.recv(RECV_BYTES)
            if not chunk:
                raise redis.ConnectionError("Redis closed the connection during a scan")
            reader.feed(chunk)
            continue
        append(reply)
    return replies


def _read_each(connection: Any, count: int) -> list[Any]:
    """``count`` replies read with redis-py's parser (an error reply is returned, not raised)."""
    replies = []
    for _ in range(count):
        try:
            replies.append(connection.read_response())
        except redis.ResponseError as error:
            replies.append(error)
    return replies


def hmget_many(conn: redis.Redis, keys: Sequence[bytes], fields: Sequence[str]) -> list[list[Any] | None]:
    """The HMGET reply (values in ``fields`` order) of each key; None for a key whose reply was an error (a key
    of another type). One round trip; a dropped connection raises redis' ConnectionError like any read."""
    if not keys:
        return []
    pool = conn.connection_pool
    connection = pool.get_connection()
    try:
        connection.send_packed_command([_packed(keys, fields)])
        sock = getattr(connection, "_sock", None)
        raw = hiredis is not None and isinstance(sock, socket.socket)
        try:
            replies = _read_raw(sock, len(keys)) if raw else _read_each(connection, len(keys))  # type: ignore[arg-type]
        except OSError as error:
            raise redis.ConnectionError(f"reading a scan's replies: {error}") from error
    except BaseException:
        connection.disconnect()  # replies may be left unread: never hand this connection out again as it is
        raise
    finally:
        pool.release(connection)
    return [reply if isinstance(reply, list) else None for reply in replies]
