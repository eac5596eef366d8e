"""Heartbeats re-send the worker's presence record at most once a second, and the dashboard still sees it live."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis
from rq import Queue

from tests import jobs
from tests.data.reader_support import settings
from tui.data.reader import DashboardReader
from worker import keys, presence
from worker.presence import BEAT_EVERY_S, PresenceRecord
from worker.rqtop_worker import RqtopSimpleWorker


def beat(conn: redis.Redis, record: PresenceRecord, now: float) -> tuple[bool, int]:
    """One heartbeat's presence commands: whether any were queued, and how many."""
    pipe = conn.pipeline(transaction=False)
    sent = record.beat_commands(pipe, now)
    queued = len(pipe)
    pipe.execute()
    return sent, queued


def test_a_beat_within_a_second_of_the_last_record_sends_nothing(conn: redis.Redis) -> None:
    record = PresenceRecord(name="throttled", mode="worker", queues=("default",))
    t0 = 1_760_000_000.0
    pipe = conn.pipeline(transaction=False)
    record.birth_commands(pipe, t0)
    pipe.execute()
    assert beat(conn, record, t0 + 0.2) == (False, 0)
    assert beat(conn, record, t0 + BEAT_EVERY_S - 0.01) == (False, 0)
    assert float(conn.hget(keys.worker("throttled"), "last_seen")) == t0
    assert beat(conn, record, t0 + BEAT_EVERY_S) == (True, 3)
    assert float(conn.hget(keys.worker("throttled"), "last_seen")) == t0 + BEAT_EVERY_S
    assert conn.zscore(keys.WORKERS, "throttled") == t0 + BEAT_EVERY_S

    conn.delete(keys.worker("throttled"))  # reaped: the next beat after a second heals the whole record
    assert beat(conn, record, t0 + BEAT_EVERY_S + 0.5) == (False, 0)
    assert beat(conn, record, t0 + 2 * BEAT_EVERY_S + 0.1)[0]
    assert conn.hget(keys.worker("throttled"), "mode") == b"worker"
    assert beat(conn, record, t0 - 30)[0], "a clock set back does not silence the beats"

    pipe = conn.pipeline(transaction=False)
    record.death_commands(pipe)
    pipe.execute()
    assert beat(conn, record, t0 - 29.9)[0], "a record born again after its death is sent at once"


def test_a_burst_of_jobs_sends_the_record_about_once_a_second(conn: redis.Redis,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    original = PresenceRecord.beat_commands

    def counted(self: PresenceRecord, pipe: Any, now: float) -> bool:
        sent = original(self, pipe, now)
        calls.append(sent)
        return sent

    monkeypatch.setattr(presence.PresenceRecord, "beat_commands", counted)
    queue = Queue("default", connection=conn)
    for i in range(40):
        queue.enqueue(jobs.say_hello, str(i))
    started = time.monotonic()
    RqtopSimpleWorker([queue], connection=conn, name="bursty").work(burst=True)
    elapsed = time.monotonic() - started
    assert len(calls) >= 2 * 40, "RQ beats several times per job"
    assert sum(calls) <= elapsed / BEAT_EVERY_S + 1, (sum(calls), elapsed)


def test_the_dashboard_sees_a_worker_beat_that_skipped_the_record(conn: redis.Redis) -> None:
    worker = RqtopSimpleWorker([Queue("default", connection=conn)], connection=conn, name="probe")
    worker.register_birth()
    born = float(conn.hget(keys.worker("probe"), "last_seen"))
    time.sleep(0.05)
    worker.heartbeat()  # within a second of the birth record: RQ's beat only
    assert float(conn.hget(keys.worker("probe"), "last_seen")) == born
    reader = DashboardReader(conn, settings(now=time.time() + 30, offline_after_s=60))
    (row,) = reader.read().workers
    assert row.status == "online" and row.last_seen is not None and row.last_seen.timestamp() > born
    worker.register_death()
    assert not conn.exists(keys.worker("probe"))
