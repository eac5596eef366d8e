"""The App's main screen, under every modal: it brings the visible tab up to date whenever it is shown again."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.screen import Screen


@runtime_checkable
class Renders(Protocol):
    """An App that can show its current snapshot on the visible tab."""

    def render_active(self) -> None:
        """Show the current snapshot on the visible tab."""
        ...


class DashboardScreen(Screen[None]):
    """Holds the tabs (the App composes onto it); a closed modal brings it back, and it catches up then."""

    def on_screen_resume(self) -> None:
        """Shown again (a modal closed): render what arrived while it was covered."""
        app = self.app
        if isinstance(app, Renders):
            app.render_active()
