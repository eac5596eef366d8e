"""Throughput of rqtop's worker against a plain rq Worker on no-op jobs: forking, burst mode, alternate runs.

Each run enqueues the same ``--jobs`` no-op jobs into an empty database and times ``work(burst=True)`` in
a fresh process (interpreter start-up excluded). Both classes run with their own defaults, as deployed:
``rq.Worker`` (worker_ttl 420, monitoring 30 s) and ``RqtopWorker`` (worker_ttl 25, monitoring 10 s, plus
rqtop's bookkeeping). Prints jobs/s per run, the medians and the ratio. Target: rqtop >= 90 % of plain rq.
"""

from __future__ import annotations

import argparse
import os
import resource
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
KINDS = ("rq", "rqtop")


def child(kind: str, url: str, jobs: int) -> None:
    """Run one worker in burst mode and print the seconds it took and the jobs it finished."""
    import noop_tasks  # noqa: F401 - imported before forking, so horses inherit it
    from rq import Queue, Worker

    from worker.rqtop_worker import RqtopWorker

    conn = redis.Redis.from_url(url)
    queue = Queue("default", connection=conn)
    worker = Worker([queue], connection=conn) if kind == "rq" else RqtopWorker([queue], connection=conn, mode="worker")
    cpu0 = _cpu()
    t0 = time.perf_counter()
    worker.work(burst=True, logging_level="WARNING")
    elapsed = time.perf_counter() - t0
    finished = conn.zcard("rq:finished:default")
    print(f"{elapsed} {finished} {_cpu() - cpu0}")


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its finished children (the work horses)."""
    own, horses = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + horses.ru_utime + horses.ru_stime


def redis_cpu(pid: int) -> float:
    """CPU seconds redis-server has used so far (utime + stime from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(kind: str, url: str, jobs: int, server_pid: int) -> tuple[float, float, float, float]:
    """Enqueue ``jobs`` no-op jobs into an empty database, run one worker on them; jobs/s, CPU ms per job
    of the worker and its horses, Redis commands per job and redis-server CPU ms per job."""
    from rq import Queue

    conn = redis.Redis.from_url(url)
    conn.flushdb()
    queue = Queue("default", connection=conn)
    queue.enqueue_many([Queue.prepare_data("noop_tasks.noop", result_ttl=600) for _ in range(jobs)])
    env = {**os.environ, "PYTHONPATH": f"{BENCH}{os.pathsep}{ROOT}"}
    before, server_cpu = command_stats(conn), redis_cpu(server_pid)
    out = subprocess.run([sys.executable, __file__, "--child", kind, url, str(jobs)], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=600, check=True)
    server_ms = (redis_cpu(server_pid) - server_cpu) / jobs * 1000
    commands = sum(delta(before, command_stats(conn)).values())
    elapsed, finished, cpu = out.stdout.split()
    if int(finished) != jobs:
        raise SystemExit(f"{kind}: finished {finished} of {jobs} jobs\n{out.stderr[-2000:]}")
    return jobs / float(elapsed), float(cpu) / jobs * 1000, commands / jobs, server_ms


def main() -> None:
    """Alternate plain rq and rqtop runs and print the figures."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    from worker.embedded_redis import EmbeddedRedis

    rates: dict[str, list[float]] = {kind: [] for kind in KINDS}
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    commands: dict[str, float] = {}
    redis_ms: dict[str, list[float]] = {kind: [] for kind in KINDS}
    with EmbeddedRedis() as server:
        for i in range(args.pairs):
            for kind in KINDS if i % 2 == 0 else KINDS[::-1]:
                assert server.process is not None
                rate, cpu_ms, per_job, server_ms = run(kind, server.url, args.jobs, server.process.pid)
                rates[kind].append(rate)
                cpu[kind].append(cpu_ms)
                redis_ms[kind].append(server_ms)
                commands[kind] = per_job
                print(f"run {i + 1} {kind:>5}: {args.jobs} no-op jobs at {rate:7.1f} jobs/s; per job: "
                      f"{cpu_ms:.2f} CPU ms in worker + horse, {server_ms:.3f} CPU ms in redis-server, "
                      f"{per_job:.1f} Redis commands", flush=True)
    plain, ours = statistics.median(rates["rq"]), statistics.median(rates["rqtop"])
    ratios = [o / p for o, p in zip(rates["rqtop"], rates["rq"], strict=True)]
    ratio = statistics.median(ratios)
    print(f"median: rq.Worker {plain:.1f} jobs/s, RqtopWorker {ours:.1f} jobs/s; per-pair ratio median {ratio:.3f} "
          f"({', '.join(f'{r:.3f}' for r in ratios)})")
    for kind, label in (("rq", "rq.Worker"), ("rqtop", "RqtopWorker")):
        print(f"per job, {label}: {statistics.median(cpu[kind]):.2f} CPU ms in worker + horse, "
              f"{statistics.median(redis_ms[kind]):.3f} CPU ms in redis-server, {commands[kind]:.1f} Redis commands")
    print(f"target: >= {TARGET:.0%} of plain rq: {'MET' if ratio >= TARGET else 'NOT MET'} ({ratio:.1%})")


if __name__ == "__main__":
    main()
