"""The Jobs tab's action keys racing a real forking ``rq worker`` and a producer: M marks every pending job of the
queue, C (or X) acts on them after confirmation; afterwards every id is in exactly one state, nothing canceled or
dismissed ever ran, and the audit outcome names exactly the ids that changed."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from rq import Queue

from tests import jobs
from tests.e2e.procs import WorkerPool
from tests.e2e.states import placements
from tests.e2e.test_job_actions_race import _idle, _named, _outcome, producing
from tests.tui.fakes import run, wait_until
from tests.tui.test_explorer import make, open_tab, query
from tests.waiting import wait_for
from tui.data.job_actions import AUDIT_IDS
from tui.screens.job_confirm import JobConfirmScreen
from worker import keys


@pytest.mark.parametrize(("key", "action", "target"), [("C", "cancel", "canceled"), ("X", "dismiss", "")])
def test_marked_jobs_acted_on_from_the_jobs_tab_race_a_forking_worker(conn: redis.Redis, redis_url: str,
                                                                     pool: WorkerPool, key: str, action: str,
                                                                     target: str) -> None:
    worker = pool.plain_rq("explorer-race")
    wait_for(lambda: conn.exists(keys.rq_worker(worker.name)), 20, "the worker to register")
    seeded = [job.id for job in Queue("default", connection=conn).enqueue_many(
        [Queue.prepare_data(jobs.nap, (0.05,)) for _ in range(150)])]
    app = make(conn, redis_url)
    marked: list[str] = []
    outcome: dict[str, Any] = {}

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            pane = await open_tab(app, pilot)
            await query(pilot, pane, "queue:default state:pending")
            await pilot.press("M")
            await wait_until(lambda: bool(pane.marks), pilot, 20)
            marked.extend(pane.marks)
            await pilot.press(key)
            await wait_until(lambda: isinstance(app.screen, JobConfirmScreen), pilot, 20)
            typed = app.screen.query("#job-confirm-typed")
            assert not typed  # fewer than 1,000
            await pilot.click("#confirm")
            await wait_until(lambda: any(str(n.message).startswith(action) for n in app._notifications), pilot, 30)
            outcome["toast"] = next(str(n.message) for n in app._notifications if str(n.message).startswith(action))

    with producing(redis_url, every_s=0.1) as made:  # the forking worker keeps up; the queue drains after
        wait_for(lambda: jobs.starts(conn), 20, "the worker to start on the queue")
        run(body)
    _idle(conn, worker)
    ran = set(jobs.starts(conn))
    if action == "dismiss":  # dismiss also applies to a marked job that finished before C was confirmed
        acted = {job_id for job_id in marked if not conn.exists(keys.rq_job(job_id))}
    else:
        acted = {job_id for job_id in marked if conn.hget(keys.rq_job(job_id), "status") == b"canceled"}
        assert not acted & ran, "a canceled job ran"
    assert acted, f"the worker took every marked job before the action: {outcome}"
    assert f"{action}: {len(acted)} of " in outcome["toast"], outcome
    entry = _outcome(conn)
    assert entry.target.startswith(f"{len(acted)} job(s) on default: ")
    named = _named(entry)
    assert {name.split(" (+", 1)[0] for name in named} <= acted and len(named) == min(len(acted), AUDIT_IDS)
    for place in placements(conn, [(job_id, "default") for job_id in [*seeded, *made]]):
        if action == "dismiss" and place.job_id in acted:
            assert place.homes == () and place.status == "" and place.starts <= 1, place
        else:
            assert place.settled, place
            assert place.starts == (0 if place.job_id in acted else 1), place
