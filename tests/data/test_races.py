"""Cancel All Pending while two workers pop and a producer enqueues: every job ends in exactly one state."""

from __future__ import annotations

import threading
import time
from collections import Counter

import redis
from rq import Queue

from tests.jobs import STARTS, started
from tests.rq_support import spawn_worker, stop_worker
from tests.waiting import wait_for
from tui.data.actions import DashboardActions
from tui.data.settings import Settings
from worker import cancel, keys


def test_cancel_pending_races_workers_and_producer(redis_url: str, conn: redis.Redis, monkeypatch) -> None:
    monkeypatch.setattr(cancel, "CHUNK", 4)  # many short script calls: workers pop in between
    queue = Queue("default", connection=conn)
    ids = [job.id for job in queue.enqueue_many(
        [Queue.prepare_data("tests.jobs.recorded_ok") for _ in range(1500)])]
    stop = threading.Event()

    def produce() -> None:
        client = redis.Redis.from_url(redis_url)
        producer_queue = Queue("default", connection=client)
        while not stop.is_set() and len(ids) < 4000:
            ids.append(producer_queue.enqueue("tests.jobs.recorded_ok").id)
            time.sleep(0.002)
        client.close()

    workers = [spawn_worker(redis_url, f"racer-{n}", "default", simple=True) for n in range(2)]
    producer = threading.Thread(target=produce)
    try:
        producer.start()
        wait_for(lambda: len(started(conn)) >= 20 and len(ids) >= 1550, 15, "workers and producer to get going")
        actions = DashboardActions(conn, Settings())
        plan = actions.plan_cancel_pending()
        (cut,) = plan.cuts
        result = actions.cancel_pending(plan)
        time.sleep(0.2)  # the producer keeps enqueuing after the cancel
        stop.set()
        producer.join(5)
        wait_for(lambda: conn.llen("rq:queue:default") == 0 and conn.zcard("rq:wip:default") == 0,
                 40, "workers to drain the jobs enqueued after the plan")
    finally:
        stop.set()
        for worker in workers:
            stop_worker(worker)

    boundary = ids.index(cut.last_id)
    runs = Counter(line.decode().split()[0] for line in conn.lrange(STARTS, 0, -1))
    pipe = conn.pipeline(transaction=False)
    for job_id in ids:
        pipe.hget(keys.rq_job(job_id), "status")
        pipe.zscore("rq:finished:default", job_id)
        pipe.zscore("rq:canceled:default", job_id)
        pipe.zscore("rq:failed:default", job_id)
    replies = pipe.execute()
    states = Counter()
    for index, job_id in enumerate(ids):
        status, finished, canceled, failed = replies[4 * index: 4 * index + 4]
        homes = [name for name, score in (("finished", finished), ("canceled", canceled), ("failed", failed))
                 if score is not None]
        assert homes == [status.decode()] and status in (b"finished", b"canceled"), (job_id, status, homes)
        if status == b"canceled":
            assert runs[job_id] == 0, f"{job_id} ran after it was canceled"
            assert index <= boundary, f"{job_id} was enqueued after the plan's boundary but canceled"
        else:
            assert runs[job_id] == 1
        states[status.decode()] += 1
    assert states["canceled"] == result.counts["canceled"] > 0
    assert result.counts["canceled"] + result.counts["taken"] == cut.size
    assert all(runs[job_id] == 1 for job_id in ids[boundary + 1:])
    assert len(ids) > boundary + 1, "the producer enqueued after the plan"
    print(f"\nrace: {len(ids)} jobs, boundary at {boundary}, {result.counts}, {dict(states)}")
