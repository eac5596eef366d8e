"""rqtop's full refresh against two plainly written floor refreshes, alternating in one process, at several sizes.

Per size (jobs x workers): median ms of rqtop's ``DashboardReader.read()`` (what the App calls every
``refresh_s``, with its metrics cache warm) and of each floor (bench/floors.py), the median per-round
ratio, round trips and Redis commands per refresh, and the writes a refresh issued (must be 0). Then the
flatness in queue length (refresh at the largest job count / at the smallest), and, with ``--rq-info``,
the wall time of `rq info` at each job count (last, since it writes).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from counting import command_stats, counting_client, delta, round_trips, writes  # noqa: E402
from floors import SameReadsFloor, spec_floor  # noqa: E402
from populate import QUEUES, add_workers, populate  # noqa: E402

from tui.data.reader import DashboardReader  # noqa: E402
from tui.data.settings import Settings  # noqa: E402
from worker.embedded_redis import EmbeddedRedis  # noqa: E402

TARGET_RATIO = 1.3
TARGET_TRIPS = 6
TARGET_FLAT = 1.1


def cost(url: str, action: Any) -> tuple[int, int, int]:
    """Round trips, server-side commands and writes of one call of ``action``."""
    admin = redis.Redis.from_url(url)
    before_rt, before = round_trips(), command_stats(admin)
    action()
    after_rt, after = round_trips(), command_stats(admin)
    diff = delta(before, after)
    return after_rt - before_rt, sum(diff.values()), writes(diff)


def measure(url: str, rounds: int, now: float) -> dict[str, float]:
    """Alternate rqtop's refresh and both floors ``rounds`` times; medians, ratios, round trips, commands."""
    conn = counting_client(url)
    settings = Settings(clock=lambda: now)
    t0 = time.perf_counter()
    reader = DashboardReader(conn, settings)
    reader.read()
    cold = time.perf_counter() - t0
    same, naive = SameReadsFloor(), SameReadsFloor(cache=False)
    calls = {
        "ours": reader.read,
        "spec": lambda: spec_floor(conn),
        "same": lambda: same.read(conn, now),
        "naive": lambda: naive.read(conn, now),
    }
    for call in list(calls.values())[1:]:
        call()  # warm: the floors' caches and connections
    times: dict[str, list[float]] = {name: [] for name in calls}
    order = list(calls)
    for i in range(rounds):
        for name in order[i % len(order):] + order[: i % len(order)]:  # rotate who goes first
            t = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - t)
    result: dict[str, float] = {"cold_ms": cold * 1000}
    for name in calls:
        result[f"{name}_ms"] = statistics.median(times[name]) * 1000
        result[f"{name}_trips"], result[f"{name}_cmds"], result[f"{name}_writes"] = cost(url, calls[name])
    result["ratio_spec"] = statistics.median(o / f for o, f in zip(times["ours"], times["spec"], strict=True))
    result["ratio_same"] = statistics.median(o / f for o, f in zip(times["ours"], times["same"], strict=True))
    result["ratio_naive"] = statistics.median(o / f for o, f in zip(times["ours"], times["naive"], strict=True))
    return result


def flatness(small_url: str, big_url: str, rounds: int, now: float) -> tuple[float, float, float]:
    """Alternate warm refreshes of a small and a big database on one server: medians and per-pair ratio big/small."""
    settings = Settings(clock=lambda: now)
    small, big = (DashboardReader(redis.Redis.from_url(url), settings) for url in (small_url, big_url))
    small.read()
    big.read()
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(rounds):
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            t = time.perf_counter()
            (small, big)[which].read()
            times[which].append(time.perf_counter() - t)
    ratio = statistics.median(b / s for s, b in zip(*times, strict=True))
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000, ratio


