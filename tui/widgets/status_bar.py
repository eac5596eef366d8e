"""The status line (profile name in its colour, masked URL, connection state, last refresh, where the data came from
- a shared snapshot or a direct read -, READ-ONLY, role and TLS badges) and the stale-data banner."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.color import Color, ColorParseError
from textual.containers import Horizontal
from textual.widgets import Label

from tui import formatting as fmt
from tui.data.models import ReadSource

CONNECTING = "connecting"
CONNECTED = "connected"
FAILING = "failing"


class StatusBar(Horizontal):
    """One line at the top: where we read from, whether it answers, and how fresh the data is."""

    def __init__(self, url_label: str, read_only: bool, *, role: str = "admin", profile: str | None = None,
                 profile_color: str | None = None, tls_unverified: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self._url_label = url_label
        self._read_only = read_only
        self._role = role
        """The role the dashboard acts as; a badge names it when it is not admin."""
        self._profile = profile
        self._profile_color = profile_color
        self._tls_unverified = tls_unverified
        self.set_class(bool(profile) or tls_unverified, "-crowded")

    def compose(self) -> ComposeResult:
        """Name, profile, URL, connection state, refresh time and the badges."""
        yield Label("rqtop", id="status-app")
        if self._profile:
            profile = Label(self._profile, id="status-profile", markup=False)
            if self._profile_color:
                try:
                    colour = Color.parse(self._profile_color)
                except ColorParseError:
                    colour = None
                if colour is not None:
                    profile.styles.background = colour
                    profile.styles.color = colour.get_contrast_text()
            yield profile
        if self._tls_unverified:
            yield Label("TLS NOT VERIFIED", id="status-tls")
        yield Label(self._url_label.removesuffix(" · TLS NOT VERIFIED"), id="status-url", markup=False)
        yield Label("", id="status-conn")
        yield Label("", id="status-refresh")
        yield Label("", id="status-source", markup=False)
        yield Label("", id="status-source-short", markup=False)
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

    def show_source(self, source: ReadSource | None, now: float) -> None:
        """Where the data on screen came from: "shared snapshot 0.8 s old from <worker>" or "direct read (why)"
        (shortened below 120 columns); nothing from a reader that does not say."""
        self.set_class(source is not None, "-sourced")
        if source is None:
            return
        self.query_one("#status-source", Label).update(source_text(source, now))
        self.query_one("#status-source-short", Label).update(source_text(source, now, short=True))

    def show_paused(self, paused: bool) -> None:
        """The "paused" badge while polling is frozen (f), so frozen data is never mistaken for live."""
        self.query_one("#status-paused", Label).display = paused


def source_text(source: ReadSource, now: float, short: bool = False) -> str:
    """"shared snapshot 0.8 s old from web-1-scheduler-42" / "direct read (no shared snapshot)", or the short
    "shared 0.8 s old" / "direct read"."""
    if source.kind == "shared":
        age = max(0.0, now - source.published_at.timestamp()) if source.published_at is not None else 0.0
        if short:
            return f"shared {age:.1f} s old"
        return f"shared snapshot {age:.1f} s old from {source.publisher or 'unknown'}"
    if short or not source.reason:
        return "direct read"
    return f"direct read ({source.reason})"


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
