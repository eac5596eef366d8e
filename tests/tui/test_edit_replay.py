"""Edit and replay from the dashboard (E), against a real Redis with real RQ jobs: the failed job's drawer opens
the editor with its arguments as masked JSON; an edit enqueues a new job with the edited kwargs (the original
stays, linked, and the audit names it); bad JSON is an inline error that sends nothing; Esc changes nothing; a
payload that is not plain data opens no editor."""

from __future__ import annotations

import datetime
import json
import os
import pickle
import zlib
from typing import Any

import redis
from rq import Queue, SimpleWorker
from rq.job import Job
from textual.widgets import Label, TextArea

from tests import jobs
from tests.rq_support import contents
from tests.tui.fakes import run, wait_until
from tests.tui.test_explorer import make, open_tab, query
from tui.data.edit_document import parse_document, unmask
from tui.screens.confirm import ConfirmScreen
from tui.screens.edit_replay import EditReplayScreen
from tui.screens.explorer_detail import ExplorerDetailScreen
from worker import audit, keys


def failed_job(conn: redis.Redis, **kwargs: Any) -> str:
    """One job of ``jobs.boom`` run to failure on 'imports' by a real worker, with ``kwargs``."""
    queue = Queue("imports", connection=conn)
    job = queue.enqueue(jobs.boom, **kwargs)
    SimpleWorker([queue], connection=conn, name="edit-w").work(burst=True)
    assert conn.hget(keys.rq_job(job.id), "status") == b"failed"
    return job.id


async def open_editor(app: Any, pilot: Any, drawer: bool = True) -> EditReplayScreen:
    """The Jobs tab filtered to the failed job, (its drawer,) then E; the editor once open."""
    pane = await open_tab(app, pilot)
    await query(pilot, pane, "state:failed")
    if drawer:
        await pilot.press("enter")
        await wait_until(lambda: isinstance(app.screen, ExplorerDetailScreen), pilot)
    await pilot.press("E")
    await wait_until(lambda: isinstance(app.screen, EditReplayScreen), pilot)
    return app.screen


def new_jobs(conn: redis.Redis, original: str) -> list[str]:
    """The ids on the 'imports' queue (a replayed job lands there)."""
    return [raw.decode() for raw in conn.lrange(keys.rq_queue("imports"), 0, -1) if raw.decode() != original]


def test_edit_kwargs_submit_confirm_enqueues_a_new_job_and_keeps_the_original(conn: redis.Redis,
                                                                             redis_url: str) -> None:
    original = failed_job(conn, message="import 7 timed out", password="hunter2")
    before = conn.hgetall(keys.rq_job(original))
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            editor = await open_editor(app, pilot)
            area = editor.query_one(TextArea)
            shown = json.loads(area.text)
            assert shown == {"args": [], "kwargs": {"message": "import 7 timed out", "password": "***"}}, \
                "the secret is masked in the editor"
            assert "hunter2" not in area.text
            area.text = area.text.replace("import 7 timed out", "import 7 retried by hand")
            await pilot.press("ctrl+s")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            assert "message, password" in str(app.screen.query_one("#confirm-body").render())
            await pilot.press("y")
            await wait_until(lambda: len(new_jobs(conn, original)) == 1, pilot)
            await wait_until(lambda: any("replayed as" in str(n.message) for n in app._notifications), pilot)

    run(body)
    (new_id,) = new_jobs(conn, original)
    job = Job.fetch(new_id, connection=conn)
    assert job.kwargs == {"message": "import 7 retried by hand", "password": "hunter2"}, \
        "the edit is taken; the masked value left as shown keeps the original's"
    assert job.func_name == "tests.jobs.boom" and job.meta["replay_of"] == original
    after = conn.hgetall(keys.rq_job(original))
    assert after.pop(b"rqtop_replayed_as") == new_id.encode()
    assert after == before, "the original is untouched but for its link to the new job"
    assert conn.zscore(keys.rq_registry("failed", "imports"), original) is not None
    entry = audit.read(conn, 1)[0]
    assert entry.action == "edit_replay" and original in entry.target and entry.phase == "outcome"


