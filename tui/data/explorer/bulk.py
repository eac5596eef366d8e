"""HMGET/HGET of many job hashes in one round trip, without redis-py's per-command pipeline bookkeeping.

A scan reads two or three fields of up to a thousand hashes per step; redis-py's ``Pipeline`` costs tens of
microseconds of Python per command (command objects, callbacks, response post-processing), which capped a scan
near 15,000 jobs/s. Here the commands are packed once into one buffer and sent with the connection's
``send_packed_command``; the replies are parsed by hiredis (a dependency through ``redis[hiredis]``) straight
from the connection's socket, or with ``read_response`` one by one when that socket is not a plain one. The
wire traffic is a pipeline's: one round trip, only HMGETs (read commands), each a single small call.

A request of ``SEND_ALONGSIDE_BYTES`` or more (a refresh's second round at thousands of workers) is sent by a
short-lived thread while this one parses the replies already back, so Redis working through the rest of the request
and the client parsing overlap; on TLS the one thread does both in turn.

``Link`` holds one connection for a scan's run so that the next request (the HGETs of the keys the last SCAN
returned, and the next SCAN) is on the wire while the client works through the previous replies: Redis and the
client then work at the same time instead of in turn. Only one request is ever in flight, and a link closed with
replies unread drops its connection rather than hand it back half-read.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Sequence
from typing import Any

import redis

try:
    import hiredis
except ImportError:  # pragma: no cover - redis[hiredis] installs it
    hiredis = None  # type: ignore[assignment]

RECV_BYTES = 1 << 18


def packed_hmget(keys: Sequence[bytes], fields: Sequence[str]) -> bytes:
    """RESP for ``HMGET key field...`` of every key, as one buffer."""
    tail = b"".join(b"$%d\r\n%s\r\n" % (len(f), f.encode()) for f in fields)
    head = b"*%d\r\n$5\r\nHMGET\r\n" % (len(fields) + 2)
    return b"".join([head + b"$%d\r\n%s\r\n" % (len(key), key) + tail for key in keys])


def packed_hget(keys: Sequence[bytes], field: str) -> bytes:
    """RESP for ``HGET key field`` of every key, as one buffer (a single field: the reply is the value itself)."""
    tail = b"$%d\r\n%s\r\n" % (len(field), field.encode())
    return b"".join([b"*3\r\n$4\r\nHGET\r\n$%d\r\n%s\r\n%s" % (len(key), key, tail) for key in keys])


def packed_scan(cursor: int, match: bytes, count: int) -> bytes:
    """RESP for ``SCAN cursor MATCH match COUNT count``."""
    parts = (b"SCAN", b"%d" % cursor, b"MATCH", match, b"COUNT", b"%d" % count)
    return b"*6\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(part), part) for part in parts)


def _read_raw(sock: socket.socket, count: int, reader: Any = None) -> list[Any]:
    """``count`` replies parsed by a hiredis reader (a fresh one unless given) from ``sock`` (errors come back as
    ResponseError values, as redis-py's parser gives them)."""
    reader = reader or hiredis.Reader(replyError=redis.ResponseError)
    replies: list[Any] = []
    append, gets = replies.append, reader.gets
    while len(replies) < count:
        reply = gets()
        if reply is False:
            chunk = sock.recv(RECV_BYTES)
            if not chunk:
                raise redis.ConnectionError("Redis closed the connection before every reply came back")
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


SEND_ALONGSIDE_BYTES = 1 << 18
"""A request at least this big is sent by a thread while this one parses the replies already back (see
``_Sender``): at 10,000 workers a refresh's second round is ~6 MB, which Redis takes ~60 ms to work through."""


class _Sender(threading.Thread):
    """Sends one request with the connection's own ``send_packed_command`` while the caller reads the replies from
    its plain socket (no TLS: an SSL object must not read and write from two threads at once), so parsing them
    overlaps Redis working through the rest. A failed send disconnects, which shuts the socket down: the reader
    stops at once instead of waiting for replies that will never come."""

    def __init__(self, connection: Any, sock: socket.socket, packed: bytes) -> None:
        super().__init__(name="rqtop-send", daemon=True)
        self.connection, self.sock, self.packed = connection, sock, packed
        self.error: Exception | None = None
        self.start()

    def run(self) -> None:
        try:
            self.connection.send_packed_command([self.packed], check_health=False)
        except Exception as error:  # noqa: BLE001 - handed to the reading thread, which raises it
            self.error = error

    def stop(self) -> None:
        """Shut the socket down: a send still under way fails at once, and so does a read."""
        with contextlib.suppress(OSError):  # already gone
            self.sock.shutdown(socket.SHUT_RDWR)


def exchange(conn: redis.Redis, packed: bytes, count: int) -> list[Any]:
    """Send ``packed`` (``count`` commands) on a pooled connection and read their replies in one round trip:
    hiredis on a plain socket, else the connection's own parser; an error reply is its ResponseError value. A
    request of ``SEND_ALONGSIDE_BYTES`` or more on a plain socket is sent by a ``_Sender`` while the replies are
    read. A dropped connection raises redis' ConnectionError like any read, and is disconnected, never handed back
    half-read. The refresh's rounds (``sections.rounds``) go out this way too."""
    pool = conn.connection_pool
    connection = pool.get_connection()
    sender: _Sender | None = None
    try:
        sock = getattr(connection, "_sock", None)
        if type(sock) is socket.socket and hiredis is not None and len(packed) >= SEND_ALONGSIDE_BYTES:
            sender = _Sender(connection, sock, packed)
        else:
            connection.send_packed_command([packed])
            sock = getattr(connection, "_sock", None)
        raw = hiredis is not None and isinstance(sock, socket.socket)
        try:
            replies = _read_raw(sock, count) if raw else _read_each(connection, count)  # type: ignore[arg-type]
        except OSError as error:  # the socket's own error (a timeout, a reset)
            raise redis.ConnectionError(f"reading Redis's replies: {error}") from error
        if sender is not None:
            sender.join()
            if sender.error is not None:
                raise sender.error
        return replies
    except BaseException:
        if sender is not None:
            sender.stop()
            sender.join()  # the socket is closed below: the send must be over first
        connection.disconnect()  # replies may be left unread: never hand this connection out again as it is
        raise
    finally:
        pool.release(connection)


def hmget_many(conn: redis.Redis, keys: Sequence[bytes], fields: Sequence[str]) -> list[list[Any] | None]:
    """The HMGET reply (values in ``fields`` order) of each key; None for a key whose reply was an error (a key
    of another type). One round trip; a dropped connection raises redis' ConnectionError like any read."""
    if not keys:
        return []
    return [reply if isinstance(reply, list) else None for reply in exchange(conn, packed_hmget(keys, fields),
                                                                             len(keys))]


class Link:
    """One pooled connection held for a scan's run: ``send`` a packed request, ``receive`` its replies later."""

    def __init__(self, conn: redis.Redis) -> None:
        self._pool = conn.connection_pool
        self._connection: Any = self._pool.get_connection()
        """None once closed."""
        sock = getattr(self._connection, "_sock", None)
        self._sock = sock if hiredis is not None and isinstance(sock, socket.socket) else None
        self._reader = hiredis.Reader() if self._sock is not None else None
        self._waiting = 0

    def send(self, packed: bytes, count: int) -> None:
        """Put one request of ``count`` commands on the wire (the previous one must have been received)."""
        assert not self._waiting, "one request in flight at a time"
        try:
            self._connection.send_packed_command([packed])
        except BaseException:
            self.close(broken=True)
            raise
        self._waiting = count

    def receive(self) -> list[Any]:
        """The replies of the request in flight, in order (an error reply is returned as a value, not raised)."""
        count, self._waiting = self._waiting, 0
        try:
            if self._sock is not None:
                return _read_raw(self._sock, count, self._reader)
            return _read_each(self._connection, count)
        except OSError as error:
            self.close(broken=True)
            raise redis.ConnectionError(f"reading Redis's replies: {error}") from error
        except BaseException:
            self.close(broken=True)
            raise

    def close(self, broken: bool = False) -> None:
        """Hand the connection back; one with replies unread (or ``broken``) is disconnected first."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if broken or self._waiting:
            connection.disconnect()
        self._pool.release(connection)

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(broken=exc[0] is not None)
