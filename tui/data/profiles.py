"""Connection profiles from the config file (``[profile.prod] url=… read_only=true color="red"``), checked field by
field so a bad one is one line naming the file, the profile and the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.data.settings import SettingsError
from tui.data.target import Target, split_hosts

TARGET_FIELDS = ("url", "tls_ca", "tls_cert", "tls_key", "tls_insecure", "password_file", "password_env",
                 "sentinel", "sentinel_master")
"""Profile fields that say how to reach Redis (the Target's fields)."""
SETTING_FIELDS = ("read_only", "theme", "role", "color")
"""Profile fields that change the dashboard's settings."""
PROFILE_FIELDS = TARGET_FIELDS + SETTING_FIELDS
BOOL_FIELDS = ("tls_insecure", "read_only")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,40}")
_COLOR = re.compile(r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-z_]{3,20}")


class ProfileError(SettingsError):
    """A profile that cannot be used (malformed or unknown); the message is one line."""


@dataclass(frozen=True)
class Profile:
    """One named way to reach a Redis, with the settings that go with it (read-only default, theme, role, colour)."""

    name: str
    target: Target
    read_only: bool | None = None
    theme: str | None = None
    role: str | None = None
    """Carried for the roles feature, which maps it to what the operator may do."""
    color: str | None = None
    """The status bar shows the profile's name in this colour (a name such as red, or #rrggbb)."""

    def settings_values(self) -> dict[str, object]:
        """The Settings fields this profile sets."""
        values: dict[str, object] = {"profile": self.name}
        for name in ("read_only", "theme", "role"):
            if getattr(self, name) is not None:
                values[name] = getattr(self, name)
        if self.color:
            values["profile_color"] = self.color
        return values


def _field(path: Path, profile: str, name: str, value: Any) -> object:
    """One checked field value, else ProfileError naming the file, the profile and the field."""
    where = f"{path}: profile {profile!r} field {name!r}"
    if name in BOOL_FIELDS:
        if not isinstance(value, bool):
            raise ProfileError(f"{where}: expected true or false, got {value!r}")
        return value
    if name == "sentinel":
        if isinstance(value, list) and value and all(isinstance(item, str) and item.strip() for item in value):
            return split_hosts(",".join(value))
        if isinstance(value, str) and value.strip():
            return split_hosts(value)
        raise ProfileError(f"{where}: expected \"host:port,...\" or a list of \"host:port\", got {value!r}")
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(f"{where}: expected a non-empty string, got {value!r}")
    if name == "color" and not _COLOR.fullmatch(value.strip()):
        raise ProfileError(f"{where}: expected a colour name (red, green, yellow...) or #rrggbb, got {value!r}")
    return value.strip()


def parse_profiles(path: Path, table: Any) -> dict[str, Profile]:
    """Profiles by name from the ``profile`` table of a parsed config document."""
    if not isinstance(table, Mapping):
        raise ProfileError(f"{path}: field 'profile': expected tables like [profile.prod]")
    profiles: dict[str, Profile] = {}
    for name, body in table.items():
        if not _NAME.fullmatch(name):
            raise ProfileError(f"{path}: profile {name!r}: a name is 1-40 letters, digits, '.', '_' or '-'")
        if not isinstance(body, Mapping):
            raise ProfileError(f"{path}: profile {name!r}: expected a table [profile.{name}]")
        values: dict[str, object] = {}
        for key, value in body.items():
            if key not in PROFILE_FIELDS:
                raise ProfileError(f"{path}: profile {name!r} field {key!r}: unknown "
                                   f"(known: {', '.join(PROFILE_FIELDS)})")
            values[key] = _field(path, name, key, value)
        where = f"{path}: profile {name!r} field "
        target = Target().merged({key: values[key] for key in TARGET_FIELDS if key in values},
                                 lambda field, where=where: f"{where}{field!r}")  # type: ignore[misc]
        settings = {key: values.get(key) for key in SETTING_FIELDS}
        profiles[name] = Profile(name, target, **settings)  # type: ignore[arg-type]
    return profiles


def find_profile(profiles: Mapping[str, Profile], name: str, source: str = "--profile") -> Profile:
    """The profile called ``name``; ProfileError naming the flag and the profiles there are otherwise."""
    try:
        return profiles[name]
    except KeyError:
        known = ", ".join(sorted(profiles)) or "none: add [profile.NAME] tables to the config file"
        raise ProfileError(f"{source}: no profile named {name!r} (profiles: {known})") from None
