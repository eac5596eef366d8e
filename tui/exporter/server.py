"""The collector prometheus_client calls per scrape, and the HTTP server that serves ``/metrics``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from tui.exporter.cache import SnapshotCache
from tui.exporter.families import families
from tui.exporter.task_totals import TaskTotals


class RqtopCollector(Collector):
    """Yields the families of the cached ReadState: a scrape reads Redis only when the cache is due."""

    def __init__(self, cache: SnapshotCache) -> None:
        self.cache = cache
        self.totals = TaskTotals()
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        """Every family of one scrape (the task counters are folded under a lock: scrapes run in threads)."""
        state = self.cache.get()
        with self._lock:
            built = list(families(state, self.totals))
        yield from built


def serve(cache: SnapshotCache, host: str, port: int) -> tuple[WSGIServer, threading.Thread]:
    """Start serving ``/metrics`` on ``host:port`` in a daemon thread; raises OSError when it cannot bind."""
    registry = CollectorRegistry(auto_describe=False)  # no describe(): registering reads nothing from Redis
    registry.register(RqtopCollector(cache))
    return start_http_server(port, addr=host, registry=registry)
