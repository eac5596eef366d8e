"""What an operator action did, in the operator's words with thousands separators, for toasts and the CLI.

Textual-free: the CLI prints the same sentence the dashboard toasts. Counts of zero are never mentioned, and
internal counter names (``missing``, ``taken``) never reach the operator.
"""

from __future__ import annotations

from collections.abc import Mapping

from tui import formatting as fmt
from worker.display_text import safe_text
from worker.plans import ActionResult, CancelPendingPlan, FailActivePlan, JanitorPlan

Plan = JanitorPlan | FailActivePlan | CancelPendingPlan


def _notes(counts: Mapping[str, int], phrases: tuple[tuple[str, str, str], ...]) -> list[str]:
    """One phrase per non-zero count: (counter, singular phrase, plural phrase) with the count in front."""
    notes = []
    for name, one, many in phrases:
        value = int(counts.get(name, 0))
        if value:
            notes.append(f"{fmt.count(value)} {one if value == 1 else many}")
    return notes


def _sentence(head: str, notes: list[str]) -> str:
    """ "Head; note, note." or "Head." """
    return f"{head}; {', '.join(notes)}." if notes else f"{head}."


def _queues(plan: CancelPendingPlan | None) -> str:
    """ " in low" or " in high, low" (the planned queues with jobs), or "" without a plan."""
    names = [safe_text(cut.queue) for cut in plan.cuts if cut.size] if plan is not None else []
    return f" in {', '.join(names)}" if names else ""


def cancel_words(counts: Mapping[str, int], plan: CancelPendingPlan | None = None) -> str:
    """ "Canceled 3,012 pending jobs in low", with what happened to the planned jobs that were not canceled."""
    canceled = int(counts.get("canceled", 0))
    head = f"Canceled {fmt.plural(canceled, 'pending job')}{_queues(plan)}"
    if plan is not None and canceled != plan.total:
        head += f" (of {fmt.count(plan.total)} planned)"
    return _sentence(head, _notes(counts, (
        ("taken", "was started by a worker first", "were started by workers first"),
        ("missing", "had expired already", "had expired already"),
        ("skipped", "was no longer queued or unreadable (left in place)",
         "were no longer queued or unreadable (left in place)"),
    )))


def fail_active_words(counts: Mapping[str, int], plan: FailActivePlan | None = None) -> str:
    """ "Failed 3 running jobs: 2 stopped on live workers, 1 on a worker that is gone", then what was left."""
    stopped, dead = int(counts.get("stopped", 0)), int(counts.get("failed_dead", 0))
    head = f"Failed {fmt.plural(stopped + dead, 'running job')}"
    parts = _notes(counts, (("stopped", "stopped on its live worker", "stopped on their live workers"),
                            ("failed_dead", "on a worker that is gone", "on workers that are gone")))
    if parts and len(parts) > 1:
        head += f" ({', '.join(parts)})"
    return _sentence(head, _notes(counts, (
        ("already_ended", "had already ended", "had already ended"),
        ("ended_otherwise", "ended on its own before the stop", "ended on their own before the stop"),
        ("claimed_elsewhere", "is being failed by another operator", "are being failed by another operator"),
        ("stop_unconfirmed", "stop is not confirmed yet (a frozen worker acts when it resumes)",
         "stops are not confirmed yet (a frozen worker acts when it resumes)"),
        ("not_delivered", "worker was not listening (retry once its heartbeat expires)",
         "workers were not listening (retry once their heartbeats expire)"),
        ("dead_left", "job on a gone worker was left running", "jobs on gone workers were left running"),
    )))


def janitor_words(counts: Mapping[str, int], plan: JanitorPlan | None = None) -> str:
    """ "Janitor cleaned up 3 items: 2 × orphaned jobs…, 1 × stale workers…", steps named as the dialog names them."""
    described = {step.name: step.description for step in plan.steps} if plan is not None else {}
    done = sum(int(value) for value in counts.values())
    head = f"Janitor cleaned up {fmt.plural(done, 'item')}"
    if plan is not None and done != plan.total:
        head += f" of {fmt.count(plan.total)} planned (the others had changed meanwhile)"
    steps = [f"{safe_text(described.get(name, name.replace('_', ' ')))}: {fmt.count(int(value))}"
             for name, value in counts.items() if value]
    return f"{head}: {'; '.join(steps)}." if steps else f"{head}."


def outcome_words(result: ActionResult, plan: Plan | None = None) -> str:
    """The sentence for a destructive action's result; a refusal, a no-op or an unknown action keeps its message."""
    if not any(result.counts.values()) and (plan is None or plan.total == 0):
        return safe_text(result.message)
    if result.action == "cancel_pending" and result.counts:
        return cancel_words(result.counts, plan if isinstance(plan, CancelPendingPlan) else None)
    if result.action == "fail_active" and result.counts:
        return fail_active_words(result.counts, plan if isinstance(plan, FailActivePlan) else None)
    if result.action == "janitor" and result.counts:
        return janitor_words(result.counts, plan if isinstance(plan, JanitorPlan) else None)
    return safe_text(result.message)
