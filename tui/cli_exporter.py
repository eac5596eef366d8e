"""The ``rqtop exporter`` command: serve Prometheus metrics from the dashboard's read-only Snapshot."""

from __future__ import annotations

import signal
import threading

import click

from tui.cli import _settings, fail, open_redis, url_option
from tui.data.connection import mask_url
from worker.display_text import safe_text


@click.command("exporter")
@url_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9726, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on (rq-exporter's).")
@click.option("--min-interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1, max=3600),
              help="Seconds between reads of Redis, however often /metrics is scraped.")
def exporter(url: str | None, host: str, port: int, min_interval: float) -> None:
    """Serve /metrics for Prometheus: rq-exporter's metrics and rqtop's, never writing to Redis."""
    from tui.exporter.cache import CountingReader, SnapshotCache
    from tui.exporter.server import serve

    conn, target = open_redis(url)
    cache = SnapshotCache(CountingReader(conn, _settings(read_only=True)), min_interval,
                          say=lambda line: click.echo(f"rqtop exporter: {safe_text(line)}", err=True))
    try:
        server, _thread = serve(cache, host, port)
    except OSError as exc:
        fail(f"exporter: cannot listen on {host}:{port}: {exc.strerror or exc}")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    click.echo(f"rqtop exporter: http://{host}:{port}/metrics from {mask_url(target)}, at most one read every "
               f"{min_interval:g} s", err=True)
    stop.wait()
    server.shutdown()