def test_invalid_json_is_an_inline_error_and_sends_nothing_and_esc_changes_nothing(conn: redis.Redis,
                                                                                 redis_url: str) -> None:
    original = failed_job(conn, message="import 8 timed out")
    before = contents(conn)
    app = make(conn, redis_url)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            editor = await open_editor(app, pilot, drawer=False)
            area = editor.query_one(TextArea)
            area.text = '{"args": [], "kwargs": {"message": "unterminated}'
            await pilot.press("ctrl+s")
            await pilot.pause(0.2)
            assert app.screen is editor, "no confirmation for a document that is not JSON"
            error = editor.query_one("#edit-replay-error", Label)
            assert error.display and "not JSON" in str(error.render()) and "line 1" in str(error.render())
            area.text = '{"args": {}, "kwargs": {}}'
            await pilot.press("ctrl+s")
            await pilot.pause(0.2)
            assert app.screen is editor and '"args" must be a JSON list' in editor.error
            area.text = '{"args": [], "kwargs": {"message": "x"}}'
            await pilot.press("ctrl+s")
            await wait_until(lambda: isinstance(app.screen, ConfirmScreen), pilot)
            await pilot.press("escape")  # backing out of the confirmation returns to the editor, text kept
            await wait_until(lambda: app.screen is editor, pilot)
            assert not editor.error and json.loads(area.text)["kwargs"] == {"message": "x"}
            await pilot.press("escape")
            await wait_until(lambda: not isinstance(app.screen, EditReplayScreen), pilot)
            await wait_until(lambda: any("Nothing was changed" in str(n.message) for n in app._notifications), pilot)
            await pilot.pause(0.3)

    run(body)
    assert contents(conn) == before
    assert new_jobs(conn, original) == []


class _Runs:
    """Pickles as a call of ``os.system``: what a payload that is not plain data looks like (never unpickled)."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, ("touch /tmp/rqtop-edit-replay-ran",))


def test_a_payload_that_is_not_plain_data_opens_no_editor(conn: redis.Redis, redis_url: str) -> None:
    refused = failed_job(conn, message="import 9 timed out")
    dated = failed_job(conn, message="import 10 timed out")
    conn.hset(keys.rq_job(refused), "data", zlib.compress(pickle.dumps(("tests.jobs.boom", None, (_Runs(),), {}))))
    conn.hset(keys.rq_job(dated), "data",
              zlib.compress(pickle.dumps(("tests.jobs.boom", None, (datetime.date(2026, 1, 2),), {}))))
    before = contents(conn)
    app = make(conn, redis_url)

    def toasted(text: str) -> bool:
        return any(text in str(n.message) for n in app._notifications)

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            for job_id, said in ((refused, "not plain data"), (dated, "JSON cannot")):
                await query(pilot, pane, f"id:{job_id}")
                await pilot.press("E")
                await wait_until(lambda said=said: toasted(said), pilot)
                assert not isinstance(app.screen, EditReplayScreen)
                assert not app._flow_busy, "the next action may start"

    run(body)
    assert contents(conn) == before
    assert not os.path.exists("/tmp/rqtop-edit-replay-ran")


def test_the_document_parser_and_unmask() -> None:
    assert parse_document('{"args": [1], "kwargs": {"a": null}}') == ([1], {"a": None})
    assert parse_document('{"kwargs": {}}') == ([], {})
    for bad, said in (("[1]", "one object"), ('{"args": [], "extra": 1}', "nothing else"),
                      ('{"kwargs": []}', '"kwargs" must be a JSON object'), ("{", "line 1, column 2")):
        try:
            parse_document(bad)
        except ValueError as exc:
            assert said in str(exc), (bad, exc)
        else:
            raise AssertionError(bad)
    original = {"token": "s3cret", "dsn": "redis://:pw@cache:6379/0", "n": 1, "nested": {"api_key": "k"}}
    patterns = ("token", "key", "password")
    assert unmask({"token": "***", "dsn": "redis://:***@cache:6379/0", "n": 2, "nested": {"api_key": "***"}},
                  original, patterns) == {**original, "n": 2}
    assert unmask({"token": "new"}, original, patterns) == {"token": "new"}, "an edited secret is taken as typed"
