"""The shape of one dashboard key: binding, footer, keys screen, palette entry and button, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ButtonVariant = Literal["default", "primary", "success", "warning", "error"]
"""Textual's Button variants, spelled out so the spec needs no Textual import."""


def action_name(action: str) -> str:
    """The bare action name of an action string: "show_tab('jobs')" -> "show_tab"."""
    return action.split("(", 1)[0]


@dataclass(frozen=True)
class KeySpec:
    """Everything the App shows about one action, from which its Binding, palette command and button are built."""

    key: str
    action: str
    """The App action string, e.g. "show_tab('jobs')" or "janitor"."""
    description: str
    """The footer's and the keys screen's short name."""
    id: str
    """The binding id a keymap names to move the key (RQTOP_KEYMAP="jobs.janitor=ctrl+j")."""
    tooltip: str
    namespace: str
    """The palette title's prefix: "jobs" in "jobs: Run Janitor Now"."""
    title: str
    """The palette title after the namespace; also the button label and the confirmation's title."""
    palette_help: str
    show: bool = True
    """Shown in the footer."""
    key_display: str | None = None
    tabs: tuple[str, ...] = ()
    """The tabs where the action is offered; () means everywhere."""
    button: ButtonVariant | None = None
    """The Job Management button's variant; None means no button."""

    @property
    def palette_title(self) -> str:
        """ "namespace: Title", as the command palette lists it."""
        return f"{self.namespace}: {self.title}"

    @property
    def name(self) -> str:
        """The bare action name (what check_action receives)."""
        return action_name(self.action)
