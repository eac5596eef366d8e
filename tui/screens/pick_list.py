"""A small modal that asks which one of a few named choices (the list Empty acts on); Esc backs out."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class PickScreen(ModalScreen[str | None]):
    """Dismisses with the picked choice's id, or None on Esc."""

    DEFAULT_CSS = """
    PickScreen { align: center middle; }
    #pick-dialog { width: 60; max-width: 95%; height: auto; border: thick $warning; padding: 1 2;
                   background: $surface; }
    #pick-list { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("escape,q", "back_out", "Back out", id="pick.escape", tooltip="Close without choosing")]

    def __init__(self, title: str, prompt: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._prompt = prompt
        self._choices = choices

    def compose(self) -> ComposeResult:
        """The prompt and one option per (id, label) choice."""
        with Vertical(id="pick-dialog") as dialog:
            dialog.border_title = self._title
            yield Label(self._prompt, markup=False)
            yield OptionList(*(Option(label, id=choice) for choice, label in self._choices), id="pick-list")
            yield Label("Enter picks · Esc backs out", id="pick-keys")

    def on_mount(self) -> None:
        """The list has the keyboard."""
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        """Answer with the picked choice."""
        self.dismiss(event.option.id)

    def action_back_out(self) -> None:
        """Nothing picked."""
        self.dismiss(None)
