"""Toasts after actions speak the operator's words with thousands separators, never internal counters
(issue 15, item 21)."""

from __future__ import annotations

from tests.tui.fakes import JANITOR_PLAN
from tui.outcome_words import cancel_words, fail_active_words, janitor_words, outcome_words
from worker.cancel import COUNT_NAMES as CANCEL_COUNTS
from worker.fail_active import COUNT_NAMES as FAIL_COUNTS
from worker.plans import ActionResult, CancelPendingPlan, QueueCut

INTERNAL = ("missing", "skipped", "taken", "claimed_elsewhere", "not_delivered", "dead_left", ": 0")


def test_cancel_names_the_queue_with_thousands_separators() -> None:
    plan = CancelPendingPlan((QueueCut("low", 3_012, "x"), QueueCut("high", 0, None)))
    counts = {**dict.fromkeys(CANCEL_COUNTS, 0), "canceled": 3_012}
    assert cancel_words(counts, plan) == "Canceled 3,012 pending jobs in low."


def test_cancel_says_what_happened_to_the_rest_in_words() -> None:
    plan = CancelPendingPlan((QueueCut("low", 1_500, "x"),))
    text = cancel_words({"canceled": 1_200, "missing": 0, "skipped": 1, "taken": 299}, plan)
    assert text.startswith("Canceled 1,200 pending jobs in low (of 1,500 planned);")
    assert "299 were started by workers first" in text and "1 was no longer queued" in text
    assert not any(word in text for word in INTERNAL), text


def test_fail_active_hides_zero_counters() -> None:
    counts = {**dict.fromkeys(FAIL_COUNTS, 0), "stopped": 1_204}
    assert fail_active_words(counts) == "Failed 1,204 running jobs."


def test_janitor_names_its_steps_as_the_dialog_does() -> None:
    text = janitor_words({"orphans": 2, "workers": 1, "tokens": 0}, JANITOR_PLAN)
    assert text == "Janitor cleaned up 3 items: Orphaned started jobs to fail: 2; Dead worker records to remove: 1."


def test_a_no_op_or_refusal_keeps_its_own_message() -> None:
    zeros = dict.fromkeys(CANCEL_COUNTS, 0)
    result = ActionResult("cancel_pending", True, "cancel pending: nothing was pending", zeros)
    assert outcome_words(result, CancelPendingPlan(())) == "cancel pending: nothing was pending"
