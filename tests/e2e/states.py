"""Where each job is at the end of a test: RQ status, every registry or list holding it, runs, history state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import redis

from tests import jobs
from worker import keys

HOMES = {"finished": {"finished"}, "failed": {"failed", "stopped"}, "canceled": {"canceled"}, "queue": {"queued"}}
"""Each place a settled job can be, and the RQ statuses that agree with it."""


@dataclass(frozen=True)
class Placement:
    """One job: its status, the places it is in, how often its function started, rqtop's history state."""

    job_id: str
    status: str
    homes: tuple[str, ...]
    starts: int
    history: str

    @property
    def settled(self) -> bool:
        """In exactly one place that agrees with its status, and not running."""
        return len(self.homes) == 1 and self.status in HOMES.get(self.homes[0], set())


def placements(conn: redis.Redis, enqueued: Iterable[tuple[str, str]]) -> list[Placement]:
    """Per (job id, queue): where the job is now, read in one pipelined round trip plus the wip registries."""
    enqueued = list(enqueued)
    queues = sorted({queue for _, queue in enqueued})
    pipe = conn.pipeline(transaction=False)
    for job_id, queue in enqueued:
        pipe.hget(keys.rq_job(job_id), "status")
        for kind in ("finished", "failed", "canceled"):
            pipe.zscore(keys.rq_registry(kind, queue), job_id)
        pipe.lpos(keys.rq_queue(queue), job_id)
        pipe.hget(keys.history_item(job_id), "state")
    replies = pipe.execute() if enqueued else []
    started = Counter({job_id: len(runs) for job_id, runs in jobs.starts(conn).items()})
    wip = {m.decode().split(":", 1)[0] for q in queues for m in conn.zrange(keys.rq_registry("wip", q), 0, -1)}
    found = []
    for index, (job_id, _queue) in enumerate(enqueued):
        status, finished, failed, canceled, queued, history = replies[6 * index: 6 * index + 6]
        homes = [name for name, where in (("finished", finished), ("failed", failed), ("canceled", canceled),
                                          ("queue", queued)) if where is not None]
        if job_id in wip:
            homes.append("wip")
        found.append(Placement(job_id, (status or b"").decode(), tuple(homes), started[job_id],
                               (history or b"").decode()))
    return found
