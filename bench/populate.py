"""Deterministic generator of realistic RQ + rqtop state for benchmarks (seeded; 1 M jobs in about a minute).

Job hashes are real RQ hashes: one template per job type is built with rq's own ``Job.create`` and
serialised by rq; copies differ only in id, status and timestamps, and are written with pipelines.
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

import redis
from rq.job import Job

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
    """Lognormal duration whose median depends on the job type (50 ms .. 20 s)."""
    median = 0.05 * (1.35 ** task_index)
    return max(0.001, rng.lognormvariate(math.log(median), 0.8))


def populate(conn: redis.Redis, jobs: int, workers: int, seed: int = 7, now: float | None = None) -> dict[str, int]:
    """Write the whole state; returns how many of each thing were written."""
    rng = random.Random(seed)
    now = now or time.time()
    tmpl = templates(conn)
    counts: Counter[str] = Counter()
    pipe = conn.pipeline(transaction=False)

    def flush(force: bool = False) -> None:
        if force or len(pipe) >= BATCH:
            pipe.execute()

    def job_hash(task: str, job_id: str, status: str, created: float, **extra: str) -> None:
        mapping = dict(tmpl[task])
        mapping[b"status"] = status.encode()
        mapping[b"created_at"] = iso(created).encode()
        mapping[b"enqueued_at"] = iso(created + 0.001).encode()
        mapping[b"origin"] = rng.choice(QUEUES).encode()
        for field, value in extra.items():
            mapping[field.encode()] = value.encode()
        pipe.hset(keys.rq_job(job_id), mapping=mapping)

    for queue in QUEUES:
        pipe.sadd(keys.RQ_QUEUES, keys.rq_queue(queue))
    # Pending jobs, oldest first (RQ pushes on the right and pops on the left).
    for i in range(jobs):
        task = TASKS[i % len(TASKS)]
        job_id = f"bench-q-{i:08d}"
        created = now - 3600 + i * (3600 / max(jobs, 1))
        job_hash(task, job_id, "queued", created)
        pipe.rpush(keys.rq_queue(QUEUES[i % len(QUEUES)]), job_id)
        counts["queued"] += 1
        flush()
    # Finished (20 %) and failed (2 %) over the last 24 h.
    for kind, share, status in (("finished", 0.20, "finished"), ("failed", 0.02, "failed")):
        for i in range(int(jobs * share)):
            task_index = rng.randrange(len(TASKS))
            ended = now - rng.random() * 86400
            duration = duration_sample(rng, task_index)
            job_id = f"bench-{kind[:3]}-{i:08d}"
            queue = rng.choice(QUEUES)
            extra = {"started_at": iso(ended - duration), "ended_at": iso(ended), "origin": queue}
            if status == "failed":
                extra["exc_info"] = zlib.compress(b"ConnectionError: upstream timed out after 30s").decode("latin1")
            job_hash(TASKS[task_index], job_id, status, ended - duration - 1, **extra)
            pipe.zadd(keys.rq_registry(kind, queue), {job_id: ended + 500})
            counts[kind] += 1
            flush()
    # Scheduled (retry) jobs and running ones.
    for i in range(max(1, jobs // 100)):
        job_id = f"bench-sch-{i:08d}"
        queue = rng.choice(QUEUES)
        job_hash(rng.choice(TASKS), job_id, "scheduled", now - 60, origin=queue)
        pipe.zadd(keys.rq_registry("scheduled", queue), {job_id: now + rng.randint(10, 600)})
        counts["scheduled"] += 1
    flush(force=True)
    counts.update(_workers(conn, rng, workers, now, tmpl))
    counts["metric_records"] = _metrics(conn, rng, now, 1_000_000)
    return dict(counts)


def _workers(conn: redis.Redis, rng: random.Random, workers: int, now: float, tmpl: dict) -> Counter[str]:
    """W workers: 10 % stale (crashed: RQ hash gone, our record left), about a third busy with a job."""
    counts: Counter[str] = Counter()
    pipe = conn.pipeline(transaction=False)
    for i in range(workers):
        name = f"bench-worker-{i:04d}"
        stale = i % 10 == 9
        busy = not stale and i % 3 == 0
        last_seen = now - (600 if stale else rng.uniform(0, 9))
        record = {
            "name": name, "hostname": f"host-{i % 20:02d}", "pid": str(1000 + i), "mode": "worker",
            "version": "0.1.0", "rq_version": "3.0.0", "birth": str(now - 7200), "last_seen": str(last_seen),
            "queues": ",".join(QUEUES[:3]), "processed": str(rng.randint(0, 5000)), "failed": str(rng.randint(0, 30)),
            "current_job_id": "", "current_task": "", "current_started": "",
        }
        if busy:
            task = rng.choice(TASKS)
            job_id, exec_id = f"bench-run-{i:06d}", uuid.uuid4().hex[:8]
            queue = rng.choice(QUEUES)
            started = now - rng.uniform(1, 300)
            mapping = dict(tmpl[task])
            mapping.update({b"status": b"started", b"origin": queue.encode(), b"started_at": iso(started).encode(),
                            b"worker_name": name.encode(), b"created_at": iso(started - 1).encode()})
            pipe.hset(keys.rq_job(job_id), mapping=mapping)
            pipe.zadd(keys.rq_registry("wip", queue), {f"{job_id}:{exec_id}": now + 60})
            pipe.hset(f"rq:execution:{job_id}:{exec_id}", mapping={
                "id": exec_id, "job_id": job_id, "worker_name": name, "created_at": iso(started),
                "last_heartbeat": iso(now)})
            pipe.sadd(keys.rq_worker_executions(name), f"{job_id}:{exec_id}")
            record.update(current_job_id=job_id, current_task=task, current_started=str(started))
            counts["busy"] += 1
        pipe.hset(keys.worker(name), mapping=record)
        pipe.zadd(keys.WORKERS, {name: last_seen})
        if not stale:
            pipe.sadd(keys.RQ_WORKERS, keys.rq_worker(name))
            pipe.hset(keys.rq_worker(name), mapping={
                "birth": iso(now - 7200), "last_heartbeat": iso(last_seen), "queues": ",".join(QUEUES[:3]),
                "pid": str(1000 + i), "hostname": f"host-{i % 20:02d}", "version": "3.0.0",
                "python_version": "3.11", "state": "busy" if busy else "idle",
                "successful_job_count": record["processed"], "failed_job_count": record["failed"]})
        counts["workers"] += 1
        if len(pipe) >= BATCH:
            pipe.execute()
    pipe.execute()
    return counts


def _metrics(conn: redis.Redis, rng: random.Random, now: float, records_count: int) -> int:
    """``records_count`` run records over 24 h for the 20 job types, aggregated into the hourly histograms."""
    buckets: dict[tuple[str, int], Counter[str]] = {}
    maxima: dict[tuple[str, int], float] = {}
    last: dict[tuple[str, int], float] = {}
    for _ in range(records_count):
        task_index = rng.randrange(len(TASKS))
        task = TASKS[task_index]
        ended = now - rng.random() * 86400
        duration = duration_sample(rng, task_index)
        key = (task, records.hour_of(ended))
        bucket = buckets.setdefault(key, Counter())
        bucket["n"] += 1
        if rng.random() < 0.02 + 0.01 * (task_index % 4):
            bucket["f"] += 1
        bucket[f"b{records.bin_index(duration)}"] += 1
        maxima[key] = max(maxima.get(key, 0.0), duration)
        last[key] = max(last.get(key, 0.0), ended)
    pipe = conn.pipeline(transaction=False)
    for (task, hour), bucket in buckets.items():
        name = keys.metric_bucket(task, hour)
        pipe.hset(name, mapping={**bucket, "max": repr(maxima[(task, hour)]), "last": repr(last[(task, hour)])})
        pipe.expireat(name, (hour + 1) * 3600 + keys.METRIC_TTL_S)
        pipe.zadd(keys.METRIC_TASKS, {task: last[(task, hour)]}, gt=True)
    pipe.execute()
    return records_count


def main() -> None:
    """CLI: populate a Redis (embedded when no --url) and print what was written."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--flush", action="store_true", help="FLUSHDB first")
    args = parser.parse_args()
    conn = redis.Redis.from_url(args.url)
    if args.flush:
        conn.flushdb()
    started = time.perf_counter()
    counts = populate(conn, args.jobs, args.workers, args.seed)
    print(f"populated in {time.perf_counter() - started:.1f}s: {counts}")


if __name__ == "__main__":
    main()
