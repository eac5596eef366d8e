"""Deterministic generator of realistic RQ + rqtop state for benchmarks (seeded; 1 M jobs in well under a minute).

Job hashes are real RQ hashes: one template per job type is built with rq's own ``Job.create`` and
serialised by rq; copies differ only in id, status, origin and timestamps, and are written with pipelines.
Schedules go through ``worker.scheduler.register_schedules`` with the checked-in ``schedules.toml``;
workers, history and metrics are written in the record formats rqtop's worker writes (worker/keys.py).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
import uuid
import zlib
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import hiredis
import redis
from rq.job import Job

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker import keys, records  # noqa: E402

QUEUES = ("high", "default", "low", "emails", "reports", "imports", "webhooks", "sync")
TASKS = tuple(
    f"app.tasks.{name}"
    for name in (
        "catalog_sync", "pricing_import", "account_reconciliation", "alert_evaluation", "token_refresh",
        "daily_rollup_rebuild", "runtime_cleanup", "db_pruning", "soft_delete_cleanup", "partition_creation",
        "email_digest", "report_weekly", "import_products", "cache_warm", "webhook_dispatch",
        "revenuecat_sync", "invoice_render", "search_reindex", "thumbnail_build", "audit_export",
    )
)
BATCH = 5_000
METRIC_RECORDS = 1_000_000
RESULT_TTL_S = 86_400
"""Finished registry score = end + result TTL (RQ stores the expiry), so the last 24 h are all still listed."""
FAILURE_TTL_S = 365 * 86_400


def iso(epoch: float) -> str:
    """RQ's timestamp format."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def templates(conn: redis.Redis) -> dict[str, dict[bytes, bytes]]:
    """One rq-serialised job hash per task, built by rq itself."""
    result = {}
    for task in TASKS:
        job = Job.create(task, args=(42,), kwargs={"note": "bench"}, connection=conn, timeout=180)
        result[task] = {k.encode(): (v if isinstance(v, bytes) else str(v).encode()) for k, v in job.to_dict().items()}
    return result


def duration_sample(rng: random.Random, task_index: int) -> float:
    """Lognormal duration whose median depends on the job type (50 ms .. 15 s)."""
    median = 0.05 * (1.35 ** task_index)
    return max(0.001, rng.lognormvariate(math.log(median), 0.8))


def _bulk(value: bytes | str | int | float) -> bytes:
    """One RESP bulk string."""
    raw = value if isinstance(value, bytes) else (repr(value) if isinstance(value, float) else str(value)).encode()
    return b"$%d\r\n%s\r\n" % (len(raw), raw)


def _pairs(mapping: dict[str, str]) -> list[str]:
    """A mapping as HSET's field value field value ... arguments."""
    return [item for pair in mapping.items() for item in pair]


class _Writer:
    """Raw pipelined writes: commands packed as RESP into one buffer, sent every ``BATCH`` commands over one socket,
    replies counted by hiredis (redis-py's ``Pipeline`` costs tens of us of Python per command: 1 M job hashes took
    ~40 s through it). A job hash packs its task's unchanging fields once."""

    def __init__(self, conn: redis.Redis, tmpl: dict[str, dict[bytes, bytes]]) -> None:
        self.connection = conn.connection_pool.get_connection()
        self.connection.connect()
        self.tmpl = tmpl
        self._buffer = bytearray()
        self._count = 0
        self._fixed: dict[tuple[str, frozenset[str]], tuple[int, bytes]] = {}

    def cmd(self, *parts: bytes | str | int | float) -> None:
        """Queue one command."""
        self._buffer += b"*%d\r\n" % len(parts)
        for part in parts:
            self._buffer += _bulk(part)
        self._count += 1
        if self._count >= BATCH:
            self.flush()

    def flush(self, force: bool = False) -> None:
        """Send what is queued and read every reply (an error reply stops the run)."""
        if not self._count:
            return
        sock = self.connection._sock
        assert sock is not None
        sock.sendall(self._buffer)
        reader, got = hiredis.Reader(), 0
        while got < self._count:
            reader.feed(sock.recv(1 << 20))
            while (reply := reader.gets()) is not False:
                if isinstance(reply, hiredis.ReplyError):
                    raise SystemExit(f"populate: Redis refused a write: {reply}")
                got += 1
        self._buffer, self._count = bytearray(), 0

    def close(self) -> None:
        """Flush and hand the connection back."""
        self.flush()
        self.connection.disconnect()

    def job(self, task: str, job_id: str, status: str, origin: str, created: float, **extra: str) -> None:
        """One RQ job hash: the task's template with this job's id-independent fields replaced."""
        varying = {"status": status, "origin": origin, "created_at": iso(created),
                   "enqueued_at": iso(created + 0.001), "description": f"{task}(42, note='bench')", **extra}
        key = (task, frozenset(varying))
        fixed = self._fixed.get(key)
        if fixed is None:
            kept = {f: v for f, v in self.tmpl[task].items() if f.decode() not in varying}
            fixed = self._fixed[key] = (2 * len(kept), b"".join(_bulk(f) + _bulk(v) for f, v in kept.items()))
        self._buffer += b"*%d\r\n" % (2 + fixed[0] + 2 * len(varying))
        self._buffer += b"$4\r\nHSET\r\n" + _bulk(keys.rq_job(job_id)) + fixed[1]
        for name, value in varying.items():
            self._buffer += _bulk(name) + _bulk(value)
        self._count += 1
        if self._count >= BATCH:
            self.flush()


