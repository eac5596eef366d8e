"""What the App needs from its reader and its actions, as Protocols, so tests can hand it fakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tui.data.models import Snapshot
from tui.data.queue_reads import QueueReads
from tui.data.settings import Settings
from tui.data.worker_reads import WorkerReads
from worker.plans import (
    ActionResult,
    CancelPendingPlan,
    FailActivePlan,
    JanitorPlan,
    JobActionPlan,
    PauseResult,
    RunNowResult,
    WorkerActionPlan,
)

if TYPE_CHECKING:  # the page and detail types live beside their Redis reads; the UI never imports redis
    from tui.data.explorer.attempts import AttemptHistory
    from tui.data.explorer.pages import ExplorerPage
    from tui.data.explorer.query import Filter
    from tui.data.job_edit import EditForm
    from tui.data.job_meta import JobDetail


class SnapshotReader(Protocol):
    """Reads one Snapshot; may raise redis.RedisError, ConnectionError or TimeoutError."""

    def read(self, include_metrics: bool = True, workers: WorkerReads | None = None,
             queues: QueueReads | None = None) -> Snapshot:
        """Everything the three tabs show, read without writing (the metrics only with ``include_metrics``; with
        ``workers`` / ``queues``, only the workers / queues they pick re-read, the rest as last read)."""
        ...


class DashboardData(SnapshotReader, Protocol):
    """What the App reads: snapshots for the tabs; the Jobs tab pages jobs when the reader is also ``ExplorerData``
    (opening a queue is that tab filtered to the queue)."""


class OperatorActions(Protocol):
    """The operator's writes; destructive ones are planned first and run on exactly the confirmed plan."""

    def run_now(self, name: str, notify: str = "") -> RunNowResult:
        """Queue one run of a schedule now (deduplicated); ``notify``: an address to email when it ends."""
        ...

    def pause(self, name: str) -> PauseResult:
        """Stop a schedule from queueing runs."""
        ...

    def resume(self, name: str) -> PauseResult:
        """Let a paused schedule queue runs again."""
        ...

    def plan_janitor(self) -> JanitorPlan:
        """What the janitor would clean up now."""
        ...

    def run_janitor(self, plan: JanitorPlan) -> ActionResult:
        """Clean up exactly what the plan lists."""
        ...

    def plan_fail_active(self) -> FailActivePlan:
        """The running executions Fail Active Jobs would fail."""
        ...

    def fail_active(self, plan: FailActivePlan) -> ActionResult:
        """Fail exactly the planned executions."""
        ...

    def plan_cancel_pending(self) -> CancelPendingPlan:
        """The pending jobs Cancel All Pending would cancel."""
        ...

    def cancel_pending(self, plan: CancelPendingPlan) -> ActionResult:
        """Cancel exactly the planned pending jobs."""
        ...

    def cancel_running(self, job_id: str) -> ActionResult:
        """Ask a running job to stop at its next checkpoint (cooperative cancel); it then ends as canceled."""
        ...

    def plan_job_action(self, action: str, job_ids: list[str], reason: str = "",
                        retries: int | None = None) -> JobActionPlan:
        """The named jobs a job action (re-run, cancel, stop …) applies to now."""
        ...

    def plan_queue_job_action(self, action: str, queue: str, state: str, reason: str = "",
                              retries: int | None = None) -> JobActionPlan:
        """Every job of one queue's state that a job action applies to."""
        ...

    def job_action(self, plan: JobActionPlan) -> ActionResult:
        """Act on exactly the planned jobs; those that changed state meanwhile are skipped and counted."""
        ...

    def plan_worker_action(self, action: str, names: list[str] | None = None) -> WorkerActionPlan:
        """Suspend/resume every worker, or shut down the named workers."""
        ...

    def worker_action(self, plan: WorkerActionPlan) -> ActionResult:
        """Run the planned worker action."""
        ...

    def edit_form(self, job_id: str) -> EditForm:
        """The editor's masked JSON document of a dead-letter job's arguments (reads only); ValueError saying why a
        job cannot be edited (not plain data, not in the dead letter)."""
        ...

    def edit_replay(self, job_id: str, args_json: str | None = None, kwargs_json: str | None = None,
                    keep_masked: bool = False) -> ActionResult:
        """A new job from a dead-letter job's plain-data payload with edited args/kwargs; the original kept (with
        ``keep_masked`` a value left as the masked editor showed it keeps the original's)."""
        ...

    def set_schedule(self, name: str, fields: dict[str, Any]) -> ActionResult:
        """Override fields of a file schedule, or edit a run-time schedule (applied from the next tick)."""
        ...

    def reset_schedule(self, name: str) -> ActionResult:
        """Remove a schedule's run-time override: the file's definition applies again."""
        ...

    def create_schedule(self, table: dict[str, Any]) -> ActionResult:
        """Add a run-time schedule from a whole [[schedule]] table."""
        ...

    def delete_schedule(self, name: str) -> ActionResult:
        """Remove a run-time schedule."""
        ...



@runtime_checkable
class ExplorerData(Protocol):
    """Reads the Jobs explorer's pages and a job's attempt history, without writing; may raise like read()."""

    def explorer_page(self, flt: Filter, offset: int = 0, limit: int = 50, rescan: bool = False) -> ExplorerPage:
        """Jobs ``offset``..``offset+limit-1`` matching ``flt`` (``offset`` < 0: the last page known)."""
        ...

    def job_detail(self, job_id: str) -> JobDetail:
        """Everything the detail drawer shows about one job (metadata only, never the payload)."""
        ...

    def matching_ids(self, flt: Filter) -> list[str]:
        """Every job id matching ``flt`` now (for "act on all matching"); ValueError when too many match."""
        ...

    def job_attempts(self, job_id: str, task: str | None = None) -> AttemptHistory:
        """A job's attempts (RQ's results stream), running executions and masked traceback."""
        ...


@dataclass(frozen=True)
class Session:
    """What the App reads and writes through, and the settings and label that go with it (one profile's)."""

    reader: DashboardData
    actions: OperatorActions
    settings: Settings
    url_label: str


class ProfileOpener(Protocol):
    """Connects to one of the config file's profiles for the App's profile switcher (ctrl+o)."""

    def names(self) -> tuple[str, ...]:
        """The profiles there are, in the order to offer them."""
        ...

    def open(self, name: str) -> Session:
        """A connected session for profile ``name``; ValueError with one line when it cannot connect."""
        ...
