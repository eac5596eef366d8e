"""A refresh round sent without redis-py's Pipeline returns, slot by slot, what redis-py's pipeline returns for the
same calls, on RESP2 and RESP3 connections alike, error replies included; a dropped connection is said as redis-py
says it and not reused."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import redis

from tui.data.explorer.bulk import SEND_ALONGSIDE_BYTES
from tui.data.sections.rounds import Round

CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("hgetall", (b"h",), {}),
    ("hgetall", (b"missing",), {}),
    ("hgetall", (b"s",), {}),  # another type: an error reply in its slot
    ("smembers", (b"s",), {}),
    ("smembers", (b"missing",), {}),
    ("pttl", (b"h",), {}),
    ("pttl", (b"missing",), {}),
    ("get", (b"str",), {}),
    ("hget", (b"h", "f1"), {}),
    ("hmget", (b"h", ["f1", "nope", "f2"]), {}),
    ("llen", (b"l",), {}),
    ("lindex", (b"l", 0), {}),
    ("zcard", (b"z",), {}),
    ("zcount", (b"z", "-inf", "(2.5"), {}),
    ("zscore", (b"z", b"b"), {}),
    ("zscore", (b"z", b"nope"), {}),
    ("zrange", (b"z", 0, 1), {"withscores": True}),
    ("zrevrange", (b"z", 0, -1), {}),
    ("zrevrange", (b"z", 0, 1), {"withscores": True}),
    ("zrevrangebyscore", (b"z", "+inf", "(1.0"), {"start": 0, "num": 2, "withscores": True}),
    ("exists", (b"h",), {}),
    ("xlen", (b"x",), {}),
    ("xrevrange", (b"x", "+", "-"), {"count": 1}),
    ("scan", (0,), {"match": "*:queues", "count": 1000}),
]


def _plant(conn: redis.Redis) -> None:
    conn.hset("h", mapping={"f1": "v1", "f2": b"\x00\xff"})
    conn.sadd("s", "a", "b", "c")
    conn.set("str", "text")
    conn.rpush("l", "x", "y")
    conn.zadd("z", {"a": 1.0, "b": 2.5, "c": 3.25})
    conn.xadd("x", {"k": "v"})
    conn.xadd("x", {"k": "w", "n": "1"})
    conn.sadd("rq:queues", "rq:queue:default")
    conn.set("other:queues", "1")
    conn.expire("h", 100)


def _by_pipeline(conn: redis.Redis) -> list[Any]:
    pipe = conn.pipeline(transaction=False)
    for name, args, kwargs in CALLS:
        getattr(pipe, name)(*args, **kwargs)
    return pipe.execute(raise_on_error=False)


def _normal(reply: Any) -> Any:
    """Compare error replies by kind and text, and pairs whatever sequence type holds them."""
    if isinstance(reply, Exception):
        return ("error", str(reply).split(":")[0])
    if isinstance(reply, (list, tuple)):
        return [_normal(r) for r in reply]
    if isinstance(reply, dict):
        return {k: _normal(v) for k, v in reply.items()}
    return reply


@pytest.mark.parametrize("protocol", [2, 3])
def test_a_round_returns_what_redis_pys_pipeline_returns(redis_url: str, protocol: int) -> None:
    conn = redis.Redis.from_url(redis_url, protocol=protocol)
    _plant(conn)
    round_ = Round(conn)
    slots = [round_.add(name, *args, **kwargs) for name, args, kwargs in CALLS]
    ours = round_.run()
    theirs = _by_pipeline(conn)
    assert slots == list(range(len(CALLS)))
    for (name, _, _), mine, expected in zip(CALLS, ours, theirs, strict=True):
        if name == "pttl" and isinstance(expected, int) and expected > 0:
            assert abs(mine - expected) < 1000, name
            continue
        assert _normal(mine) == _normal(expected), (name, mine, expected)
    assert isinstance(ours[2], redis.ResponseError), "WRONGTYPE comes back in its slot"
    assert ours[3] == {b"a", b"b", b"c"} and ours[0] == {b"f1": b"v1", b"f2": b"\x00\xff"}


def test_each_sends_one_command_per_key_in_one_round_trip(redis_url: str) -> None:
    conn = redis.Redis.from_url(redis_url)
    _plant(conn)
    round_ = Round(conn)
    keys = [b"h", b"missing", b"s"]
    hashes, members = round_.each("hgetall", keys), round_.each("smembers", keys)
    replies = round_.run()
    assert [replies[i] for i in hashes][:2] == [{b"f1": b"v1", b"f2": b"\x00\xff"}, {}]
    assert isinstance(replies[hashes[2]], redis.ResponseError)
    assert [replies[i] for i in members][1:] == [set(), {b"a", b"b", b"c"}]
    assert round_.commands[:3] == [(b"HGETALL", k) for k in keys] and round_.size == 6


def test_a_dropped_connection_is_a_redis_connection_error_and_the_next_round_reads_on_a_new_one(redis_url: str) -> None:
    """The server kills the pooled connection: the round either reads on a fresh one (the pool noticed) or fails
    with redis' ConnectionError, never a bare socket error; the connection is not handed back half-read, so the
    caller's next round (its reconnect loop) reads."""
    conn = redis.Redis.from_url(redis_url)
    _plant(conn)
    conn.ping()
    conn.client_kill_filter(_type="normal", skipme=False)  # every pooled connection is now dead
    first = Round(conn)
    slot = first.add("get", b"str")
    with contextlib.suppress(redis.ConnectionError):  # a bare OSError would fail the test
        assert first.run()[slot] == b"text"
    again = Round(conn)
    slot = again.add("get", b"str")
    assert again.run()[slot] == b"text"