def populate(conn: redis.Redis, jobs: int, workers: int, seed: int = 7, now: float | None = None,
             queues: tuple[str, ...] = QUEUES, metric_records: int = METRIC_RECORDS) -> dict[str, int]:
    """Write the whole state; returns how many of each thing were written."""
    rng = random.Random(seed)
    now = now or time.time()
    tmpl = templates(conn)
    counts: Counter[str] = Counter()
    w = _Writer(conn, tmpl)
    for queue in queues:
        w.cmd("SADD", keys.RQ_QUEUES, keys.rq_queue(queue))
    # Pending jobs, oldest first (RQ pushes on the right and workers pop on the left).
    for i in range(jobs):
        task, queue = TASKS[i % len(TASKS)], queues[i % len(queues)]
        job_id = f"bench-q-{i:08d}"
        w.job(task, job_id, "queued", queue, now - 3600 + i * (3600 / max(jobs, 1)))
        w.cmd("RPUSH", keys.rq_queue(queue), job_id)
        counts["queued"] += 1
    # Finished (20 %) and failed (2 %) over the last 24 h; registry scores are expiry times, as RQ writes them.
    for kind, share, ttl in (("finished", 0.20, RESULT_TTL_S), ("failed", 0.02, FAILURE_TTL_S)):
        for i in range(int(jobs * share)):
            task_index = rng.randrange(len(TASKS))
            ended = now - rng.random() * 86400
            duration = duration_sample(rng, task_index)
            job_id, queue = f"bench-{kind[:3]}-{i:08d}", rng.choice(queues)
            extra = {"started_at": iso(ended - duration), "ended_at": iso(ended)}
            if kind == "failed":
                extra["exc_info"] = zlib.compress(b"ConnectionError: upstream timed out after 30s").decode("latin1")
            w.job(TASKS[task_index], job_id, kind, queue, ended - duration - 1, **extra)
            w.cmd("ZADD", keys.rq_registry(kind, queue), ended + ttl, job_id)
            counts[kind] += 1
    # Scheduled (delayed retries, enqueue_in) 1 %, deferred and canceled 0.1 % each.
    for kind, share, status in (("scheduled", 0.01, "scheduled"), ("deferred", 0.001, "deferred"),
                                ("canceled", 0.001, "canceled")):
        for i in range(max(1, int(jobs * share))):
            job_id, queue = f"bench-{kind[:3]}-{i:08d}", rng.choice(queues)
            w.job(rng.choice(TASKS), job_id, status, queue, now - 60)
            score = now + rng.randint(10, 600) if kind == "scheduled" else now + 86400
            w.cmd("ZADD", keys.rq_registry(kind, queue), score, job_id)
            counts[kind] += 1
    w.close()
    counts.update(add_workers(conn, rng, 0, workers, now, tmpl, queues))
    counts["schedules"] = _schedules(conn, rng, now)
    counts["history"] = _history(conn, rng, now)
    counts["metric_records"] = write_metrics(conn, rng, now, metric_records)
    return dict(counts)


