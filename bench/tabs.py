"""What one open dashboard costs per tab, beside a full read of everything, at one size (issue: cost follows the
screen).

Populates an embedded Redis (bench/populate.py: jobs over ``--queues`` queues, ``--workers`` workers), then, with
a clock that advances ``--refresh`` seconds per refresh (as an open dashboard's does), measures in one process:

- **full**: ``read()`` as ``rqtop status`` sends it (every worker, the metrics);
- **jobs tab**: ``read(include_metrics=False, workers=WorkerReads.off_screen(), queues=QueueReads.off_screen())``
  (no worker and no queue on screen: no worker is read, of the queues only those never read, as tui.app does);
- **workers tab**: the same with the first 40 workers and the first 15 queue rows (a screenful) on screen.

Each after one warm-up read (the first read of a dashboard reads everything). Prints median ms, mean commands per
refresh, commands per minute of one idle dashboard at that refresh, writes (must be 0), the ratio of each tab to
the full read, and the targets with MET / NOT MET.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from counting import command_stats, counting_client, delta, writes  # noqa: E402
from populate import QUEUES, populate  # noqa: E402
from verdicts import verdict  # noqa: E402

from tui.data.queue_reads import QueueReads  # noqa: E402
from tui.data.reader import DashboardReader  # noqa: E402
from tui.data.settings import Settings  # noqa: E402
from tui.data.worker_reads import WorkerReads  # noqa: E402
from worker.embedded_redis import EmbeddedRedis  # noqa: E402

SCREENFUL = 40
"""Workers on screen on the Workers tab (a tall terminal)."""
QUEUE_ROWS = 15
"""Queue rows on screen on the Workers tab (the queue table's share of a tall terminal)."""



def measure(url: str, rounds: int, refresh_s: float, mode: str) -> dict[str, float]:
    """Median ms, mean commands and total writes of ``rounds`` refreshes of one tab (after a warm-up read)."""
    clock = [time.time()]
    conn = counting_client(url)
    admin = redis.Redis.from_url(url)
    reader = DashboardReader(conn, Settings(clock=lambda: clock[0]))
    first = reader.read()
    visible = frozenset(w.name for w in sorted(first.workers, key=lambda w: w.name)[:SCREENFUL])
    rows = frozenset(q.name for q in first.queues[:QUEUE_ROWS])
    call: dict[str, Any] = {
        "full": lambda: reader.read(),
        "jobs": lambda: reader.read(include_metrics=False, workers=WorkerReads.off_screen(refresh_s),
                                    queues=QueueReads.off_screen(refresh_s)),
        "workers": lambda: reader.read(include_metrics=False,
                                       workers=WorkerReads(visible=visible, refresh_s=refresh_s),
                                       queues=QueueReads(visible=rows, refresh_s=refresh_s)),
    }
    times, commands, wrote = [], [], 0
    for _ in range(rounds):
        clock[0] += refresh_s
        before = command_stats(admin)
        t0 = time.perf_counter()
        call[mode]()
        times.append((time.perf_counter() - t0) * 1000)
        diff = delta(before, command_stats(admin))
        commands.append(sum(diff.values()))
        wrote += writes(diff)
    return {"ms": statistics.median(times), "commands": statistics.mean(commands), "writes": wrote,
            "per_minute": statistics.mean(commands) * 60 / refresh_s}


def main() -> None:
    """Populate once, measure the three modes, print figures and targets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=10_000)
    parser.add_argument("--queues", type=int, default=1_000, help="per-tenant queues (0: populate.py's 8)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--refresh", type=float, default=2.0, help="the dashboard's refresh interval (s)")
    args = parser.parse_args()
    queues = tuple(f"tenant-{i:04d}" for i in range(args.queues)) if args.queues else QUEUES
    with EmbeddedRedis() as server:
        conn = redis.Redis.from_url(server.url)
        t0 = time.perf_counter()
        populate(conn, args.jobs, args.workers, queues=queues)
        print(f"state: {args.jobs:,} jobs x {args.workers:,} workers x {len(queues):,} queues "
              f"(populated in {time.perf_counter() - t0:.0f} s); refresh every {args.refresh:g} s", flush=True)
        results = {}
        for mode in ("full", "jobs", "workers"):
            r = results[mode] = measure(server.url, args.rounds, args.refresh, mode)
            print(f"  {mode:8} {r['ms']:8.1f} ms  {r['commands']:9,.0f} commands/refresh  "
                  f"{r['per_minute']:11,.0f} commands/min  {r['writes']} writes", flush=True)
    full, jobs, workers = results["full"], results["jobs"], results["workers"]
    print(f"ratios to the full read: jobs tab {jobs['ms'] / full['ms']:.2f}x time, "
          f"{jobs['commands'] / full['commands']:.2f}x commands; workers tab {workers['ms'] / full['ms']:.2f}x time, "
          f"{workers['commands'] / full['commands']:.2f}x commands")
    print("targets (issue 18, at 10,000 workers x 1,000 queues x 1 M jobs; 200 workers for commands/min):")
    print(f"  jobs tab <= 20 ms: {verdict(jobs['ms'] <= 20)} ({jobs['ms']:.1f} ms)")
    print(f"  jobs tab <= 1,500 commands: {verdict(jobs['commands'] <= 1500)} ({jobs['commands']:,.0f})")
    print(f"  workers tab <= 60 ms: {verdict(workers['ms'] <= 60)} ({workers['ms']:.1f} ms)")
    print(f"  one idle dashboard <= 6,000 commands/min: {verdict(jobs['per_minute'] <= 6000)} "
          f"({jobs['per_minute']:,.0f}, jobs tab)")
    print(f"  0 writes: {verdict(full['writes'] + jobs['writes'] + workers['writes'] == 0)}")


if __name__ == "__main__":
    main()
