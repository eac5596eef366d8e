"""A real SMTP server (aiosmtpd) and a real HTTP server (http.server) in the test process, recording what arrives."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Inbox:
    """Every message the SMTP server accepted, with its envelope recipients."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        """The messages delivered to ``address``."""
        with self.lock:
            return [message for rcpts, message in self.messages if address in rcpts]


class SmtpServer:
    """aiosmtpd on 127.0.0.1:``port``; ``start``/``stop`` may be called again to take it down and bring it back."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@dataclass
class Hooks:
    """Every POST the HTTP server received: path, headers and the raw body."""

    posts: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, _, body in self.posts]


def http_server(port: int = 0) -> tuple[ThreadingHTTPServer, Hooks, str]:
    """A started HTTP server (on ``port``, else any free one) answering 200 to every POST; its record and base URL
    (shut it down after)."""
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", "0"))
            hooks.posts.append((self.path, dict(self.headers.items()), self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, hooks, f"http://127.0.0.1:{server.server_address[1]}"


def until(check: Callable[[], bool], timeout: float = 20.0, step: float = 0.1) -> bool:
    """Poll ``check`` until it is true (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


def started_http() -> Iterator[tuple[Hooks, str]]:
    """Generator fixture body: an HTTP server for one test."""
    server, hooks, url = http_server()
    try:
        yield hooks, url
    finally:
        server.shutdown()
        server.server_close()
