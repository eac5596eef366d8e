"""The Jobs explorer on jobs that plain RQ of both versions wrote and ran (RQ 2.12 from .venv-rq2 and 3.x, each
with its own Queue and forking `rq worker --burst`): every state, task, worker and queue filter lists exactly the
ids the run produced, and a failure's summary is that RQ's error."""

from __future__ import annotations

from pathlib import Path

import redis

from tests.data.test_explorer_states import ids
from tests.plain_rq_runs import burst_plain_worker, enqueue_plain
from tui.data.explorer.pages import ExplorerReader
from tui.data.explorer.query import parse_query


def test_filters_list_exactly_what_a_plain_rq_run_produced(rq_bin: Path, redis_url: str, conn: redis.Redis) -> None:
    done = enqueue_plain(rq_bin, redis_url, "imports", [(0.0, False)] * 3)
    failed = enqueue_plain(rq_bin, redis_url, "imports", [(0.0, True)] * 2)
    burst_plain_worker(rq_bin, redis_url, "imports", "plain-importer")
    waiting = enqueue_plain(rq_bin, redis_url, "imports", [(0.0, False)])
    other = enqueue_plain(rq_bin, redis_url, "reports", [(0.0, False)])
    reader = ExplorerReader(conn)

    assert ids(reader, "state:failed") == set(failed)
    assert ids(reader, "state:completed") == set(done)
    assert ids(reader, "state:pending") == set(waiting + other)
    assert ids(reader, "queue:imports") == set(failed + waiting), "completed rows hidden by default"
    assert ids(reader, "worker:plain-importer") == set(failed)
    assert ids(reader, "task:*.sleep_then state:failed worker:plain-*") == set(failed)
    assert ids(reader, "queue:reports") == set(other)
    page = reader.page(parse_query("state:failed"), 0, 50)
    assert {row.error for row in page.rows} == {"RuntimeError: failed after 0.0000s"}
    assert {row.job.worker for row in page.rows} == {"plain-importer"}
