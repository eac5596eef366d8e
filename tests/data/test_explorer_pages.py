"""Explorer pages on real Redis with real RQ workers: every filter, find-by-id, paging at both ends, the scan."""

from __future__ import annotations

import time

import pytest
import redis
from rq import Queue, Retry, SimpleWorker

from tests import jobs
from tests.data.reader_support import write_calls
from tests.redis_commands import command_calls
from tui.data.explorer import scan
from tui.data.explorer.pages import ExplorerReader
from tui.data.explorer.query import parse_query


@pytest.fixture
def populated(conn: redis.Redis) -> dict[str, list[str]]:
    """Failed imports on 'high' (one with a secret), completed hellos on 'default', pending and a retrying job."""
    high, default = Queue("high", connection=conn), Queue("default", connection=conn)
    failed = [high.enqueue(jobs.boom, f"import {i} timed out").id for i in range(3)]
    secret = high.enqueue(jobs.boom_with_secret, "s3cr3t-value").id
    done = [default.enqueue(jobs.say_hello, str(i)).id for i in range(4)]
    retrying = default.enqueue(jobs.boom, "flaky", retry=Retry(max=2, interval=600)).id
    SimpleWorker([high, default], connection=conn, name="w1").work(burst=True)
    pending = [default.enqueue(jobs.ok, i).id for i in range(7)]
    return {"failed": failed, "secret": [secret], "done": done, "retrying": [retrying], "pending": pending}


def ids(page: object) -> list[str]:
    return [row.id for row in page.rows]  # type: ignore[attr-defined]


def test_default_view_hides_completed_and_c_shows_them(conn: redis.Redis, populated: dict[str, list[str]]) -> None:
    reader = ExplorerReader(conn)
    shown = ids(reader.page(parse_query(""), 0, 100))
    assert not set(populated["done"]) & set(shown)
    assert set(populated["pending"] + populated["failed"] + populated["retrying"]) <= set(shown)
    with_done = ids(reader.page(parse_query("").with_completed(True), 0, 100))
    assert set(populated["done"]) <= set(with_done)


def test_state_failed_pages_the_registry_with_masked_errors(conn: redis.Redis,
                                                            populated: dict[str, list[str]]) -> None:
    page = ExplorerReader(conn).page(parse_query("state:failed"), 0, 50)
    assert page.mode == "registry" and page.total == 4
    assert set(ids(page)) == set(populated["failed"] + populated["secret"])
    errors = {row.id: row.error or "" for row in page.rows}
    assert "timed out" in errors[populated["failed"][0]]
    assert "s3cr3t-value" not in errors[populated["secret"][0]] and errors[populated["secret"][0]]
    assert all(row.state == "failed" and row.attempts == 1 and row.job.worker == "w1" for row in page.rows)


def test_retrying_shows_attempts_of_the_retry_budget(conn: redis.Redis, populated: dict[str, list[str]]) -> None:
    page = ExplorerReader(conn).page(parse_query("state:retrying"), 0, 50)
    assert ids(page) == populated["retrying"] and page.mode == "scan"
    row = page.rows[0]
    assert row.state == "retrying" and row.attempts_text == "1 of 3"


def test_task_glob_queue_worker_text_and_since(conn: redis.Redis, populated: dict[str, list[str]]) -> None:
    reader = ExplorerReader(conn)
    assert set(ids(reader.page(parse_query("task:boom*"), 0, 50))) == set(
        populated["failed"] + populated["secret"] + populated["retrying"])
    assert set(ids(reader.page(parse_query("task:boom"), 0, 50))) == set(populated["failed"] + populated["retrying"])
    assert set(ids(reader.page(parse_query("task:tests.jobs.ok"), 0, 50))) == set(populated["pending"])
    assert set(ids(reader.page(parse_query("queue:high"), 0, 50))) == set(populated["failed"] + populated["secret"])
    assert set(ids(reader.page(parse_query("worker:w*"), 0, 50))) == set(
        populated["failed"] + populated["secret"] + populated["retrying"])
    assert ids(reader.page(parse_query("worker:nobody"), 0, 50)) == []
    assert set(ids(reader.page(parse_query("'import 2'"), 0, 50))) == {populated["failed"][2]}
    assert len(ids(reader.page(parse_query("since:1h task:ok"), 0, 50))) == 7
    later = ExplorerReader(conn, clock=lambda: time.time() + 7200)
    assert ids(later.page(parse_query("since:1h task:ok"), 0, 50)) == []


