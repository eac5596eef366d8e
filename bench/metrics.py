"""The Metrics tab at volume: 1,000,000 run records over 24 h for 20 job types.

1. A sample goes through the real recording path (``RqtopWorker.record_outcome``, the worker's EVALSHA) and,
   separately, through the direct writer below; the buckets must be identical, which validates the writer.
2. The volume is aggregated in Python and written directly in the documented hourly histogram format
   (``bench/populate.write_metrics``).
3. Prints the Metrics read time (``DashboardReader.read()`` on a database holding only the metrics: cold =
   a new reader, warm = the same reader with its bucket cache; "metrics part" = warm minus an empty
   read), the Redis memory of the metrics keys (MEMORY USAGE summed) and the p50/p95 error against the
   exact nearest-rank percentiles of the same records (``records.exact_percentile``). Target: <= 20 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from populate import TASKS, iso, metric_sample, write_metrics  # noqa: E402

from tui.data.reader import DashboardReader  # noqa: E402
from tui.data.settings import Settings  # noqa: E402
from worker import keys, records  # noqa: E402
from worker.embedded_redis import EmbeddedRedis  # noqa: E402
from worker.rqtop_worker import RqtopSimpleWorker  # noqa: E402

TARGET_MS = 20.0
SEED = 11


def db(url: str, index: int) -> redis.Redis:
    """A client on database ``index`` of the server, flushed."""
    conn = redis.Redis.from_url(f"{url}?db={index}")
    conn.flushdb()
    return conn


def buckets(conn: redis.Redis) -> dict[bytes, dict[bytes, bytes]]:
    """Every metrics bucket in a database."""
    names = list(conn.scan_iter(match=keys.metric_bucket("*", 0)[:-1] + "*", count=1000))
    return {name: conn.hgetall(name) for name in names}


def validate(url: str, now: float, sample: int) -> tuple[int, int]:
    """Record ``sample`` runs through the worker's script in db 1 and the direct writer in db 2; compare
    every bucket field. Returns (buckets compared, fields that differ)."""
    real, direct = db(url, 1), db(url, 2)
    worker = RqtopSimpleWorker(["default"], connection=real, mode="worker")
    rng = random.Random(SEED)
    runs = sorted((metric_sample(rng, now) for _ in range(sample)), key=lambda run: run[1])  # in end order,
    # as workers record them (the script's ``last`` is the latest recorded end, not a maximum)
    stamped = []
    pipe = real.pipeline(transaction=False)
    for i, (task_index, ended, duration, failed) in enumerate(runs):
        start_text, end_text = iso(ended - duration), iso(ended)
        start_us, end_us = (round(records.to_epoch(t) * 1_000_000) for t in (start_text, end_text))  # type: ignore
        stamped.append((task_index, end_us / 1e6, (end_us - start_us) / 1e6, failed))
        pipe.hset(keys.rq_job(f"m-{i}"), mapping={"status": "failed" if failed else "finished",
                                                   "started_at": start_text, "ended_at": end_text})
    pipe.execute()
    for i, (task_index, _, _, _) in enumerate(runs):
        worker.record_outcome(f"m-{i}", TASKS[task_index], "", now)
    replay = iter(stamped)
    _write_direct(direct, lambda: next(replay), sample)
    ours, theirs = buckets(real), buckets(direct)
    differ = sum(1 for name in ours.keys() | theirs.keys() for field in
                 ours.get(name, {}).keys() | theirs.get(name, {}).keys()
                 if ours.get(name, {}).get(field) != theirs.get(name, {}).get(field))
    real.flushdb()
    direct.flushdb()
    return len(ours), differ


def _write_direct(conn: redis.Redis, draw: Callable[[], tuple[int, float, float, bool]], count: int) -> None:
    """write_metrics fed from ``draw`` instead of its own generator (same aggregation, same format)."""
    import populate

    original = populate.metric_sample
    populate.metric_sample = lambda rng, now: draw()  # type: ignore[assignment]
    try:
        write_metrics(conn, random.Random(0), 0.0, count)
    finally:
        populate.metric_sample = original


def median_ms(action: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``action`` in ms."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        action()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    """Validate, write the volume, and print read times, memory and percentile errors."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    now = time.time()
    with EmbeddedRedis() as server:
        compared, differ = validate(server.url, now, args.sample)
        print(f"validation: {args.sample:,} runs through RqtopWorker.record_outcome vs the direct writer: "
              f"{compared} buckets, {differ} differing fields", flush=True)
        conn = db(server.url, 0)
        durations: dict[str, list[float]] = {}
        t0 = time.perf_counter()
        write_metrics(conn, random.Random(SEED), now, args.records, keep=durations)
        print(f"wrote {args.records:,} run records as hourly buckets in {time.perf_counter() - t0:.1f}s", flush=True)
        names = list(conn.scan_iter(match="rqtop:m:*", count=1000)) + [keys.METRIC_TASKS.encode()]
        pipe = conn.pipeline(transaction=False)
        for name in names:
            pipe.memory_usage(name, samples=0)
        used = sum(pipe.execute())
        fields = sum(conn.hlen(n) for n in names if n != keys.METRIC_TASKS.encode())
        print(f"memory: {len(names)} keys, {fields:,} hash fields, MEMORY USAGE summed {used / 1024 / 1024:.2f} MB",
              flush=True)

        settings = Settings(clock=lambda: now)
        client = redis.Redis.from_url(server.url)
        client.ping()
        cold = median_ms(lambda: DashboardReader(client, settings).read(), max(5, args.repeat // 3))
        reader = DashboardReader(client, settings)
        snapshot = reader.read()
        warm = median_ms(reader.read, args.repeat)
        empty_client = db(server.url, 3)
        empty_reader = DashboardReader(empty_client, settings)
        empty_reader.read()
        empty = median_ms(empty_reader.read, args.repeat)
        print(f"Metrics read: cold {cold:.2f} ms, warm {warm:.2f} ms (round trips {snapshot.round_trips}); "
              f"empty-database refresh {empty:.2f} ms, so the metrics part of a warm refresh is "
              f"{warm - empty:.2f} ms", flush=True)

        errors: list[tuple[float, float]] = []
        total = 0
        for row in snapshot.metrics:
            values = durations[row.task]
            total += row.runs
            exact50, exact95 = (records.exact_percentile(values, q) for q in (50, 95))
            errors.append((abs(row.p50_s / exact50 - 1), abs(row.p95_s / exact95 - 1)))  # type: ignore[operator]
            assert row.runs == len(values), (row.task, row.runs, len(values))
            assert abs((row.max_s or 0) - max(values)) < 2e-6, row.task
        p50 = [e[0] * 100 for e in errors]
        p95 = [e[1] * 100 for e in errors]
        print(f"percentile error over {len(errors)} tasks ({total:,} runs, all in the window): p50 max "
              f"{max(p50):.3f} % (mean {statistics.mean(p50):.3f} %), p95 max {max(p95):.3f} % "
              f"(mean {statistics.mean(p95):.3f} %); max exact to 1 us")
    print(f"target: Metrics read <= {TARGET_MS:.0f} ms: cold {'MET' if cold <= TARGET_MS else 'NOT MET'} "
          f"({cold:.2f} ms), warm {'MET' if warm <= TARGET_MS else 'NOT MET'} ({warm:.2f} ms)")
    print(f"target: p50/p95 within 1 %: {'MET' if max(p50 + p95) <= 1.0 else 'NOT MET'} ({max(p50 + p95):.3f} %)")
    print(f"validation: real path == direct writer: {'MET' if differ == 0 else 'NOT MET'} ({differ} fields differ)")


if __name__ == "__main__":
    main()
