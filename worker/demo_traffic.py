"""Demo traffic: a believable stream of on-demand jobs through RQ's normal Queue.enqueue, with plain descriptions."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Any

import redis
from rq import Queue, Retry

from worker import demo_tasks, keys
from worker.outage import HEALTH, OUTAGE_ERRORS

log = logging.getLogger("rqtop.demo")

MAX_PENDING = 150
"""Stop adding traffic while this many jobs are already waiting (keeps the demo bounded)."""

WEBHOOK_RETRY = Retry(max=5, interval=[5, 15, 30, 60, 120])

ACCOUNTS = ("acme", "globex", "initech", "umbrella", "hooli", "stark")
REGIONS = ("eu-west", "us-east", "ap-south")
ENDPOINTS = ("orders", "invoices", "refunds", "subscriptions")


def _email(rng: random.Random) -> tuple[Callable[..., Any], dict[str, Any], str, str, Retry | None]:
    count = rng.randint(5, 60)
    return demo_tasks.email_digest, {"recipients": count}, "default", f"email.digest to {count} recipients", None


def _report(rng: random.Random) -> tuple[Callable[..., Any], dict[str, Any], str, str, Retry | None]:
    account = rng.choice(ACCOUNTS)
    return demo_tasks.report_weekly, {"account": account}, "low", f"report.weekly for {account}", None


def _import(rng: random.Random) -> tuple[Callable[..., Any], dict[str, Any], str, str, Retry | None]:
    batch = rng.randint(1, 40)
    return demo_tasks.import_products, {"batch": batch}, "low", f"import.products batch {batch}", None


def _cache(rng: random.Random) -> tuple[Callable[..., Any], dict[str, Any], str, str, Retry | None]:
    region = rng.choice(REGIONS)
    return demo_tasks.cache_warm, {"region": region}, "high", f"cache.warm {region}", None


def _webhook(rng: random.Random) -> tuple[Callable[..., Any], dict[str, Any], str, str, Retry | None]:
    endpoint = rng.choice(ENDPOINTS)
    return demo_tasks.webhook_dispatch, {"endpoint": endpoint}, "default", f"webhook.dispatch {endpoint}", WEBHOOK_RETRY


def _revenuecat(rng: random.Random) -> tuple[Callable[..., Any], dict[str, Any], str, str, Retry | None]:
    total = rng.choice((200, 400, 800))
    return demo_tasks.revenuecat_sync, {"total": total}, "low", f"revenuecat_sync {total} subscriptions", None


MIX: tuple[tuple[Callable[[random.Random], Any], int], ...] = (
    (_email, 30), (_cache, 25), (_webhook, 25), (_report, 8), (_import, 8), (_revenuecat, 4),
)
"""Job makers and their weights: mostly short jobs, a few slow ones that keep the low queue busy."""


def enqueue_one(conn: redis.Redis, rng: random.Random) -> str:
    """Enqueue one job picked from the mix; returns its id."""
    makers, weights = zip(*MIX, strict=True)
    maker = rng.choices(makers, weights=weights)[0]
    func, kwargs, queue, description, retry = maker(rng)
    job = Queue(queue, connection=conn).enqueue(func, kwargs=kwargs, description=description, retry=retry)
    return job.id


def pending(conn: redis.Redis) -> int:
    """Jobs waiting in the demo's queues (three LLENs in one round trip)."""
    with conn.pipeline(transaction=False) as pipe:
        for queue in ("high", "default", "low"):
            pipe.llen(keys.rq_queue(queue))
        return sum(pipe.execute())


def run(conn: redis.Redis, stop_event: threading.Event, rate: float = 1.0, seed: int | None = None) -> None:
    """Enqueue about ``rate`` jobs per second, with an occasional burst, until ``stop_event`` is set."""
    rng = random.Random(seed)
    for _ in range(6):
        enqueue_one(conn, rng)
    while not stop_event.wait(rng.expovariate(max(rate, 0.01))):
        try:
            if pending(conn) >= MAX_PENDING:
                continue
            burst = rng.randint(5, 12) if rng.random() < 0.03 else 1
            for _ in range(burst):
                enqueue_one(conn, rng)
            HEALTH.back()
        except OUTAGE_ERRORS as exc:
            HEALTH.lost(exc)
            stop_event.wait(2.0)
