"""The audit stream: what append writes and read returns, newest first, tolerant of malformed entries."""

from __future__ import annotations

import time

import pytest
import redis

from worker import audit, keys
from worker.records import as_text


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
    assert entries[0].phase == "" and entries[0].intent == "" and entries[0].unreadable == ()


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


def test_non_finite_and_odd_counts_read_without_raising(conn: redis.Redis) -> None:
    conn.xadd(keys.AUDIT, {"counts": '{"inf": Infinity, "nan": NaN, "big": 1e400, "half": 0.5, "list": [1], '
                                     '"text": "x", "ok": 3, "whole": 2.0}', "at": "nan"})
    conn.xadd(keys.AUDIT, {"counts": "[" * 5000, "at": "1e300"})
    deep, odd = audit.read(conn)
    assert deep.counts == {} and deep.unreadable == ("at", "counts") and deep.at is None
    assert odd.counts == {"ok": 3, "whole": 2} and odd.at is None
    assert set(odd.unreadable) == {"at", "counts.inf", "counts.nan", "counts.big", "counts.half", "counts.list",
                                   "counts.text"}


def test_trimmed_by_age_not_by_count(conn: redis.Redis) -> None:
    now_ms = int(time.time() * 1000)
    expired_ms = now_ms - (keys.AUDIT_KEEP_S + 86400) * 1000
    for index in range(300):
        conn.xadd(keys.AUDIT, {"action": "expired"}, id=f"{expired_ms + index}-0")
    kept = as_text(conn.xadd(keys.AUDIT, {"action": "kept"}, id=f"{now_ms - 86400_000}-0"))
    for _ in range(10_500):  # more than the old 10 k cap: a burst must not push a recent entry out
        audit.append(conn, "w", "a", "t", {}, True)
    actions = [as_text(fields[b"action"]) for _, fields in conn.xrange(keys.AUDIT, count=200)]
    assert "kept" in actions and as_text(conn.xrange(keys.AUDIT, kept, kept)[0][0]) == kept
    assert actions.count("expired") < 100, "entries older than AUDIT_KEEP_S are trimmed (approximately)"


def test_recorded_writes_intent_then_outcome_linked(conn: redis.Redis) -> None:
    with audit.recorded(conn, "ann@host", "pause", "nightly", clock=lambda: 50.0) as outcome:
        assert [e.phase for e in audit.read(conn)] == ["intent"], "the intent is on record before the body acts"
        outcome.counts = {"changed": 1}
    done, intent = audit.read(conn)
    assert (intent.phase, intent.who, intent.action, intent.target, intent.at) == (
        "intent", "ann@host", "pause", "nightly", 50.0)
    assert (done.phase, done.intent, done.counts, done.ok, done.error) == ("outcome", intent.id, {"changed": 1},
                                                                        True, "")


def test_recorded_failure_is_an_outcome_and_the_error_goes_on(conn: redis.Redis) -> None:
    with pytest.raises(redis.ResponseError), audit.recorded(conn, "w", "janitor", "all queues") as outcome:
        outcome.counts = {"trimmed": 2}
        conn.set("plain", "x")
        conn.hset("plain", "f", "v")
    done, intent = audit.read(conn)
    assert (done.phase, done.intent, done.ok, done.counts) == ("outcome", intent.id, False, {"trimmed": 2})
    assert done.error.startswith("ResponseError: WRONGTYPE")


def test_no_intent_no_action(conn: redis.Redis) -> None:
    conn.set(keys.AUDIT, "not a stream")
    ran = []
    with pytest.raises(redis.ResponseError), audit.recorded(conn, "w", "pause", "x"):
        ran.append(1)
    assert ran == []


def test_refused_counter_has_bounded_fields(conn: redis.Redis) -> None:
    for _ in range(50):
        audit.refused(conn, "run_now", "already_queued")
    audit.refused(conn, "pause", "unchanged")
    assert audit.refused_counts(conn) == {"pause:unchanged": 1, "run_now:already_queued": 50}
    assert not conn.exists(keys.AUDIT)
