"""Throughput of a plain rq Worker on jobs that call ``report_progress`` on every iteration of a tight loop, against
the same worker on no-op jobs: forking, burst mode, alternate runs.

Each run enqueues ``--jobs`` jobs into an empty database and times ``work(burst=True)`` in a fresh process
(interpreter start-up excluded): ``noop`` runs ``noop_tasks.noop``, ``progress`` runs ``noop_tasks.progress_loop``
(``--calls`` report_progress calls per job; the first writes at once, the rest within the second are kept in
memory). Prints jobs/s per run, the medians, the ratio and Redis commands per job. Target: >= 90 % of no-op.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import redis

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from counting import command_stats, delta  # noqa: E402

TARGET = 0.90
KINDS = ("noop", "progress")


def child(url: str, jobs: int) -> None:
    """Run one plain rq Worker in burst mode; print the seconds it took and the jobs it finished."""
    import noop_tasks  # noqa: F401 - imported before forking, so horses inherit it
    from rq import Queue, Worker

    import worker.progress  # noqa: F401 - the same: horses do not import it per job

    conn = redis.Redis.from_url(url)
    worker = Worker([Queue("default", connection=conn)], connection=conn)
    t0 = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    print(f"{time.perf_counter() - t0} {conn.zcard('rq:finished:default')}")


def run(kind: str, url: str, jobs: int, calls: int) -> tuple[float, float]:
    """Enqueue ``jobs`` jobs of ``kind`` into an empty database and run one worker on them; jobs/s and Redis
    commands per job."""
    import os

    from rq import Queue

    conn = redis.Redis.from_url(url)
    conn.flushdb()
    queue = Queue("default", connection=conn)
    data = [Queue.prepare_data("noop_tasks.noop", result_ttl=600) if kind == "noop" else
            Queue.prepare_data("noop_tasks.progress_loop", args=(calls,), result_ttl=600) for _ in range(jobs)]
    queue.enqueue_many(data)
    env = {**os.environ, "PYTHONPATH": f"{BENCH}{os.pathsep}{ROOT}"}
    before = command_stats(conn)
    out = subprocess.run([sys.executable, __file__, "--child", url, str(jobs)], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=600, check=True)
    commands = sum(delta(before, command_stats(conn)).values())
    elapsed, finished = out.stdout.split()
    if int(finished) != jobs:
        raise SystemExit(f"{kind}: finished {finished} of {jobs} jobs\n{out.stderr[-2000:]}")
    return jobs / float(elapsed), commands / jobs


def main() -> None:
    """Alternate no-op and progress runs and print the figures."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=1000, help="report_progress calls per job")
    args = parser.parse_args()
    from worker.embedded_redis import EmbeddedRedis

    rates: dict[str, list[float]] = {kind: [] for kind in KINDS}
    commands: dict[str, float] = {}
    with EmbeddedRedis() as server:
        for i in range(args.pairs):
            for kind in KINDS if i % 2 == 0 else KINDS[::-1]:
                rate, per_job = run(kind, server.url, args.jobs, args.calls)
                rates[kind].append(rate)
                commands[kind] = per_job
                print(f"run {i + 1} {kind:>8}: {args.jobs} jobs at {rate:7.1f} jobs/s, {per_job:.1f} Redis commands "
                      "per job", flush=True)
    ratios = [p / n for p, n in zip(rates["progress"], rates["noop"], strict=True)]
    ratio = statistics.median(ratios)
    print(f"median: no-op {statistics.median(rates['noop']):.1f} jobs/s, report_progress x{args.calls} per job "
          f"{statistics.median(rates['progress']):.1f} jobs/s; per-pair ratio median {ratio:.3f} "
          f"({', '.join(f'{r:.3f}' for r in ratios)})")
    print(f"target: >= {TARGET:.0%} of no-op: {'MET' if ratio >= TARGET else 'NOT MET'} ({ratio:.1%})")


if __name__ == "__main__":
    main()
