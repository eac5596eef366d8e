"""Messages thread workers post to the App or a screen: facts about reads and actions; handlers own state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from tui.action_table import OperatorAction, Outcome
from tui.data.models import Snapshot
from tui.outcome_words import outcome_words
from worker.plans import (
    ActionResult,
    CancelPendingPlan,
    FailActivePlan,
    JanitorPlan,
    PauseResult,
    RunNowResult,
)

Plan = JanitorPlan | FailActivePlan | CancelPendingPlan


@dataclass
class SnapshotReady(Message):
    """A poll read a fresh snapshot."""

    snapshot: Snapshot
    source: object = None
    """The reader that read it; a snapshot from the reader of a profile switched away from is dropped."""


@dataclass
class ReadFailed(Message):
    """A poll could not read Redis; ``error`` is one line."""

    error: str
    source: object = None
    """The reader that failed (None: the current one)."""


@dataclass
class ProfileOpened(Message):
    """The profile switcher connected to the picked profile; the App switches to this session."""

    session: Any
    name: str


@dataclass
class ProfileFailed(Message):
    """The picked profile could not connect; ``error`` is one line, and the current connection stays."""

    error: str


@dataclass
class PlanReady(Message):
    """A destructive action's plan was read and awaits the operator's confirmation."""

    row: OperatorAction[Any]
    plan: Plan


@dataclass
class ActionFinished(Message):
    """An operator action ended; ``message`` is what the toast says."""

    action: str
    ok: bool
    message: str
    severity: str = "information"
    job_id: str | None = None
    """The job Run now queued, so its outcome can be toasted when the worker finishes it."""
    schedule: str | None = None


@dataclass
class PlanFailed(Message):
    """Reading a destructive action's plan failed; nothing was asked and nothing changed."""

    row: OperatorAction[Any]
    error: str


def run_now_finished(result: RunNowResult) -> ActionFinished:
    """The toast for Run now: "Queued <id>", "Already queued <id>" or the reason it was not allowed."""
    if result.status == "queued":
        return ActionFinished("run_now", True, f"Queued {result.job_id}", job_id=result.job_id,
                              schedule=result.schedule)
    if result.status == "already_queued":
        return ActionFinished("run_now", True, f"Already queued {result.job_id}", "warning")
    return ActionFinished("run_now", False, result.message or f"{result.schedule}: {result.status}", "warning")


def pause_finished(result: PauseResult) -> ActionFinished:
    """The toast for Pause/Resume."""
    return ActionFinished("toggle_pause", result.ok, result.message, "information" if result.ok else "warning")


def action_finished(action: str, result: ActionResult, plan: Plan | None = None) -> ActionFinished:
    """The toast for a destructive action: what it did in the operator's words (``outcome_words``)."""
    return ActionFinished(action, result.ok, outcome_words(result, plan), "information" if result.ok else "error")


def finished(action: str, outcome: Outcome, plan: Plan | None = None) -> ActionFinished:
    """The toast for any operator action's outcome (the table's execute returns one of three result types)."""
    if isinstance(outcome, RunNowResult):
        return run_now_finished(outcome)
    if isinstance(outcome, PauseResult):
        return pause_finished(outcome)
    return action_finished(action, outcome, plan)
