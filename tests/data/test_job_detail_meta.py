"""read_job_detail: a job's ``meta`` read as plain data only (masked) and its dependencies with their state."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import redis
from rq import Queue
from rq.serializers import JSONSerializer

from tests import jobs
from tests.data.reader_support import CountingClient
from tui.data.job_meta import read_job_detail
from tui.data.user_meta import META_UNREADABLE
from tui.widgets.page_rows import detail_fields
from worker import keys


class _RunsCode:
    """A pickle whose loading would run a shell command that writes ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.path}",)


def test_meta_shows_progress_and_masks_the_token(conn: redis.Redis) -> None:
    job = Queue("default", connection=conn).enqueue(
        jobs.say_hello, meta={"progress": {"processed": 3, "total": 10}, "token": "s3cret",
                              "note": "\x1b[31mred\x1b[0m api_key=abc"})

    detail = read_job_detail(conn, job.id)

    assert detail.meta == (("progress", '{"processed": 3, "total": 10}'), ("token", "***"),
                           ("note", "?[31mred?[0m api_key=***"))
    rows = dict(detail_fields(detail, 0.0))
    assert rows["Meta · progress"] == '{"processed": 3, "total": 10}' and rows["Meta · token"] == "***"
    assert "s3cret" not in str(detail_fields(detail, 0.0)) and detail.dependencies == ()


def test_json_serializer_meta_is_read(conn: redis.Redis) -> None:
    job = Queue("json", connection=conn, serializer=JSONSerializer).enqueue(
        jobs.say_hello, meta={"progress": 0.5, "password": "hunter2"})
    assert conn.hget(keys.rq_job(job.id), "meta") == b'{"progress": 0.5, "password": "hunter2"}'

    assert read_job_detail(conn, job.id).meta == (("progress", "0.5"), ("password", "***"))


def test_a_meta_pickle_that_would_run_code_reads_unreadable_and_runs_nothing(conn: redis.Redis,
                                                                              tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    job = Queue("default", connection=conn).enqueue(jobs.say_hello)
    conn.hset(keys.rq_job(job.id), "meta", pickle.dumps(_RunsCode(marker)))

    detail = read_job_detail(conn, job.id)

    assert detail.meta == (("", META_UNREADABLE),)
    assert dict(detail_fields(detail, 0.0))["Meta"] == META_UNREADABLE
    assert not marker.exists()
    assert detail.state == "pending" and detail.task == "tests.jobs.say_hello"


def test_a_job_lists_its_dependencies_with_their_state_in_two_rounds(conn: redis.Redis, redis_url: str) -> None:
    queue = Queue("default", connection=conn)
    first = queue.enqueue(jobs.say_hello)
    second = queue.enqueue(jobs.say_hello)
    waiting = queue.enqueue(jobs.say_hello, depends_on=[first, second])
    conn.delete(keys.rq_job(second.id))
    counting = CountingClient(redis_url)

    detail, sends = counting.count(lambda: read_job_detail(counting.client, waiting.id))

    assert sends == 2
    assert detail.state == "deferred"
    assert set(detail.dependencies) == {(first.id, "pending"), (second.id, "expired")}
    rows = [value for label, value in detail_fields(detail, 0.0) if label == "Depends on"]
    assert sorted(rows) == sorted([f"{first.id}  (Pending)", f"{second.id}  (Expired)"])
    plain, plain_sends = counting.count(lambda: read_job_detail(counting.client, first.id))
    assert (plain.dependencies, plain.meta, plain_sends) == ((), (), 1)
    assert "Depends on" not in dict(detail_fields(plain, 0.0)) and "Meta" not in dict(detail_fields(plain, 0.0))
