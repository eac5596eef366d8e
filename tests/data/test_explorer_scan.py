"""The explorer's scan on real Redis: the probe rejects exactly what the full match rejects, a warm cache skips
Redis for jobs of other tasks, hostile hashes and keys of other types are survived, and the quick task-name
path reads the same name as the opcode walk."""

from __future__ import annotations

import pickle
import random
import time
import zlib

import pytest
import redis
from rq import Queue, SimpleWorker

from tests import jobs
from tests.redis_commands import command_calls
from tui.data.explorer import scan
from tui.data.explorer.cache import TaskCache
from tui.data.explorer.match import matches
from tui.data.explorer.query import parse_query
from tui.data.explorer.rows import read_rows
from tui.data.explorer.scan import Scanner
from worker import keys, safe_decoding
from worker.safe_decoding import UNREADABLE, function_name


@pytest.fixture
def mixed(conn: redis.Redis) -> None:
    """Failed, completed and pending jobs of three tasks, a hostile hash and keys of other types under rq:job:."""
    high, default = Queue("high", connection=conn), Queue("default", connection=conn)
    for i in range(5):
        high.enqueue(jobs.boom, f"import {i} failed")
        default.enqueue(jobs.say_hello, f"hello {i}")
    SimpleWorker([high, default], connection=conn, name="w-scan").work(burst=True)
    for i in range(20):
        default.enqueue(jobs.ok, i, description=f"ok number {i}")
    conn.rpush(keys.rq_job("a-list"), "x")
    conn.set(keys.rq_job("a-string"), "x")
    conn.hset(keys.rq_job("hostile"), mapping={"status": "\x1b[31mqueued", "data": b"\x00not zlib",
                                               "origin": "default", "description": "say_hello \x1b]0;x\x07"})
    conn.hset(keys.rq_job("no-fields-rq-writes"), "colour", "blue")


def reference(conn: redis.Redis, query: str, now: float) -> set[str]:
    """The ids the full match lists, reading every job hash's full row (no probe, no cache; keys of another type
    are not jobs, as the scan has always treated them)."""
    flt = parse_query(query)
    prefix = keys.rq_job("")
    every = [k.decode()[len(prefix):] for k in conn.scan_iter(keys.rq_job("*")) if conn.type(k) == b"hash"]
    rows = read_rows(conn, [i for i in every if ":" not in i], (), now)
    return {row.id for row in rows if row.job.state != "expired" and matches(row, flt, now)}


QUERIES = ("task:say_hello", "task:boom*", "task:tests.jobs.ok state:pending", "task:say_hello completed:yes",
           "worker:w-*", "worker:nobody", "hello", "'ok number 1'", "state:stopped", "since:1h task:ok",
           "task:unreadable", "hello task:say*", "state:running task:ok")


def test_the_probe_lists_exactly_what_the_full_match_lists(conn: redis.Redis, mixed: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "CHUNK", 7)
    now = time.time()
    cache = TaskCache()
    listed = {}
    for query in QUERIES:
        for _ in ("cold", "warm"):
            scanner = Scanner(parse_query(query), (), cache)
            while not scanner.done:
                scanner.step(conn, now)
            assert set(scanner.ids) == reference(conn, query, now), query
        listed[query] = len(scanner.ids)
    assert listed["task:say_hello"] == 0 and listed["task:say_hello completed:yes"] == 5
    assert listed["task:boom*"] == 5 and listed["task:tests.jobs.ok state:pending"] == 20
    assert listed["worker:w-*"] == 5 and listed["'ok number 1'"] == 11 and listed["task:unreadable"] == 2


def test_a_warm_scan_reads_no_hash_of_a_task_that_cannot_match(conn: redis.Redis, mixed: None) -> None:
    cache = TaskCache()
    cold = Scanner(parse_query("task:say_hello completed:yes"), (), cache)
    while not cold.done:
        cold.step(conn, time.time())
    assert len(cold.ids) == 5
    before = command_calls(conn)
    warm = Scanner(parse_query("task:say_hello completed:yes"), (), cache)
    while not warm.done:
        warm.step(conn, time.time())
    after = command_calls(conn)
    assert set(warm.ids) == set(cold.ids)
    # 5 known matches are read in full; the 25 jobs of other tasks are not read at all; the 4 keys with no task
    # learnt (two of another type, the hostile hash, the one without RQ's fields) are probed again (one HGET of
    # ``data`` each), and the 3 of them the probe cannot rule out (error replies, no fields) are read in full to
    # be ruled out there.
    assert after.get("hget", 0) - before.get("hget", 0) == 4
    assert after.get("hmget", 0) - before.get("hmget", 0) == 5 + 3


def test_task_cache_is_bounded_and_forgets_when_full() -> None:
    cache = TaskCache(limit=100)
    for i in range(100):
        cache.put(f"job-{i}".encode(), f"task.{i % 3}")
    assert len(cache) == 100 and cache.get(b"job-7") == "task.1" and cache.get(b"nope") is None
    assert cache.get_many([b"job-0", b"nope", b"job-2"]) == ["task.0", None, "task.2"]
    cache.put(b"job-100", "task.0")  # full: emptied, then this one remembered
    assert len(cache) == 1 and cache.get(b"job-7") is None and cache.get(b"job-100") == "task.0"
    cache.put_many([(b"a", "task.9"), (b"a", "task.8")])
    assert cache.get(b"a") == "task.8" and len(cache) == 2


def _walk_only(data: bytes) -> str:
    """The name as the opcode walk alone reads it (the quick path switched off)."""
    quick = safe_decoding._leading_name
    safe_decoding._leading_name = lambda head: None  # type: ignore[assignment]
    try:
        return function_name(data)
    finally:
        safe_decoding._leading_name = quick  # type: ignore[assignment]


def test_the_quick_task_name_equals_the_opcode_walk_on_real_and_mangled_pickles() -> None:
    cases = [zlib.compress(pickle.dumps((name, None, (1,), {}), protocol=proto))
             for proto in range(6) for name in ("app.tasks.x", "a" * 150, "a" * 201, "bad name!", "é.x")]
    cases += [b"", b"not zlib", zlib.compress(b"\x80\x05("), zlib.compress(b"\x80\x05(\x8c\xff"),
              zlib.compress(b'["a.b", null, [], {}]')]
    rnd = random.Random(13)
    base = zlib.decompress(cases[-10])
    for _ in range(1500):
        mangled = bytearray(base)
        for _ in range(3):
            mangled[rnd.randrange(30)] = rnd.randrange(256)
        cases += [zlib.compress(bytes(mangled)), zlib.compress(bytes(mangled[:rnd.randrange(len(mangled))]))]
    assert [function_name(c) for c in cases] == [_walk_only(c) for c in cases]
    assert function_name(cases[0]) == "app.tasks.x" and function_name(b"not zlib") == UNREADABLE
