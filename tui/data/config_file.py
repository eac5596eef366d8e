"""The optional config file (~/.config/rqtop/config.toml, found with platformdirs) and the theme state file.

The config keeps theme, timezone, refresh, thresholds, keymap and the operator's notify_email; every value is
checked, and a bad one is one line naming the file and the field. The theme the operator last picked is kept
in state.toml beside it (never in Redis), so the next start looks the same.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs

from tui.data.profiles import Profile, parse_profiles
from tui.data.roles import RoleError, check_role, parse_roles
from tui.data.settings import SettingsError, display_zone

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_ENV = "RQTOP_CONFIG"
"""Names another config file (tests, or several setups side by side)."""
STATE_NAME = "state.toml"
REFRESH_RANGE_S = (0.2, 3600.0)
KNOWN_FIELDS = ("theme", "timezone", "refresh", "read_only", "thresholds", "keymap", "role", "roles", "notify_email",
                "profile")
THRESHOLD_FIELDS = {"pending": "pending_threshold", "offline_after": "offline_after_s",
                    "pending_amber": "pending_amber", "pending_red": "pending_red",
                    "oldest_pending_amber_s": "oldest_pending_amber_s", "oldest_pending_red_s": "oldest_pending_red_s"}


class ConfigError(SettingsError):
    """The config file cannot be used; the message is one line naming the file and the field."""


def config_path() -> Path:
    """$RQTOP_CONFIG, else config.toml in the platform's config folder for rqtop."""
    chosen = os.environ.get(CONFIG_ENV)
    return Path(chosen) if chosen else Path(platformdirs.user_config_dir("rqtop")) / "config.toml"


def state_path(config: Path | None = None) -> Path:
    """state.toml next to the config file."""
    return (config or config_path()).with_name(STATE_NAME)


def _number(path: Path, name: str, value: Any, low: float, high: float) -> float:
    """A finite number in [low, high], else ConfigError naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ConfigError(f"{path}: field {name!r}: expected a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _text(path: Path, name: str, value: Any) -> str:
    """A non-empty string, else ConfigError naming the field."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: field {name!r}: expected a non-empty string, got {value!r}")
    return value.strip()


def _address(path: Path, value: Any) -> str:
    """One well-formed email address (the operator's default for Run now + notify), else ConfigError."""
    from worker.notify.config import NotifyConfigError, addresses

    text = _text(path, "notify_email", value)
    try:
        found = addresses(text, "notify_email")
    except NotifyConfigError:
        raise ConfigError(f"{path}: field 'notify_email': malformed email address {text!r}") from None
    if len(found) != 1:
        raise ConfigError(f"{path}: field 'notify_email': expected one email address, got {len(found)}")
    return found[0]


def parse_config(path: Path, document: Mapping[str, Any]) -> dict[str, object]:
    """Settings overrides from a parsed config document; ConfigError for an unknown or malformed field."""
    values: dict[str, object] = {}
    parse_profiles(path, document.get("profile", {}))  # checked with the rest; load_profiles returns them
    for name in document:
        if name not in KNOWN_FIELDS:
            raise ConfigError(f"{path}: field {name!r}: unknown (known: {', '.join(KNOWN_FIELDS)})")
    if "theme" in document:
        values["theme"] = _text(path, "theme", document["theme"])
    if "timezone" in document:
        zone = _text(path, "timezone", document["timezone"])
        try:
            display_zone(zone)
        except ValueError as exc:
            raise ConfigError(f"{path}: field 'timezone': {exc}") from None
        values["timezone"] = zone
    if "notify_email" in document:
        values["notify_email"] = _address(path, document["notify_email"])
    if "refresh" in document:
        values["refresh_s"] = _number(path, "refresh", document["refresh"], *REFRESH_RANGE_S)
    if "read_only" in document:
        if not isinstance(document["read_only"], bool):
            raise ConfigError(f"{path}: field 'read_only': expected true or false, got {document['read_only']!r}")
        values["read_only"] = document["read_only"]
    thresholds = document.get("thresholds", {})
    if not isinstance(thresholds, Mapping):
        raise ConfigError(f"{path}: field 'thresholds': expected a table like [thresholds]")
    for name, value in thresholds.items():
        if name not in THRESHOLD_FIELDS:
            raise ConfigError(f"{path}: field 'thresholds.{name}': unknown (known: {', '.join(THRESHOLD_FIELDS)})")
        number = _number(path, f"thresholds.{name}", value, 0, 10**9)
        values[THRESHOLD_FIELDS[name]] = int(number) if name in ("pending", "pending_amber", "pending_red") else number
    keymap = document.get("keymap", {})
    if not isinstance(keymap, Mapping):
        raise ConfigError(f"{path}: field 'keymap': expected a table of binding.id = \"key\"")
    if keymap:
        values["keymap"] = tuple((str(binding_id), _text(path, f"keymap.{binding_id}", key))
                                 for binding_id, key in keymap.items())
    try:
        if "role" in document:
            values["role"] = check_role(document["role"], f"{path}: field 'role'")
        if "roles" in document:
            values["role_map"] = parse_roles(document["roles"], str(path))
    except RoleError as exc:
        raise ConfigError(str(exc)) from None
    return values


def _read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a dict; ConfigError naming the file for unreadable or invalid TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {str(exc).splitlines()[0]}") from None


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """The config file's ``[profile.NAME]`` tables by name (none when the file does not exist)."""
    path = path or config_path()
    return parse_profiles(path, _read_toml(path).get("profile", {})) if path.is_file() else {}


def load_config(path: Path | None = None) -> dict[str, object]:
    """Settings overrides from the config file (none when it does not exist), then the remembered theme."""
    path = path or config_path()
    values = parse_config(path, _read_toml(path)) if path.is_file() else {}
    remembered = remembered_theme(state_path(path))
    if remembered:
        values["theme"] = remembered
    values["state_path"] = state_path(path)
    return values


def remembered_theme(path: Path) -> str | None:
    """The theme last picked, from the state file; None when there is none or it cannot be read (never fatal)."""
    try:
        theme = tomllib.loads(path.read_text(encoding="utf-8")).get("theme") if path.is_file() else None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    return theme if isinstance(theme, str) and theme else None


def remember_theme(path: Path, theme: str) -> None:
    """Write the picked theme to the state file (created with its folder); a failure to write is ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# written by rqtop: the theme picked last\ntheme = {_toml_string(theme)}\n",
                        encoding="utf-8")
    except OSError:
        return


def _toml_string(text: str) -> str:
    """A TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
