"""A modal that asks the operator to confirm one destructive action, stating exactly what will happen.

The wording (title, body with exact counts, button) comes from the action table row's ``confirm``.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True only on y or the Confirm button; focus starts on Cancel, the safe choice."""

    BINDINGS = [
        Binding("y", "confirm", "Confirm", id="confirm.yes", tooltip="Proceed with the action as stated"),
        Binding("n", "cancel", "Back out", id="confirm.no", tooltip="Close without changing anything"),
        Binding("escape,q", "cancel", "Back out", id="confirm.escape", tooltip="Close without changing anything"),
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
