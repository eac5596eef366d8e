"""schedules.toml parsing: the checked-in file, every malformed case as one line, and friendly schedule text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from worker.schedules import ScheduleEntry, ScheduleError, describe, load_schedules

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


class Toml:
    """A TOML value written as is by ``_entry`` (not quoted as a string)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


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
        "nightly", "low", 1800, "At 00:17 UTC"
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
        ("# only a comment\n", "no [[schedule]] entries; write 'schedule = []'"),
        ('timezone = "UTC"\n', "no [[schedule]] entries"),
        (_entry(priority=Toml('["high"]')), "schedule 'nightly': field 'priority': unknown priority ['high']"),
        (_entry(priority=Toml("{ level = 1 }")), "schedule 'nightly': field 'priority': unknown priority"),
        (_entry(cron=None, interval=9_000_000_000_000_000_000), "schedule 'nightly': field 'interval': must be"),
        (_entry(cron=None, interval=366 * 86400 + 1), "schedule 'nightly': field 'interval': must be"),
        (_entry(timeout=7 * 86400 + 1), "schedule 'nightly': field 'timeout': must be a whole number from 1 to"),
        (_entry(expires_after_min=10**12), "schedule 'nightly': field 'expires_after_min': must be"),
        (_entry(kwargs=Toml("{ when = 1979-05-27T07:32:00Z }")), "field 'kwargs.when': a TOML datetime"),
        (_entry(kwargs=Toml("{ d = [1979-05-27] }")), "field 'kwargs.d[0]': a TOML date"),
        (_entry(kwargs=Toml("{ t = { at = 07:32:00 } }")), "field 'kwargs.t.at': a TOML time"),
        (_entry(kwargs=Toml("{ x = nan }")), "field 'kwargs.x': nan is not a finite number"),
        (_entry(cron="0 3 * * * 5"), "field 'cron': invalid cron expression '0 3 * * * 5': 6 field(s); give exactly 5"),
        (_entry(cron="*/61 * * * *"), "field 'cron': invalid cron expression '*/61 * * * *': minute step '61'"),
        (_entry(cron="0 */24 * * *"), "field 'cron': invalid cron expression '0 */24 * * *': hour step '24'"),
        (_entry(cron="0 3 0 * *"), "field 'cron': invalid cron expression '0 3 0 * *': day-of-month value 0"),
        (_entry(cron="0 3 * 1-13 *"), "field 'cron': invalid cron expression '0 3 * 1-13 *': month value 13"),
        (_entry(cron="@daily"), "field 'cron': invalid cron expression '@daily': 1 field(s)"),
    ],
    ids=["toml-syntax", "unknown-key", "missing-task", "task-module", "task-attr", "bad-cron", "interval-zero",
         "interval-negative", "priority", "duplicate", "timezone", "comment-only", "no-entries", "priority-list",
         "priority-table", "interval-huge", "interval-over-a-year", "timeout-over-a-week", "expires-huge",
         "kwargs-datetime", "kwargs-date-in-array", "kwargs-time-in-table", "kwargs-nan", "cron-six-fields",
         "cron-minute-step", "cron-hour-step", "cron-dom-range", "cron-month-range", "cron-macro"],
)
def test_malformed_file_gives_one_line_naming_file_schedule_and_field(
    tmp_path: Path, body: str, expected: str
) -> None:
    """Each problem is reported as one line starting with the file name."""
    with pytest.raises(ScheduleError) as caught:
        load_schedules(_write(tmp_path, body))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'schedules.toml'}: ")
    assert expected in message


def test_binary_file_is_one_line(tmp_path: Path) -> None:
    """A file that is not UTF-8 is refused as such, not with a decoding traceback."""
    path = tmp_path / "schedules.toml"
    path.write_bytes(b"\xff\xfe\x00[[schedule]]")
    with pytest.raises(ScheduleError, match=r"schedules.toml: not UTF-8 text \(byte 0 cannot be decoded\)$"):
        load_schedules(path)


def test_explicit_empty_schedule_list_means_no_schedules(tmp_path: Path) -> None:
    """Only ``schedule = []`` says "no schedules" on purpose; an empty file does not (see the cases above)."""
    assert load_schedules(_write(tmp_path, 'timezone = "UTC"\nschedule = []\n')) == ()


def test_the_error_names_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative path stays relative in the message, so the operator sees the file they named."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "jobs.toml").write_text(_entry(cron="*/61 * * * *"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScheduleError) as caught:
        load_schedules("conf/jobs.toml")
    assert str(caught.value).startswith("conf/jobs.toml: schedule 'nightly': field 'cron':")


@pytest.mark.parametrize("cron", ["*/59 * * * *", "0 */23 * * *", "0 0 31 * *", "0 0 * 12 0", "0 0 * * 7",
                                  "0 9 * * 1-5", "0 9 * jan mon", "5,10 1-3 * * *"])
def test_in_range_cron_fields_pass(tmp_path: Path, cron: str) -> None:
    """The range check refuses nothing croniter and cron agree on."""
    (entry,) = load_schedules(_write(tmp_path, _entry(cron=cron)))
    assert entry.cron == cron


def test_kwargs_of_plain_data_pass(tmp_path: Path) -> None:
    """Strings, numbers, booleans, arrays and tables are fine, and survive the JSON round trip."""
    kwargs = Toml('{ a = "x", b = [1, 2.5, true], c = { d = "e" } }')
    (entry,) = load_schedules(_write(tmp_path, _entry(kwargs=kwargs)))
    assert ScheduleEntry.from_json(entry.to_json()).kwargs == {"a": "x", "b": [1, 2.5, True], "c": {"d": "e"}}


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
        ("5 * * * *", None, "At 5 minutes past the hour"),
        ("17 0 * * *", None, "At 00:17 UTC"),
        ("0 9 * * 1", None, "At 09:00 UTC, only on Monday"),
        ("0 9 * * 1-5", None, "At 09:00 UTC, Monday through Friday"),
        ("*/10 9-17 * * 1-5", None, "Every 10 minutes, between 09:00 and 17:59 UTC, Monday through Friday"),
        ("0 0 13 * 5", None, "At 00:00 UTC, on day 13 of the month, or on Friday"),
        ("30 4 1,15 * *", None, "At 04:30 UTC, on day 1 and 15 of the month"),
        ("not a cron", None, "Cron not a cron"),
        (None, 900, "Every 15 minutes"),
        (None, 3600, "Every hour"),
        (None, 90, "Every 90 seconds"),
    ],
)
def test_friendly_schedule_text(cron: str | None, interval: int | None, text: str) -> None:
    """Any cron expression reads as plain English (cron-descriptor) with the zone after its time of day; intervals
    keep their own text; what cron-descriptor cannot read falls back to the raw expression."""
    assert describe(cron, interval, "UTC") == text


def test_friendly_schedule_text_names_the_schedules_zone_in_english_24_hour_time(monkeypatch: Any) -> None:
    """The zone is the schedule's own; the operator's locale never turns the text into 12-hour or another language."""
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    assert describe("30 18 * * 1", None, "Europe/Berlin") == "At 18:30 Europe/Berlin, only on Monday"
