"""Demo tasks shaped like a real platform's jobs: realistic names, durations, failures and progress.

Durations are scaled to 0.05-5 s; ``RQTOP_DEMO_SPEED`` multiplies every sleep (0.1 = ten times faster,
0 = no sleeping). About 3 % of runs fail with a readable error.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from rq import get_current_job

from worker.tasks import NO_ACTIVE_WORK

FAILURE_RATE = 0.03
POOLS = ("eu-west", "us-east", "ap-south")


def speed() -> float:
    """Sleep multiplier from ``RQTOP_DEMO_SPEED`` (default 1.0; bad values fall back to 1.0)."""
    try:
        return max(0.0, float(os.environ.get("RQTOP_DEMO_SPEED", "1")))
    except ValueError:
        return 1.0


def _work(low: float, high: float, failure_rate: float = FAILURE_RATE, error: Exception | None = None) -> float:
    """Sleep a random duration in [low, high] seconds (scaled), then fail with ``failure_rate``."""
    duration = random.uniform(low, high) * speed()
    time.sleep(duration)
    if random.random() < failure_rate:
        raise error or ConnectionError("upstream timed out after 30s")
    return duration


def catalog_sync(pool: str | None = None) -> dict[str, Any]:
    """Refresh model catalog metadata; the scheduled run fans out one job per active pool."""
    if pool is None:
        job = get_current_job()
        if job is not None:
            from rq import Queue

            queue = Queue(job.origin, connection=job.connection)
            for name in POOLS:
                queue.enqueue(catalog_sync, pool=name, description=f"catalog_sync pool {name}")
        _work(0.05, 0.2)
        return {"pools": len(POOLS)}
    _work(0.5, 5.0)
    return {"pool": pool, "models": random.randint(40, 400)}


def pricing_import() -> dict[str, int]:
    """Import reporting-only pricing data."""
    _work(1.0, 4.0)
    return {"prices": random.randint(800, 1600)}


def account_reconciliation() -> dict[str, int]:
    """Check upstream identity readiness, deduplicated by identity."""
    _work(0.05, 0.5)
    return {"identities": random.randint(3, 60)}


def alert_evaluation() -> Any:
    """Evaluate active alert rules; nothing to do when no rule exists."""
    rules = random.choice((0, 0, 2, 5, 9))
    if rules == 0:
        _work(0.05, 0.1, failure_rate=0)
        return NO_ACTIVE_WORK
    _work(0.1, 0.6)
    return {"rules": rules, "firing": random.randint(0, 1)}


def token_refresh(identity: str | None = None) -> dict[str, Any]:
    """Refresh recoverable upstream tokens (all of them, or one identity)."""
    _work(0.2, 1.5)
    return {"identity": identity or "*", "refreshed": 1 if identity else random.randint(0, 12)}


def daily_rollup_rebuild() -> dict[str, int]:
    """Rebuild usage rollups for the previous UTC day."""
    _work(3.0, 5.0)
    return {"rows": random.randint(10_000, 90_000)}


def runtime_cleanup() -> dict[str, int]:
    """Clean expired runtime state."""
    _work(0.2, 2.0)
    return {"removed": random.randint(0, 300)}


def db_pruning() -> Any:
    """Drop the oldest event partitions when the database exceeds its size limit."""
    if random.random() < 0.7:
        _work(0.05, 0.2, failure_rate=0)
        return NO_ACTIVE_WORK
    _work(0.5, 2.5)
    return {"dropped_partitions": 1}


def soft_delete_cleanup() -> dict[str, int]:
    """Hard-delete resources soft-deleted more than 7 days ago."""
    _work(0.2, 1.0)
    return {"deleted": random.randint(0, 40)}


def partition_creation() -> dict[str, int]:
    """Create next month's partitions for the event tables."""
    _work(0.1, 0.5)
    return {"created": random.randint(0, 4)}


def email_digest(recipients: int = 10) -> dict[str, int]:
    """Send one digest email batch."""
    _work(0.1, 0.8)
    return {"sent": recipients}


def report_weekly(account: str = "acme") -> dict[str, str]:
    """Render the weekly usage report of one account."""
    _work(1.0, 3.0)
    return {"account": account}


def import_products(batch: int = 1) -> dict[str, int]:
    """Import a product feed batch; slow, and the upstream times out now and then."""
    _work(2.0, 5.0, failure_rate=0.15)
    return {"batch": batch, "products": random.randint(100, 900)}


def cache_warm(region: str = "eu-west") -> dict[str, str]:
    """Warm one region's read cache."""
    _work(0.05, 0.3)
    return {"region": region}


def webhook_dispatch(endpoint: str = "orders") -> dict[str, str]:
    """Deliver one webhook; receivers fail often, so it is enqueued with retries and backoff."""
    _work(0.05, 0.4, failure_rate=0.35, error=ConnectionError(f"{endpoint} endpoint returned HTTP 503"))
    return {"endpoint": endpoint}


def revenuecat_sync(total: int = 400) -> dict[str, int]:
    """Sync subscriptions from RevenueCat, reporting progress {processed, total, message} in job.meta."""
    job = get_current_job()
    steps = 8
    for step in range(1, steps + 1):
        _work(0.4, 0.6, failure_rate=0)
        if job is not None:
            processed = total * step // steps
            job.meta["progress"] = {"processed": processed, "total": total, "message": f"synced {processed} of {total}"}
            job.save_meta()
    if random.random() < FAILURE_RATE:
        raise ConnectionError("RevenueCat API rate limited (429)")
    return {"processed": total}
