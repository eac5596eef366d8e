"""Command palette entries for every dashboard action, titled "namespace: action" and gated like the keys."""

from __future__ import annotations

from functools import partial
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.bindings import KEYS
from tui.keyspec import KeySpec, action_name

__all__ = ["PALETTE_COMMANDS", "DashboardCommands", "action_name", "palette_commands"]


def palette_commands(specs: tuple[KeySpec, ...]) -> tuple[tuple[str, str, str], ...]:
    """(title, App action, help) for each key of the spec."""
    return tuple((spec.palette_title, spec.action, spec.palette_help) for spec in specs)


PALETTE_COMMANDS = palette_commands(KEYS)
"""The palette entries of the dashboard's keys."""


@runtime_checkable
class KeyedApp(Protocol):
    """An App that says which keys it has (RqtopApp: the bindings spec of its action table)."""

    KEY_SPECS: tuple[KeySpec, ...]


class DashboardCommands(Provider):
    """Offers the App's keys as commands; what check_action hides (read-only, other tab) is not offered."""

    def _available(self) -> list[tuple[str, str, str]]:
        """Palette entries the App allows right now."""
        app = self.app
        specs = app.KEY_SPECS if isinstance(app, KeyedApp) else KEYS
        return [entry for entry in palette_commands(specs) if app.check_action(action_name(entry[1]), ()) is not False]

    async def discover(self) -> Hits:
        """Every available command, for the palette's empty query."""
        for title, action, help_text in self._available():
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        """Available commands whose title matches ``query``."""
        matcher = self.matcher(query)
        for title, action, help_text in self._available():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.app.run_action, action), help=help_text)