def test_attention_kinds(conn: redis.Redis, populated: dict[str, list[str]]) -> None:
    reader = ExplorerReader(conn)
    assert set(ids(reader.page(parse_query("attention:failures"), 0, 50))) == set(
        populated["failed"] + populated["secret"])
    assert ids(reader.page(parse_query("attention:backlog"), 0, 50)) == []
    later = ExplorerReader(conn, clock=lambda: time.time() + 3600)
    assert set(ids(later.page(parse_query("attention:backlog"), 0, 50))) == set(populated["pending"])


def test_find_by_id_is_one_job_or_nothing(conn: redis.Redis, populated: dict[str, list[str]]) -> None:
    reader = ExplorerReader(conn)
    target = populated["done"][1]
    page = reader.page(parse_query(f"id:{target}"), 0, 50)
    assert page.mode == "id" and ids(page) == [target] and page.rows[0].state == "completed"
    assert ids(reader.page(parse_query("id:no-such-job"), 0, 50)) == []
    assert ids(reader.page(parse_query(f"id:{target} queue:high"), 0, 50)) == []


def test_paging_at_both_ends_of_a_registry_page(conn: redis.Redis, populated: dict[str, list[str]]) -> None:
    reader = ExplorerReader(conn)
    flt = parse_query("state:pending")
    pages = [reader.page(flt, offset, 3) for offset in (0, 3, 6)]
    assert [ids(p) for p in pages] == [populated["pending"][0:3], populated["pending"][3:6], populated["pending"][6:]]
    assert not pages[0].has_previous and pages[0].has_next and not pages[2].has_next
    last = reader.page(flt, -1, 3)
    assert last.offset == 6 and ids(last) == populated["pending"][6:]
    assert ids(reader.page(flt, 30, 3)) == []


def test_paging_spans_queues_and_lists(conn: redis.Redis, populated: dict[str, list[str]]) -> None:
    reader = ExplorerReader(conn)
    everything = ids(reader.page(parse_query(""), 0, 100))
    pieces = [ids(reader.page(parse_query(""), offset, 4)) for offset in range(0, len(everything), 4)]
    assert [i for piece in pieces for i in piece] == everything


def test_scan_stops_when_the_page_is_full_and_continues_on_demand(
        conn: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "CHUNK", 50)
    queue = Queue("bulk", connection=conn)
    with conn.pipeline() as pipe:
        made = [queue.enqueue(jobs.ok if i % 10 else jobs.say_hello, i, pipeline=pipe) for i in range(600)]
        pipe.execute()
    wanted = {job.id for job in made if job.func_name == "tests.jobs.say_hello"}
    reader = ExplorerReader(conn, scan_budget_s=120.0)  # a loaded machine must not end a scan early here
    flt = parse_query("task:say_hello")
    first = reader.page(flt, 0, 5)
    assert len(first.rows) == 5 and first.progress is not None and not first.progress.done
    assert first.progress.scanned < 600 and first.has_next
    assert "matches" in first.progress.line() and "of 600" in first.progress.line()
    second = reader.page(flt, 5, 5)
    assert len(second.rows) == 5 and not set(ids(first)) & set(ids(second))
    last = reader.page(flt, -1, 5)
    assert last.progress is not None and last.progress.done and last.total == len(wanted) == 60
    seen = {i for offset in range(0, 60, 5) for i in ids(reader.page(flt, offset, 5))}
    assert seen == wanted
    assert len(reader.cache) >= 600  # every hash's task learnt once


def test_reads_never_write(conn: redis.Redis, populated: dict[str, list[str]]) -> None:
    reader = ExplorerReader(conn)
    before = command_calls(conn)
    for query in ("", "state:failed", "task:boom*", "attention:any", f"id:{populated['failed'][0]}",
                  "state:abandoned"):
        reader.page(parse_query(query), 0, 20)
        reader.page(parse_query(query), -1, 20)
    assert write_calls(before, command_calls(conn)) == {}
