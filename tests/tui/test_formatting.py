"""Pure formatting: relative times, durations, counts and labels, at a frozen instant; textual-free."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tui.fakes import NOW, at
from tui import formatting as fmt

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(120, "in 2 min"), (-240, "4 min ago"), (0, "just now"), (42, "in 42 s"), (-3 * 3600 - 300, "3 h 5 min ago"),
     (2 * 86400 + 3600 * 4, "in 2 d 4 h"), (7200, "in 2 h")],
)
def test_relative(offset: float, expected: str) -> None:
    assert fmt.relative(at(offset), NOW) == expected


def test_relative_accepts_epochs_and_none() -> None:
    assert fmt.relative(NOW - 90, NOW) == "1 min ago"
    assert fmt.relative(None, NOW) == fmt.NO_VALUE


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.0123, "12 ms"), (4.24, "4.2 s"), (42.4, "42 s"), (184, "3 min 04 s"), (8040, "2 h 14 min"),
     (2 * 86400 + 3600, "2 d 1 h"), (None, "—")],
)
def test_duration(seconds: float | None, expected: str) -> None:
    assert fmt.duration(seconds) == expected


@pytest.mark.parametrize(("value", "expected"), [(0, "0"), (12_345, "12,345"), (1_250_000, "1.2M"), (None, "—")])
def test_count(value: int | None, expected: str) -> None:
    assert fmt.count(value) == expected


def test_clock_and_exact_utc() -> None:
    assert fmt.clock(NOW) == "11:06:40 UTC"
    assert fmt.exact_utc(at(120), NOW) == "11:08"
    assert fmt.exact_utc(at(86400), NOW) == "Nov 19 11:06"
    assert fmt.timestamp(NOW) == "2026-11-18 11:06:40 UTC"


def test_every_time_follows_the_chosen_zone_with_its_abbreviation() -> None:
    """Issue 15 item 18: --tz / the config's timezone moves clock, exact, time-of-day and full stamps, and their
    "UTC" becomes the zone's own abbreviation (CET in winter, CEST in summer); "today" is the zone's today."""
    fmt.use_zone("Europe/Berlin")
    assert fmt.clock(NOW) == "12:06:40 CET"
    assert fmt.timestamp(NOW) == "2026-11-18 12:06:40 CET"
    assert fmt.time_of_day(NOW) == "12:06:40"
    assert fmt.exact_time(at(120), NOW) == "12:08"
    assert fmt.exact_time(at(120), NOW, seconds=True) == "12:08:40"
    assert fmt.exact_time(at(12 * 3600 + 30 * 60), NOW) == "Nov 19 00:36", "23:36 UTC is tomorrow in Berlin"
    assert fmt.zone_label(NOW) == "CET" and fmt.zone_label(NOW - 140 * 86400) == "CEST"
    assert fmt.timestamp(NOW - 140 * 86400) == "2026-07-01 13:06:40 CEST"
    fmt.use_zone("America/New_York")
    assert fmt.clock(NOW) == "06:06:40 EST"
    fmt.use_zone("UTC")
    assert fmt.clock(NOW) == "11:06:40 UTC" and fmt.exact_time(at(12 * 3600 + 30 * 60), NOW) == "23:36"


def test_local_means_the_machines_own_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        fmt.use_zone("local")
        assert fmt.clock(NOW) == "20:06:40 JST"
        assert fmt.timestamp(NOW) == "2026-11-18 20:06:40 JST"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../etc/passwd", "UTC+25"])
def test_an_unknown_zone_is_refused_by_name(zone: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        fmt.use_zone(zone)
    assert fmt.clock(NOW) == "11:06:40 UTC", "a refused zone changes nothing"


def test_schedule_and_label_helpers() -> None:
    assert fmt.interval_text(300) == "every 5 min"
    assert fmt.interval_text(3600) == "every hour"
    assert fmt.raw_schedule("*/5 * * * *", None) == "*/5 * * * *"
    assert fmt.raw_schedule(None, 60) == "60s"
    assert fmt.expiry_note(600) == "expires after 10 min in queue"
    assert fmt.expiry_note(None) == ""
    assert fmt.priority_label("normal") == "Normal"
    assert fmt.state_label("canceled") == "Canceled"
    assert fmt.short_task("worker.demo_tasks.catalog_sync") == "catalog_sync"
    assert fmt.percent(99.654) == "99.7 %" and fmt.percent(100.0) == "100 %"
    assert fmt.plural(1, "job") == "1 job" and fmt.plural(1204, "job") == "1,204 jobs"


def test_one_line_errors() -> None:
    assert fmt.one_line(ConnectionError("refused\nmore")) == "ConnectionError: refused"
    assert fmt.one_line(TimeoutError()) == "TimeoutError"
    assert len(fmt.one_line("x" * 500)) == 200


def test_formatting_imports_no_textual() -> None:
    code = "import sys, tui.formatting; assert 'textual' not in sys.modules and 'rich' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_empty_history_and_metrics_say_who_records_them_and_what_rq_holds() -> None:
    """rqtop recorded nothing: both empty states name rqtop's worker and `rqtop collect`, and RQ's completed count."""
    from datetime import datetime, timezone

    from tui.data.models import QueueTotals, Snapshot
    from tui.widgets.jobs_pane import empty_history_text
    from tui.widgets.metrics_pane import empty_metrics_text

    now = datetime.now(timezone.utc)
    plain = Snapshot(taken_at=now, totals=QueueTotals(completed=19), history_source="rq-registries",
                     metrics_source="rq-registries")
    expected = ("History and metrics are recorded by rqtop's worker or `rqtop collect`; this Redis has 19 "
                "completed jobs from other workers.")
    assert empty_history_text(plain) == empty_metrics_text(plain) == expected
    ours = Snapshot(taken_at=now)
    assert empty_history_text(ours) == "No job has run recently."
    assert empty_metrics_text(ours) == "No job has finished in the last 24 hours."
