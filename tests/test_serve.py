"""`rqtop serve` as a real process: it serves textual-serve's page over loopback HTTP, and its websocket (the one
the browser page opens) drives a real rqtop session on real Redis: the first screen shows data, a key switches
tabs, a destructive key shows its confirmation. A token guards page and websocket; a websocket from another origin
is refused; a non-loopback bind without a token is one line, exit 2."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import redis

from tests.cli_support import ROOT, one_error_line, rqtop, rqtop_env
from tests.redis_servers import free_port

ANSI = re.compile(r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-B]|[=>NOM78c])")


def _start(url: str, tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tui", "serve", "--port", str(port), *args], cwd=ROOT,
                               env=rqtop_env(url, {"RQTOP_CONFIG": str(tmp_path / "none.toml")}),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/static/js/textual.js", timeout=1).close()
            return process, port
        except (urllib.error.URLError, ConnectionError):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "rqtop serve did not listen"
            time.sleep(0.1)


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL when open sessions keep aiohttp's graceful shutdown waiting."""
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture
def served(redis_url: str, conn: redis.Redis, tmp_path: Path) -> Iterator[int]:
    """`rqtop serve` on a free loopback port with 3 pending jobs on queue web-q."""
    conn.sadd("rq:queues", "rq:queue:web-q")
    conn.rpush("rq:queue:web-q", "w1", "w2", "w3")
    process, port = _start(redis_url, tmp_path)
    try:
        yield port
    finally:
        _stop(process)


class Screen:
    """The text a session has written so far (escape sequences removed)."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.text = ""

    async def wait_for(self, *needles: str, timeout: float = 15.0) -> None:
        """Read frames until every needle has appeared since the last wait."""
        start = len(self.text)
        deadline = time.monotonic() + timeout
        while not all(needle in self.text[start:] for needle in needles):
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {needles}; last text: {self.text[-600:]!r}"
            try:
                message = await self.socket.receive(timeout=left)
            except asyncio.TimeoutError:
                continue
            if message.type == aiohttp.WSMsgType.BINARY:
                self.text += ANSI.sub("", message.data.decode("utf-8", "replace"))
            elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                raise AssertionError(f"the session closed: {self.text[-600:]!r}")

    async def press_until(self, key: str, needle: str, timeout: float = 15.0) -> None:
        """Press ``key`` until ``needle`` shows (a key typed while the session's process is still starting
        its input reader is lost, as it would be in a browser; pressing again is what a person does)."""
        deadline = time.monotonic() + timeout
        while True:
            await self.press(key)
            try:
                await self.wait_for(needle, timeout=min(2.0, deadline - time.monotonic()))
                return
            except AssertionError:
                if time.monotonic() > deadline - 0.1:
                    raise

    async def press(self, key: str) -> None:
        """A key typed into the page's terminal, which has focus (the page says so first, as a click does)."""
        await self.socket.send_json(["focus"])
        await self.socket.send_json(["stdin", key])


def test_page_and_session_over_loopback(served: int) -> None:
    """The page names its websocket; through it the session shows data, '2' switches to Workers, 'C' asks."""
    page = urllib.request.urlopen(f"http://127.0.0.1:{served}/", timeout=5).read().decode()
    assert f"ws://127.0.0.1:{served}/ws" in page and "textual.js" in page and "<div>rqtop</div>" in page

    async def body() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(
                f"ws://127.0.0.1:{served}/ws?width=120&height=36") as socket:
            screen = Screen(socket)
            await socket.send_json(["resize", {"width": 120, "height": 36}])
            await screen.wait_for("Background Jobs", "connected")
            await screen.press_until("2", "web-q")
            await screen.press_until("1", "Scheduled Jobs")
            await screen.press_until("C", "y confirm · n or Esc back out")
            await screen.press("n")

    asyncio.run(body())


def test_token_guards_page_and_websocket(redis_url: str, tmp_path: Path) -> None:
    """With --token: no page and no websocket without it; the page with it sets the cookie the websocket uses;
    a websocket opened by another origin's page is refused."""
    token = "a-long-enough-token"
    process, port = _start(redis_url, tmp_path, "--token", token)
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
        assert refused.value.code == 403

        async def body() -> None:
            # a browser keeps cookies of an IP address host; aiohttp's jar needs unsafe=True to do the same
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
                async with session.get(f"http://127.0.0.1:{port}/ws") as response:
                    assert response.status == 403
                async with session.get(f"http://127.0.0.1:{port}/?token={token}") as response:
                    assert response.status == 200
                async with session.get(f"http://127.0.0.1:{port}/ws",
                                       headers={"Origin": "http://evil.example"}) as response:
                    assert response.status == 403
                async with session.ws_connect(f"ws://127.0.0.1:{port}/ws") as socket:
                    screen = Screen(socket)
                    await screen.wait_for("Background Jobs")

        asyncio.run(body())
    finally:
        _stop(process)


def test_non_loopback_needs_a_token(tmp_path: Path) -> None:
    """Off loopback without --token: one line, exit 2, nothing listens; a short token is refused too."""
    env = {"RQTOP_CONFIG": str(tmp_path / "none.toml")}
    line = one_error_line(rqtop("serve", "--host", "0.0.0.0", "--port", str(free_port()), env=env))
    assert line.startswith("rqtop: error: serve: --host 0.0.0.0 is not loopback: anyone who reaches it could "
                           "drive rqtop; give --token TOKEN"), line
    line = one_error_line(rqtop("serve", "--token", "short", "--port", str(free_port()), env=env))
    assert line == "rqtop: error: --token: use at least 12 characters (or --token auto)", line
    line = one_error_line(rqtop("serve", "--url", "redis://127.0.0.1:1/0", "--port", str(free_port()), env=env))
    assert line.startswith("rqtop: error: cannot reach Redis at redis://127.0.0.1:1/0"), line


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc: each task's children)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_stopping_serve_with_a_session_open_ends_that_sessions_dashboard(redis_url: str, conn: redis.Redis,
                                                                       tmp_path: Path) -> None:
    """SIGTERM while a browser session is open: the server closes the session, its rqtop process quits, and the
    server exits by itself (before, the session's process outlived it, reading Redis with no one watching, and the
    server waited on the open session until killed)."""
    process, port = _start(redis_url, tmp_path)
    sessions: set[int] = set()

    async def body() -> None:
        async with aiohttp.ClientSession() as session, session.ws_connect(
                f"ws://127.0.0.1:{port}/ws?width=100&height=30") as socket:
            screen = Screen(socket)
            await socket.send_json(["resize", {"width": 100, "height": 30}])
            await screen.wait_for("Background Jobs", "connected")
            sessions.update(_descendants(process.pid))
            process.terminate()
            await asyncio.sleep(0)  # the socket stays open on this side: the server must close it

            deadline = time.monotonic() + 10
            while process.poll() is None:
                assert time.monotonic() < deadline, "rqtop serve kept waiting on the open session"
                await asyncio.sleep(0.1)

    try:
        asyncio.run(body())
        assert sessions, "the open session runs a process of its own"
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in sessions):
            assert time.monotonic() < deadline, f"session processes outlived rqtop serve: {sessions}"
            time.sleep(0.1)
    finally:
        _stop(process)
        for pid in sessions:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
