"""``rqtop exporter``'s bad flags, an unreachable Redis and a port in use: one line, exit 2, no traceback."""

from __future__ import annotations

import socket

import pytest

from tests.cli_support import one_error_line, rqtop


@pytest.mark.parametrize(("flags", "says"), [
    (("--port", "0"), "--port"),
    (("--port", "http"), "--port"),
    (("--min-interval", "0"), "--min-interval"),
    (("--min-interval", "soon"), "--min-interval"),
    (("--bogus",), "--bogus"),
])
def test_bad_flags_are_one_line(redis_url: str, flags: tuple[str, ...], says: str) -> None:
    """A usage error names the flag."""
    assert says in one_error_line(rqtop("exporter", "--url", redis_url, *flags))


def test_unreachable_redis_at_start_is_one_line() -> None:
    """Nothing listens on port 1: exit 2 before serving anything."""
    line = one_error_line(rqtop("exporter", "--url", "redis://127.0.0.1:1/0"))
    assert "cannot reach Redis at redis://127.0.0.1:1/0" in line


def test_port_in_use_is_one_line(redis_url: str) -> None:
    """Another process holds the port: one line naming it."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        line = one_error_line(rqtop("exporter", "--url", redis_url, "--port", str(port)))
    assert f"cannot listen on 127.0.0.1:{port}" in line