def time_rq_info(url: str) -> tuple[float, int, int]:
    """Wall time, commands and writes of one `rq info` (it cleans registries and workers as it reads)."""
    rq_bin = Path(sys.executable).with_name("rq")
    admin = redis.Redis.from_url(url)
    before = command_stats(admin)
    t0 = time.perf_counter()
    done = subprocess.run([str(rq_bin), "info", "--url", url], capture_output=True, text=True, timeout=600,
                          check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0 or "queues" not in done.stdout:
        raise SystemExit(f"rq info failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    diff = delta(before, command_stats(admin))
    return elapsed, sum(diff.values()), writes(diff)


def report(jobs: int, workers: int, r: dict[str, float]) -> None:
    """One block per size: rqtop's refresh, then each floor with the per-round ratio."""
    print(f"{jobs:,} jobs x {workers} workers", flush=True)
    print(f"  {'rqtop refresh':<17}{r['ours_ms']:8.2f} ms  {'':13}{r['ours_trips']} round trips "
          f"{r['ours_cmds']:6} commands  {r['ours_writes']} writes  (cold, first read: {r['cold_ms']:.1f} ms)")
    for name, label in (("spec", "spec floor"), ("same", "same-reads floor"), ("naive", "naive floor")):
        print(f"  {label:<17}{r[name + '_ms']:8.2f} ms  ratio {r['ratio_' + name]:5.2f}x  "
              f"{r[name + '_trips']} round trips {r[name + '_cmds']:6} commands", flush=True)


def verdict(ok: bool) -> str:
    """MET / NOT MET."""
    return "MET" if ok else "NOT MET"


def main() -> None:
    """Populate each job count once, grow the workers, measure, and print one line per size plus the targets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", default="10000,1000000", help="comma-separated queued-job counts")
    parser.add_argument("--workers", default="100,1000", help="comma-separated worker counts (ascending)")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--rq-info", action="store_true", help="also time `rq info` (after the rest, it writes)")
    parser.add_argument("--queues", type=int, default=0,
                        help="spread the jobs over this many per-tenant queues (tenant-000, ...) instead of the "
                             "8 default ones; workers listen on the first three, as in populate.py")
    args = parser.parse_args()
    queues = tuple(f"tenant-{i:03d}" for i in range(args.queues)) if args.queues else QUEUES
    job_sizes = [int(x) for x in args.jobs.split(",")]
    worker_sizes = sorted(int(x) for x in args.workers.split(","))
    results: dict[tuple[int, int], dict[str, float]] = {}
    flat: dict[int, tuple[float, float, float]] = {}
    with EmbeddedRedis() as server:
        now = time.time()
        urls = {jobs: f"{server.url}?db={i}" for i, jobs in enumerate(job_sizes)}
        for jobs, url in urls.items():
            conn = redis.Redis.from_url(url)
            conn.flushdb()
            t0 = time.perf_counter()
            populate(conn, jobs, worker_sizes[0], now=now, queues=queues)
            print(f"populated {jobs:,} jobs x {worker_sizes[0]} workers x {len(queues)} queues in "
                  f"{time.perf_counter() - t0:.0f}s", flush=True)
        have = worker_sizes[0]
        for workers in worker_sizes:
            for url in urls.values():
                if workers > have:
                    add_workers(redis.Redis.from_url(url), random.Random(workers), have, workers - have, now,
                                queues=queues)
            have = workers
            for jobs, url in urls.items():
                results[(jobs, workers)] = measure(url, args.rounds, now)
                report(jobs, workers, results[(jobs, workers)])
            if len(urls) > 1:
                flat[workers] = flatness(urls[min(urls)], urls[max(urls)], args.rounds, now)
        if args.rq_info:
            for jobs, url in urls.items():
                elapsed, commands, wrote = time_rq_info(url)
                print(f"{jobs:,} jobs x {have} workers: rq info {elapsed * 1000:.0f} ms wall (a new process), "
                      f"{commands} commands, {wrote} of them writes", flush=True)
    print("targets:")
    for (jobs, workers), r in results.items():
        print(f"  {jobs:,} x {workers}: <= {TARGET_RATIO}x floor: spec {verdict(r['ratio_spec'] <= TARGET_RATIO)} "
              f"({r['ratio_spec']:.2f}x), same-reads {verdict(r['ratio_same'] <= TARGET_RATIO)} "
              f"({r['ratio_same']:.2f}x); <= {TARGET_TRIPS} round trips {verdict(r['ours_trips'] <= TARGET_TRIPS)} "
              f"({r['ours_trips']}); 0 writes {verdict(r['ours_writes'] == 0)} ({r['ours_writes']})")
    for workers, (small, big, ratio) in flat.items():
        print(f"  flat in queue length at {workers} workers: refresh at {max(urls):,} / at {min(urls):,} jobs = "
              f"{ratio:.2f}x ({big:.2f} / {small:.2f} ms, alternating; <= {TARGET_FLAT}x) "
              f"{verdict(ratio <= TARGET_FLAT)}")


if __name__ == "__main__":
    main()
