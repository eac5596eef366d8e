"""The queue browser's list tabs: one clickable label per job list, with how many jobs it held at the last read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual import events
from textual.app import ComposeResult
from textual.containers import Grid
from textual.message import Message
from textual.widgets import Label

from tui.widgets.page_rows import tab_label


class ListTab(Label):
    """One list's tab; a click asks for that list."""

    def __init__(self, source: str) -> None:
        super().__init__(source, id=f"list-{source}", classes="list-tab", markup=False)
        self.source = source

    def on_click(self, event: events.Click) -> None:
        """Ask the browser for this list."""
        event.stop()
        self.post_message(ListTabs.Picked(self.source))


class ListTabs(Grid):
    """Every job list of a queue as a tab: the shown one highlighted, each with its count; click to switch."""

    class Picked(Message):
        """The operator clicked a list's tab."""

        def __init__(self, source: str) -> None:
            super().__init__()
            self.source = source

    def __init__(self, sources: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._sources = tuple(sources)

    def compose(self) -> ComposeResult:
        """One tab per list."""
        for source in self._sources:
            yield ListTab(source)

    def show(self, current: str, counts: Mapping[str, int]) -> None:
        """Highlight ``current`` and put each list's count (when read) beside its name."""
        for tab in self.query(ListTab):
            tab.update(tab_label(tab.source, counts.get(tab.source)))
            tab.set_class(tab.source == current, "-active")
