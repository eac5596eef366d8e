"""Hostile or malformed data never crashes the reader and never executes: it reads as "unreadable"."""

from __future__ import annotations

import pickle
import time
import zlib
from pathlib import Path

import pytest
import redis
from rq import Queue

from tests import jobs
from tests.data.reader_support import hostile_pickle, put_history, put_run, put_worker_record, settings
from tui.data.job_meta import UNREADABLE, function_name, read_job_detail
from tui.data.jobs_page import read_jobs_page
from tui.data.reader import DashboardReader
from worker import keys

GOOD = zlib.compress(pickle.dumps(("tests.jobs.say_hello", None, (), {}), protocol=pickle.HIGHEST_PROTOCOL))
MALFORMED = {
    "not zlib": b"\x80\x05definitely not zlib",
    "zlib, not a pickle": zlib.compress(b"hello world"),
    "truncated zlib": GOOD[: len(GOOD) // 2],
    "truncated pickle": zlib.compress(zlib.decompress(GOOD)[:12]),
    "a bare string pickle": zlib.compress(pickle.dumps("tests.jobs.say_hello")),
    "empty": b"",
    "json, wrong shape": zlib.compress(b'[{"a": 1}]'),
}


def plant(conn: redis.Redis, job_id: str, data: bytes, queue: str = "default", **fields: bytes | str) -> None:
    """A job hash that looks like RQ's, carrying ``data``, pushed to the queue and the started registry."""
    conn.hset(keys.rq_job(job_id), mapping={"data": data, "status": "started", "origin": queue,
                                             "description": "tests.jobs.say_hello()",
                                             "created_at": "2026-01-01T00:00:00.000000Z", **fields})
    conn.rpush(keys.rq_queue(queue), job_id)
    conn.sadd(keys.RQ_QUEUES, keys.rq_queue(queue))
    conn.zadd(keys.rq_registry("wip", queue), {f"{job_id}:exec1": time.time() + 60})


def test_a_pickle_that_would_run_code_is_never_executed(conn: redis.Redis, tmp_path: Path) -> None:
    marker, shaped = tmp_path / "pwned", tmp_path / "pwned-shaped"
    plant(conn, "evil", hostile_pickle(marker), meta=hostile_pickle(marker))
    plant(conn, "evil2", hostile_pickle(shaped, shaped_like_rq=True))
    conn.sadd(keys.RQ_WORKERS, keys.rq_worker("w1"))
    conn.hset(keys.rq_worker("w1"), mapping={"last_heartbeat": "2026-01-01T00:00:00Z", "birth": "2026-01-01T00:00:00Z"})
    conn.sadd(keys.rq_worker_executions("w1"), "evil:exec1")
    conn.set(keys.active("nightly"), "evil")
    conn.hset(keys.SCHEDULES, "nightly", '{"name": "nightly", "task": "x.y", "interval": 60}')

    snapshot = DashboardReader(conn, settings()).read()
    page = read_jobs_page(conn, "default")
    active = read_jobs_page(conn, "default", "active")
    detail = read_job_detail(conn, "evil")

    assert not marker.exists() and not shaped.exists(), "the payload ran"
    assert snapshot.workers[0].current_job == UNREADABLE and snapshot.workers[0].current_job_id == "evil"
    assert [j.task for j in page.jobs] == [UNREADABLE, "tests.jobs.say_hello"]
    assert page.jobs[0].unreadable and not page.jobs[1].unreadable
    assert [j.id for j in active.jobs] == ["evil", "evil2"]
    assert detail.task == UNREADABLE and detail.unreadable and detail.queue == "default"
    assert pickle.loads(zlib.decompress(hostile_pickle(marker))) == 0 and marker.exists(), "the trap is real"


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_job_data_reads_as_unreadable(conn: redis.Redis, kind: str) -> None:
    plant(conn, "bad", MALFORMED[kind])
    assert function_name(MALFORMED[kind]) == UNREADABLE
    assert read_jobs_page(conn, "default").jobs[0].task == UNREADABLE
    assert read_job_detail(conn, "bad").task == UNREADABLE
    assert DashboardReader(conn, settings()).read().queues[0].pending == 1


def test_real_rq_data_reads_its_function_name(conn: redis.Redis) -> None:
    job = Queue("default", connection=conn).enqueue(jobs.boom_with_secret, secret="x" * 100_000)
    assert function_name(conn.hget(keys.rq_job(job.id), "data")) == "tests.jobs.boom_with_secret"
    assert function_name(GOOD) == "tests.jobs.say_hello"


def test_garbage_worker_hashes_become_unreadable_rows(conn: redis.Redis) -> None:
    now = time.time()
    put_worker_record(conn, "garbled", now, pid="not-a-pid", processed="many", birth="yesterday", mode="bogus")
    conn.sadd(keys.RQ_WORKERS, keys.rq_worker("rq-garbled"), keys.rq_worker("vanished"), b"rq:worker:\xff\xfe")
    conn.hset(keys.rq_worker("rq-garbled"), mapping={"last_heartbeat": b"\xff\x00", "successful_job_count": "x"})
    conn.hset(b"rq:worker:\xff\xfe", mapping={"last_heartbeat": "2026-01-01T00:00:00Z", "queues": b"q\xff"})
    conn.set(keys.rq_worker_executions("rq-garbled"), "wrong type")

    rows = {w.name: w for w in DashboardReader(conn, settings(now=now)).read().workers}

    assert set(rows) == {"garbled", "rq-garbled", "\ufffd\ufffd"}, "a name whose hash expired is no row"
    garbled = rows["garbled"]
    assert garbled.unreadable and garbled.pid is None and garbled.processed is None and garbled.mode == "bogus"
    assert garbled.status == "online" and garbled.failed == 3
    assert rows["rq-garbled"].unreadable and rows["rq-garbled"].status == "offline"
    assert rows["\ufffd\ufffd"].unreadable and rows["\ufffd\ufffd"].mode == "rq"


def test_numbers_no_int_or_date_can_hold_read_as_unreadable_not_a_crash(conn: redis.Redis) -> None:
    """A count of "1.0e999" is a float Python rounds to infinity, which no int holds (it used to raise
    OverflowError out of the refresh); a pid of 41 digits is no pid; "nan" and a year past 9999 are no date."""
    now = time.time()
    put_worker_record(conn, "huge", now, pid="9.5e999", processed="1.0e999", failed="nan.0", birth="1e300")
    conn.sadd(keys.RQ_WORKERS, keys.rq_worker("rq-huge"))
    conn.hset(keys.rq_worker("rq-huge"), mapping={"last_heartbeat": "nan", "successful_job_count": "-1.0e400",
                                                  "birth": "inf", "queues": "default", "pid": "1" * 41})

    rows = {w.name: w for w in DashboardReader(conn, settings(now=now)).read().workers}

    huge, plain = rows["huge"], rows["rq-huge"]
    assert huge.unreadable and (huge.pid, huge.attempts, huge.attempts_failed, huge.birth) == (None, None, None, None)
    assert huge.status == "online", "its last_seen is fine"
    assert plain.unreadable and (plain.processed, plain.pid, plain.birth, plain.last_seen) == (0, None, None, None)
    assert plain.queues == ("default",) and plain.status == "offline"


def test_wrong_types_and_non_utf8_names_never_crash(conn: redis.Redis) -> None:
    conn.sadd(keys.RQ_QUEUES, b"rq:queue:caf\xe9", keys.rq_queue("stringy"), b"not-a-queue-key")
    conn.rpush(b"rq:queue:caf\xe9", "j1", "j2")
    conn.set(keys.rq_queue("stringy"), "oops")
    conn.set(keys.rq_registry("failed", "stringy"), "oops")
    conn.hset(keys.SCHEDULES, mapping={b"na\xefve": '{"name": "x", "task": "t.t", "interval": 5}', "listy": "[1, 2]",
                                       "badprio": '{"name": "b", "task": "t", "priority": "urgent"}'})
    put_history(conn, "h-ok", 100.0)
    conn.zadd(keys.HISTORY, {b"h-\xff": 200.0, "h-list": 150.0})
    conn.hset(b"rqtop:history:h-\xff", mapping={"task": b"\xfe", "state": "failed", "retries": "?"})
    conn.rpush(keys.history_item("h-list"), "x")
    put_run(conn, "caf\xe9-task", time.time() - 5, 0.2)
    conn.zadd(keys.METRIC_TASKS, {b"t\xff": time.time()})
    conn.hset(b"rqtop:m:t\xff:" + str(int(time.time() // 3600)).encode(), mapping={"n": "3", "f": "x", "b5": "z"})

    snapshot = DashboardReader(conn, settings(now=time.time())).read()

    queues = {q.name: q for q in snapshot.queues}
    assert queues["caf\ufffd"].pending == 2 and queues["stringy"].pending == 0 and queues["stringy"].failed == 0
    rows = {s.name: s for s in snapshot.schedules}
    assert rows["na\ufffdve"].schedule_text == "Every 5 seconds"
    assert rows["listy"].description == "unreadable" and rows["badprio"].description == "unreadable"
    history = {h.id: h for h in snapshot.history}
    assert history["h-\ufffd"].state == "unreadable" and history["h-\ufffd"].task == "\ufffd"
    assert history["h-list"].state == "unreadable" and history["h-ok"].state == "completed"
    metrics = {m.task: m for m in snapshot.metrics}
    assert metrics["t\ufffd"].runs == 3 and metrics["t\ufffd"].failures == 0 and metrics["t\ufffd"].p50_s is None
    assert metrics["caf\xe9-task"].runs == 1
    assert read_job_detail(conn, "h-list").state == "unreadable"
    assert read_jobs_page(conn, "stringy").total == 0
