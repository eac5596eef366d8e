"""Time one 50-job page of every job list (first, middle and last page) with 1 M jobs in a single queue.

Uses the reader call the Jobs screen makes (``DashboardReader.jobs_page``); prints the median and worst
of ``--repeat`` reads per page, its round trips and the writes (must be 0). Target: every page <= 20 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from counting import command_stats, delta, writes  # noqa: E402
from populate import populate  # noqa: E402

from tui.data.jobs_page import last_page_offset  # noqa: E402
from tui.data.reader import DashboardReader  # noqa: E402
from tui.data.settings import Settings  # noqa: E402
from worker.embedded_redis import EmbeddedRedis  # noqa: E402

TARGET_MS = 20.0
QUEUE = "default"
SOURCES = ("pending", "completed", "failed", "scheduled", "active", "deferred", "canceled")


def main() -> None:
    """Populate one big queue, then read first/middle/last pages of each list and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()
    worst = 0.0
    with EmbeddedRedis() as server:
        admin = redis.Redis.from_url(server.url)
        t0 = time.perf_counter()
        populate(admin, args.jobs, 100, queues=(QUEUE,), metric_records=0)
        print(f"populated {args.jobs:,} jobs in one queue in {time.perf_counter() - t0:.0f}s", flush=True)
        reader = DashboardReader(redis.Redis.from_url(server.url), Settings())
        reader.jobs_page(QUEUE)  # connect
        before = command_stats(admin)
        for source in SOURCES:
            total = reader.jobs_page(QUEUE, source, 0, args.limit).total
            last = last_page_offset(total, args.limit)
            middle = (total // 2) // args.limit * args.limit
            for label, offset in (("first", 0), ("middle", middle), ("last", -1)):
                times = []
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    page = reader.jobs_page(QUEUE, source, offset, args.limit)
                    times.append((time.perf_counter() - t) * 1000)
                assert len(page.jobs) == min(args.limit, total - (last if offset < 0 else offset)) or not total
                worst = max(worst, max(times))
                print(f"{source:>9} ({total:>9,} jobs) {label:>6} page @ {page.offset:>9,}: median "
                      f"{statistics.median(times):6.2f} ms, worst {max(times):6.2f} ms, {len(page.jobs)} jobs, "
                      f"{page.round_trips} round trips", flush=True)
        diff = delta(before, command_stats(admin))
    print(f"writes during all page reads: {writes(diff)}")
    print(f"target: every page <= {TARGET_MS:.0f} ms: {'MET' if worst <= TARGET_MS else 'NOT MET'} "
          f"(worst single read {worst:.2f} ms)")


if __name__ == "__main__":
    main()
