"""A modal that asks the operator to confirm one destructive action, stating exactly what will happen."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from tui import formatting as fmt
from tui.data.results import CancelPendingPlan, FailActivePlan, JanitorPlan
from worker.display_text import safe_text

Plan = JanitorPlan | FailActivePlan | CancelPendingPlan


def describe_plan(plan: Plan) -> tuple[str, str, str]:
    """(title, body, confirm label) stating exactly what the confirmed plan will do."""
    if isinstance(plan, JanitorPlan):
        lines = [f"The janitor will touch {fmt.plural(plan.total, 'item')}:"]
        lines += [f"  • {safe_text(step.description)}: {fmt.count(step.total)}" for step in plan.steps if step.total]
        lines.append("Only the items listed when you pressed J are touched.")
        return "Run Janitor Now", "\n".join(lines), f"Run janitor ({fmt.count(plan.total)})"
    if isinstance(plan, FailActivePlan):
        per_queue: dict[str, int] = {}
        for target in plan.targets:
            per_queue[target.queue] = per_queue.get(target.queue, 0) + 1
        dead = sum(1 for target in plan.targets if not target.worker_alive)
        lines = [f"{fmt.plural(plan.total, 'running job')} will be marked failed; "
                 "live workers are told to stop them:"]
        lines += [f"  • {safe_text(queue)}: {fmt.count(n)}" for queue, n in sorted(per_queue.items())]
        if dead:
            verb = "belongs to a worker that is" if dead == 1 else "belong to workers that are"
            lines.append(f"{fmt.plural(dead, 'job')} {verb} gone: failed through the registry.")
        lines.append("Jobs that start after you pressed F are not touched.")
        return "Fail Active Jobs", "\n".join(lines), f"Fail {fmt.plural(plan.total, 'job')}"
    lines = [f"{fmt.plural(plan.total, 'pending job')} will be canceled and taken off their queues:"]
    lines += [f"  • {safe_text(cut.queue)}: {fmt.count(cut.size)}" for cut in plan.cuts if cut.size]
    lines.append("Jobs queued after you pressed C are not touched.")
    return "Cancel All Pending", "\n".join(lines), f"Cancel {fmt.plural(plan.total, 'job')}"


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True only on y or the Confirm button; focus starts on Cancel, the safe choice."""

    BINDINGS = [
        Binding("y", "confirm", "Confirm", id="confirm.yes", tooltip="Proceed with the action as stated"),
        Binding("n", "cancel", "Back out", id="confirm.no", tooltip="Close without changing anything"),
        Binding("escape", "cancel", "Back out", id="confirm.escape", tooltip="Close without changing anything"),
        Binding("left,right,tab", "switch_focus", "Switch button", show=False, id="confirm.switch",
                tooltip="Move between Confirm and Cancel"),
    ]

    def __init__(self, title: str, body: str, confirm_label: str) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        """The question, what will happen, and two buttons."""
        with Vertical(id="confirm-dialog") as dialog:
            dialog.border_title = self._title
            yield Static(self._body, id="confirm-body", markup=False)
            yield Label("y confirm · n or Esc back out", id="confirm-keys")
            with Horizontal(id="confirm-buttons"):
                yield Button(self._confirm_label, id="confirm", variant="error")
                yield Button("Cancel", id="cancel", variant="primary")

    def on_mount(self) -> None:
        """Start on the button that changes nothing."""
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        """Proceed."""
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Back out."""
        self.dismiss(False)

    def action_switch_focus(self) -> None:
        """Toggle focus between the two buttons."""
        self.focus_next(Button)
