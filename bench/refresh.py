"""rqtop's refresh against plainly written floors, alternating in one process, per tab and at several sizes.

Per size (jobs x workers x queues) and per mode: median ms of rqtop's ``DashboardReader.read`` as the App calls it
for that screen, and of the floors (bench/floors.py), the median per-round ratio, round trips, Redis commands per
refresh (mean; server-side INFO deltas) and the writes a refresh issued (must be 0):

- ``full``: ``read()``, what ``rqtop status --json`` sends (every worker and queue, the metrics; warm cache);
- ``jobs``: ``read(include_metrics=False, workers=WorkerReads.off_screen(), queues=QueueReads.off_screen())``, the
  Background Jobs tab (no worker and no queue on screen: no worker is read, of the queues only those never read);
- ``workers``: the same with 40 workers and 15 queue rows on screen, the Workers tab.

The clock advances ``--refresh`` seconds per refresh, as an open dashboard's does (the cadence slices move). Floors:
the spec floor (the issue's definition, full mode only) and the same-reads floor, which replays the very commands
the reader's refresh sent (recorded from its rounds), so it follows the reader's plan. Then the flatness in queue
length (refresh at the largest job count / at the smallest) and, with ``--rq-info``, `rq info` (last: it writes).

``--scale`` runs issue 18's sizes instead: 100 workers x 8 queues x 10 k jobs (full read, against the 12 ms it
took before) and 10,000 workers x 1,000 queues x 1 M jobs (every mode, plus ``rqtop status --json`` end to end),
printing each target with MET / NOT MET.
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
from floors import RecordingReader, same_reads_floor, spec_floor  # noqa: E402
from populate import QUEUES, add_workers, populate  # noqa: E402
from verdicts import verdict  # noqa: E402

from tui.data.queue_reads import QueueReads  # noqa: E402
from tui.data.reader import DashboardReader  # noqa: E402
from tui.data.settings import Settings  # noqa: E402
from tui.data.worker_reads import WorkerReads  # noqa: E402
from worker.embedded_redis import EmbeddedRedis  # noqa: E402

TARGET_RATIO = 1.3
TARGET_TRIPS = 6
TARGET_FLAT = 1.1
SCREENFUL = 40
"""Workers on screen on the Workers tab (a tall terminal)."""
QUEUE_ROWS = 15
"""Queue rows on screen on the Workers tab."""
MODES = ("full", "jobs", "workers")


def read_call(reader: DashboardReader, mode: str, refresh_s: float, workers: frozenset[str],
              queues: frozenset[str]) -> Any:
    """The reader's read as the App calls it for ``mode``."""
    if mode == "full":
        return reader.read
    if mode == "workers":
        wreads = WorkerReads(visible=workers, refresh_s=refresh_s)
        qreads = QueueReads(visible=queues, refresh_s=refresh_s)
    else:  # as tui.app does on a tab that shows neither
        wreads, qreads = WorkerReads.off_screen(refresh_s), QueueReads.off_screen(refresh_s)
    return lambda: reader.read(include_metrics=False, workers=wreads, queues=qreads)


def measure(url: str, rounds: int, now: float, mode: str = "full", refresh_s: float = 2.0) -> dict[str, float]:
    """Alternate rqtop's refresh and the floors ``rounds`` times (after a cold first read): medians, ratios, mean
    commands and round trips, writes."""
    conn = counting_client(url)
    admin = redis.Redis.from_url(url)
    clock = [now]
    t0 = time.perf_counter()
    reader = RecordingReader(conn, Settings(clock=lambda: clock[0]))
    first = reader.read()
    cold = time.perf_counter() - t0
    workers = frozenset(w.name for w in sorted(first.workers, key=lambda w: w.name)[:SCREENFUL])
    queues = frozenset(q.name for q in first.queues[:QUEUE_ROWS])
    read = read_call(reader, mode, refresh_s, workers, queues)

    def ours() -> None:
        clock[0] += refresh_s
        read()

    calls = {"ours": ours, "same": lambda: same_reads_floor(conn, reader.plan)}
    if mode == "full":
        calls["spec"] = lambda: spec_floor(conn)
    for name, call in calls.items():
        if name != "ours":
            call()  # warm: the floors' connections
    times: dict[str, list[float]] = {name: [] for name in calls}
    commands, trips, planned, wrote = [], [], [], 0
    order = list(calls)
    for i in range(rounds):
        for name in order[i % len(order):] + order[: i % len(order)]:  # rotate who goes first
            before_rt, before = round_trips(), (command_stats(admin) if name == "ours" else {})
            t = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - t)
            if name == "ours":
                diff = delta(before, command_stats(admin))
                commands.append(sum(diff.values()))
                trips.append(round_trips() - before_rt)
                planned.append(sum(len(r) for r in reader.plan))
                wrote += writes(diff)
    if planned != commands:
        raise SystemExit(f"the same-reads floor would not send the reader's commands: {planned} vs {commands}")
    result: dict[str, float] = {"cold_ms": cold * 1000, "ours_cmds": statistics.mean(commands),
                                "ours_trips": max(trips), "ours_writes": wrote}
    for name in calls:
        result[f"{name}_ms"] = statistics.median(times[name]) * 1000
        if name != "ours":
            result[f"ratio_{name}"] = statistics.median(o / f for o, f in zip(times["ours"], times[name],
                                                                              strict=True))
    if mode == "full":
        result["spec_trips"], result["spec_cmds"], _ = cost(url, calls["spec"])
    result["per_minute"] = result["ours_cmds"] * 60 / refresh_s
    return result


