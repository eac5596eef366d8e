"""Issue 15's dashboard fixes: pinned history, focused row keys, card colours after a blip, exact confirmations,
sparkline scale, explained counts, janitor wording, widths that follow the terminal, and 80x24 priorities."""

from __future__ import annotations

from tests.tui.fakes import FakeReader, loaded, make_app, run, wait_until
from tui import formatting as fmt
from tui.action_table import confirm_cancel_pending, confirm_janitor
from tui.widgets.status_bar import CONNECTED, FAILING
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
