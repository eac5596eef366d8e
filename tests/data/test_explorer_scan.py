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
from tui.data.explorer.cache import TaskCache, key_hashes, position
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
    a, b = cache.number("task.a"), cache.number("task.b")
    first = [f"job-{i}".encode() for i in range(60)]
    cache.learn(0, 100, key_hashes(first), bytes([a, b] * 30))
    assert len(cache) == 60 and cache.get(b"job-7") == "task.b" and cache.get(b"nope") is None
    assert cache.known(0, 100, key_hashes([b"job-0", b"nope", b"job-3"])) == bytes([a, 0, b])
    cache.learn(0, 100, key_hashes(first[:50]), bytes(50))  # the same span learnt again: replaced, not added
    assert len(cache) == 50 and cache.get(b"job-7") is None
    second = [f"other-{i}".encode() for i in range(48)]
    cache.learn(100, 200, key_hashes(second), bytes([b] * 48))
    assert len(cache) == 98 and cache.get(b"other-1") == "task.b"
    cache.learn(200, 300, key_hashes([b"x", b"y", b"z"]), bytes([a, a, a]))  # past the bound: emptied first
    assert len(cache) == 3 and cache.get(b"other-1") is None and cache.get(b"y") == "task.a"


def test_a_chunk_whose_bounds_moved_is_answered_from_the_chunks_it_overlaps() -> None:
    cache = TaskCache()
    a, b = cache.number("task.a"), cache.number("task.b")
    cache.learn(0, 10, key_hashes([b"k1", b"k2"]), bytes([a, b]))
    cache.learn(10, 20, key_hashes([b"k3", b"k4"]), bytes([b, a]))
    cache.learn(30, 40, key_hashes([b"k9"]), bytes([a]))
    assert cache.known(5, 15, key_hashes([b"k2", b"new", b"k3"])) == bytes([b, 0, b])
    assert cache.known(20, 30, key_hashes([b"k9"])) == bytes(1)  # no chunk overlaps [20, 30)
    cache.learn(5, 15, key_hashes([b"k2", b"new", b"k3"]), bytes([b, a, b]))  # its span taken from both
    assert len(cache) == 6 and cache.get(b"new") == "task.a"
    assert cache.known(0, 5, key_hashes([b"k1"])) == bytes([a])  # what lay outside it is kept
    assert cache.known(15, 20, key_hashes([b"k4", b"k3"])) == bytes([a, 0])
    cache.learn(0, 40, key_hashes([b"k1"]), bytes([a]))  # a span over every chunk replaces them all
    assert len(cache) == 1 and cache.get(b"k9") is None


def test_scan_cursors_read_as_positions_only_grow_and_a_warm_scan_survives_new_keys(
        conn: redis.Redis, mixed: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(300):
        conn.hset(keys.rq_job(f"filler-{i}"), "status", "finished")
    cursor, positions = 0, []
    while True:
        positions.append(position(cursor))
        cursor, _ = conn.scan(cursor, match=keys.rq_job("*"), count=7)
        if cursor == 0:
            break
    assert positions == sorted(positions) and len(set(positions)) == len(positions) > 10
    monkeypatch.setattr(scan, "CHUNK", 7)
    cache = TaskCache()
    cold = Scanner(parse_query("task:say_hello completed:yes"), (), cache)
    while not cold.done:
        cold.step(conn, time.time())
    Queue("low", connection=conn).enqueue(jobs.ok, 1)  # chunk bounds move: later chunks start elsewhere
    Queue("low", connection=conn).enqueue(jobs.ok, 2)
    before = command_calls(conn)
    warm = Scanner(parse_query("task:say_hello completed:yes"), (), cache)
    while not warm.done:
        warm.step(conn, time.time())
    after = command_calls(conn)
    assert set(warm.ids) == set(cold.ids) and len(warm.ids) == 5
    # probed again: the 2 new jobs, the 4 keys with no task learnt and the 300 fillers (no ``data``: unknown)
    assert after.get("hget", 0) - before.get("hget", 0) == 2 + 4 + 300


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