def add_workers(conn: redis.Redis, rng: random.Random, start: int, count: int, now: float,
                tmpl: dict[str, dict[bytes, bytes]] | None = None,
                queues: tuple[str, ...] = QUEUES) -> Counter[str]:
    """Workers ``start``..``start+count-1``: 10 % stale (crashed: RQ hash gone, set member and our record
    left), 10 % plain ``rq worker`` (no rqtop record), about a third of the live ones busy with a job."""
    tmpl = tmpl or templates(conn)
    counts: Counter[str] = Counter()
    w = _Writer(conn, tmpl)
    for i in range(start, start + count):
        name = f"bench-worker-{i:04d}"
        stale, plain = i % 10 == 9, i % 10 == 4
        busy = not stale and i % 3 == 0
        last_seen = now - (600 if stale else rng.uniform(0, 9))
        listens = ",".join(queues[:3])
        record = {
            "name": name, "hostname": f"host-{i % 20:02d}", "pid": str(1000 + i), "mode": "worker",
            "version": "0.1.0", "rq_version": "3.0.0", "birth": str(now - 7200), "last_seen": str(last_seen),
            "queues": listens, "processed": str(rng.randint(0, 5000)), "failed": str(rng.randint(0, 30)),
            "current_job_id": "", "current_task": "", "current_started": "",
        }
        if busy:
            task, queue = rng.choice(TASKS), rng.choice(queues)
            job_id, exec_id = f"bench-run-{i:06d}", uuid.UUID(int=rng.getrandbits(128)).hex[:8]
            started = now - rng.uniform(1, 300)
            w.job(task, job_id, "started", queue, started - 1, started_at=iso(started), worker_name=name)
            w.cmd("ZADD", keys.rq_registry("wip", queue), now + 60, f"{job_id}:{exec_id}")
            w.cmd("HSET", keys.rq_execution(f"{job_id}:{exec_id}"), *_pairs({
                "id": exec_id, "job_id": job_id, "worker_name": name, "created_at": iso(started),
                "last_heartbeat": iso(now)}))
            w.cmd("SADD", keys.rq_worker_executions(name), f"{job_id}:{exec_id}")
            record.update(current_job_id=job_id, current_task=task, current_started=str(started))
            counts["busy"] += 1
        if not plain:
            w.cmd("HSET", keys.worker(name), *_pairs(record))
            w.cmd("ZADD", keys.WORKERS, last_seen, name)
        w.cmd("SADD", keys.RQ_WORKERS, keys.rq_worker(name))
        if not stale:
            w.cmd("HSET", keys.rq_worker(name), *_pairs({
                "birth": iso(now - 7200), "last_heartbeat": iso(last_seen), "queues": listens,
                "pid": str(1000 + i), "hostname": f"host-{i % 20:02d}", "version": "3.0.0",
                "python_version": "3.11", "state": "busy" if busy else "idle",
                "successful_job_count": record["processed"], "failed_job_count": record["failed"]}))
        counts["workers"] += 1
    w.close()
    return counts


def _schedules(conn: redis.Redis, rng: random.Random, now: float) -> int:
    """The checked-in schedules.toml, registered as the worker does, plus run state, one pause and some tokens."""
    from worker.scheduler import register_schedules
    from worker.schedules import load_schedules

    entries = load_schedules(ROOT / "schedules.toml")
    register_schedules(conn, entries, now=now)
    pipe = conn.pipeline(transaction=False)
    for n, entry in enumerate(entries):
        last_id = keys.run_id(entry.name, f"{rng.getrandbits(48):012x}")
        pipe.hset(keys.sched_state(entry.name), mapping={
            "last_run": repr(now - 60 * (n + 1)), "last_job_id": last_id,
            "last_status": ("completed", "failed", "skipped", "running")[n % 4], "last_ended": repr(now - 30 * n),
            "skipped": str(n % 3)})
        if n % 4 == 3:  # a run in flight: the token names a queued job
            pipe.set(keys.active(entry.name), f"bench-q-{n:08d}")
    pipe.sadd(keys.PAUSED, entries[-1].name)
    pipe.execute()
    return len(entries)


