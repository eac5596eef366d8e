"""Time Cancel All Pending (``worker.cancel.cancel_through``) on one long queue against a plain-pop floor.

The floor, in the same run and on the same queue, pops the same ids in the same chunks and marks each job
canceled with plain pipelined commands (HSET status + ZADD to the canceled registry) and nothing else: no
boundary check, no schedule or history bookkeeping. Prints the wall time of both, the ratio, the Redis time
of rqtop's scripts and the longest single script call (how long Redis is blocked at most). Target: no call
blocks Redis for more than 50 ms, and the per-call time stays flat from 200 k to 1 M jobs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from worker import keys  # noqa: E402
from worker.cancel import CHUNK, cancel_through  # noqa: E402
from worker.embedded_redis import EmbeddedRedis  # noqa: E402

QUEUE = "default"
MAX_CALL_MS = 50.0


def fill(conn: redis.Redis, jobs: int) -> str:
    """``jobs`` queued job hashes in one queue; returns the id at the tail (the operator's boundary)."""
    stamp = "2026-11-30T12:00:00.000000Z"
    pipe = conn.pipeline(transaction=False)
    for i in range(jobs):
        job_id = f"bench-{i:012d}"
        pipe.hset(keys.rq_job(job_id), mapping={"status": "queued", "origin": QUEUE, "enqueued_at": stamp})
        pipe.rpush(keys.rq_queue(QUEUE), job_id)
        if i % 10_000 == 9_999:
            pipe.execute()
    pipe.execute()
    return conn.lindex(keys.rq_queue(QUEUE), -1).decode()


def floor(conn: redis.Redis, jobs: int, chunk: int) -> float:
    """Pop and mark canceled the same ids in the same chunks with plain commands; wall seconds."""
    began = time.perf_counter()
    left = jobs
    while left > 0:
        ids = conn.lpop(keys.rq_queue(QUEUE), min(chunk, left)) or []
        pipe = conn.pipeline(transaction=False)
        for job_id in ids:
            pipe.hset(keys.rq_job(job_id.decode()), "status", "canceled")
            pipe.zadd(keys.rq_registry("canceled", QUEUE), {job_id: time.time()})
        pipe.execute()
        left -= len(ids)
        if not ids:
            break
    return time.perf_counter() - began


class TimedCalls(redis.Redis):
    """A client that times every script call (EVALSHA) it sends."""

    calls: list[float] = []

    def evalsha(self, *args: object) -> object:  # type: ignore[override]
        began = time.perf_counter()
        try:
            return super().evalsha(*args)  # type: ignore[arg-type]
        finally:
            TimedCalls.calls.append(time.perf_counter() - began)


def main() -> None:
    """Fill, cancel with rqtop, refill, cancel with the floor; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=CHUNK)
    args = parser.parse_args()
    with EmbeddedRedis() as server:
        conn = TimedCalls.from_url(server.url)
        boundary = fill(conn, args.jobs)
        conn.config_resetstat()
        began = time.perf_counter()
        counts = cancel_through(conn, QUEUE, boundary, args.jobs, chunk=args.chunk)
        ours = time.perf_counter() - began
        stats = conn.info("commandstats").get("cmdstat_evalsha", {"calls": 0, "usec": 0})
        conn.flushdb()
        fill(conn, args.jobs)
        plain = floor(conn, args.jobs, args.chunk)
    calls, usec, timed = int(stats["calls"]), int(stats["usec"]), sorted(TimedCalls.calls)
    per_call_ms, worst_ms = usec / max(calls, 1) / 1000, timed[-1] * 1000 if timed else 0.0
    print(f"{args.jobs:,} queued jobs, chunk {args.chunk}")
    print(f"  rqtop cancel_through  {ours:6.2f} s wall   {calls} script calls, {usec / 1e6:.2f} s in Redis, "
          f"{per_call_ms:.2f} ms per call (client p50 {statistics.median(timed) * 1000:.2f} ms, "
          f"max {worst_ms:.2f} ms)   {counts}")
    print(f"  plain-pop floor       {plain:6.2f} s wall   ratio {ours / plain:.2f}x")
    print(f"targets: longest call <= {MAX_CALL_MS:.0f} ms {'MET' if worst_ms <= MAX_CALL_MS else 'NOT MET'} "
          f"({worst_ms:.2f} ms); all canceled {'MET' if counts['canceled'] == args.jobs else 'NOT MET'}")


if __name__ == "__main__":
    main()
