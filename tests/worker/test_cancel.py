"""cancel_through: each script call's list work is bounded by the chunk, and the planned set is kept under races."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import redis

from tests.redis_commands import command_calls
from worker import keys
from worker.cancel import cancel_listed, cancel_through

QUEUE = keys.rq_queue("default")
T = TypeVar("T")


class BetweenCalls(redis.Redis):
    """A client that runs ``hook`` (workers, producers) before every script call and keeps each reply."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.hook: Callable[[int], None] | None = None
        self.replies: list[list] = []

    def evalsha(self, *args):
        """Run the hook with the call's index, then the script."""
        if self.hook is not None:
            self.hook(len(self.replies))
        reply = super().evalsha(*args)
        self.replies.append(reply)
        return reply


def queued_jobs(conn: redis.Redis, prefix: str, count: int) -> list[str]:
    """Push ``count`` queued job hashes and ids at the tail of the queue; return the ids."""
    ids = [f"{prefix}{index:05d}" for index in range(count)]
    pipe = conn.pipeline(transaction=False)
    for job_id in ids:
        pipe.hset(keys.rq_job(job_id), mapping={"status": "queued", "origin": "default"})
    pipe.rpush(QUEUE, *ids)
    pipe.execute()
    return ids


def lua_commands(redis_url: str, run: Callable[[], T]) -> tuple[T, list[list[str]]]:
    """What ``run`` returned and the commands scripts sent meanwhile (MONITOR), each as its name and arguments."""
    seen: list[list[str]] = []
    ready = threading.Event()
    sentinel = "cancel-test-monitor-done"

    def watch() -> None:
        client = redis.Redis.from_url(redis_url)
        with client.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                if sentinel in command["command"]:
                    break
                if command["client_type"] == "lua":
                    name, *args = command["command"].split(" ")
                    seen.append([name.upper(), *args])
        client.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    ready.wait(5)
    control = redis.Redis.from_url(redis_url)
    try:
        result = run()
    finally:
        control.echo(sentinel)
        watcher.join(10)
        control.close()
    return result, seen


def test_each_call_does_chunk_sized_list_work_on_a_long_queue(conn: redis.Redis) -> None:
    total, chunk = 200_000, 1000
    ids = [f"bulk{index:06d}" for index in range(total)]
    for start in range(0, total, 10_000):
        conn.rpush(QUEUE, *ids[start : start + 10_000])
    conn.rpush(QUEUE, "late-1", "late-2", "late-3")  # enqueued after the plan
    before = command_calls(conn)
    counts = cancel_through(conn, "default", ids[-1], total, chunk=chunk)
    after = command_calls(conn)
    calls = {name: after.get(name, 0) - before.get(name, 0) for name in ("lpos", "lpop", "lrange", "lindex")}

    assert counts == {"canceled": 0, "missing": total, "skipped": 0, "taken": 0}
    assert conn.lrange(QUEUE, 0, -1) == [b"late-1", b"late-2", b"late-3"]
    assert calls["lpos"] == 0, "LPOS scans the queue from its head: quadratic over the chunks"
    assert calls["lpop"] == total // chunk, "one pop per call, no call spent searching"
    assert calls["lrange"] + calls["lindex"] <= 2 * calls["lpop"], calls


def test_workers_producers_and_removals_between_calls_keep_to_the_plan(conn: redis.Redis, redis_url: str) -> None:
    chunk = 5
    planned = queued_jobs(conn, "plan", 60)
    late = queued_jobs(conn, "late", 12)  # enqueued between the plan and the confirmation
    took: list[str] = []
    removed: list[str] = []

    def between(call: int) -> None:
        """Before each call a worker takes one job, a producer adds two, with a burst, a rush and two removals."""
        for _ in range(8 if call == 4 else 1):  # call 4: workers take more than a chunk at once
            took.append(conn.lpop(QUEUE).decode())
        late.extend(queued_jobs(conn, f"late{call:02d}-", 20 if call == 3 else 2))
        if call == 6:  # someone deletes a planned job and a later one (RQ's Queue.remove is an LREM)
            for job_id in (planned[50], late[5]):
                conn.lrem(QUEUE, 1, job_id)
                removed.append(job_id)

    client = BetweenCalls.from_url(redis_url)
    client.hook = between
    counts, seen = lua_commands(redis_url, lambda: cancel_through(client, "default", planned[-1], 60, chunk))
    client.close()

    ours = [job_id for job_id in planned if job_id not in took and job_id not in removed]
    assert counts == {"canceled": len(ours), "missing": 0, "skipped": 0, "taken": 60 - len(ours)}
    assert conn.lrange(QUEUE, 0, -1) == [job_id.encode() for job_id in late if job_id not in removed]
    assert {raw.decode() for raw in conn.zrange("rq:canceled:default", 0, -1)} == set(ours)
    pipe = conn.pipeline(transaction=False)
    for job_id in planned + late:
        pipe.hget(keys.rq_job(job_id), "status")
    statuses = dict(zip(planned + late, pipe.execute(), strict=True))
    assert all(statuses[job_id] == b"canceled" for job_id in ours)
    assert all(status == b"queued" for job_id, status in statuses.items() if job_id not in ours)
    assert any(reply[3] == 0 and sum(reply[:3]) == 0 for reply in client.replies), "no call had to search"

    assert not [args for args in seen if args[0] == "LPOS"]
    spans = [int(args[3]) - int(args[2]) + 1 for args in seen if args[0] == "LRANGE"]
    pops = [int(args[2]) for args in seen if args[0] == "LPOP"]
    assert spans and pops and max(spans) <= chunk and max(pops) <= chunk, (spans, pops)


