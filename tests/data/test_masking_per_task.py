"""Per-task masking rules: extra patterns apply to the named task only, everywhere the dashboard shows text."""

from __future__ import annotations

import pytest
import redis
from rq import Queue

from tests import jobs
from tui.data.reader import DashboardReader
from tui.data.settings import Settings, parse_task_patterns

TASK = "tests.jobs.say_hello"


def test_parse_task_patterns_reads_the_env_format() -> None:
    assert parse_task_patterns("app.login=PIN, ssn;broken;app.pay=iban") == (
        ("app.login", ("pin", "ssn")), ("app.pay", ("iban",)))


def test_from_env_picks_up_task_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RQTOP_MASK_TASK_PATTERNS", f"{TASK}=pin")
    rules = Settings.from_env().mask_rules
    assert "pin" in rules.for_task(TASK) and "pin" not in rules.for_task("other.task")


def test_a_task_rule_masks_that_task_and_leaves_others_alone(conn: redis.Redis) -> None:
    queue = Queue("default", connection=conn)
    ours = queue.enqueue(jobs.say_hello, description="say_hello(pin='4321')")
    other = queue.enqueue(jobs.hold, "k", description="hold(pin='4321')")
    reader = DashboardReader(conn, Settings(task_mask_patterns=((TASK, ("pin",)),)))
    page = {job.id: job for job in reader.jobs_page("default").jobs}
    assert "4321" not in (page[ours.id].description or "") and "***" in (page[ours.id].description or "")
    assert "4321" in (page[other.id].description or ""), "the rule is for one task only"
    assert "4321" not in (reader.job_detail(ours.id).description or "")
