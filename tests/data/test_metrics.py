"""Metric rows from hourly buckets: counts, success rate, percentiles within 1 %, exact max, sorting."""

from __future__ import annotations

import random
import time

import redis

from tests.data.reader_support import put_run, settings, write_calls
from tests.redis_commands import command_calls
from tui.data.metrics import Bucket, metric_row, parse_bucket, sort_rows
from tui.data.reader import DashboardReader
from worker import keys, records

HASHES = 3
"""HGETALLs a refresh sends besides metric buckets: the schedules hash, the run-time edits and the scheduler's
notes on them (issue 19)."""


def bucket_of(durations: list[float], failures: int = 0, last: float = 0.0) -> Bucket:
    """A parsed bucket holding ``durations`` the way the worker writes them."""
    raw: dict[bytes, bytes] = {b"n": str(len(durations)).encode(), b"f": str(failures).encode(),
                               b"max": f"{max(durations):.6f}".encode(), b"last": f"{last:.6f}".encode()}
    for d in durations:
        key = f"b{records.bin_index(d)}".encode()
        raw[key] = str(int(raw.get(key, b"0")) + 1).encode()
    return parse_bucket(raw)


def test_percentiles_are_within_one_percent_and_max_is_exact() -> None:
    rng = random.Random(3)
    hours = [[rng.lognormvariate(0, 1.2) for _ in range(200)] for _ in range(24)]
    row = metric_row("app.t", [bucket_of(h, failures=i % 3, last=1000.0 + i) for i, h in enumerate(hours)])
    every = [d for h in hours for d in h]
    for got, q in ((row.p50_s, 50), (row.p95_s, 95)):
        exact = records.exact_percentile(every, q)
        assert got is not None and exact is not None and abs(got - exact) / exact < 0.01
    assert row.max_s == max(float(f"{max(h):.6f}") for h in hours)
    assert (row.runs, row.failures) == (4800, sum(i % 3 for i in range(24)))
    assert row.success_rate == (4800 - row.failures) / 4800 * 100
    assert row.hourly_runs == (200,) * 24 and row.hourly_failures[:3] == (0, 1, 2)
    assert row.last_run is not None and row.last_run.timestamp() == 1023.0


def test_malformed_bucket_fields_are_skipped() -> None:
    bucket = parse_bucket({b"n": b"4", b"f": b"9", b"max": b"nan", b"last": b"\xff", b"b3": b"x", b"b7": b"4",
                           b"bogus": b"1", b"b": b"2"})
    assert (bucket.runs, bucket.failures, bucket.max_s, bucket.last, bucket.bins) == (4, 4, None, None, {7: 4})
    assert parse_bucket(ValueError("WRONGTYPE")) == Bucket()
    empty = metric_row("app.none", [Bucket()] * 24)
    assert (empty.runs, empty.success_rate, empty.p95_s, empty.max_s, empty.last_run) == (0, None, None, None, None)


def test_default_sort_puts_the_worst_success_rate_first() -> None:
    rows = [
        metric_row("ok", [bucket_of([0.1] * 10)]),
        metric_row("idle", [Bucket()]),
        metric_row("bad", [bucket_of([0.1] * 10, failures=5)]),
        metric_row("meh", [bucket_of([0.1] * 10, failures=1)]),
    ]
    assert [r.task for r in sort_rows(rows)] == ["bad", "meh", "ok", "idle"]
    assert [r.task for r in sort_rows(rows, "task")] == ["bad", "idle", "meh", "ok"]
    assert [r.task for r in sort_rows(rows, "nonsense")] == ["bad", "meh", "ok", "idle"]


def test_settled_hours_are_read_once_and_a_deleted_bucket_is_noticed(conn: redis.Redis) -> None:
    now = records.window_hours(time.time())[-1] * 3600 + 1800.0
    for hour in range(24):
        put_run(conn, "app.t", now - hour * 3600, 0.5 + hour / 10)
    reader = DashboardReader(conn, settings(now=now))
    before = command_calls(conn)
    first = reader.read().metrics[0]
    middle = command_calls(conn)
    second = reader.read().metrics[0]
    after = command_calls(conn)
    assert first == second and first.runs == 24 and first.max_s == 2.8
    assert middle["hgetall"] - before.get("hgetall", 0) == HASHES + 24 + 1, "+1: the recent window"
    assert after["hgetall"] - middle["hgetall"] == HASHES + 3 + 1, "the three unsettled hours and the recent window"

    conn.delete(keys.metric_bucket("app.t", records.window_hours(now)[0]))
    snapshot = reader.read()
    assert snapshot.metrics[0].runs == 23 and snapshot.metrics[0].max_s == 2.7 and snapshot.round_trips == 3
    assert reader.read().metrics[0] == snapshot.metrics[0]


def test_only_tasks_run_inside_the_window_are_listed_and_the_read_writes_nothing(conn: redis.Redis) -> None:
    now = records.window_hours(time.time())[-1] * 3600 + 1800.0
    start = records.window_hours(now)[0] * keys.METRIC_BUCKET_S
    put_run(conn, "app.recent", now - 60, 0.5)
    put_run(conn, "app.edge", start, 0.5)  # the first instant of the oldest bucket in the window
    put_run(conn, "app.just_out", start - 1, 0.5)
    put_run(conn, "app.stale", now - 3 * 86400, 0.5)
    index = conn.zrange(keys.METRIC_TASKS, 0, -1, withscores=True)
    before = command_calls(conn)

    snapshot = DashboardReader(conn, settings(now=now)).read()

    after = command_calls(conn)
    assert [(r.task, r.runs) for r in snapshot.metrics] == [("app.edge", 1), ("app.recent", 1)]
    assert write_calls(before, after) == {}, "the dashboard never cleans the index up itself"
    assert after["zrevrangebyscore"] - before.get("zrevrangebyscore", 0) == 1 and snapshot.round_trips <= 3
    assert after["hgetall"] - before.get("hgetall", 0) == HASHES + 25 * 2, "no bucket read for a task out of the window"
    assert conn.zrange(keys.METRIC_TASKS, 0, -1, withscores=True) == index
