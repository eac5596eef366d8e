"""A modal listing the keys that work right now, with what each does; read-only mode lists no actions."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label


class KeysScreen(ModalScreen[None]):
    """Shows (key, action, what it does) rows handed in by the App."""

    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", id="keys.close", tooltip="Close the keys list"),
    ]

    def __init__(self, keys: Sequence[tuple[str, str, str]]) -> None:
        super().__init__()
        self._keys = tuple(keys)

    def compose(self) -> ComposeResult:
        """One table of keys."""
        with Vertical(id="keys-dialog") as dialog:
            dialog.border_title = "Keys"
            table: DataTable[Text] = DataTable(id="keys-table", cursor_type="none", show_cursor=False)
            yield table
            yield Label("Esc or ? to close · ctrl+p opens the command palette", id="keys-hint")

    def on_mount(self) -> None:
        """Fill the table once; it never changes while open."""
        table = self.query_one("#keys-table", DataTable)
        table.add_columns("Key", "Action", "What it does")
        for key, action, tooltip in self._keys:
            table.add_row(Text(key, style="bold"), Text(action), Text(tooltip, style="dim"))

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)
