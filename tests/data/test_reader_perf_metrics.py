"""The pre-summed metrics cache gives exactly the rows a full 24-bucket read gives, while reading only fresh hours."""

from __future__ import annotations

import random
from dataclasses import replace

import redis

from tests.redis_commands import command_calls
from tui.data.metrics import Bucket, metric_row, parse_bucket, parse_recent
from tui.data.models import MetricRow
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.data.status_document import status_document
from worker import keys, records

TASKS = ("app.tasks.alpha", "app.tasks.beta")
START = records.window_hours(1_760_000_000.0)[-1] * 3600 + 1800.0  # mid-hour

HASHES = 3
"""HGETALLs a refresh sends besides metric buckets: the schedules hash, the run-time edits and the scheduler's
notes on them (issue 19)."""


class Clock:
    """A clock the test moves."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def put_bucket(conn: redis.Redis, rng: random.Random, task: str, hour: int, malformed: bool = False) -> None:
    """One hourly bucket with random runs; ``malformed`` adds every kind of garbage field the reader skips."""
    runs = rng.randint(1, 40)
    fields: dict[str, str | bytes] = {"n": str(runs), "f": str(rng.randint(0, runs)),
                                      "max": f"{rng.uniform(0.5, 30):.6f}", "last": f"{hour * 3600 + 1200:.6f}"}
    for _ in range(runs):
        key = f"b{rng.randint(100, 400)}"
        fields[key] = str(int(fields.get(key, "0")) + 1)
    if malformed:
        fields.update({"bogus": "1", "b": "3", "b-2": "5", "b9": "x", "b12": "-4", "b0150": "2", "bx1": "1",
                       "b13": b"\xff", "max": "nan"})
    conn.hset(keys.metric_bucket(task, hour), mapping=fields)
    conn.zadd(keys.METRIC_TASKS, {task: hour * 3600 + 1200}, gt=True)


def plain_bucket(raw: object) -> Bucket:
    """A bucket parsed field by field, written independently of the reader's fast paths."""
    bucket = Bucket()
    if not isinstance(raw, dict):
        return bucket
    for name, value in raw.items():
        try:
            number = float(value)
        except ValueError:
            number = None
        if name[:1] == b"b":
            try:
                index, count = int(name[1:]), int(value)
            except ValueError:
                continue
            if index >= 0 and count > 0:
                bucket.bins[index] = bucket.bins.get(index, 0) + count
        elif number is not None and 0 <= number < float("inf"):
            if name in (b"n", b"f"):
                setattr(bucket, "runs" if name == b"n" else "failures", int(number))
            elif name in (b"max", b"last"):
                setattr(bucket, "max_s" if name == b"max" else "last", number)
    bucket.failures = min(bucket.failures, bucket.runs)
    return bucket


def reference(conn: redis.Redis, now: float) -> dict[str, MetricRow]:
    """Rows from all 24 buckets read and folded from scratch, the way an uncached reader would."""
    hours = records.window_hours(now)
    rows = {}
    for task in (name.decode() for name in conn.zrange(keys.METRIC_TASKS, 0, -1)):
        pipe = conn.pipeline(transaction=False)
        for hour in hours:
            pipe.hgetall(keys.metric_bucket(task, hour))
        replies = pipe.execute(raise_on_error=False)
        buckets = [plain_bucket(reply) for reply in replies]
        assert buckets == [parse_bucket(reply) for reply in replies]
        recent = parse_recent(conn.hgetall(keys.metric_recent(task)), records.recent_slots(now))
        rows[task] = replace(metric_row(task, buckets, conn.zscore(keys.METRIC_TASKS, task)),
                             recent_runs=recent.runs, recent_failures=recent.failures, recent_canceled=recent.canceled)
    return rows


def read_rows(reader: DashboardReader, admin: redis.Redis) -> tuple[dict[str, MetricRow], int, int]:
    """The reader's rows by task, and the HGETALL and EXISTS commands its refresh sent (the HGETALLs of the hourly
    buckets and the schedules hash: each listed task's one recent-window HGETALL is taken out, as
    tests/test_command_budget.py pins it)."""
    before = command_calls(admin)
    snapshot = reader.read()
    after = command_calls(admin)
    assert snapshot.round_trips <= 3
    sent = {name: after.get(name, 0) - before.get(name, 0) for name in ("hgetall", "exists")}
    return {row.task: row for row in snapshot.metrics}, sent["hgetall"] - len(snapshot.metrics), sent["exists"]


