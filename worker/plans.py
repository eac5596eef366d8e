"""Frozen results and plans of operator actions; a plan is what the operator confirms, exactly.

They live on the ground floor because both halves speak them: the worker's dispatcher and janitor return
them, the dashboard shows and confirms them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RunNowStatus = Literal["queued", "already_queued", "not_allowed", "unknown"]
RUN_NOW_STATUSES: tuple[RunNowStatus, ...] = ("queued", "already_queued", "not_allowed", "unknown")
"""Outcomes of Run now: queued, a run already pending or running, not runnable on demand, no such schedule."""


@dataclass(frozen=True)
class RunNowResult:
    """Outcome of Run now: queued, already_queued, not_allowed or unknown (no such schedule)."""

    schedule: str
    status: RunNowStatus
    job_id: str | None
    message: str


@dataclass(frozen=True)
class PauseResult:
    """Outcome of Pause/Resume."""

    schedule: str
    paused: bool
    changed: bool
    message: str
    ok: bool = True


@dataclass(frozen=True)
class ExecutionRef:
    """One ``<job_id>:<execution_id>`` member of ``rq:wip:<queue>``, the worker running it and, when a plan
    was made, whether that worker was alive then."""

    job_id: str
    execution_id: str
    queue: str
    worker: str | None = None
    worker_alive: bool = False

    @property
    def member(self) -> str:
        """The ``<job_id>:<execution_id>`` member naming this execution in RQ's registries and sets."""
        return f"{self.job_id}:{self.execution_id}"


@dataclass(frozen=True)
class FailActivePlan:
    """The running executions Fail Active Jobs will fail."""

    targets: tuple[ExecutionRef, ...]

    @property
    def total(self) -> int:
        """How many executions the operator is asked to fail."""
        return len(self.targets)


@dataclass(frozen=True)
class QueueCut:
    """One queue's pending jobs at plan time: how many, the id at the tail (the boundary) and the first ids at the
    head (so jobs pushed at the head after the plan are told apart)."""

    queue: str
    size: int
    last_id: str | None
    head: tuple[str, ...] = ()


@dataclass(frozen=True)
class CancelPendingPlan:
    """The pending jobs Cancel All Pending will cancel: everything up to each queue's boundary id."""

    cuts: tuple[QueueCut, ...]

    @property
    def total(self) -> int:
        """How many pending jobs the operator is asked to cancel."""
        return sum(cut.size for cut in self.cuts)


@dataclass(frozen=True)
class JanitorStep:
    """One janitor step with the ids it will touch (job ids, worker names or token keys)."""

    name: str
    description: str
    ids: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """How many items this step touches."""
        return len(self.ids)


@dataclass(frozen=True)
class JanitorPlan:
    """What the janitor will do, step by step."""

    steps: tuple[JanitorStep, ...]

    @property
    def total(self) -> int:
        """Items touched over all steps."""
        return sum(step.total for step in self.steps)


@dataclass(frozen=True)
class ActionResult:
    """Outcome of a confirmed destructive action, with counts per step."""

    action: str
    ok: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class JobRef:
    """One job of a job-level action's plan: its id, queue and the status it had when planned."""

    job_id: str
    queue: str
    status: str


@dataclass(frozen=True)
class JobActionPlan:
    """The exact jobs a job-level action (re-run, cancel, stop, dismiss …) will act on, as confirmed.

    ``skipped`` holds (id, status) pairs that were asked for but the action does not apply to (``missing`` when
    the job is gone); ``reason`` is the operator's text (dead letter) and ``retries`` a re-run's retry budget.
    """

    action: str
    jobs: tuple[JobRef, ...]
    skipped: tuple[tuple[str, str], ...] = ()
    reason: str = ""
    retries: int | None = None
    stops: tuple[ExecutionRef, ...] = ()
    """Stop only: the running executions of the planned jobs, with their workers."""

    @property
    def total(self) -> int:
        """How many jobs the operator is asked to act on."""
        return len(self.jobs)

    def per_queue(self) -> dict[str, int]:
        """Planned jobs per queue, sorted by queue name."""
        counts: dict[str, int] = {}
        for job in self.jobs:
            counts[job.queue] = counts.get(job.queue, 0) + 1
        return dict(sorted(counts.items()))


@dataclass(frozen=True)
class WorkerActionPlan:
    """A worker-level action (suspend, resume, shutdown) and the workers it names ("" for every worker)."""

    action: str
    workers: tuple[str, ...] = ()
