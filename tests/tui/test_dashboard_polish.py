"""Issue 15's dashboard fixes: pinned history, focused row keys, card colours after a blip, exact confirmations,
sparkline scale, explained counts, janitor wording, widths that follow the terminal, and 80x24 priorities."""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.tui.fakes import (
    HISTORY,
    SCHEDULES,
    FakeActions,
    FakeReader,
    loaded,
    make_app,
    run,
    sample_snapshot,
    wait_until,
)
from tui import formatting as fmt
from tui.action_table import confirm_cancel_pending, confirm_janitor
from tui.data.models import QueueRow, Snapshot
from tui.widgets.job_rows import DESCRIPTION_WIDTH, SCHEDULE_WIDTH, text_widths
from tui.widgets.status_bar import CONNECTED, FAILING
from tui.widgets.worker_rows import QUEUE_COLUMNS, WORKER_COLUMNS, queue_row
from tui.widgets.workers_pane import CARD_TOOLTIPS
from worker.plans import CancelPendingPlan, JanitorPlan, JanitorStep, QueueCut


def test_exact_counts_never_round_and_cards_keep_the_short_form() -> None:
    """A sentence shows every digit; a card may abbreviate."""
    assert fmt.exact(1_234_567) == "1,234,567"
    assert fmt.plural(1_234_567, "pending job") == "1,234,567 pending jobs"
    assert fmt.count(1_234_567) == "1.2M"


def test_confirmations_show_exact_counts_from_a_million() -> None:
    """Cancel, Fail and Janitor confirmations never say "1.2M"."""
    cancel = confirm_cancel_pending(CancelPendingPlan(cuts=(QueueCut("low", 1_234_567, "t"),)))
    assert "1,234,567 pending jobs" in cancel.body and "low: 1,234,567" in cancel.body
    assert cancel.button == "Cancel 1,234,567 jobs" and "M" not in cancel.button
    ids = tuple(f"q:{i}" for i in range(1_500_000))
    janitor = confirm_janitor(JanitorPlan(steps=(JanitorStep("delete_old_completed", "Delete completed", ids),)))
    assert ": 1,500,000" in janitor.body and janitor.button == "Run janitor (1,500,000)"


def test_janitor_explains_that_old_completed_entries_include_expired_ones() -> None:
    """The completed/failed deletion steps say their count holds entries whose job data expired."""
    plan = JanitorPlan(steps=(JanitorStep("delete_old_completed", "Delete completed jobs older than 1 h", ("q:a",)),
                              JanitorStep("delete_old_failed", "Delete failed jobs older than 7 d", ("q:b",)),
                              JanitorStep("reap_dead_workers", "Forget workers gone for over 1 h", ("w",))))
    body = confirm_janitor(plan).body
    assert "ids left in RQ's completed list after their job data expired" in body
    assert "ids left in RQ's failed list after their job data expired" in body
    assert body.count("expired entries") == 2, "only the registry steps carry the note"
    assert "unreadable" not in body


def test_card_colours_come_back_after_a_redis_blip() -> None:
    """Each total card keeps its own colour through a failed read and the reconnect (not the Active card's)."""
    reader = FakeReader()
    app = make_app(reader)

    def colours() -> dict[str, tuple[str, str]]:
        return {card.id or "": (str(card.styles.border_top[1]), str(card.styles.color)) for card in app.query(".card")}

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("2")
            await pilot.pause()
            before = colours()
            assert before["card-failed"] != before["card-active"]
            reader.fail_with = ConnectionError("blip")
            await pilot.press("r")
            await wait_until(lambda: app.connection == FAILING, pilot)
            await pilot.pause()
            reader.fail_with = None
            await pilot.press("r")
            await wait_until(lambda: app.connection == CONNECTED, pilot)
            await pilot.pause()
            assert colours() == before

    run(body)


def footer_actions(app: Any) -> set[str]:
    """The actions the footer shows right now."""
    from textual.widgets._footer import FooterKey

    return {key.action for key in app.query(FooterKey)}


def test_row_keys_act_only_on_the_focused_schedules_table() -> None:
    """With focus on history, n and p do nothing and leave the footer; back on schedules they act on its row."""
    actions = FakeActions()
    app = make_app(actions=actions)

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            assert {"run_now", "toggle_pause"} <= footer_actions(app)
            app.jobs_pane.history_table.focus()
            await pilot.pause()
            await pilot.pause()
            assert not {"run_now", "toggle_pause"} & footer_actions(app)
            await pilot.press("p", "n")
            await pilot.pause()
            assert actions.called("pause") == [] and actions.called("run_now") == []
            app.jobs_pane.schedules_table.focus()
            await pilot.pause()
            await pilot.pause()
            assert {"run_now", "toggle_pause"} <= footer_actions(app)
            await pilot.press("p")
            await wait_until(lambda: actions.called("pause") == [SCHEDULES[0].name], pilot)

    run(body)


def _with_new_history(base: Snapshot, *ids: str) -> Snapshot:
    """``base`` with runs ``ids`` finished just now, newest first, above its history."""
    new = tuple(dataclasses.replace(HISTORY[0], id=job_id) for job_id in ids)
    return dataclasses.replace(base, history=new + base.history)


