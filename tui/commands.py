"""Command palette entries: every dashboard action, titled "namespace: action" and gated like the keys; and
entries that name their target, built from the snapshot on screen ("schedule: Run now nightly_report",
"queues: Browse queue low"), which go through the same checks as the keys."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from tui.action_table import OperatorAction
from tui.bindings import KEYS
from tui.data.models import ScheduleRow, Snapshot
from tui.data.settings import Settings
from tui.keyspec import KeySpec, action_name
from worker.display_text import safe_text

__all__ = ["PALETTE_COMMANDS", "DashboardCommands", "NamedTargetCommands", "action_name", "palette_commands"]


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


@runtime_checkable
class TargetingApp(Protocol):
    """An App whose palette can name a schedule or a queue from the snapshot on screen (RqtopApp)."""

    snapshot: Snapshot | None
    settings: Settings
    ACTION_TABLE: tuple[OperatorAction[Any], ...]

    def modal_open(self) -> bool:
        """True while a screen of the App covers the dashboard."""
        ...

    def run_on_schedule(self, action: str, schedule: ScheduleRow) -> None:
        """Run one row action on ``schedule`` through the same checks as its key."""
        ...

    def open_queue(self, queue: str) -> None:
        """Open the job lists of ``queue``."""
        ...


Entry = tuple[str, Callable[[], Any], str]
"""(title, what choosing it does, help)."""


def named_entries(app: TargetingApp) -> list[Entry]:
    """One entry per schedule and row action, and one per queue, from the snapshot on screen. A write is left
    out in read-only mode, and an action the schedule refuses (run now on an unreadable job) is not offered.
    Names from Redis are safe display text."""
    snapshot = app.snapshot
    if snapshot is None or app.modal_open():
        return []
    entries: list[Entry] = []
    for schedule in snapshot.schedules:
        for row in app.ACTION_TABLE:
            refused = row.writes and (app.settings.read_only or app.settings.refusal(row.name))
            if (row.plan is not None or row.form == "create" or refused
                    or row.refusal(schedule)):
                continue
            name = safe_text(schedule.name)
            title = f"{row.key.namespace}: {row.title_for(schedule)} {name}"
            help_text = f"{row.title_for(schedule)} the schedule {name} (queue {safe_text(schedule.queue)})"
            entries.append((title, partial(app.run_on_schedule, row.name, schedule), help_text))
    for queue in snapshot.queues:
        name = safe_text(queue.name)
        entries.append((f"queues: Browse queue {name}", partial(app.open_queue, queue.name),
                        f"Page through {name}'s pending, active, failed… jobs ({queue.pending:,} pending)"))
    return entries


def plain_highlight(matcher: Matcher, title: str) -> Content:
    """``title`` as plain text (never markup: it holds names read from Redis) with the matched letters styled."""
    content = Content(title)
    _, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class NamedTargetCommands(Provider):
    """Offers "schedule: Run now <name>", "schedule: Pause <name>", "queues: Browse queue <name>"… for the
    schedules and queues on screen; choosing one runs the same action, refusals and toasts as the key."""

    def _entries(self) -> list[Entry]:
        """The entries the App allows right now (none for an App that cannot name targets)."""
        app = self.app
        return named_entries(app) if isinstance(app, TargetingApp) else []

    async def discover(self) -> Hits:
        """Every named entry, for the palette's empty query."""
        for title, command, help_text in self._entries():
            yield DiscoveryHit(Content(title), command, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        """Named entries whose title matches ``query``."""
        matcher = self.matcher(query)
        for title, command, help_text in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, plain_highlight(matcher, title), command, text=title, help=help_text)
