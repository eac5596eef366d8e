"""The audit stream: what append writes and read returns, newest first, tolerant of malformed entries."""

from __future__ import annotations

import redis

from worker import audit, keys


def test_append_then_read_newest_first(conn: redis.Redis) -> None:
    audit.append(conn, "ann@host", "pause", "catalog_sync", {"changed": 1}, True, now=100.0)
    audit.append(conn, "bob@host", "cancel_pending", "default", {"canceled": 7, "taken": 2}, False, now=200.0)
    entries = audit.read(conn)
    assert [e.action for e in entries] == ["cancel_pending", "pause"]
    newest = entries[0]
    assert (newest.who, newest.target, newest.counts, newest.at, newest.ok) == (
        "bob@host", "default", {"canceled": 7, "taken": 2}, 200.0, False)
    assert entries[1].ok is True
    fields = conn.xrange(keys.AUDIT)[0][1]
    assert set(fields) == {b"who", b"action", b"target", b"counts", b"at", b"ok"}


def test_read_limit_and_empty(conn: redis.Redis) -> None:
    assert audit.read(conn) == ()
    for index in range(5):
        audit.append(conn, "w", f"a{index}", "t", {}, True)
    assert [e.action for e in audit.read(conn, limit=2)] == ["a4", "a3"]
    assert audit.read(conn, limit=0) == ()


def test_malformed_entry_reads_as_empty_fields(conn: redis.Redis) -> None:
    conn.xadd(keys.AUDIT, {"who": b"\xff\xfe", "counts": "not json", "at": "soon"})
    (entry,) = audit.read(conn)
    assert entry.counts == {} and entry.at is None and entry.ok is False and entry.action == ""


def test_stream_is_capped(conn: redis.Redis, monkeypatch) -> None:
    monkeypatch.setattr(keys, "AUDIT_MAXLEN", 10)
    for _ in range(500):
        audit.append(conn, "w", "a", "t", {}, True)
    assert conn.xlen(keys.AUDIT) < 500