def test_history_stays_pinned_to_the_newest_row_until_the_cursor_moves() -> None:
    """New rows keep the cursor on the newest row; once moved, the cursor keeps its row and the title counts."""
    first = sample_snapshot()
    second = _with_new_history(first, "new-1", "new-2", "new-3")
    third = _with_new_history(second, "new-4", "new-5")
    app = make_app(FakeReader([first, second, third]))
    title = lambda: str(app.jobs_pane.query_one("#history-title").content)  # noqa: E731

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            table = app.jobs_pane.history_table
            await pilot.press("r")
            await wait_until(lambda: app.snapshot is not first and "new-1" in table.rows, pilot)
            await pilot.pause()
            assert table.highlighted_key == "new-1" and table.scroll_y == 0 and "newer" not in title()
            table.focus()
            await pilot.press("down")
            assert table.highlighted_key == "new-2"
            await pilot.press("r")
            await wait_until(lambda: "new-4" in table.rows, pilot)
            await pilot.pause()
            assert table.highlighted_key == "new-2", "a moved cursor keeps its row"
            assert title().endswith("↑ 2 newer")
            await pilot.press("up", "up", "up")
            await pilot.pause()
            assert table.cursor_row == 0 and "newer" not in title()

    run(body)


def test_bars_share_one_scale_and_one_cell_per_bucket() -> None:
    """3 failures next to 140 runs draw a low bar, not the full one; zero is blank; the axis names both ends."""
    runs, failures = [140, 70, 0], [3, 0, 0]
    assert fmt.bars(runs, 140) == "█▄ "
    assert fmt.bars(failures, 140) == "▁  ", "failures on the runs' scale"
    assert len(fmt.bars([1] * 24, 1)) == 24
    assert fmt.time_axis(24, "24 h") == "24 h ago" + " " * 13 + "now"


def test_text_widths_give_the_spare_cells_to_schedule_and_description() -> None:
    """At the full width nothing changes; wider, the schedule text gains up to 16 cells, the description the rest."""
    assert text_widths(126, 126) == (DESCRIPTION_WIDTH, SCHEDULE_WIDTH)
    assert text_widths(100, 126) == (DESCRIPTION_WIDTH, SCHEDULE_WIDTH)
    description, schedule = text_widths(200, 126)
    assert schedule == SCHEDULE_WIDTH + 16 and description == DESCRIPTION_WIDTH + 74 - 16


def test_wide_screens_gain_history_columns_and_uncut_descriptions() -> None:
    """At 200 columns history shows worker, job id, duration and error, and descriptions are not cut."""
    app = make_app()

    async def body() -> None:
        async with app.run_test(size=(200, 50)) as pilot:
            await loaded(app, pilot)
            await pilot.pause()
            keys = app.jobs_pane.history_table.column_keys
            assert {"duration", "worker", "job_id", "error"} <= set(keys)
            cell = app.jobs_pane.schedules_table.get_row("catalog_sync")[2]
            assert cell.plain.startswith("Pull the product catalog from the ERP\n")

    run(body)


def test_80x24_keeps_history_rows_completed_retries_last_run_and_help_quit_keys() -> None:
    """The default terminal: 6+ history rows, Completed and Retries on screen, ? and q in the footer, Last run."""
    from textual.widgets._footer import FooterKey

    app = make_app()

    async def body() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await loaded(app, pilot)
            await pilot.pause()
            history = app.jobs_pane.history_table
            assert {"completed", "retries"} <= set(history.column_keys)
            assert history.virtual_size.width <= history.size.width, "no horizontal scroll"
            assert history.size.height >= 7, "header and at least six rows"
            shown = {key.action: key.region for key in app.query(FooterKey)}
            for action in ("help", "quit"):
                region = shown[action]
                assert region.width > 0 and region.right <= 80, f"{action} is visible"
            await pilot.press("3")
            await pilot.pause()
            metrics = app.metrics_pane.metrics_table
            assert "last_run" in metrics.column_keys
            assert metrics.virtual_size.width <= metrics.size.width, "Last run is not behind a scroll"

    run(body)


def test_retry_and_scheduled_say_when_entries_are_not_classified_yet() -> None:
    """Unclassified scheduled entries show as "+N?" on both columns instead of passing for known counts."""
    row = QueueRow("q", pending=0, active=0, completed=0, failed=0, retry=1, scheduled=0, retry_unknown=5)
    cells = dict(zip([key for key, _ in QUEUE_COLUMNS], queue_row(row)[1], strict=True))
    assert cells["retry"].plain == "1 +5?" and cells["scheduled"].plain == "0 +5?"
    known = QueueRow("q", pending=0, active=0, completed=0, failed=0, retry=2, scheduled=3)
    cells = dict(zip([key for key, _ in QUEUE_COLUMNS], queue_row(known)[1], strict=True))
    assert cells["retry"].plain == "2" and cells["scheduled"].plain == "3"


def test_the_failed_card_and_a_workers_failed_runs_are_told_apart() -> None:
    """The worker column says it counts runs; the card's tooltip says what each of the two counts."""
    assert dict(WORKER_COLUMNS)["failed"] == "Failed runs"
    assert "failed registries" in CARD_TOOLTIPS["failed"] and "Failed runs" in CARD_TOOLTIPS["failed"]
    app = make_app()

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(app, pilot)
            await pilot.press("2")
            await pilot.pause()
            assert app.query_one("#card-failed").tooltip == CARD_TOOLTIPS["failed"]

    run(body)