def _history(conn: redis.Redis, rng: random.Random, now: float) -> int:
    """rqtop:history at its cap (``keys.HISTORY_KEEP``), as the worker's bookkeeping writes it."""
    pipe = conn.pipeline(transaction=False)
    states = ("completed",) * 8 + ("failed", "running", "retry", "skipped")
    for i in range(keys.HISTORY_KEEP):
        job_id, created = f"bench-h-{i:06d}", now - i * 17.0
        state = rng.choice(states)
        pipe.hset(keys.history_item(job_id), mapping={
            "task": rng.choice(TASKS), "queue": rng.choice(QUEUES), "state": state, "created_at": repr(created),
            "started_at": repr(created + 0.5), "ended_at": "" if state == "running" else repr(created + 3.25),
            "retries": str(i % 2), "schedule": "", "worker": f"bench-worker-{i % 100:04d}",
            "error": "ConnectionError: upstream timed out after 30s" if state == "failed" else "", "note": ""})
        pipe.expire(keys.history_item(job_id), keys.HISTORY_TTL_S)
        pipe.zadd(keys.HISTORY, {job_id: created})
    pipe.execute()
    return keys.HISTORY_KEEP


def metric_sample(rng: random.Random, now: float) -> tuple[int, float, float, bool]:
    """One run record inside the dashboard's 24-hour window: task index, end epoch, duration, failed."""
    start = records.window_hours(now)[0] * keys.METRIC_BUCKET_S
    task_index = rng.randrange(len(TASKS))
    ended = start + rng.random() * (now - start)
    return task_index, ended, duration_sample(rng, task_index), rng.random() < 0.02 + 0.01 * (task_index % 4)


def write_metrics(conn: redis.Redis, rng: random.Random, now: float, records_count: int,
                  keep: dict[str, list[float]] | None = None) -> int:
    """``records_count`` run records aggregated in Python into the documented hourly histogram buckets
    (``rqtop:m:<task>:<hour>``: n, f, max, last, b<idx>), written in one pipeline; ``keep`` collects durations."""
    buckets: dict[tuple[str, int], Counter[str]] = {}
    maxima: dict[tuple[str, int], float] = {}
    last: dict[tuple[str, int], float] = {}
    for _ in range(records_count):
        task_index, ended, duration, failed = metric_sample(rng, now)
        task = TASKS[task_index]
        key = (task, records.hour_of(ended))
        bucket = buckets.get(key)
        if bucket is None:
            bucket = buckets[key] = Counter()
        bucket["n"] += 1
        if failed:
            bucket["f"] += 1
        bucket[f"b{records.bin_index(duration)}"] += 1
        if duration > maxima.get(key, 0.0):
            maxima[key] = duration
        if ended > last.get(key, 0.0):
            last[key] = ended
        if keep is not None:
            keep.setdefault(task, []).append(duration)
    pipe = conn.pipeline(transaction=False)
    for (task, hour), bucket in buckets.items():
        name = keys.metric_bucket(task, hour)
        pipe.hset(name, mapping={**bucket, "max": f"{maxima[(task, hour)]:.6f}", "last": f"{last[(task, hour)]:.6f}"})
        pipe.expireat(name, (hour + 1) * keys.METRIC_BUCKET_S + keys.METRIC_TTL_S)
        pipe.zadd(keys.METRIC_TASKS, {task: last[(task, hour)]}, gt=True)
    pipe.execute()
    return records_count


def main() -> None:
    """CLI: populate a Redis and print what was written."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=100)
    parser.add_argument("--metric-records", type=int, default=METRIC_RECORDS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--flush", action="store_true", help="FLUSHDB first")
    args = parser.parse_args()
    conn = redis.Redis.from_url(args.url)
    if args.flush:
        conn.flushdb()
    started = time.perf_counter()
    counts = populate(conn, args.jobs, args.workers, args.seed, metric_records=args.metric_records)
    print(f"populated in {time.perf_counter() - started:.1f}s: {counts}")


if __name__ == "__main__":
    main()
