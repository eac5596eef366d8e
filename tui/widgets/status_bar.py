"""The status line (masked URL, connection state, last refresh, READ-ONLY or role badge) and the stale-data banner."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from tui import formatting as fmt

CONNECTING = "connecting"
CONNECTED = "connected"
FAILING = "failing"


class StatusBar(Horizontal):
    """One line at the top: where we read from, whether it answers, and how fresh the data is."""

    def __init__(self, url_label: str, read_only: bool, *, role: str = "admin", id: str | None = None) -> None:
        super().__init__(id=id)
        self._url_label = url_label
        self._read_only = read_only
        self._role = role
        """The role the dashboard acts as; a badge names it when it is not admin."""

    def compose(self) -> ComposeResult:
        """Name, URL, connection state, refresh time and the badge."""
        yield Label("rqtop", id="status-app")
        yield Label(self._url_label, id="status-url", markup=False)
        yield Label("", id="status-conn")
        yield Label("", id="status-refresh")
        badge = Label("READ-ONLY" if self._read_only else f"ROLE: {self._role.upper()}", id="status-badge")
        badge.display = self._read_only or self._role != "admin"
        yield badge
        paused = Label("PAUSED · f to resume", id="status-paused")
        paused.display = False
        yield paused

    def show(self, state: str, last_ok: float | None, now: float) -> None:
        """Render the connection state and the age of the last good read."""
        conn = self.query_one("#status-conn", Label)
        if state == FAILING:
            conn.update("● Redis unreachable — retrying")
        elif state == CONNECTED:
            conn.update("● connected")
        else:
            conn.update("○ connecting…")
        for name in (CONNECTING, CONNECTED, FAILING):
            self.set_class(state == name, f"-{name}")
        refresh = self.query_one("#status-refresh", Label)
        if last_ok is None:
            refresh.update("no data yet")
        else:
            refresh.update(f"refreshed {fmt.relative(last_ok, now)} · {fmt.clock(last_ok)}")


    def show_paused(self, paused: bool) -> None:
        """The "paused" badge while polling is frozen (f), so frozen data is never mistaken for live."""
        self.query_one("#status-paused", Label).display = paused


class StaleBanner(Label):
    """Shown while reads fail: the data on screen is the last good read, and how old it is."""

    def show(self, failing: bool, last_ok: float | None, now: float, error: str) -> None:
        """Explain what is on screen while Redis is unreachable; hide once it answers."""
        self.display = failing
        if not failing:
            return
        if last_ok is None:
            self.update(f"No data yet: {error}")
            return
        self.update(
            f"STALE: showing data from {fmt.clock(last_ok)} ({fmt.relative(last_ok, now)}). "
            f"Actions are refused until Redis answers. {error}"
        )
