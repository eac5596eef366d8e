"""The Workers tab's actions (``action_table.TARGET_ACTIONS``): on the highlighted queue row (cancel its pending,
requeue its failed, empty one of its lists), on the highlighted worker row (ask it to shut down), or on every
worker (suspend/resume). Queue actions are job actions planned on one list of the queue and confirmed with the
queue name typed; worker actions confirm with the exact workers they touch. All run through the App's flow."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import App

from tui import formatting as fmt
from tui.action_table import EMPTYABLE, TARGET_ACTIONS, TargetAction, find_job_action, find_target_action
from tui.messages import action_finished
from tui.screens.confirm import ConfirmScreen
from tui.screens.job_action_keys import start_job_flow
from tui.screens.pick_list import PickScreen
from worker.display_text import safe_text
from worker.plans import WorkerActionPlan

TARGET_NAMES = frozenset(row.name for row in TARGET_ACTIONS)
"""The Workers-tab actions: all write, so read-only hides them."""
LIST_LABELS = {"queued": "pending (waiting in the queue)", "failed": "failed (the dead letter)",
               "finished": "completed", "canceled": "canceled", "deferred": "deferred (waiting on a dependency)",
               "scheduled": "scheduled (and retries waiting)"}


class TargetFlow(App[None]):
    """Mixed into the App: one ``action_<name>`` per Workers-tab action, and which of them apply now."""

    TARGET_TABLE: ClassVar[tuple[TargetAction, ...]] = TARGET_ACTIONS
    _flow_busy: bool = False
    workers_pane: Any
    snapshot: Any
    actions: Any

    def _refused(self, action: str = "") -> bool:
        """True (and a toast says why) when no write may start now, or the role may not take ``action``
        (``OperatorFlow`` implements it)."""
        raise NotImplementedError

    def target_applies(self, name: str) -> bool:
        """A queue action needs the queues table focused, a worker action the workers table (keys act on the row
        the operator is on, never on a row of the other table)."""
        row = find_target_action(name)
        pane = getattr(self, "workers_pane", None)
        if pane is None or row.target == "workers":
            return True
        focused = self.screen_stack[0].focused if self.screen_stack else None
        table = pane.queues_table if row.target == "queue" else pane.workers_table
        return focused is table

    # Queue rows.

    def _queue_action(self, name: str, state: str | None = None) -> None:
        """Plan the row's job action on the highlighted queue's ``state`` list, confirm with the queue typed."""
        row = find_target_action(name)
        queue = self.workers_pane.selected_queue()
        if self._refused(name):
            return
        if queue is None:
            self.notify("No queue is highlighted.", severity="warning")
            return
        list_state = state or row.state
        job_row = find_job_action(row.job_action)
        scope = f"Queue {queue}, {LIST_LABELS.get(list_state, list_state)} (CLI: {row.cli}):"
        start_job_flow(self, job_row, lambda: self.actions.plan_queue_job_action(job_row.name, queue, list_state),
                       scope, typed=queue)

    def action_cancel_queue(self) -> None:
        """C on a queue row: cancel every pending job of this queue."""
        self._queue_action("cancel_queue")

    def action_requeue_failed(self) -> None:
        """R on a queue row: re-run every failed job of this queue."""
        self._queue_action("requeue_failed")

    def action_empty_registry(self) -> None:
        """E on a queue row: ask which list, then delete every job of it."""
        queue = self.workers_pane.selected_queue()
        if self._refused("empty_registry"):
            return
        if queue is None:
            self.notify("No queue is highlighted.", severity="warning")
            return

        def picked(state: str | None) -> None:
            if state:
                self._queue_action("empty_registry", state)

        self.push_screen(PickScreen(f"Empty a list of {safe_text(queue)}", "Delete every job of which list?",
                                    [(state, LIST_LABELS[state]) for state in EMPTYABLE]), picked)

    # Workers.

    def action_toggle_suspend(self) -> None:
        """U: suspend every worker (or resume them when suspended), after confirmation."""
        if self._refused("toggle_suspend"):
            return
        suspended = bool(self.snapshot is not None and self.snapshot.suspended)
        workers = self.snapshot.workers if self.snapshot is not None else ()
        online = sum(1 for worker in workers if worker.status in ("online", "late", "suspended"))
        listed = f"{online:,} listed" if self.snapshot is not None and self.snapshot.workers_as_of is None else (
            "the Workers tab lists them")  # this tab reads no worker: a count would be an old one
        if suspended:
            title, body = "Resume Workers", (f"Every RQ worker on this Redis takes jobs again ({listed})."
                                             "\nCLI: rqtop workers resume")
        else:
            title, body = "Suspend Workers", (f"Every RQ worker on this Redis ({listed}) stops taking new "
                                              "jobs; the jobs they run now finish.\nNothing is lost: pending jobs "
                                              "stay queued until you resume.\nCLI: rqtop workers suspend")
        self._worker_confirm("resume" if suspended else "suspend", [], title, body, title.split()[0] + " workers")

    def action_shutdown_worker(self) -> None:
        """K on a worker row: ask that worker to shut down after its current job."""
        if self._refused("shutdown_worker"):
            return
        name = self.workers_pane.workers_table.highlighted_key
        if name is None:
            self.notify("No worker is highlighted.", severity="warning")
            return
        body = (f"Worker {safe_text(name)} gets RQ's shutdown command: it finishes its current job, then exits "
                "(1 worker).\nA worker that is gone or does not listen to pub/sub is not reached (the result says "
                "so).\nCLI: rqtop workers shutdown NAME")
        self._worker_confirm("shutdown", [name], "Shut Down Worker", body, "Shut down 1 worker")

    def _worker_confirm(self, action: str, names: list[str], title: str, body: str, button: str) -> None:
        """Ask; on yes plan and run the worker action (audited)."""
        self._flow_busy = True

        def decided(confirmed: bool | None) -> None:
            self._flow_busy = False
            if confirmed:
                self._run_worker_action(action, names, title)
            else:
                self.notify("Nothing was changed.")

        self.push_screen(ConfirmScreen(title, body, button), decided)

    @work(thread=True, exit_on_error=False, group="action")
    def _run_worker_action(self, action: str, names: list[str], title: str) -> None:
        """Plan (reads) and run the worker action off the UI thread; post its toast."""
        try:
            plan: WorkerActionPlan = self.actions.plan_worker_action(action, names)
            result = self.actions.worker_action(plan)
        except Exception as exc:
            self.call_from_thread(self.notify, f"{title} failed: {fmt.one_line(exc)}", severity="error")
            return
        self.post_message(action_finished(action, result))
