"""However often it is scraped, the exporter reads Redis at most once per --min-interval; an outage is served as
``rqtop_up 0`` (200, no stale numbers) and the exporter recovers by itself."""

from __future__ import annotations

import threading
import time

import redis
from rq import Queue

from tests import jobs
from tests.exporter.support import fetch, names, parse, running_exporter, scrape, value
from tests.waiting import wait_for
from worker.embedded_redis import EmbeddedRedis

INTERVAL_S = 2.0
SCRAPE_FOR_S = 10.0


def commands_served(conn: redis.Redis) -> int:
    """Every command the server has run so far, less the INFO calls this counting makes."""
    stats = conn.info("commandstats")
    return sum(int(s["calls"]) for name, s in stats.items() if name != "cmdstat_info")


def test_hundred_scrapes_a_second_cost_one_read_per_min_interval(private_redis: EmbeddedRedis) -> None:
    """100 scrapes/s for 10 s from 4 threads: Redis sees at most 10 / 2 + 1 reads' worth of commands."""
    conn = redis.Redis.from_url(private_redis.url)
    Queue("default", connection=conn).enqueue(jobs.ok)
    with running_exporter(private_redis.url, "--min-interval", str(INTERVAL_S)) as port:
        first = scrape(port)
        per_read = value(first, "rqtop_read_commands")
        reads_before, before = value(first, "rqtop_reads_total"), commands_served(conn)
        done, bodies, errors = time.monotonic() + SCRAPE_FOR_S, [], []

        def scraper() -> None:
            tick = time.monotonic()
            while time.monotonic() < done:
                try:
                    bodies.append(fetch(port))
                except OSError as exc:  # pragma: no cover - reported below
                    errors.append(exc)
                tick += 0.04  # 25/s per thread
                time.sleep(max(0.0, tick - time.monotonic()))

        threads = [threading.Thread(target=scraper) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        spent = commands_served(conn) - before
        last = parse(bodies[-1])
    assert not errors
    assert len(bodies) >= 300, f"only {len(bodies)} scrapes in {SCRAPE_FOR_S} s: the test proved nothing"
    reads = value(last, "rqtop_reads_total") - reads_before
    allowed = SCRAPE_FOR_S / INTERVAL_S + 1
    assert 1 <= reads <= allowed, (reads, len(bodies))
    assert spent <= allowed * per_read + 5, (spent, per_read, reads)  # + connection setup (CLIENT SETINFO …)
    assert {value(parse(b), "rqtop_up") for b in bodies[:: max(1, len(bodies) // 20)]} == {1}


def test_an_outage_is_rqtop_up_0_and_the_exporter_recovers_alone(private_redis: EmbeddedRedis) -> None:
    """Redis down: 200 with ``rqtop_up 0`` and no rq_* numbers; Redis back: the numbers return, no restart."""
    conn = redis.Redis.from_url(private_redis.url)
    Queue("default", connection=conn).enqueue(jobs.ok)
    with running_exporter(private_redis.url, "--min-interval", "0.5") as port:
        up = scrape(port)
        assert value(up, "rqtop_up") == 1 and value(up, "rq_jobs", queue="default", status="queued") == 1
        private_redis.kill()
        down = wait_for(lambda: (d := scrape(port)) and value(d, "rqtop_up") == 0 and d, 30, "rqtop_up 0")
        assert not {n for n in names(down) if n.startswith("rq_") and not n.startswith("rq_request")}, names(down)
        assert not any(n.startswith(("rqtop_queue", "rqtop_task", "rqtop_schedule")) for n in names(down))
        assert value(down, "rqtop_read_errors_total") >= 1
        private_redis.start()
        conn = redis.Redis.from_url(private_redis.url)
        Queue("default", connection=conn).enqueue(jobs.ok)  # a fresh server: the new truth is one job
        back = wait_for(lambda: (b := scrape(port)) and value(b, "rqtop_up") == 1 and b, 30, "rqtop_up 1 again")
        assert value(back, "rq_jobs", queue="default", status="queued") == 1
