"""Issue 15 item 18: every time in the zone --tz or the config names; a relative time has its exact stamp beside it."""

from __future__ import annotations

from pathlib import Path

import redis
from textual.widgets import Label

from tests.cli_support import one_error_line, rqtop
from tests.tui.fakes import METRICS, NOW, SCHEDULES, loaded, make_app, run
from tui.widgets.job_rows import last_run_text
from tui.widgets.metric_rows import metric_row
from worker import audit


def test_every_relative_time_on_a_row_has_its_exact_time() -> None:
    """Schedule "Last run" carries its exact time under "4 min ago", beside the outcome; Metrics shows the exact
    time always and "8 min ago" beside it from 100 columns."""
    assert last_run_text(SCHEDULES[0], NOW).plain == "4 min ago\ncompleted  11:02"
    assert last_run_text(SCHEDULES[0], NOW, compact=True).plain == "11:02\ncompleted", "80 columns: the exact time"
    cells = [cell.plain for cell in metric_row(METRICS[1], NOW)[1]]
    assert cells[-2:] == ["10:58", "8 min ago"]


def test_the_dashboard_shows_every_time_in_the_settings_zone() -> None:
    """A timezone setting (--tz or the config's) moves the status clock, the schedules' exact times and the
    zone named in their header; history stamps too."""
    app = make_app(timezone="Asia/Tokyo")

    async def body() -> None:
        async with app.run_test(size=(160, 50)) as pilot:
            await loaded(app, pilot)
            status = str(app.query_one("#status-refresh", Label).render())
            assert status.endswith("20:06:40 JST"), status
            table = app.jobs_pane.query_one("#schedules-table")
            assert str(table.columns[next(k for k in table.columns if k.value == "next_run")].label) == \
                "Next run (JST)"
            next_run = table.get_row("catalog_sync")[5].plain
            assert next_run == "in 2 min\n20:08", next_run
            last_run = table.get_row("catalog_sync")[7].plain
            assert last_run == "4 min ago\ncompleted  20:02", last_run
            history = app.jobs_pane.history_table
            created = history.get_row_at(0)[history.column_keys.index("created")].plain
            assert created.startswith("20:06:10"), created

    run(body)


def test_at_80_columns_the_schedules_last_run_fits_with_its_exact_time() -> None:
    app = make_app()

    async def body() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(app, pilot)
            table = app.jobs_pane.query_one("#schedules-table")
            assert table.get_row("catalog_sync")[-1].plain == "11:02\ncompleted"
            assert table.virtual_size.width <= table.size.width, "Last run is not behind a horizontal scroll"

    run(body)


def test_a_bad_tz_is_one_line_naming_the_flag_and_exit_2() -> None:
    line = one_error_line(rqtop("--tz", "Mars/Olympus", "audit"))
    assert "--tz" in line and "Mars/Olympus" in line


def test_tz_moves_the_cli_times_too(redis_url: str, conn: redis.Redis, tmp_path: Path) -> None:
    """`rqtop --tz Asia/Tokyo audit` names JST in its header and writes its times there (UTC + 9)."""
    with audit.recorded(conn, "ann", "cancel_pending", "low") as outcome:
        outcome.counts, outcome.ok = {"canceled": 3}, True
    plain = rqtop("audit", url=redis_url)
    tokyo = rqtop("--tz", "Asia/Tokyo", "audit", url=redis_url)
    assert plain.returncode == tokyo.returncode == 0, (plain.stderr, tokyo.stderr)
    assert plain.stdout.startswith("WHEN (UTC)") and tokyo.stdout.startswith("WHEN (JST)")
    utc_line, tokyo_line = plain.stdout.splitlines()[1], tokyo.stdout.splitlines()[1]
    assert utc_line[19:23] == " UTC" and tokyo_line[19:23] == " JST", (utc_line, tokyo_line)
    assert (int(tokyo_line[11:13]) - int(utc_line[11:13])) % 24 == 9
    config = tmp_path / "config.toml"
    config.write_text('timezone = "Asia/Tokyo"\n')
    from_config = rqtop("audit", url=redis_url, env={"RQTOP_CONFIG": str(config)})
    assert from_config.stdout.startswith("WHEN (JST)"), "the config file's timezone moves the CLI's times too"
    overridden = rqtop("--tz", "UTC", "audit", url=redis_url, env={"RQTOP_CONFIG": str(config)})
    assert overridden.stdout.startswith("WHEN (UTC)"), "--tz wins over the config file"
