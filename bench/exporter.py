"""Scrape latency of ``rqtop exporter`` at 1 M jobs x 1,000 workers, beside rq-exporter's on the same state.

Populates an embedded Redis (bench/populate.py), starts ``rqtop exporter`` and, when a virtualenv with
rq-exporter is given (``--rq-exporter-venv``, e.g. ``python -m venv /tmp/v && /tmp/v/bin/pip install
rq-exporter``; it needs rq < 3, so it cannot share rqtop's), rq-exporter on the same Redis. Per exporter:
median and p95 of a scrape with the read due every time (``--min-interval`` tiny: the cost of one read) and
with the cache warm (the default 5 s), the Redis commands and writes per scrape (INFO commandstats), and
how many reads 100 scrapes/s for 10 s cost (target: at most one per --min-interval). Prints MET / NOT MET.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from counting import command_stats, delta, writes  # noqa: E402
from populate import METRIC_RECORDS, populate  # noqa: E402
from verdicts import verdict  # noqa: E402

from worker.embedded_redis import EmbeddedRedis  # noqa: E402


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, timeout: float = 120.0) -> tuple[float, str]:
    """Seconds one GET /metrics took, and its body."""
    began = time.perf_counter()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as response:
        body = response.read().decode()
    return time.perf_counter() - began, body


@contextmanager
def serving(argv: list[str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Run an exporter until it accepts connections (no scrape is made to check), then stop it."""
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{argv[0]} exited: {process.stderr.read().decode()[-800:]}")  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{argv} did not listen within 60 s") from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def latency(port: int, admin: redis.Redis, scrapes: int, gap: float = 0.0) -> dict[str, float]:
    """Median / p95 seconds of ``scrapes`` sequential scrapes ``gap`` s apart, commands and writes per scrape."""
    get(port)  # warm: the first read fills rqtop's metrics cache, imports are done
    before = command_stats(admin)
    times = []
    for _ in range(scrapes):
        time.sleep(gap)
        times.append(get(port)[0])
    diff = delta(before, command_stats(admin))
    return {"median_s": statistics.median(times), "p95_s": sorted(times)[max(0, int(len(times) * 0.95) - 1)],
            "commands": sum(diff.values()) / scrapes, "writes": writes(diff) / scrapes}


def flood(port: int, admin: redis.Redis, seconds: float, per_s: float) -> tuple[int, int]:
    """Scrape at ``per_s`` from 4 threads for ``seconds``: (scrapes answered, Redis commands spent)."""
    before, done, count = command_stats(admin), time.monotonic() + seconds, [0]
    lock = threading.Lock()

    def scraper() -> None:
        tick = time.monotonic()
        while time.monotonic() < done:
            get(port)
            with lock:
                count[0] += 1
            tick += 4 / per_s
            time.sleep(max(0.0, tick - time.monotonic()))

    threads = [threading.Thread(target=scraper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count[0], sum(delta(before, command_stats(admin)).values())



def main() -> None:
    """Populate, measure rqtop's exporter (and rq-exporter's when a venv is given), print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=1_000)
    parser.add_argument("--metric-records", type=int, default=METRIC_RECORDS)
    parser.add_argument("--scrapes", type=int, default=20)
    parser.add_argument("--flood-s", type=float, default=10.0)
    parser.add_argument("--min-interval", type=float, default=5.0)
    parser.add_argument("--rq-exporter-venv", type=Path, default=None)
    args = parser.parse_args()
    with EmbeddedRedis() as server:
        admin = redis.Redis.from_url(server.url)
        began = time.perf_counter()
        counts = populate(admin, args.jobs, args.workers, metric_records=args.metric_records)
        print(f"state: {args.jobs:,} jobs x {args.workers:,} workers ({counts.get('queued', 0):,} queued) in "
              f"{time.perf_counter() - began:.0f} s; {admin.dbsize():,} keys")
        rqtop = [sys.executable, "-m", "tui", "exporter", "--url", server.url]
        port = free_port()
        with serving([*rqtop, "--port", str(port), "--min-interval", "0.1"], port):
            cold = latency(port, admin, args.scrapes, gap=0.15)  # every scrape finds the read due
        port = free_port()
        with serving([*rqtop, "--port", str(port), "--min-interval", str(args.min_interval)], port):
            warm = latency(port, admin, args.scrapes)
            before_reads = _reads(get(port)[1])
            scrapes, spent = flood(port, admin, args.flood_s, 100.0)
            reads = _reads(get(port)[1]) - before_reads  # an upper bound: the closing scrape may read once more
        allowed = args.flood_s / args.min_interval + 1
        print(f"rqtop exporter, read every scrape: median {cold['median_s'] * 1000:.1f} ms, p95 "
              f"{cold['p95_s'] * 1000:.1f} ms, {cold['commands']:.0f} commands, {cold['writes']:.0f} writes per scrape")
        print(f"rqtop exporter, --min-interval {args.min_interval:g}: median {warm['median_s'] * 1000:.1f} ms, "
              f"p95 {warm['p95_s'] * 1000:.1f} ms, {warm['commands']:.1f} commands per scrape")
        print(f"flood: {scrapes} scrapes in {args.flood_s:g} s -> {reads:.0f} reads, {spent} Redis commands "
              f"(allowed <= {allowed:.0f} reads): {verdict(reads <= allowed)} one read per --min-interval")
        if args.rq_exporter_venv is None:
            print("rq-exporter: not measured (give --rq-exporter-venv with `pip install rq-exporter` in it)")
            return
        port = free_port()
        theirs = [str(args.rq_exporter_venv / "bin" / "python"), "-m", "rq_exporter", "--host", "127.0.0.1",
                  "--port", str(port), "--redis-url", server.url]
        with serving(theirs, port):
            other = latency(port, admin, max(3, args.scrapes // 4))
        print(f"rq-exporter: median {other['median_s'] * 1000:.1f} ms, p95 {other['p95_s'] * 1000:.1f} ms, "
              f"{other['commands']:.0f} commands, {other['writes']:.0f} writes per scrape (it reads on every scrape)")
        print(f"rqtop read-every-scrape median vs rq-exporter: {cold['median_s'] / other['median_s']:.2f}x: "
              f"{verdict(cold['median_s'] <= other['median_s'])} at most rq-exporter's latency")


def _reads(body: str) -> float:
    """``rqtop_reads_total`` of a scrape."""
    for line in body.splitlines():
        if line.startswith("rqtop_reads_total "):
            return float(line.split()[1])
    raise SystemExit("no rqtop_reads_total in the scrape")


if __name__ == "__main__":
    main()