def test_boundary_taken_by_a_worker_leaves_everything_behind_it(conn: redis.Redis) -> None:
    planned = queued_jobs(conn, "plan", 10)
    late = queued_jobs(conn, "late", 50)
    assert conn.lpop(QUEUE, 10) == [job_id.encode() for job_id in planned]  # workers took all of it
    assert cancel_through(conn, "default", planned[-1], 10, chunk=4) == {
        "canceled": 0, "missing": 0, "skipped": 0, "taken": 10,
    }
    assert conn.lrange(QUEUE, 0, -1) == [job_id.encode() for job_id in late]


def test_boundary_taken_midway_stops_there(conn: redis.Redis, redis_url: str) -> None:
    planned = queued_jobs(conn, "plan", 30)
    late = queued_jobs(conn, "late", 40)

    def between(call: int) -> None:
        """Before the third call, workers take every planned job still queued."""
        if call == 2:
            conn.lpop(QUEUE, 30 - 2 * 4)

    client = BetweenCalls.from_url(redis_url)
    client.hook = between
    counts = cancel_through(client, "default", planned[-1], 30, chunk=4)
    client.close()
    assert counts == {"canceled": 8, "missing": 0, "skipped": 0, "taken": 22}
    assert conn.lrange(QUEUE, 0, -1) == [job_id.encode() for job_id in late]
    assert conn.zcard("rq:canceled:default") == 8


def test_a_wrong_type_job_mid_chunk_is_skipped_and_set_aside_never_losing_the_rest(conn: redis.Redis) -> None:
    """Issue 14.1: a string at rq:job:<id> in the middle of 1,200 pending jobs used to abort the script mid-chunk."""
    ids = queued_jobs(conn, "job", 1200)
    bad = ids[700]
    conn.delete(keys.rq_job(bad))
    conn.set(keys.rq_job(bad), "not a hash")
    late = queued_jobs(conn, "late", 3)  # enqueued after the plan

    counts = cancel_through(conn, "default", ids[-1], len(ids))

    others = [job_id for job_id in ids if job_id != bad]
    assert counts == {"canceled": 1199, "missing": 0, "skipped": 1, "taken": 0}
    pipe = conn.pipeline(transaction=False)
    for job_id in others:
        pipe.hget(keys.rq_job(job_id), "status")
    assert set(pipe.execute()) == {b"canceled"}
    assert {raw.decode() for raw in conn.zrange("rq:canceled:default", 0, -1)} == set(others)
    assert conn.lrange(QUEUE, 0, -1) == [job_id.encode() for job_id in [*late, bad]], "set aside at the tail"
    assert conn.get(keys.rq_job(bad)) == b"not a hash", "the bad job is left untouched"


def test_listed_cancel_sets_a_wrong_type_job_aside_too(conn: redis.Redis) -> None:
    ids = queued_jobs(conn, "job", 5)
    conn.delete(keys.rq_job(ids[2]))
    conn.set(keys.rq_job(ids[2]), "x")
    assert cancel_listed(conn, "default", ids) == {"canceled": 4, "missing": 0, "skipped": 1, "taken": 0}
    assert conn.lrange(QUEUE, 0, -1) == [ids[2].encode()]


def test_many_at_front_pushes_in_chunks_keep_order_and_exactly_the_plan(conn: redis.Redis, redis_url: str) -> None:
    """Head pushes before every call, more than a chunk in all, with a worker taking planned jobs in between."""
    chunk = 5
    planned = queued_jobs(conn, "plan", 40)
    head = tuple(planned[:chunk])
    pushed: list[str] = []
    took: list[str] = []

    def between(call: int) -> None:
        """Three jobs pushed at the head before each call; before call 2 a worker takes the head (one pushed)."""
        if call == 2:
            took.append(conn.lpop(QUEUE).decode())
        for index in range(3):
            job_id = f"front{call:02d}-{index}"
            conn.hset(keys.rq_job(job_id), mapping={"status": "queued", "origin": "default"})
            conn.lpush(QUEUE, job_id)
            pushed.append(job_id)

    client = BetweenCalls.from_url(redis_url)
    client.hook = between
    counts = cancel_through(client, "default", planned[-1], 40, chunk, head)
    client.close()

    assert counts == {"canceled": 40, "missing": 0, "skipped": 0, "taken": 0}
    left = [raw.decode() for raw in conn.lrange(QUEUE, 0, -1)]
    assert sorted(left) == sorted(job_id for job_id in pushed if job_id not in took)
    assert {raw.decode() for raw in conn.zrange("rq:canceled:default", 0, -1)} == set(planned)
