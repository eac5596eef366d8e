"""The three roles (viewer, operator, admin) and what each may do, as one table a config file may change.

Keys are the action names of ``tui.action_table`` (the operator rows and the job actions) plus the few actions
that have no row there (edit-and-replay, the worker verbs, cooperative cancel). The default is issue 17's map: a
viewer lists and reads, an operator also re-runs, cancels, runs a schedule now and pauses/resumes it, an admin may
do everything. ``rqtop acl print`` turns the same table into Redis ACL users, so Redis refuses what the UI hides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ROLES = ("viewer", "operator", "admin")
"""Every role, weakest first."""

ACTION_NAMES = (
    "run_now", "toggle_pause", "janitor", "fail_active", "cancel_pending", "run_now_notify",
    "rerun", "replay", "cancel", "stop", "retry_now", "dead_letter", "dismiss",
    "edit_replay", "suspend", "resume", "shutdown", "cancel_running", "edit_schedule", "create_schedule",
    "cancel_queue", "requeue_failed", "empty_registry", "toggle_suspend", "shutdown_worker",
)
"""Every capability: the action table's row and job-action names, and the actions without a row."""

OPERATOR_ACTIONS = frozenset({"rerun", "cancel", "cancel_running", "run_now", "run_now_notify", "toggle_pause",
                              "cancel_queue", "requeue_failed"})
"""What an operator may do beyond reading (issue 17: re-run, cancel, run a schedule now, pause/resume)."""

DEFAULT_GRANTS: dict[str, frozenset[str]] = {
    "viewer": frozenset(),
    "operator": OPERATOR_ACTIONS,
    "admin": frozenset(ACTION_NAMES),
}
"""The default capability map: role -> the actions it may take (reading is every role's)."""

DEFAULT_ROLE = "admin"
"""The role when none is configured: an unrestricted connection may do everything, as before roles existed."""


class RoleError(ValueError):
    """A role or capability entry cannot be used; one line naming the source and the entry."""


@dataclass(frozen=True)
class RoleMap:
    """Which actions each role may take; built from the defaults and the config file's ``[roles]`` table."""

    grants: Mapping[str, frozenset[str]] = field(default_factory=lambda: dict(DEFAULT_GRANTS))

    def allows(self, role: str, action: str) -> bool:
        """True when ``role`` may take ``action``; an action the map does not know (a row added to the action table
        since) is the admin's alone."""
        return action in self.grants.get(role, frozenset()) or (role == "admin" and action not in ACTION_NAMES)

    def refusal(self, role: str, action: str) -> str | None:
        """The one line shown when ``role`` may not take ``action``, or None when it may."""
        if self.allows(role, action):
            return None
        return f"{action.replace('_', ' ')}: not allowed for role {role} (see `rqtop acl print --role {role}`)"

    def actions(self, role: str) -> frozenset[str]:
        """The actions ``role`` may take."""
        return self.grants.get(role, frozenset())


DEFAULT_ROLE_MAP = RoleMap()


def check_role(name: Any, source: str) -> str:
    """``name`` when it is a role, else RoleError naming ``source``."""
    if name not in ROLES:
        raise RoleError(f"{source}: unknown role {name!r} (roles: {', '.join(ROLES)})")
    return str(name)


def parse_roles(table: Any, source: str) -> RoleMap:
    """A ``[roles]`` table (``operator = ["rerun", "cancel", ...]``, one list per role it changes) over the
    defaults; RoleError naming the entry for an unknown role, a list that is not one, or an unknown action."""
    if not isinstance(table, Mapping):
        raise RoleError(f"{source}: field 'roles': expected a table like [roles] operator = [\"rerun\", ...]")
    grants = dict(DEFAULT_GRANTS)
    for role, actions in table.items():
        check_role(role, f"{source}: field 'roles.{role}'")
        if not isinstance(actions, list) or not all(isinstance(action, str) for action in actions):
            raise RoleError(f"{source}: field 'roles.{role}': expected a list of action names, got {actions!r}")
        unknown = [action for action in actions if action not in ACTION_NAMES]
        if unknown:
            raise RoleError(f"{source}: field 'roles.{role}': unknown action {unknown[0]!r} "
                            f"(actions: {', '.join(ACTION_NAMES)})")
        grants[role] = frozenset(actions)
    return RoleMap(grants)


def weaker(first: str, second: str) -> str:
    """The weaker of two roles (the configured one and the one Redis lets this connection act as)."""
    return min(first, second, key=ROLES.index)