def test_cached_rows_equal_a_full_read_as_the_window_moves(conn: redis.Redis) -> None:
    rng = random.Random(5)
    first = records.hour_of(START)
    for task in TASKS:
        for hour in range(first - 30, first + 8):
            put_bucket(conn, rng, task, hour, malformed=hour % 5 == 0)
    clock = Clock(START)
    reader = DashboardReader(conn, Settings(clock=clock))
    other = 1 + len(TASKS)  # round 1 HGETALL of the schedules, EXISTS of the suspension flag + 1 per task

    rows, hgetall, _ = read_rows(reader, conn)
    assert rows == reference(conn, clock.now) and hgetall == HASHES + 24 * len(TASKS)

    clock.now += 600  # same hour, new runs in the fresh hours only
    put_bucket(conn, rng, TASKS[0], first)
    rows, hgetall, exists = read_rows(reader, conn)
    assert rows == reference(conn, clock.now)
    assert (hgetall, exists) == (HASHES + 3 * len(TASKS), other), "warm: the three fresh hours and one EXISTS per task"

    clock.now += 3600  # the oldest hour leaves the window, one more hour settles
    rows, hgetall, exists = read_rows(reader, conn)
    assert rows == reference(conn, clock.now)
    assert (hgetall, exists) == (HASHES + 4 * len(TASKS), other), "the newly settled hour is read, nothing else again"

    clock.now += 5 * 3600
    rows, hgetall, _ = read_rows(reader, conn)
    assert rows == reference(conn, clock.now) and hgetall == HASHES + 8 * len(TASKS)

    clock.now -= 2 * 3600  # a clock set back: hours that are fresh again are read, not taken from the cache
    rows, _, _ = read_rows(reader, conn)
    assert rows == reference(conn, clock.now)


def test_a_vanished_or_broken_settled_bucket_is_noticed(conn: redis.Redis) -> None:
    rng = random.Random(9)
    first = records.hour_of(START)
    for task in TASKS:
        for hour in range(first - 23, first + 1):
            put_bucket(conn, rng, task, hour)
    clock = Clock(START)
    reader = DashboardReader(conn, Settings(clock=clock))
    read_rows(reader, conn)

    conn.delete(keys.metric_bucket(TASKS[1], first - 10))
    rows, hgetall, _ = read_rows(reader, conn)
    assert rows == reference(conn, clock.now)
    assert hgetall == HASHES + 3 * len(TASKS) + 21, "the task's settled hours are read again (round 3)"
    rows, hgetall, _ = read_rows(reader, conn)
    assert rows == reference(conn, clock.now) and hgetall == HASHES + 3 * len(TASKS)

    conn.delete(keys.metric_bucket(TASKS[0], first - 5))
    conn.set(keys.metric_bucket(TASKS[0], first - 5), "not a hash")  # EXISTS still counts it: same count
    conn.delete(keys.metric_bucket(TASKS[0], first - 6))
    rows, _, _ = read_rows(reader, conn)
    assert rows == reference(conn, clock.now), "an error reply reads as an empty hour"
    assert rows[TASKS[0]].hourly_runs[17:19] == (0, 0) and rows[TASKS[0]].hourly_runs[16] > 0


def test_a_refresh_without_metrics_keeps_the_cache_and_says_so(conn: redis.Redis) -> None:
    rng = random.Random(2)
    first = records.hour_of(START)
    for hour in range(first - 23, first + 1):
        put_bucket(conn, rng, TASKS[0], hour)
    clock = Clock(START)
    reader = DashboardReader(conn, Settings(clock=clock))
    full = reader.read()
    assert full.metrics and full.metrics_taken_at == full.taken_at
    assert status_document(full)["metrics_taken_at"] == status_document(full)["taken_at"]

    clock.now += 7200  # two hours on, without the metrics
    before = command_calls(conn)
    lean = reader.read(include_metrics=False)
    after = command_calls(conn)
    assert lean.metrics == () and lean.metrics_taken_at is None and status_document(lean)["metrics_taken_at"] is None
    assert after.get("hgetall", 0) - before.get("hgetall", 0) == HASHES, "only the schedule hashes"
    assert after.get("zrevrange", 0) - before.get("zrevrange", 0) == 2, "only the history and rq cron indexes"

    rows, hgetall, _ = read_rows(reader, conn)
    assert rows == reference(conn, clock.now)
    assert hgetall == HASHES + 5, "the cache survived: two newly settled hours and the three fresh ones"
