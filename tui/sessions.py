"""Opens the config file's profiles for the App's switcher: connect and PING with the profile's Target, then a
reader, actions and settings of its own (the flags given at start, such as --read-only, still apply)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import redis

from tui.data.acl import acting_role
from tui.data.actions import DashboardActions
from tui.data.profiles import Profile
from tui.data.reader import DashboardReader
from tui.data.redis_client import connect_checked
from tui.data.settings import Settings
from tui.data.shared_snapshot import SharedSnapshotReader
from tui.data.target import Target, TargetError
from tui.protocols import Session


class ProfileSessions:
    """A ProfileOpener over the profiles read at start; each switch closes the connection switched away from."""

    def __init__(self, profiles: Mapping[str, Profile], settings_for: Callable[[Profile, Target], Settings],
                 current: redis.Redis | None = None) -> None:
        self._profiles = dict(profiles)
        self._settings_for = settings_for
        self._current = current

    def names(self) -> tuple[str, ...]:
        """The profiles in the order the config file lists them."""
        return tuple(self._profiles)

    def open(self, name: str) -> Session:
        """Connect with profile ``name``; ValueError (one line naming the profile's field) when it cannot."""
        profile = self._profiles[name]
        target = profile.target
        try:
            conn = connect_checked(target)
        except TargetError as exc:
            raise ValueError(str(exc)) from None
        settings, redis_user, _ = acting_role(conn, self._settings_for(profile, target))
        previous, self._current = self._current, conn
        if previous is not None:
            previous.close()
        return Session(SharedSnapshotReader(DashboardReader(conn, settings)),
                       DashboardActions(conn, settings, redis_user=redis_user), settings, target.label())
