"""schedules.toml parsing: the checked-in file, every malformed case as one line, and friendly schedule text."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.schedules import ScheduleError, describe, load_schedules

REPO = Path(__file__).resolve().parents[2]

GOOD = """
timezone = "UTC"

[[schedule]]
name = "nightly"
task = "tests.jobs.ok"
cron = "17 0 * * *"
priority = "low"
expires_after_min = 30

[[schedule]]
name = "often"
task = "tests.jobs.sleep_for"
interval = 90
kwargs = { seconds = 0.01 }
"""


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "schedules.toml"
    path.write_text(body)
    return path


def _entry(**fields: object) -> str:
    """One [[schedule]] table; a value of None leaves the field out."""
    base: dict[str, object] = {"name": "nightly", "task": "tests.jobs.ok", "cron": "0 3 * * *"}
    base.update(fields)
    lines = ["[[schedule]]"]
    for key, value in base.items():
        if value is None:
            continue
        lines.append(f"{key} = {value!r}".replace("'", '"') if isinstance(value, str) else f"{key} = {value}")
    return "\n".join(lines) + "\n"


def test_valid_file_parses_into_entries(tmp_path: Path) -> None:
    """A good file gives frozen entries with queue, ttl and friendly text."""
    nightly, often = load_schedules(_write(tmp_path, GOOD))
    assert (nightly.name, nightly.queue, nightly.ttl_s, nightly.schedule_text) == (
        "nightly", "low", 1800, "Daily at 00:17 UTC"
    )
    assert (often.queue, often.interval, often.kwargs, often.schedule_text) == (
        "default", 90, {"seconds": 0.01}, "Every 90 seconds"
    )


def test_checked_in_schedules_file_is_valid() -> None:
    """The repo's schedules.toml has every demo schedule plus the janitor, and every task imports."""
    entries = load_schedules(REPO / "schedules.toml")
    names = {e.name for e in entries}
    assert {"catalog_sync", "account_reconciliation", "token_refresh", "janitor", "soft_delete_cleanup"} <= names
    assert len(entries) == 11
    token = next(e for e in entries if e.name == "token_refresh")
    assert (token.run_now, token.run_now_reason) == (False, "needs a target identity")
    assert sum(1 for e in entries if e.expires_after_min) >= 2
    janitor = next(e for e in entries if e.name == "janitor")
    assert (janitor.task, janitor.priority, janitor.schedule_text) == (
        "worker.janitor.run_janitor_job", "high", "Every 15 minutes"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[[schedule]\nname = 'x'\n", "TOML syntax error"),
        (_entry(colour="blue"), "schedule 'nightly': field 'colour': unknown key"),
        (_entry(task=None), "schedule 'nightly': field 'task': missing"),
        (_entry(task="tests.worker.no_such_module.job"), "schedule 'nightly': field 'task': cannot import"),
        (_entry(task="tests.jobs.no_such_function"), "schedule 'nightly': field 'task':"),
        (_entry(cron="61 * * * *"), "schedule 'nightly': field 'cron': invalid cron expression"),
        (_entry(cron=None, interval=0), "schedule 'nightly': field 'interval': must be a whole number"),
        (_entry(cron=None, interval=-5), "schedule 'nightly': field 'interval'"),
        (_entry(priority="urgent"), "schedule 'nightly': field 'priority': unknown priority 'urgent'"),
        (_entry() + _entry(), "schedule 'nightly': field 'name': duplicate name 'nightly'"),
        (_entry(timezone="Mars/Olympus"), "schedule 'nightly': field 'timezone': unknown timezone"),
    ],
    ids=["toml-syntax", "unknown-key", "missing-task", "task-module", "task-attr", "bad-cron", "interval-zero",
         "interval-negative", "priority", "duplicate", "timezone"],
)
def test_malformed_file_gives_one_line_naming_file_schedule_and_field(
    tmp_path: Path, body: str, expected: str
) -> None:
    """Each problem is reported as one line starting with the file name."""
    with pytest.raises(ScheduleError) as caught:
        load_schedules(_write(tmp_path, body))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("schedules.toml: ")
    assert expected in message


def test_every_problem_is_collected(tmp_path: Path) -> None:
    """Two bad schedules give two messages, one per bad field."""
    with pytest.raises(ScheduleError) as caught:
        load_schedules(_write(tmp_path, _entry(priority="urgent") + _entry(name="other", cron="nope")))
    assert len(caught.value.messages) == 2


@pytest.mark.parametrize(
    ("cron", "interval", "text"),
    [
        ("* * * * *", None, "Every minute"),
        ("*/15 * * * *", None, "Every 15 minutes"),
        ("0 * * * *", None, "Every hour"),
        ("5 * * * *", None, "Hourly at :05"),
        ("17 0 * * *", None, "Daily at 00:17 UTC"),
        ("0 9 * * 1", None, "Weekly on Monday at 09:00 UTC"),
        ("0 9 * * 1-5", None, "Weekdays at 09:00 UTC"),
        ("0 0 13 * 5", None, "Cron 0 0 13 * 5"),
        (None, 900, "Every 15 minutes"),
        (None, 3600, "Every hour"),
        (None, 90, "Every 90 seconds"),
    ],
)
def test_friendly_schedule_text(cron: str | None, interval: int | None, text: str) -> None:
    """Cron expressions and intervals read as plain English, unknown shapes fall back to the raw cron."""
    assert describe(cron, interval, "UTC") == text
