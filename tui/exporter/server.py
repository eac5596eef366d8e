"""The HTTP side: ``/metrics`` rendered once per read and served to every scrape until the next read is due."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from tui.exporter.cache import ReadState, SnapshotCache
from tui.exporter.families import families
from tui.exporter.task_totals import TaskTotals

PATHS = ("/metrics", "/")


class _StateCollector(Collector):
    """The families of one ReadState, for ``generate_latest``."""

    def __init__(self, state: ReadState, totals: TaskTotals) -> None:
        self.state, self.totals = state, totals

    def collect(self) -> Iterator[Any]:
        """Every family of the state."""
        return families(self.state, self.totals)


class MetricsPage:
    """A WSGI app: the exposition text of the cache's current ReadState, rendered once per state."""

    def __init__(self, cache: SnapshotCache) -> None:
        self.cache = cache
        self.totals = TaskTotals()
        self._lock = threading.Lock()
        self._state: ReadState | None = None
        self._body = b""

    def body(self) -> bytes:
        """The text for the current state (scrapes of one state share one rendering; the lock keeps the task
        counters folded once per read)."""
        state = self.cache.get()
        with self._lock:
            if state is not self._state:
                self._body, self._state = generate_latest(_StateCollector(state, self.totals)), state
            return self._body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """GET /metrics (or /): 200 with the text, also while Redis is down (``rqtop_up 0``); else 404."""
        if environ.get("PATH_INFO", "/") not in PATHS:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"rqtop exporter: metrics are at /metrics\n"]
        body = self.body()
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
        return [body]


class _Server(ThreadingMixIn, WSGIServer):
    """One thread per scrape (they wait on the cache's lock for a due read, not on each other's rendering)."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr per scrape."""

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing."""


def serve(cache: SnapshotCache, host: str, port: int) -> tuple[WSGIServer, threading.Thread]:
    """Start serving on ``host:port`` in a daemon thread; raises OSError when it cannot bind."""
    server = make_server(host, port, MetricsPage(cache), _Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="rqtop-exporter-http", daemon=True)
    thread.start()
    return server, thread
