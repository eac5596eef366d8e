"""Row builders: what each table cell says and how it is highlighted, from canned rows at the frozen clock."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text

from tests.tui.fakes import FOREIGN_SCHEDULES, METRICS, NOW, QUEUES, SCHEDULES, WORKERS, make_app
from tui.action_flow import OPERATOR_ACTIONS
from tui.commands import PALETTE_COMMANDS, action_name
from tui.screens.confirm import ConfirmScreen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.keys import KeysScreen
from tui.widgets.job_rows import schedule_row
from tui.widgets.metric_rows import METRIC_COLUMNS, metric_row, rate_style
from tui.widgets.worker_rows import queue_row, unattended_queues, worker_row


def styles(text: Text) -> set[str]:
    """Every style used anywhere in a cell."""
    return {str(text.style)} | {str(span.style) for span in text.spans}


def test_schedule_row_states_everything_the_operator_needs() -> None:
    key, cells = schedule_row(SCHEDULES[0], NOW, pending_threshold=10)
    job, source, description, schedule, priority, next_run, pending, last_run = cells
    assert key == "catalog_sync"
    assert job.plain == "catalog_sync\nhigh"
    assert source.plain == "rqtop\n"
    assert "expires after 10 min in queue" in description.plain
    assert schedule.plain == "Every 5 minutes\n*/5 * * * *", "cron-descriptor's text over the raw cron"
    assert priority.plain == "High"
    assert next_run.plain == "in 2 min\n11:08"
    assert last_run.plain == "4 min ago\ncompleted  11:02", "the relative time has its exact time in the cell"
    assert "red" not in str(pending.style)


def test_pending_turns_red_above_the_threshold_and_paused_replaces_next_run() -> None:
    _, cells = schedule_row(SCHEDULES[2], NOW, pending_threshold=10)
    assert cells[6].plain == "14" and "red" in str(cells[6].style)
    _, cells = schedule_row(SCHEDULES[2], NOW, pending_threshold=14)
    assert "red" not in str(cells[6].style)
    _, cells = schedule_row(SCHEDULES[3], NOW, pending_threshold=10)
    assert cells[5].plain.startswith("paused")


def test_other_schedulers_rows_say_their_source_liveness_and_that_pause_is_not_available() -> None:
    live, unreadable, dead_cron = (schedule_row(row, NOW, pending_threshold=10) for row in FOREIGN_SCHEDULES)
    assert live[0] == "rq-scheduler/5f1c9e0a7b"
    assert live[1][0].plain == "send_digest\ndefault · rq-schedu…"
    assert live[1][1].plain == "rq-scheduler ●\nno pause"
    assert "magenta" in str(unreadable[1][0].style) or "magenta" in str(unreadable[1][0].spans)
    assert dead_cron[1][0].plain.startswith("refresh_rates")
    assert dead_cron[1][1].plain.startswith("rq cron ✗")


def test_worker_row_highlights_offline_and_failures_and_shows_the_running_task() -> None:
    _, alpha = worker_row(WORKERS[0], NOW)
    assert alpha[0].plain == "alpha  host-a:1201"
    assert alpha[6].plain == "3" and "red" in str(alpha[6].style)
    assert alpha[7].plain == "catalog_sync  12 s"
    assert alpha[8].plain == "3 s ago"
    _, bravo = worker_row(WORKERS[1], NOW)
    assert bravo[7].plain == "idle" and "red" not in str(bravo[6].style)
    _, charlie = worker_row(WORKERS[2], NOW)
    assert charlie[3].plain == "Offline" and "bold red" in styles(charlie[3])
    assert str(charlie[0].style) == "bold red" and "dim" not in " ".join(styles(charlie[3]) | styles(charlie[8]))
    _, delta = worker_row(WORKERS[3], NOW)
    assert delta[3].plain == "Suspended"


def test_unattended_queues_ignore_offline_and_scheduler_only_workers() -> None:
    assert unattended_queues(QUEUES, WORKERS) == ["low"]
    assert unattended_queues(QUEUES, ()) == ["high", "default", "low"]
    scheduler = replace(WORKERS[0], mode="scheduler", queues=("low",))
    assert "low" in unattended_queues(QUEUES, (*WORKERS, scheduler))


def test_success_rate_colours_and_runs_with_failures() -> None:
    assert rate_style(99.0) == "green" and rate_style(95.0) == "yellow" and "red" in rate_style(89.9)
    _, cells = metric_row(METRICS[1], NOW)
    assert cells[1].plain.endswith("96 runs · 12 failed")
    assert cells[2].plain == "87.5 %" and "red" in str(cells[2].style)
    _, cells = metric_row(METRICS[3], NOW)
    assert cells[1].plain.strip() == "1 run" and cells[2].plain == "100 %"


def test_metric_run_counts_line_up_with_and_without_failures() -> None:
    """The counts end in the same column whether or not the row names failures (issue 15, item 19)."""
    plains = [metric_row(row, NOW)[1][1].plain for row in METRICS]
    ends = {plain.index(" run") for plain in plains}
    assert len(ends) == 1, plains


def test_metric_durations_share_the_span_units() -> None:
    """p50/p95/max speak the same units as relative times ("3 min 04 s"), not a second style (item 19)."""
    _, cells = metric_row(METRICS[3], NOW)  # p50 = 184 s
    p50 = [key for key, _ in METRIC_COLUMNS].index("p50")
    assert cells[p50].plain == "3 min 04 s"


def test_every_binding_has_an_id_and_a_tooltip_and_every_action_is_in_the_palette() -> None:
    app = make_app()
    for owner in (type(app), ConfirmScreen, KeysScreen, JobDetailScreen):
        for binding in owner.BINDINGS:
            assert binding.id and binding.tooltip, (owner.__name__, binding)
    palette = {action_name(action) for _, action, _ in PALETTE_COMMANDS}
    keys = {action_name(binding.action) for binding in type(app).BINDINGS}
    assert keys <= palette
    assert palette >= OPERATOR_ACTIONS
    assert all(title.split(": ", 1)[0].islower() for title, _, _ in PALETTE_COMMANDS)


def test_a_worker_row_not_reread_says_how_old_its_data_is() -> None:
    """A row kept from an earlier read (off screen, between heartbeat reads) says 'as of N s ago'; a fresh one not."""
    fresh = worker_row(WORKERS[0], NOW)[1][-1].plain
    kept = worker_row(replace(WORKERS[0], read_at=NOW - 8.4), NOW)[1][-1].plain
    assert "as of" not in fresh
    assert kept == f"{fresh} · as of 8 s ago"


def test_a_queue_row_not_reread_says_how_old_its_counts_are() -> None:
    """A queue row kept from an earlier read (off screen, between cadence reads) says 'as of N s ago'; a fresh one
    not, and its counts are drawn the same."""
    fresh = queue_row(QUEUES[0], taken=NOW)[1]
    kept = queue_row(replace(QUEUES[0], read_at=NOW - 7.9), taken=NOW)[1]
    assert "as of" not in fresh[0].plain
    assert kept[0].plain == f"{fresh[0].plain} · as of 7 s ago"
    assert [c.plain for c in kept[1:]] == [c.plain for c in fresh[1:]]
