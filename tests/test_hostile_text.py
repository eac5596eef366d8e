"""Text from Redis never reaches the terminal as control characters or markup: data layer, CLI and dashboard.

Every field rqtop shows is planted with terminal escapes (OSC 0 title, CSI 2J, OSC 52 clipboard, C1 CSI, CR,
a bidi override, DEL) and Rich markup (``[/]``, ``[@click=app.quit]``) in a real Redis, then read through the
real DashboardReader, job pages and details, ``rqtop status``/``--json``/``audit``/``pause`` and the App.
"""

from __future__ import annotations

import html
import json
import re

import redis

from tests.cli_support import rqtop
from tests.data.reader_support import settings
from tests.hostile_text import (
    HISTORY_ID,
    JOB_IDS,
    MARKUP,
    METRIC_TASK,
    QUEUE,
    RUN_NOW_JOB,
    SCHEDULE,
    plant_everything,
    strings,
    unsafe,
)
from tests.tui.fakes import run, wait_until
from tui.app import RqtopApp
from tui.data.actions import DashboardActions
from tui.data.connection import mask_url
from tui.data.jobs_page import QUEUE_LISTS
from tui.data.reader import DashboardReader
from tui.formatting import short_task
from tui.screens.explorer_detail import ExplorerDetailScreen
from tui.screens.job_detail import FieldsScreen
from worker import audit
from worker.display_text import safe_text

PLANTED = "pwned"
"""Text inside every planted escape sequence: it must still be shown (inert), so the field was really read."""


def test_every_value_the_reader_returns_is_safe_text(conn: redis.Redis) -> None:
    plant_everything(conn)
    reader = DashboardReader(conn, settings())
    snapshot = reader.read()
    pages = [reader.jobs_page(queue, source) for queue in (safe_text(QUEUE), "default") for source in QUEUE_LISTS]
    details = [reader.job_detail(job.redis_id or job.id) for page in pages for job in page.jobs]
    entries = audit.read(conn)

    for value in strings((snapshot, pages, details, entries)):
        assert not unsafe(value), repr(value)
    schedule, daily = sorted(snapshot.schedules, key=lambda s: s.name)
    worker = next(w for w in snapshot.workers if w.mode == "all")
    rq_worker = next(w for w in snapshot.workers if w.mode == "rq")
    history = next(h for h in snapshot.history if h.id == safe_text(HISTORY_ID))
    shown = {
        "queue": next(q.name for q in snapshot.queues if q.name != "default"),
        "cron": schedule.cron, "schedule text": schedule.schedule_text, "schedule name": schedule.name,
        "schedule task": schedule.task, "description": schedule.description, "last status": schedule.last_status,
        "run-now reason": schedule.run_now_reason, "timezone": daily.timezone, "daily text": daily.schedule_text,
        "worker": worker.name, "host": worker.hostname, "version": worker.version, "worker queues": worker.queues[0],
        "current job": worker.current_job, "current job id": worker.current_job_id, "rq worker": rq_worker.name,
        "rq host": rq_worker.hostname, "history id": history.id, "history task": history.task,
        "history queue": history.queue, "history worker": history.worker, "history error": history.error,
        "history note": history.note, "history schedule": history.schedule,
        "metric task": next(m.task for m in snapshot.metrics),
        "job id": details[0].id, "job queue": details[0].queue, "job description": details[0].description,
        "job worker": details[0].worker, "job error": details[0].error,
        "results-stream error": next(d.error for d in details if d.id == safe_text(JOB_IDS[1])),
        "audit who": entries[0].who, "audit action": entries[0].action, "audit target": entries[0].target,
        "audit step": next(iter(entries[0].counts)),
    }
    missing = [name for name, value in shown.items() if PLANTED not in str(value)]
    assert not missing, f"planted text not shown (field not read?): {missing}"
    assert {d.id for d in details} >= {safe_text(i) for i in JOB_IDS}, "each job's detail read by its Redis id"
    assert all(d.state != "expired" for d in details)