def test_a_request_big_enough_to_be_sent_alongside_reads_what_a_pipeline_reads(redis_url: str) -> None:
    """``each`` with the fields after every key (the workers' HMGETs), sent by a thread while the replies are read:
    slot for slot what redis-py's pipeline returns, and the commands spelled out as they went."""
    conn = redis.Redis.from_url(redis_url)
    names = [b"rq:worker:big-%05d" % i for i in range(6000)]
    pipe = conn.pipeline(transaction=False)
    for i, name in enumerate(names[::3]):
        pipe.hset(name, mapping={"birth": str(i), "state": "busy" if i % 2 else "idle"})
    pipe.execute()
    fields = ("birth", "state", "queues")
    round_ = Round(conn)
    hashes = round_.each("hmget", names, fields)
    lengths = round_.each("exists", names)
    assert sum(len(part) for part in round_._packed) >= SEND_ALONGSIDE_BYTES, "the test must send alongside"
    replies = round_.run()
    pipe = conn.pipeline(transaction=False)
    for name in names:
        pipe.hmget(name, list(fields))
    for name in names:
        pipe.exists(name)
    assert replies == pipe.execute()
    assert replies[hashes[3]] == [b"1", b"busy", None] and replies[hashes[1]] == [None, None, None]
    assert replies[lengths[0]] == 1 and replies[lengths[1]] == 0
    assert round_.commands[0] == (b"HMGET", names[0], b"birth", b"state", b"queues")
    assert round_.commands[6000] == (b"EXISTS", names[0]) and len(round_.commands) == round_.size == 12000


def test_a_server_that_drops_the_client_mid_send_is_a_connection_error_not_a_hang(redis_url: str) -> None:
    """Redis closes a client whose query buffer passes its limit (here one 2 MB key, while the thread is still
    sending it): the reader stops with redis' ConnectionError instead of waiting for replies, and the next round
    reads on a fresh connection."""
    admin = redis.Redis.from_url(redis_url)
    limit = admin.config_get("client-query-buffer-limit")["client-query-buffer-limit"]
    admin.config_set("client-query-buffer-limit", "1mb")
    try:
        conn = redis.Redis.from_url(redis_url, socket_timeout=20)
        conn.set("str", "text")
        round_ = Round(conn)
        round_.add("get", b"str")
        round_.each("hmget", [b"k" * (2 << 20)], ("f",))
        with pytest.raises(redis.ConnectionError):
            round_.run()
    finally:
        admin.config_set("client-query-buffer-limit", limit)
    again = Round(conn)
    slot = again.add("get", b"str")
    assert again.run()[slot] == b"text"
