"""The cheaper worker path gives the same rows: single-decode Fields.text, memoised key halves, reused worker facts."""

from __future__ import annotations

import random

import redis
from rq import Queue, Worker

from tests import jobs
from tests.data.reader_support import put_history, put_worker_record
from tui.data import reader as reader_module
from tui.data.job_meta import Fields
from tui.data.masking import decode
from tui.data.reader import DashboardReader, bkey
from tui.data.settings import Settings
from worker import keys
from worker.schedules import ScheduleEntry

NOW = 1_760_000_000.0


class Clock:
    """A clock the test moves."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_fields_text_decodes_once_with_the_same_result_as_decode() -> None:
    rng = random.Random(4)
    alphabet = ["a", "Z", " ", "\t", "\n", "\x00", "\x1b", "é", "€", "😀", "\u200b", "\ud7ff"]
    values = [b"x" * 300, "😀".encode() * 60, b"\xff\xfe", b"ok\xc3", "a\u2028b".encode()]
    values += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 90))).encode() for _ in range(300)]
    values += [bytes(rng.randrange(256) for _ in range(rng.randint(1, 40))) for _ in range(200)]
    for value in values:
        for limit in (1, 2, 5, 20, 40, 200):
            fields = Fields({b"k": value})
            try:
                value.decode()
                valid = True
            except UnicodeDecodeError:
                valid = False
            assert fields.text("k", limit) == decode(value, limit), (value, limit)
            assert fields.bad is not valid
    assert Fields({b"k": b""}).text("k") is None and Fields({}).text("k") is None


def test_bkey_reuses_the_encoded_halves_and_builds_the_same_keys() -> None:
    makers = (keys.rq_queue, keys.rq_worker, keys.worker, keys.rq_worker_executions, keys.sched_state, keys.active,
              keys.template_id, keys.history_item, keys.rq_job)
    for raw in (b"plain", b"caf\xc3\xa9", b"\xff\xfe-not-utf8", b"", b"with:colon"):
        for make in makers:
            assert bkey(make, raw) == make("\x00").encode().replace(b"\x00", raw)
        assert bkey(keys.metric_bucket, raw, 490000) == b"rqtop:m:" + raw + b":490000"
    for hour in range(3000):
        bkey(keys.metric_bucket, b"t", hour)
    assert len(reader_module._HALVES) <= 1024, "the halves table stays bounded"
    assert bkey(keys.metric_bucket, b"t", 7) == b"rqtop:m:t:7"


def rows(reader: DashboardReader) -> dict[str, object]:
    """Worker rows by name."""
    return {row.name: row for row in reader.read().workers}


def test_reused_worker_facts_give_the_rows_a_fresh_reader_gives(conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    job = queue.enqueue(jobs.say_hello)
    for i in range(6):
        put_worker_record(conn, f"ours-{i}", NOW - i)
    Worker([queue], connection=conn, name="plain-busy").register_birth()
    conn.sadd(keys.rq_worker_executions("plain-busy"), f"{job.id}:exec1")
    conn.hset(keys.rq_worker("plain-busy"), "last_heartbeat", "2025-10-09T08:53:20Z")
    clock = Clock(NOW)
    settings = Settings(clock=clock, offline_after_s=60)
    kept = DashboardReader(conn, settings)

    first = rows(kept)
    assert first == rows(DashboardReader(conn, settings))
    assert first["plain-busy"].current_job == "tests.jobs.say_hello"
    assert first["ours-1"].status == "online" and first["ours-1"].processed == 12

    put_worker_record(conn, "ours-1", NOW + 5, processed=99, current_job_id="j9", current_task="app.tasks.x",
                      current_started=f"{NOW:.6f}")
    conn.hset(keys.rq_job(job.id), "data", b"garbage")
    conn.delete(keys.worker("ours-2"))
    conn.zrem(keys.WORKERS, "ours-2")
    clock.now += 10
    second = rows(kept)
    assert second == rows(DashboardReader(conn, settings))
    ours_1 = second["ours-1"]
    assert (ours_1.processed, ours_1.current_job, ours_1.elapsed_at(clock.now)) == (99, "app.tasks.x", 10.0)
    assert second["plain-busy"].current_job == "unreadable", "a changed job hash is read again"
    assert "ours-2" not in second
    assert second["ours-3"].uptime_at(clock.now) == first["ours-3"].uptime_at(clock.now - 10) + 10

    clock.now += 120  # nothing changed in Redis, but the clock says the records are stale now
    third = rows(kept)
    assert third == rows(DashboardReader(conn, settings))
    assert {row.status for name, row in third.items() if name != "plain-busy"} == {"offline"}
    assert third["plain-busy"].status == "online", "a plain rq worker keeps RQ's own window (its hash's 480 s)"
    clock.now += 400
    assert rows(kept)["plain-busy"].status == "offline"

    put_worker_record(conn, "ours-2", clock.now, mode="scheduler")
    assert rows(kept)["ours-2"].mode == "scheduler" and rows(kept)["ours-2"].status == "online"


def test_epochs_no_date_can_hold_read_as_unreadable_not_a_crash(conn: redis.Redis) -> None:
    for i, garbage in enumerate(("nan", "inf", "-inf", "1e300", "-1e300")):
        put_worker_record(conn, f"odd-{i}", NOW, current_task="app.tasks.x")
        conn.hset(keys.worker(f"odd-{i}"), mapping={"last_seen": garbage, "birth": garbage,
                                                    "current_started": garbage})
        put_history(conn, f"h{i}", NOW - i, ended_at=garbage)
    conn.zadd(keys.WORKERS, {"odd-0": float("inf")})
    conn.hset(keys.rq_worker("odd-1"), "last_heartbeat", "nan")
    conn.hset(keys.SCHEDULES, "nightly", ScheduleEntry(name="nightly", task="a.b", cron="0 6 * * *").to_json())
    conn.zadd(keys.RQ_SCHEDULED_JOBS, {keys.template_id("nightly"): float("inf")})
    snapshot = DashboardReader(conn, Settings(clock=lambda: NOW)).read()
    workers = {row.name: row for row in snapshot.workers}
    assert all(row.unreadable and row.uptime_at(NOW) is None and row.elapsed_at(NOW) is None
               for row in workers.values())
    assert workers["odd-2"].last_seen is not None and workers["odd-2"].last_seen.timestamp() == NOW, "the zset score"
    assert workers["odd-0"].last_seen is None and workers["odd-0"].status == "offline"
    assert [row.state for row in snapshot.history] == ["unreadable"] * 5
    assert snapshot.schedules[0].next_run is None