def test_cli_output_holds_no_control_character(redis_url: str, conn: redis.Redis) -> None:
    plant_everything(conn)
    line = rqtop("status", url=redis_url)
    document = rqtop("status", "--json", url=redis_url)
    log = rqtop("audit", url=redis_url)
    paused = rqtop("pause", SCHEDULE, "--yes", url=redis_url)

    for result in (line, document, log, paused):
        assert result.returncode == 0, result.stderr
        assert not unsafe(result.stdout + result.stderr, allowed="\n"), repr(result.stdout + result.stderr)
    assert document.stdout.isascii(), "--json escapes every non-ASCII character (C1 controls and bidi included)"
    values = strings(json.loads(document.stdout))
    assert any(PLANTED in value for value in values) and not [v for v in values if unsafe(v)]
    assert PLANTED in log.stdout and MARKUP in log.stdout
    assert PLANTED in paused.stdout and "paused" in paused.stdout


def _screen_text(app: RqtopApp) -> str:
    """What the terminal shows now: the text of a screenshot, unescaped (cells joined, spaces plain)."""
    svg = app.export_screenshot()
    return "".join(html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)).replace(
        "\xa0", " ")


def test_the_dashboard_shows_hostile_text_literally_and_keeps_running(redis_url: str, conn: redis.Redis) -> None:
    plant_everything(conn)
    config = settings(refresh_s=30.0)
    app = RqtopApp(reader=DashboardReader(conn, config), actions=DashboardActions(conn, config),
                   settings=config, url_label=mask_url(redis_url))
    seen: list[str] = []
    names: list[str] = []

    async def look(pilot: object, what: str) -> None:
        await pilot.pause()  # type: ignore[attr-defined]
        text = _screen_text(app)
        assert not unsafe(text, allowed="\n"), (what, [c for c in unsafe(text, allowed="\n")])
        assert app.is_running, f"the App stopped on {what}"
        seen.append(text)
        names.append(what)

    async def body() -> None:
        async with app.run_test(size=(200, 60), notifications=True) as pilot:
            await wait_until(lambda: app.snapshot is not None, pilot)
            await look(pilot, "Background Jobs")
            app.jobs_pane.history_table.focus()
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, FieldsScreen), pilot)
            await look(pilot, "history detail")
            await pilot.press("escape")
            await pilot.press("2")
            await look(pilot, "Workers")
            assert PLANTED in seen[-1] and MARKUP in seen[-1], "the queue name is shown literally in the warning"
            app.workers_pane.queues_table.focus()
            await pilot.press("o")
            pane = app.explorer_pane
            await wait_until(lambda: app.tabs.active == "explorer" and pane.page is not None and not pane._reading
                             and pane.page.filter.queues == (app.workers_pane.selected_queue(),), pilot, 10)
            await look(pilot, "a queue in the Jobs tab")
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, ExplorerDetailScreen), pilot)
            await look(pilot, "the job's drawer")
            assert app.screen.detail.state != "expired", "the detail was read by the job's Redis id"
            await pilot.press("escape")
            await pilot.press("3")
            await wait_until(lambda: bool(app.snapshot and app.snapshot.metrics), pilot)
            await look(pilot, "Metrics")
            assert f"{short_task(safe_text(METRIC_TASK))}: 1 runs" in seen[-1], "the trend title shows the task as is"
            app.run_followups.watch(RUN_NOW_JOB, safe_text(SCHEDULE))
            await pilot.press("r")
            await wait_until(lambda: "toast" in _screen_text(app), pilot)
            await look(pilot, "Run-now outcome toast")
            assert "failed" in seen[-1] and "toast" in seen[-1], "the outcome toast shows the error text"
            await pilot.press("1", "C")
            await wait_until(lambda: len(app.screen_stack) > 1, pilot)
            await look(pilot, "Cancel All Pending confirmation")
            assert MARKUP in seen[-1], "the confirmation names the hostile queue literally"
            await pilot.press("n")
            await look(pilot, "back")

    run(body)
    # the Metrics tab shows the task's short name, the part after its last "." ("app.quit"): checked above
    assert [what for what, text in zip(names, seen, strict=True) if PLANTED not in text] == ["Metrics"], \
        "every other screen showed planted text, inert"