def cost(url: str, action: Any) -> tuple[int, int, int]:
    """Round trips, server-side commands and writes of one call of ``action``."""
    admin = redis.Redis.from_url(url)
    before_rt, before = round_trips(), command_stats(admin)
    action()
    after_rt, after = round_trips(), command_stats(admin)
    diff = delta(before, after)
    return after_rt - before_rt, sum(diff.values()), writes(diff)


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


def time_status(url: str, runs: int = 3) -> tuple[float, int]:
    """Median wall time of ``rqtop status --json`` (a new process, as an operator or a cron runs it) and the size of
    its document."""
    rqtop = Path(sys.executable).with_name("rqtop")
    walls, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        done = subprocess.run([str(rqtop), "status", "--json", "--url", url], capture_output=True, text=True,
                              timeout=120, check=False)
        walls.append(time.perf_counter() - t0)
        if done.returncode != 0 or '"schema_version"' not in done.stdout:
            raise SystemExit(f"rqtop status --json failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        size = len(done.stdout)
    return statistics.median(walls), size


def report(label: str, mode: str, r: dict[str, float]) -> None:
    """One block per size and mode: rqtop's refresh, then each floor with the per-round ratio."""
    print(f"{label}, {mode}", flush=True)
    print(f"  {'rqtop refresh':<17}{r['ours_ms']:8.2f} ms  {'':13}{r['ours_trips']:.0f} round trips "
          f"{r['ours_cmds']:8,.0f} commands ({r['per_minute']:,.0f}/min)  {r['ours_writes']:.0f} writes  "
          f"(cold, first read: {r['cold_ms']:.1f} ms)")
    for name, floor in (("same", "same-reads floor"), ("spec", "spec floor")):
        if f"{name}_ms" in r:
            extra = f"  {r['spec_trips']} round trips {r['spec_cmds']:,} commands" if name == "spec" else ""
            print(f"  {floor:<17}{r[name + '_ms']:8.2f} ms  ratio {r['ratio_' + name]:5.2f}x{extra}", flush=True)



def tenant_queues(count: int) -> tuple[str, ...]:
    """``count`` per-tenant queue names, or populate.py's 8 queues for 0."""
    return tuple(f"tenant-{i:04d}" for i in range(count)) if count else QUEUES


def main() -> None:
    """Populate each job count once, grow the workers, measure each mode, and print one block per size plus the
    targets (or, with ``--scale``, issue 18's sizes and targets)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", default="10000,1000000", help="comma-separated queued-job counts")
    parser.add_argument("--workers", default="100,1000", help="comma-separated worker counts (ascending)")
    parser.add_argument("--queues", type=int, default=0,
                        help="spread the jobs over this many per-tenant queues (tenant-0000, ...) instead of the "
                             "8 default ones; workers listen on the first three, as in populate.py")
    parser.add_argument("--modes", default="full", help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--refresh", type=float, default=2.0, help="the dashboard's refresh interval (s)")
    parser.add_argument("--rq-info", action="store_true", help="also time `rq info` (after the rest, it writes)")
    parser.add_argument("--scale", action="store_true",
                        help="issue 18's sizes and targets instead (10 k workers x 1,000 queues x 1 M jobs)")
    args = parser.parse_args()
    if args.scale:
        from scale import scale  # bench/scale.py, which builds on this module

        scale(min(args.rounds, 15), args.refresh)
        return
    modes = [m for m in args.modes.split(",") if m]
    if set(modes) - set(MODES):
        parser.error(f"--modes takes {', '.join(MODES)}")
    queues = tenant_queues(args.queues)
    job_sizes = [int(x) for x in args.jobs.split(",")]
    worker_sizes = sorted(int(x) for x in args.workers.split(","))
    results: dict[tuple[int, int, str], dict[str, float]] = {}
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
                for mode in modes:
                    results[(jobs, workers, mode)] = r = measure(url, args.rounds, now, mode, args.refresh)
                    report(f"{jobs:,} jobs x {workers} workers x {len(queues)} queues", mode, r)
            if len(urls) > 1:
                flat[workers] = flatness(urls[min(urls)], urls[max(urls)], args.rounds, now)
        if args.rq_info:
            for jobs, url in urls.items():
                elapsed, commands, wrote = time_rq_info(url)
                print(f"{jobs:,} jobs x {have} workers: rq info {elapsed * 1000:.0f} ms wall (a new process), "
                      f"{commands} commands, {wrote} of them writes", flush=True)
    print("targets (the 1.3x was set against an earlier same-reads floor that also folded the metric bins; today's "
          "replays the reads alone and builds nothing, so its ratios are larger by construction):")
    for (jobs, workers, mode), r in results.items():
        spec = (f"spec {verdict(r['ratio_spec'] <= TARGET_RATIO)} ({r['ratio_spec']:.2f}x), "
                if "ratio_spec" in r else "")
        print(f"  {jobs:,} x {workers} {mode}: <= {TARGET_RATIO}x floor: {spec}"
              f"same-reads {verdict(r['ratio_same'] <= TARGET_RATIO)} ({r['ratio_same']:.2f}x); "
              f"<= {TARGET_TRIPS} round trips {verdict(r['ours_trips'] <= TARGET_TRIPS)} ({r['ours_trips']:.0f}); "
              f"0 writes {verdict(r['ours_writes'] == 0)} ({r['ours_writes']:.0f})")
    for workers, (small, big, ratio) in flat.items():
        print(f"  flat in queue length at {workers} workers: refresh at {max(urls):,} / at {min(urls):,} jobs = "
              f"{ratio:.2f}x ({big:.2f} / {small:.2f} ms, alternating; <= {TARGET_FLAT}x) "
              f"{verdict(ratio <= TARGET_FLAT)}")


if __name__ == "__main__":
    main()
