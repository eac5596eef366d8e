"""Command palette entries for every dashboard action, titled "namespace: action" and gated like the keys."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

PALETTE_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("tabs: Background Jobs", "show_tab('jobs')", "Show scheduled jobs, job management and history (1)"),
    ("tabs: Workers", "show_tab('workers')", "Show queue totals, queues and workers (2)"),
    ("tabs: Metrics", "show_tab('metrics')", "Show runs, success rate and latency per job type (3)"),
    ("view: Refresh now", "refresh", "Read Redis now instead of waiting for the next poll (r)"),
    ("view: Cycle sort", "cycle_sort", "Change the sort order of the Workers or Metrics table (s)"),
    ("schedule: Run now", "run_now", "Queue one run of the highlighted schedule now (n)"),
    ("schedule: Pause/Resume", "toggle_pause", "Pause or resume the highlighted schedule (p)"),
    ("queues: Browse queue jobs", "browse_queue",
     "Page through the highlighted (or first) queue's pending, active, failed… jobs (o, or Enter on a queue)"),
    ("jobs: Run Janitor Now", "janitor", "Clean up orphaned jobs, stale workers and tokens; asks first (J)"),
    ("jobs: Fail Active Jobs", "fail_active", "Mark every running job failed; asks first (F)"),
    ("jobs: Cancel All Pending", "cancel_pending", "Cancel every job waiting in a queue; asks first (C)"),
    ("help: Show keys", "help", "List the keys that work right now (?)"),
    ("app: Quit", "quit", "Leave rqtop (q)"),
)
"""(title, App action, help) for each palette entry."""


def action_name(action: str) -> str:
    """The bare action name of an action string: "show_tab('jobs')" -> "show_tab"."""
    return action.split("(", 1)[0]


class DashboardCommands(Provider):
    """Offers the dashboard's actions; what check_action hides (read-only, other tab) is not offered."""

    def _available(self) -> list[tuple[str, str, str]]:
        """Palette entries the App allows right now."""
        app = self.app
        return [
            entry for entry in PALETTE_COMMANDS if app.check_action(action_name(entry[1]), ()) is not False
        ]

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
