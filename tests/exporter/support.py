"""A real ``rqtop exporter`` process on loopback for tests, and its /metrics parsed with prometheus_client's parser."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client.parser import text_string_to_metric_families

from tests.cli_support import ROOT, rqtop_env
from tests.waiting import wait_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""Every sample of one scrape: (sample name, its labels) -> value."""


def free_port() -> int:
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(port: int, timeout: float = 10.0) -> str:
    """The body of one GET /metrics (a status other than 200 raises)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as response:
        assert response.status == 200
        return response.read().decode()


def parse(text: str) -> Samples:
    """Every sample of an exposition text, as prometheus_client's parser reads it."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(port: int) -> Samples:
    """One scrape, parsed."""
    return parse(fetch(port))


def value(samples: Samples, metric: str, /, **labels: str) -> float:
    """The value of the one sample ``metric`` with exactly ``labels`` (absent: KeyError naming it)."""
    key = (metric, frozenset(labels.items()))
    if key not in samples:
        raise KeyError(f"{metric}{labels} not in {sorted(k for k in samples if k[0] == metric)}")
    return samples[key]


def names(samples: Samples) -> set[str]:
    """The sample names present."""
    return {name for name, _ in samples}


@contextmanager
def running_exporter(url: str, *extra: str) -> Iterator[int]:
    """``rqtop exporter --url URL`` on a free loopback port until it answers; its port. Killed afterwards."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tui", "exporter", "--url", url, "--port", str(port), *extra],
                               cwd=ROOT, env=rqtop_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"exporter exited {process.returncode}: {process.stderr.read()!r}")  # type: ignore
        try:
            fetch(port, timeout=2)
        except OSError:
            return False
        return True

    try:
        wait_for(answers, 30, "the exporter to answer")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
