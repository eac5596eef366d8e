"""`rqtop serve` in a real headless browser (Debian's chromium, driven over the DevTools protocol): the page's
terminal shows live data, a key typed into it switches tabs, Cancel All Pending's confirmation appears, and `y`
typed in the browser cancels the jobs in Redis. The page draws on a canvas, so a script added before the page
loads keeps the text its websocket received, which is what the terminal shows."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis
from rq import Queue

from tests.test_serve import ANSI, _start, _stop

CHROMIUM = "/usr/bin/chromium"
"""Debian's chromium (apt-get install chromium; .ci/run installs it)."""

TEXT_TAP = """
(() => {
  window.__rqtopText = "";
  const Native = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new Native(...args);
    socket.addEventListener("message", (event) => {
      if (event.data instanceof ArrayBuffer) {
        window.__rqtopText += new TextDecoder().decode(event.data);
      } else if (event.data instanceof Blob) {
        event.data.arrayBuffer().then((b) => { window.__rqtopText += new TextDecoder().decode(b); });
      }
    });
    return socket;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();
"""


def chromium() -> str:
    """The browser binary; under CI a missing one fails the test, elsewhere it skips."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"no {CHROMIUM} (apt-get install chromium)")
    pytest.skip(f"no {CHROMIUM} (apt-get install chromium)")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[str]:
    """A headless chromium; yields its DevTools HTTP address."""
    process = subprocess.Popen(
        [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--remote-debugging-port=0", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1280,800", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        for line in process.stderr:
            found = re.search(r"DevTools listening on ws://([^/]+)/", line)
            if found:
                yield found.group(1)
                return
            assert time.monotonic() < deadline, "chromium did not start"
        raise AssertionError(f"chromium exited: {process.wait()}")
    finally:
        process.kill()
        process.wait(timeout=10)


class Page:
    """One browser tab over the DevTools protocol."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events in between are skipped)."""
        number = next(self.ids)
        await self.socket.send_json({"id": number, "method": method, "params": params})
        while True:
            message = json.loads((await self.socket.receive(timeout=30)).data)
            if message.get("id") == number:
                assert "error" not in message, message
                return dict(message.get("result", {}))

    async def text(self) -> str:
        """What the page's websocket received so far, escape sequences removed."""
        result = await self.call("Runtime.evaluate", expression="window.__rqtopText || ''")
        return ANSI.sub("", result["result"].get("value", ""))

    async def type(self, key: str) -> None:
        """Type one printable key into the focused terminal."""
        code = ord(key.upper())
        shift = 8 if key.isupper() else 0
        await self.call("Input.dispatchKeyEvent", type="keyDown", key=key, text=key, unmodifiedText=key,
                        windowsVirtualKeyCode=code, modifiers=shift)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=key, windowsVirtualKeyCode=code,
                        modifiers=shift)

    async def type_until(self, key: str, needle: str, timeout: float = 20.0) -> None:
        """Type ``key`` until ``needle`` has arrived after it (a key typed while the session starts is lost)."""
        deadline = time.monotonic() + timeout
        while True:
            seen = len(await self.text())
            await self.type(key)
            settle = time.monotonic() + 2
            while time.monotonic() < settle:
                if needle in (await self.text())[seen:]:
                    return
                await asyncio.sleep(0.1)
            assert time.monotonic() < deadline, f"{needle!r} never arrived after {key!r}"


def test_dashboard_in_headless_chromium(browser: str, redis_url: str, conn: redis.Redis, tmp_path: Path) -> None:
    queue = Queue("web-q", connection=conn)
    for _ in range(3):
        queue.enqueue("worker.demo_tasks.cache_warm")
    process, port = _start(redis_url, tmp_path)

    async def body() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.put(f"http://{browser}/json/new?about:blank") as response:
                target = await response.json(content_type=None)
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as socket:
                page = Page(socket)
                await page.call("Page.enable")
                await page.call("Page.addScriptToEvaluateOnNewDocument", source=TEXT_TAP)
                await page.call("Page.navigate", url=f"http://127.0.0.1:{port}/")
                deadline = time.monotonic() + 30
                while True:
                    shown = await page.text()
                    if "Background Jobs" in shown and "connected" in shown:
                        break
                    assert time.monotonic() < deadline, shown[-500:]
                    await asyncio.sleep(0.2)
                await page.call("Runtime.evaluate",
                                expression="document.querySelector('.xterm-helper-textarea').focus()")
                await page.type_until("2", "web-q")
                await page.type_until("1", "Scheduled Jobs")
                await page.type_until("C", "y confirm · n or Esc back out")
                shot = await page.call("Page.captureScreenshot", format="png")
                keep = os.environ.get("RQTOP_BROWSER_SCREENSHOT")
                (Path(keep) if keep else tmp_path / "browser.png").write_bytes(base64.b64decode(shot["data"]))
                await page.type("y")
                deadline = time.monotonic() + 15
                while conn.llen("rq:queue:web-q"):
                    assert time.monotonic() < deadline, "y typed in the browser did not cancel the jobs"
                    await asyncio.sleep(0.2)
                assert conn.zcard("rq:canceled:web-q") == 3

    try:
        asyncio.run(body())
    finally:
        _stop(process)
