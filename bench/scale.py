"""Issue 18's sizes and targets, every figure with MET / NOT MET (``refresh.py --scale`` runs this).

One embedded Redis, two databases: 10 k jobs x 100 workers x 8 queues, and 1 M jobs x 10,000 workers x 1,000 queues
(bench/populate.py). At the small size today's reader is alternated with the reader before issue 18 (bench/
baseline.py, a process of its own on the same Redis): the full read and the Background Jobs tab's read, each
median per-round ratio must be <= 1.0 (no slower); and, for context, with main's reader (this branch's merge base:
the features merged since issue 18 was filed read more, so only this comparison isolates this branch's cost).
At the big size: each mode of ``refresh.measure`` (full, the Background Jobs tab, the Workers tab with a screenful
on screen), ``rqtop status --json`` end to end (a new process), then the TUI as the console script runs it on a
pseudo-terminal (bench/tui_startup.py): seconds to the first screen with data and the peak RSS (VmHWM) over
``SETTLE_S`` seconds of refreshes; last, for comparison, `rq info` on the same state (a new process; it writes as
it reads). rq-dashboard is not measured here.
"""

from __future__ import annotations

import statistics
import time

import redis
from baseline import BEFORE_ISSUE_18, BaselineReader, branch_base, head
from populate import populate
from refresh import MODES, measure, read_call, report, tenant_queues, time_rq_info, time_status
from tui_startup import one_run
from verdicts import verdict

from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from worker.embedded_redis import EmbeddedRedis

TARGETS = {"jobs_ms": 20.0, "jobs_commands": 1500, "workers_ms": 60.0, "status_s": 1.0, "first_s": 1.5,
           "rss_mb": 150.0}
SETTLE_S = 15.0
"""Seconds the TUI keeps refreshing while its peak RSS is sampled."""


def against_baseline(url: str, rounds: int, now: float, refresh_s: float, rev: str,
                     modes: tuple[str, ...] = ("full", "jobs")) -> dict[str, tuple[float, float, float]]:
    """Alternate today's reader and the one of ``rev`` (rotating who goes first), full read and Background Jobs tab
    read (the baseline's: ``read(include_metrics=False)``, what its App sent there): per mode (today's median ms, the
    baseline's median ms, median per-round ratio today / baseline)."""
    out = {}
    for mode in modes:
        theirs = "full" if mode == "full" else "tab"
        clock = [now]
        reader = DashboardReader(redis.Redis.from_url(url), Settings(clock=lambda clock=clock: clock[0]))
        reader.read()
        read = read_call(reader, mode, refresh_s, frozenset(), frozenset())
        ours, base = [], []
        with BaselineReader(url, now, refresh_s, rev) as old:
            for i in range(rounds):
                for who in ((0, 1) if i % 2 == 0 else (1, 0)):
                    if who == 0:
                        clock[0] += refresh_s
                        t = time.perf_counter()
                        read()
                        ours.append(time.perf_counter() - t)
                    else:
                        base.append(old.read(theirs))
        ratio = statistics.median(o / b for o, b in zip(ours, base, strict=True))
        out[mode] = (statistics.median(ours) * 1000, statistics.median(base) * 1000, ratio)
    return out


def scale(rounds: int, refresh_s: float) -> None:
    """Populate both sizes, measure, print each block and then each target."""
    with EmbeddedRedis() as server:
        now = time.time()
        small, big = f"{server.url}?db=0", f"{server.url}?db=1"
        for url, jobs, workers, queues in ((small, 10_000, 100, 0), (big, 1_000_000, 10_000, 1_000)):
            t0 = time.perf_counter()
            populate(redis.Redis.from_url(url), jobs, workers, now=now, queues=tenant_queues(queues))
            print(f"populated {jobs:,} jobs x {workers:,} workers x {queues or 8:,} queues in "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
        old = against_baseline(small, rounds * 4, now, refresh_s, BEFORE_ISSUE_18)
        base_rev = branch_base()
        base = {} if base_rev == head() else against_baseline(small, rounds * 4, now, refresh_s, base_rev, ("full",))
        for label, figures in (("before issue 18", old), ("main (this branch's base)", base)):
            for mode, (ours_ms, base_ms, ratio) in figures.items():
                print(f"10 k jobs x 100 workers x 8 queues, {mode}: {ours_ms:.2f} ms, {label} {base_ms:.2f} ms, "
                      f"ratio {ratio:.2f}x", flush=True)
        results = {mode: measure(big, rounds, now, mode, refresh_s) for mode in MODES}
        for mode, r in results.items():
            report("1 M jobs x 10,000 workers x 1,000 queues", mode, r)
        status_s, size = time_status(big)
        print(f"rqtop status --json (new process, full read, JSON out): {status_s:.3f} s wall, {size:,} bytes",
              flush=True)
        first, rss_first, peak = one_run(big, SETTLE_S)
        print(f"TUI (rqtop --url, 120x40 pty): first screen with data after {first:.3f} s, RSS then "
              f"{rss_first:.1f} MB, peak over {SETTLE_S:.0f} s of refreshes {peak:.1f} MB", flush=True)
        info_s, info_commands, info_writes = time_rq_info(big)  # last: it writes (cleans registries and workers)
        print(f"rq info (new process, for comparison): {info_s:.3f} s wall, {info_commands:,} commands, "
              f"{info_writes:,} of them writes", flush=True)
    jobs, workers = results["jobs"], results["workers"]
    print("targets (issue 18; 1 M jobs x 10,000 workers x 1,000 queues unless said):")
    print(f"  jobs tab refresh <= {TARGETS['jobs_ms']:.0f} ms: "
          f"{verdict(jobs['ours_ms'] <= TARGETS['jobs_ms'])} ({jobs['ours_ms']:.1f} ms)")
    print(f"  jobs tab refresh <= {TARGETS['jobs_commands']:,} commands: "
          f"{verdict(jobs['ours_cmds'] <= TARGETS['jobs_commands'])} ({jobs['ours_cmds']:,.0f})")
    print(f"  workers tab refresh <= {TARGETS['workers_ms']:.0f} ms: "
          f"{verdict(workers['ours_ms'] <= TARGETS['workers_ms'])} ({workers['ours_ms']:.1f} ms, "
          f"{workers['ours_cmds']:,.0f} commands)")
    print(f"  full status --json <= {TARGETS['status_s']:.1f} s: {verdict(status_s <= TARGETS['status_s'])} "
          f"({status_s:.3f} s; the read alone {results['full']['ours_ms']:.0f} ms)")
    print(f"  first screen <= {TARGETS['first_s']} s: {verdict(first <= TARGETS['first_s'])} ({first:.3f} s)")
    print(f"  TUI RSS <= {TARGETS['rss_mb']:.0f} MB: {verdict(peak <= TARGETS['rss_mb'])} (peak {peak:.1f} MB)")
    for mode, (ours_ms, base_ms, ratio) in old.items():
        print(f"  100 workers x 8 queues, {mode}, no slower than before issue 18: {verdict(ratio <= 1.0)} "
              f"({ratio:.2f}x: {ours_ms:.2f} vs {base_ms:.2f} ms)")
    wrote = sum(r["ours_writes"] for r in results.values())
    print(f"  0 writes: {verdict(wrote == 0)} ({wrote:.0f})")
    print("  one idle dashboard at 200 workers <= 6,000 commands/min: bench/tabs.py --workers 200 --queues 36")
