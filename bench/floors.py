"""Plainly written floor refreshes that rqtop's reader is measured against (raw pipelined reads, no classes).

``spec_floor`` is the floor the issue defines: every queue and registry count, every worker hash with its
current job, one 50-job page. ``same_reads_floor`` sends exactly the commands one refresh of rqtop's reader
sent (recorded by ``RecordingReader`` from the reader's own rounds, so it cannot go stale when the reader's plan
changes: a tab's refresh, the workers and queues due at their cadence, the metrics cache warm or cold), packed
and sent once per round, replies parsed by hiredis and dropped: the cost of the reads alone, before any row.
"""

from __future__ import annotations

import contextlib
from typing import Any

import redis

from tui.data.models import Snapshot
from tui.data.reader import DashboardReader
from tui.data.sections.rounds import Replies, Round
from worker import keys

REGISTRIES = ("wip", "finished", "failed", "deferred", "scheduled", "canceled")


def _names(raw: Any, prefix: str) -> list[str]:
    """Members of an index set with a key prefix removed."""
    return sorted(m.decode().removeprefix(prefix) for m in raw)


def spec_floor(conn: redis.Redis, page: int = 50) -> int:
    """Counts, workers with their current job, one page; three round trips. Returns the number of replies."""
    p = conn.pipeline(transaction=False)
    p.smembers(keys.RQ_QUEUES)
    p.smembers(keys.RQ_WORKERS)
    p.zrange(keys.WORKERS, 0, -1)
    queue_keys, worker_keys, ours = p.execute()
    queues = _names(queue_keys, "rq:queue:")
    names = sorted(set(_names(worker_keys, "rq:worker:")) | {n.decode() for n in ours})
    p = conn.pipeline(transaction=False)
    for q in queues:
        p.llen(keys.rq_queue(q))
        for kind in REGISTRIES:
            p.zcard(keys.rq_registry(kind, q))
    for name in names:
        p.hgetall(keys.rq_worker(name))
        p.smembers(keys.rq_worker_executions(name))
    p.lrange(keys.rq_queue(queues[0] if queues else "default"), 0, page - 1)
    values = p.execute()
    executions = values[len(queues) * 7 + 1 : -1 : 2]
    job_ids = [m.split(b":")[0] for s in executions for m in s] + list(values[-1])
    p = conn.pipeline(transaction=False)
    for job_id in job_ids:
        p.hmget(b"rq:job:" + job_id, "status", "origin", "created_at", "started_at", "ended_at", "data")
    return len(values) + len(p.execute())


class RecordingReader(DashboardReader):
    """rqtop's reader, keeping the commands of every round of its last read (``plan``): the same-reads floor
    replays exactly these, so it follows the reader's plan whatever the reader comes to read."""

    plan: list[list[tuple[Any, ...]]]

    def read(self, *args: Any, **kwargs: Any) -> Snapshot:
        """One Snapshot, recording its rounds' commands."""
        self.plan = []
        return super().read(*args, **kwargs)

    def _run(self, round_: Round) -> Replies:
        """Record one round's commands (name and arguments, as redis-py packs them), then run it."""
        if round_.size:
            self.plan.append(list(round_.commands))
        return super()._run(round_)


def same_reads_floor(conn: redis.Redis, plan: list[list[tuple[Any, ...]]]) -> int:
    """The commands of one recorded refresh, sent plainly: each round packed and sent once, its replies parsed by
    hiredis and dropped (no rows built, nothing folded); returns the number of replies."""
    connection = conn.connection_pool.get_connection()
    replies = 0
    try:
        for commands in plan:
            connection.send_packed_command(connection.pack_commands(commands))
            for _ in commands:
                with contextlib.suppress(redis.ResponseError):  # an error reply is a reply, as the reader takes it
                    connection.read_response()
                replies += 1
    finally:
        conn.connection_pool.release(connection)
    return replies
