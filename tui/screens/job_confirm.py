"""The confirmation of a job-level action: exact counts, a safe button that says what it keeps, and, above
1,000 jobs or on every queue, the count typed before the action may run; Dead letter asks for the reason."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.action_table import JobConfirmation


class JobConfirmScreen(ModalScreen[str | None]):
    """Dismisses with the reason typed ("" when none is asked) on confirm, None on back out (Esc or Keep)."""

    BINDINGS = [
        Binding("escape", "back_out", "Back out", id="job_confirm.escape", tooltip="Close without changing anything"),
    ]

    def __init__(self, wording: JobConfirmation, ask_reason: bool = False) -> None:
        super().__init__()
        self._wording = wording
        self._ask_reason = ask_reason

    def compose(self) -> ComposeResult:
        """The body, the inputs it needs, and two buttons."""
        with Vertical(id="confirm-dialog") as dialog:
            dialog.border_title = self._wording.title
            yield Static(self._wording.body, id="confirm-body", markup=False)
            if self._ask_reason:
                yield Input(placeholder="reason (kept on each job and in the audit)", id="job-confirm-reason")
            if self._wording.typed:
                yield Input(placeholder=f"type {self._wording.typed}", id="job-confirm-typed")
            yield Label("Esc backs out", id="confirm-keys")
            with Horizontal(id="confirm-buttons"):
                yield Button(self._wording.button, id="confirm", variant="error")
                yield Button(self._wording.keep, id="keep", variant="primary")

    def on_mount(self) -> None:
        """Start on the first input, else on the button that keeps the jobs."""
        inputs = list(self.query(Input))
        (inputs[0] if inputs else self.query_one("#keep", Button)).focus()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        """Proceed, once the typed confirmation matches."""
        if self._wording.typed:
            typed = self.query_one("#job-confirm-typed", Input).value.strip()
            if typed != self._wording.typed:
                self.notify(f"Type {self._wording.typed} to confirm; nothing was changed yet.", severity="warning",
                            markup=False)
                return
        reason = self.query_one("#job-confirm-reason", Input).value.strip() if self._ask_reason else ""
        self.dismiss(reason)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        """Enter in an input moves on to the confirm button (it never confirms by itself)."""
        self.query_one("#confirm", Button).focus()

    @on(Button.Pressed, "#keep")
    def action_back_out(self) -> None:
        """Back out: nothing changes."""
        self.dismiss(None)
