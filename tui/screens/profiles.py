"""The profile switcher (ctrl+o): a modal listing the config file's profiles; Enter picks one, Esc keeps the
current connection."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class ProfileScreen(ModalScreen[str | None]):
    """Offers each profile by name (the current one marked); dismisses with the picked name, or None."""

    BINDINGS = [
        Binding("escape,q", "cancel", "Back out", id="profiles.cancel", tooltip="Keep the current connection"),
    ]

    def __init__(self, names: tuple[str, ...], current: str | None) -> None:
        super().__init__()
        self._names = names
        self._current = current

    def compose(self) -> ComposeResult:
        """The list of profiles and a hint."""
        with Vertical(id="profiles-dialog") as dialog:
            dialog.border_title = "Switch profile"
            options = [Option(f"{name}  (current)" if name == self._current else name, id=name)
                       for name in self._names]
            yield OptionList(*options, id="profiles-list", markup=False)
            yield Label("Enter reconnects · Esc keeps this one", id="profiles-hint")

    def on_mount(self) -> None:
        """Highlight the current profile, else the first."""
        listing = self.query_one(OptionList)
        listing.highlighted = self._names.index(self._current) if self._current in self._names else 0
        listing.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter: reconnect with this profile."""
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Keep the current connection."""
        self.dismiss(None)
