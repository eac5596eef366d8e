"""rqtop's full refresh against a plainly written floor refresh, alternating in one process, at several sizes.

Prints, per size: median ms of each, the median per-pair ratio, round trips and Redis commands per refresh,
and the writes a refresh issued (must be 0). Also times `rq info` at the same size when asked.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from counting import command_stats, counting_client, delta, round_trips, writes  # noqa: E402
from populate import populate  # noqa: E402
from tui.data.reader import DashboardReader  # noqa: E402

from tui.settings import Settings  # noqa: E402
from worker.embedded_redis import EmbeddedRedis  # noqa: E402

REGISTRIES = ("wip", "finished", "failed", "deferred", "scheduled", "canceled")


def floor_refresh(conn: redis.Redis, page: int = 50) -> int:
    """The least a full refresh needs: every queue and registry count, every worker hash with its current
    job, one 50-job page, pipelined. Returns the number of values read."""
    p = conn.pipeline(transaction=False)
    p.smembers("rq:queues")
    p.smembers("rq:workers")
    p.zrange("rqtop:workers", 0, -1)
    queue_keys, worker_keys, our_workers = p.execute()
    queues = sorted(k.decode().removeprefix("rq:queue:") for k in queue_keys)
    names = sorted({k.decode().removeprefix("rq:worker:") for k in worker_keys} | {n.decode() for n in our_workers})
    p = conn.pipeline(transaction=False)
    for q in queues:
        p.llen(f"rq:queue:{q}")
        for kind in REGISTRIES:
            p.zcard(f"rq:{kind}:{q}")
    for name in names:
        p.hgetall(f"rq:worker:{name}")
        p.smembers(f"rq:worker:{name}:executions")
    first = queues[0] if queues else "default"
    p.lrange(f"rq:queue:{first}", 0, page - 1)
    values = p.execute()
    executions = [v for v in values[len(queues) * 7 :: 2] if isinstance(v, set)]
    job_ids = [m.decode().split(":")[0] for s in executions for m in s] + [i.decode() for i in values[-1]]
    p = conn.pipeline(transaction=False)
    for job_id in job_ids:
        p.hmget(f"rq:job:{job_id}", "status", "origin", "created_at", "started_at", "ended_at", "data")
    return len(values) + len(p.execute())


def measure(url: str, pairs: int) -> dict[str, float]:
    """Alternate rqtop's refresh and the floor ``pairs`` times; medians, ratio, round trips, commands, writes."""
    conn = counting_client(url)
    admin = redis.Redis.from_url(url)
    reader = DashboardReader(conn, Settings())
    reader.read()
    floor_refresh(conn)  # warm both
    ours, floor, ratios = [], [], []
    for _ in range(pairs):
        t0 = time.perf_counter()
        reader.read()
        t1 = time.perf_counter()
        floor_refresh(conn)
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        floor.append(t2 - t1)
        ratios.append((t1 - t0) / (t2 - t1))
    before_rt, before = round_trips(), command_stats(admin)
    reader.read()
    after_rt, after = round_trips(), command_stats(admin)
    diff = delta(before, after)
    before_rt2, before2 = round_trips(), command_stats(admin)
    floor_refresh(conn)
    floor_rt, floor_diff = round_trips() - before_rt2, delta(before2, command_stats(admin))
    return {
        "ours_ms": statistics.median(ours) * 1000,
        "floor_ms": statistics.median(floor) * 1000,
        "ratio": statistics.median(ratios),
        "round_trips": after_rt - before_rt,
        "floor_round_trips": floor_rt,
        "commands": sum(diff.values()),
        "floor_commands": sum(floor_diff.values()),
        "writes": writes(diff),
    }


def time_rq_info(url: str) -> float:
    """Wall time of one `rq info` at this size (it writes: cleanup on read)."""
    rq_bin = Path(sys.executable).with_name("rq")
    t0 = time.perf_counter()
    subprocess.run([str(rq_bin), "info", "--url", url], capture_output=True, timeout=600, check=False)
    return time.perf_counter() - t0


def main() -> None:
    """Run the sizes asked for and print one line each, then the flatness ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000x100,10000x1000,1000000x100,1000000x1000",
                        help="comma-separated JOBSxWORKERS")
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--rq-info", action="store_true", help="also time `rq info` (last, since it writes)")
    args = parser.parse_args()
    results = {}
    with EmbeddedRedis() as server:
        admin = redis.Redis.from_url(server.url)
        for size in args.sizes.split(","):
            jobs, workers = (int(x) for x in size.split("x"))
            admin.flushdb()
            t0 = time.perf_counter()
            populate(admin, jobs, workers)
            populated = time.perf_counter() - t0
            r = measure(server.url, args.pairs)
            results[(jobs, workers)] = r
            extra = f"  rq info {time_rq_info(server.url) * 1000:.0f} ms" if args.rq_info else ""
            print(
                f"{jobs:>9,} jobs {workers:>5} workers (populated {populated:.0f}s): rqtop {r['ours_ms']:.2f} ms, "
                f"floor {r['floor_ms']:.2f} ms, ratio {r['ratio']:.2f}x, round trips {r['round_trips']} "
                f"(floor {r['floor_round_trips']}), commands {r['commands']} (floor {r['floor_commands']}), "
                f"writes {r['writes']}{extra}",
                flush=True,
            )
    for workers in {w for _, w in results}:
        sizes = sorted(j for j, w in results if w == workers)
        if len(sizes) > 1:
            small, big = results[(sizes[0], workers)], results[(sizes[-1], workers)]
            print(f"flatness at {workers} workers: refresh at {sizes[-1]:,} / at {sizes[0]:,} = "
                  f"{big['ours_ms'] / small['ours_ms']:.2f}x")


if __name__ == "__main__":
    main()
