"""What N open dashboards cost Redis, with rqtop's shared snapshot fresh and without one (issue 18: many
dashboards, one cost).

Populates an embedded Redis (bench/populate.py: ``--jobs`` over ``--queues`` queues, ``--workers`` workers), then
runs, in one process on one clock that advances ``--refresh`` seconds per round, idle dashboards on the Background
Jobs tab exactly as the App polls (``SharedSnapshotReader`` over ``DashboardReader``, ``WorkerReads`` and
``QueueReads`` ``off_screen``: no worker, only queues never read; the metrics re-read when the kept ones are
``METRICS_MAX_AGE_S`` old), each on its own connection:

- **absent**: no publisher (a plain RQ deployment): every refresh is a GETRANGE that finds nothing plus the
  dashboard's own read;
- **fresh**: a ``SnapshotPublisher`` (what ``rqtop worker --mode scheduler`` runs) publishes at the start of each
  round, so every refresh is one GETRANGE. Its lease expires between rounds in real time; here the clock is
  simulated, so the lease key is deleted between rounds outside the counted windows (a TTL expiry costs no
  command).

with 1 and ``--many`` dashboards. Commands are INFO commandstats deltas around each dashboard's refresh and each
publish (single-threaded, so each delta is that client's), after one warm-up refresh each (a dashboard's first
read reads every queue). Prints commands per minute of the dashboards, of the publisher, the writes the
dashboards issued (must be 0), which source every refresh used, and the targets with MET / NOT MET.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from counting import command_stats, delta, writes  # noqa: E402
from populate import QUEUES, populate  # noqa: E402
from verdicts import verdict  # noqa: E402

from tui.app import METRICS_MAX_AGE_S  # noqa: E402
from tui.data.queue_reads import QueueReads  # noqa: E402
from tui.data.reader import DashboardReader  # noqa: E402
from tui.data.settings import Settings  # noqa: E402
from tui.data.shared_snapshot import SharedSnapshotReader, SnapshotPublisher  # noqa: E402
from tui.data.worker_reads import WorkerReads  # noqa: E402
from worker.embedded_redis import EmbeddedRedis  # noqa: E402

TARGET_ONE_PER_MIN = 6000
TARGET_MANY_RATIO = 2.0



@dataclass
class Dashboard:
    """One open, idle dashboard on the Background Jobs tab, polling as ``RqtopApp`` does."""

    reader: SharedSnapshotReader
    refresh_s: float
    metrics_at: float | None = None
    sources: dict[str, int] = field(default_factory=dict)

    def refresh(self) -> None:
        """One poll: the metrics only when the kept ones are old (``RqtopApp._wants_metrics``), no worker or queue
        re-read but new ones (``RqtopApp._worker_reads`` / ``_queue_reads`` off the Workers tab)."""
        now = self.reader.settings.clock()
        wants = self.metrics_at is None or now - self.metrics_at >= METRICS_MAX_AGE_S
        snapshot = self.reader.read(include_metrics=wants, workers=WorkerReads.off_screen(self.refresh_s),
                                    queues=QueueReads.off_screen(self.refresh_s))
        if snapshot.metrics_taken_at is not None:
            self.metrics_at = snapshot.metrics_taken_at.timestamp()
        source = snapshot.read_source
        said = "?" if source is None else source.kind if source.kind == "shared" else f"direct ({source.reason})"
        self.sources[said] = self.sources.get(said, 0) + 1


@dataclass
class Run:
    """Counted commands of one scenario."""

    dashboards: int = 0
    publisher: int = 0
    dashboard_writes: int = 0
    ms: list[float] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)
    snapshot_bytes: int = 0


def forget_snapshots(admin: redis.Redis) -> None:
    """Delete every shared snapshot and lease (between scenarios, uncounted)."""
    for key in list(admin.scan_iter("rqtop:snapshot:*")):
        admin.delete(key)


def scenario(url: str, count: int, fresh: bool, rounds: int, refresh_s: float) -> Run:
    """``rounds`` refreshes of ``count`` dashboards (after a warm-up round), with or without a publisher."""
    admin = redis.Redis.from_url(url)
    clock = [time.time()]
    settings = Settings(clock=lambda: clock[0])
    publisher = SnapshotPublisher(redis.Redis.from_url(url), settings, "bench-publisher", "bench-host",
                                  interval_s=refresh_s) if fresh else None
    forget_snapshots(admin)
    boards = [Dashboard(SharedSnapshotReader(DashboardReader(redis.Redis.from_url(url), settings)), refresh_s)
              for _ in range(count)]
    run = Run()

    def one_round(counted: bool) -> None:
        clock[0] += refresh_s
        if publisher is not None:
            admin.delete(publisher.lease)  # its TTL (under one interval) has run out by now in real time
            before = command_stats(admin)
            if not publisher.publish_once():
                raise SystemExit("the publisher found its lease held")
            if counted:
                run.publisher += sum(delta(before, command_stats(admin)).values())
                run.snapshot_bytes = publisher.last_size
        for board in boards:
            before = command_stats(admin)
            t0 = time.perf_counter()
            board.refresh()
            elapsed = time.perf_counter() - t0
            diff = delta(before, command_stats(admin))
            if counted:
                run.dashboards += sum(diff.values())
                run.dashboard_writes += writes(diff)
                run.ms.append(elapsed * 1000)

    one_round(counted=False)
    for board in boards:
        board.sources.clear()
    for _ in range(rounds):
        one_round(counted=True)
    for board in boards:
        for said, n in board.sources.items():
            run.sources[said] = run.sources.get(said, 0) + n
    forget_snapshots(admin)
    return run


def main() -> None:
    """Populate once, run the four scenarios, print figures and targets."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=200)
    parser.add_argument("--queues", type=int, default=36, help="per-tenant queues (0: populate.py's 8)")
    parser.add_argument("--many", type=int, default=10, help="dashboards open at once in the second run")
    parser.add_argument("--rounds", type=int, default=30, help="refreshes counted (30 x 2 s: one minute)")
    parser.add_argument("--refresh", type=float, default=2.0, help="the dashboards' refresh interval (s)")
    args = parser.parse_args()
    queues = tuple(f"tenant-{i:03d}" for i in range(args.queues)) if args.queues else QUEUES
    per_min = 60 / (args.rounds * args.refresh)
    with EmbeddedRedis() as server:
        conn = redis.Redis.from_url(server.url)
        t0 = time.perf_counter()
        populate(conn, args.jobs, args.workers, queues=queues)
        print(f"state: {args.jobs:,} jobs x {args.workers:,} workers x {len(queues)} queues (populated in "
              f"{time.perf_counter() - t0:.0f} s); refresh every {args.refresh:g} s, {args.rounds} refreshes "
              f"counted per dashboard", flush=True)
        results: dict[tuple[int, bool], Run] = {}
        for count in (1, args.many):
            for fresh in (False, True):
                r = results[count, fresh] = scenario(server.url, count, fresh, args.rounds, args.refresh)
                label = f"{count:>3} dashboard{'s' if count > 1 else ' '} snapshot {'fresh ' if fresh else 'absent'}"
                extra = (f"  + publisher {r.publisher * per_min:7,.0f}/min (snapshot {r.snapshot_bytes:,} bytes)"
                         if fresh else "")
                sources = ", ".join(f"{n} {said}" for said, n in sorted(r.sources.items()))
                print(f"  {label}  {r.dashboards * per_min:9,.0f} commands/min  median refresh "
                      f"{statistics.median(r.ms):6.2f} ms  {r.dashboard_writes} writes{extra}\n"
                      f"      sources: {sources}", flush=True)
    one = results[1, False].dashboards * per_min
    one_fresh = results[1, True].dashboards * per_min
    many = results[args.many, True].dashboards * per_min
    many_pub = many + results[args.many, True].publisher * per_min
    many_absent = results[args.many, False].dashboards * per_min
    print(f"{args.many} dashboards: {many_absent / one:.1f}x one without a snapshot, {many / one:.2f}x one with it "
          f"fresh ({many_pub / one:.2f}x with the publisher's own reads)")
    print(f"targets (issue 18, at {args.workers} workers):")
    print(f"  one idle dashboard <= {TARGET_ONE_PER_MIN:,} commands/min: {verdict(one <= TARGET_ONE_PER_MIN)} "
          f"({one:,.0f} reading Redis itself; {one_fresh:,.0f} with the snapshot fresh)")
    print(f"  {args.many} dashboards, snapshot fresh <= {TARGET_MANY_RATIO:g}x one: "
          f"{verdict(many <= TARGET_MANY_RATIO * one)} ({many:,.0f} vs {one:,.0f}: {many / one:.2f}x)")
    print(f"  the same with the publisher counted <= {TARGET_MANY_RATIO:g}x one: "
          f"{verdict(many_pub <= TARGET_MANY_RATIO * one)} ({many_pub:,.0f}: {many_pub / one:.2f}x)")
    all_writes = sum(r.dashboard_writes for r in results.values())
    shared_only = all(set(r.sources) == {"shared"} for (_, fresh), r in results.items() if fresh)
    print(f"  dashboards write nothing: {verdict(all_writes == 0)} ({all_writes} writes)")
    print(f"  every refresh with the snapshot fresh used it: {verdict(shared_only)}")


if __name__ == "__main__":
    main()
