"""Progress as the dashboard reads it: rqtop's JSON key and RQ's meta["progress"], plain data only, masked, safe."""

from __future__ import annotations

import json
import os
import pickle

import redis

from tests.hostile_text import MARKUP, hostile, unsafe
from tui.data.job_follow import read_job_state
from tui.data.progress import job_progress, meta_progress, parse_progress
from worker import keys, progress
from worker.progress import progress_document


class Boom:
    """Unpickling this runs os.system: a plain-data reader must refuse it."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch /tmp/rqtop-progress-pwned",))


def test_the_progress_document_reads_back_with_percent_and_eta() -> None:
    doc = progress_document(45, 200, "Synced 45 users", first_at=100.0, first_processed=5, now=110.0)
    got = parse_progress(json.dumps(doc))
    assert got is not None
    assert (got.processed, got.total, got.percent, got.message) == (45, 200, 22.5, "Synced 45 users")
    assert got.eta_s == (200 - 45) * 10 / 40, "remaining items at the rate since the first report"
    assert got.summary == "45/200 · 22 % · ETA 38s · Synced 45 users"
    no_total = parse_progress(json.dumps(progress_document(7, None, "", 1.0, 0, 2.0)))
    assert no_total is not None and no_total.summary == "7" and no_total.eta_s is None


def test_junk_is_not_progress() -> None:
    for raw in (None, b"", b"not json", b"[1, 2]", json.dumps({"processed": "x"}).encode(),
                json.dumps({"processed": float("nan")}), json.dumps({"processed": True}), b"x" * 70_000):
        assert parse_progress(raw) is None, raw


def test_meta_progress_shapes_and_a_hostile_pickle_is_refused() -> None:
    as_dict = meta_progress(pickle.dumps({"progress": {"current": 3, "total": 4, "message": "m"}}))
    assert as_dict is not None and (as_dict.processed, as_dict.total, as_dict.source) == (3, 4, "meta")
    percent = meta_progress(json.dumps({"progress": 40}).encode())
    assert percent is not None and percent.percent == 40 and percent.summary == "40 %"
    text = meta_progress(pickle.dumps({"progress": "halfway"}))
    assert text is not None and text.summary == "halfway"
    assert meta_progress(pickle.dumps({"progress": Boom()})) is None
    assert meta_progress(pickle.dumps({"other": 1})) is None
    assert not os.path.exists("/tmp/rqtop-progress-pwned")


def test_a_message_is_safe_text_and_masked() -> None:
    doc = progress_document(1, 2, hostile("msg") + " password=hunter2", 1.0, 0, 2.0)
    got = job_progress(json.dumps(doc), None, ("password",))
    assert got is not None
    assert not unsafe(got.message) and "hunter2" not in got.message
    assert MARKUP in got.message, "kept as data, shown as text (never parsed as markup)"


def test_report_progress_outside_a_job_does_nothing(conn: redis.Redis) -> None:
    progress.report_progress(1, 2, "x")
    assert progress.is_cancelled() is False
    assert conn.keys(keys.progress("*")) == []


def test_read_job_state_reads_status_progress_and_the_safe_error(conn: redis.Redis) -> None:
    conn.hset(keys.rq_job("j1"), mapping={"status": "started"})
    conn.set(keys.progress("j1"), json.dumps(progress_document(1, 4, "one", 1.0, 0, 2.0)))
    state = read_job_state(conn, "j1")
    assert state.status == "started" and not state.ended and state.progress is not None
    assert state.progress.summary == "1/4 · 25 % · ETA 3s · one", "1 item a second since the first report"
    conn.hset(keys.rq_job("j1"), "status", "failed")
    conn.hset(keys.history_item("j1"), mapping={"state": "failed", "error": hostile("E")})
    ended = read_job_state(conn, "j1")
    assert ended.ended and not ended.succeeded and not unsafe(ended.error)
