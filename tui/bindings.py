"""The one bindings spec: every dashboard key in footer order, the operator actions' keys taken from their rows.

``BINDINGS``, the command palette and the Job Management buttons are all built from ``key_specs(table)``.
Textual-free: plain data, turned into Binding objects by the App.
"""

from __future__ import annotations

from typing import Any

from tui.action_table import ACTIONS, TARGET_ACTIONS, OperatorAction
from tui.keyspec import KeySpec

VIEW_KEYS: tuple[KeySpec, ...] = (
    KeySpec("1", "show_tab('jobs')", "Jobs", "tab.jobs", "Show the Background Jobs tab",
            "tabs", "Background Jobs", "Show scheduled jobs, job management and history (1)", show=False),
    KeySpec("2", "show_tab('workers')", "Workers", "tab.workers", "Show the Workers tab",
            "tabs", "Workers", "Show queue totals, queues and workers (2)", show=False),
    KeySpec("3", "show_tab('metrics')", "Metrics", "tab.metrics", "Show the Metrics tab",
            "tabs", "Metrics", "Show runs, success rate and latency per job type (3)", show=False),
    KeySpec("4", "show_tab('explorer')", "Jobs", "tab.explorer", "Show the Jobs tab (find any job)",
            "tabs", "Jobs", "Find any job by state, task, queue, worker, time or id (4)", show=False),
    KeySpec("r", "refresh", "Refresh", "view.refresh", "Read Redis now",
            "view", "Refresh now", "Read Redis now instead of waiting for the next poll (r)"),
    KeySpec("s", "cycle_sort", "Sort", "view.sort", "Sort the table by its next column (or click a header)",
            "view", "Cycle sort", "Sort the focused table (queues, workers, metrics, history) by its next column (s)",
            tabs=("jobs", "workers", "metrics")),
    KeySpec("S", "reverse_sort", "Reverse", "view.reverse_sort", "Reverse the table's sort order",
            "view", "Reverse sort", "Reverse the focused table's sort order (S)", show=False,
            tabs=("jobs", "workers", "metrics")),
    KeySpec("o", "browse_queue", "Open queue", "workers.open_queue",
            "The Jobs tab filtered to the highlighted queue (also Enter on a queue row)",
            "queues", "Browse queue jobs",
            "The Jobs tab filtered to the highlighted (or first) queue: queue:NAME (o, or Enter on a queue)",
            tabs=("workers",)),
)
"""Keys that only read: tabs, refresh, sort and reverse, opening a queue in the Jobs tab."""

REFRESH_KEYS: tuple[KeySpec, ...] = (
    KeySpec("plus", "refresh_slower", "Slower", "view.slower", "Refresh less often (longer interval)",
            "view", "Refresh less often", "Lengthen the refresh interval one step (+)", show=False, key_display="+"),
    KeySpec("minus", "refresh_faster", "Faster", "view.faster", "Refresh more often (shorter interval)",
            "view", "Refresh more often", "Shorten the refresh interval one step (-)", show=False, key_display="-"),
    KeySpec("f", "toggle_freeze", "Freeze", "view.freeze", "Pause or resume polling (r still reads once)",
            "view", "Freeze/unfreeze polling", "Stop reading Redis until f is pressed again (f)", show=False),
)
"""Keys that change how often the dashboard reads: slower, faster, freeze."""

APP_KEYS: tuple[KeySpec, ...] = (
    KeySpec("ctrl+o", "switch_profile", "Profile", "app.profile", "Reconnect with another profile of the config file",
            "app", "Switch profile", "Reconnect with another [profile.NAME] of the config file, no restart (ctrl+o)",
            show=False),
    KeySpec("question_mark", "help", "Keys", "app.keys", "List the keys",
            "help", "Show keys", "List the keys that work right now (?)", key_display="?"),
    KeySpec("q", "quit", "Quit", "app.quit", "Leave rqtop", "app", "Quit", "Leave rqtop (q)"),
)


def key_specs(table: tuple[OperatorAction[Any], ...] = ACTIONS) -> tuple[KeySpec, ...]:
    """Every key, in footer order: the view keys, one per action row, then help and quit.

    The view keys that show on other tabs than the row actions sit before them; no tab shows both, so the
    footer, the keys screen and the palette read as they always have.
    """
    specs = (*VIEW_KEYS, *(row.key for row in table), *(row.key for row in TARGET_ACTIONS), *REFRESH_KEYS,
             *APP_KEYS)
    ids = [spec.id for spec in specs]
    duplicated = sorted({binding_id for binding_id in ids if ids.count(binding_id) > 1})
    if duplicated:
        raise ValueError(f"binding ids used twice: {', '.join(duplicated)}")
    return specs


KEYS = key_specs()
"""The dashboard's keys with today's action table."""

BINDING_IDS = frozenset(spec.id for spec in KEYS)
"""The ids RQTOP_KEYMAP may name."""
