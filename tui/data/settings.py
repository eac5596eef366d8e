"""Dashboard settings in one frozen dataclass: CLI flags over environment over defaults."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tui.data.masking import MaskRules
from tui.data.roles import DEFAULT_ROLE, DEFAULT_ROLE_MAP, RoleError, RoleMap, check_role
from worker.masking import DEFAULT_MASK_PATTERNS, mask

TRUE_WORDS = ("1", "true", "yes", "on", "y", "enabled")
FALSE_WORDS = ("", "0", "false", "no", "off", "n", "disabled")


class SettingsError(ValueError):
    """A setting's value cannot be used; the message is one line naming the variable and the entry."""


def _env_flag(name: str) -> bool:
    """An on/off environment variable read strictly, so a typo never silently means "off"."""
    raw = os.environ.get(name, "")
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingsError(f"{name}={raw!r}: expected one of {', '.join(TRUE_WORDS)} (on) "
                     f"or {', '.join(w for w in FALSE_WORDS if w)} or empty (off)")


def parse_task_patterns(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``task=p1,p2;task2=p3`` into ((task, (p1, p2)), (task2, (p3,))); entries without ``=`` are ignored."""
    rules = []
    for item in text.split(";"):
        task, sep, patterns = item.partition("=")
        if sep and task.strip():
            rules.append((task.strip(), tuple(p.strip().lower() for p in patterns.split(",") if p.strip())))
    return tuple(rules)


def parse_keymap(text: str, source: str = "RQTOP_KEYMAP") -> tuple[tuple[str, str], ...]:
    """``binding.id=key,other.id=key`` into ((binding.id, key), ...); SettingsError naming a malformed entry."""
    pairs = []
    for item in text.split(","):
        if not item.strip():
            continue
        binding_id, sep, key = (part.strip() for part in item.partition("="))
        if not sep or not binding_id or not key:
            raise SettingsError(f"{source}: entry {item.strip()!r}: expected binding.id=key")
        pairs.append((binding_id, key))
    return tuple(pairs)


def _env_number(name: str, kind: type[int] | type[float]) -> int | float:
    """A non-negative number from the environment; SettingsError naming the variable otherwise."""
    raw = os.environ.get(name, "")
    try:
        value = kind(raw.strip().replace("_", ""))
    except ValueError:
        value = -1
    if not value >= 0:  # also refuses nan
        raise SettingsError(f"{name}={raw!r}: expected a number of {'jobs' if kind is int else 'seconds'} >= 0")
    return value


THRESHOLD_VARIABLES: dict[str, tuple[str, type[int] | type[float]]] = {
    "pending_amber": ("RQTOP_PENDING_AMBER", int),
    "pending_red": ("RQTOP_PENDING_RED", int),
    "oldest_pending_amber_s": ("RQTOP_OLDEST_PENDING_AMBER_S", float),
    "oldest_pending_red_s": ("RQTOP_OLDEST_PENDING_RED_S", float),
}
"""Settings field -> (environment variable, number type) of the backlog thresholds."""


@dataclass(frozen=True)
class Backlog:
    """Amber/red thresholds for a queue's pending count and its oldest pending job's age."""

    pending_amber: int = 100
    pending_red: int = 1_000
    oldest_amber_s: float = 60.0
    oldest_red_s: float = 300.0

    def pending_level(self, pending: int) -> str | None:
        """The colour level (red, amber or None) of a pending count."""
        return level(pending, self.pending_amber, self.pending_red)

    def oldest_level(self, age_s: float | None) -> str | None:
        """The colour level (red, amber or None) of the oldest pending job's age."""
        return None if age_s is None else level(age_s, self.oldest_amber_s, self.oldest_red_s)


def level(value: float, amber: float, red: float) -> str | None:
    """red at or above ``red``, amber at or above ``amber``, else None (a value of 0 is never coloured)."""
    if value <= 0:
        return None
    return "red" if value >= red else "amber" if value >= amber else None


LOCAL_ZONE = "local"
"""The zone name that means the machine's own zone (``--tz local``)."""


def display_zone(name: str) -> tzinfo | None:
    """The zone shown times are in: UTC, None for ``local`` (the machine's zone, DST and all), else the IANA zone;
    ValueError naming ``name`` when there is no such zone."""
    cleaned = name.strip()
    if cleaned.lower() == LOCAL_ZONE:
        return None
    if cleaned.upper() == "UTC":
        return timezone.utc
    try:
        return ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (an IANA name such as Europe/Berlin, UTC, or local)") from None


REFRESH_STEPS_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
"""The intervals `+` and `-` step through."""


def step_interval(current: float, slower: bool) -> float:
    """The next refresh interval from ``current``: one step longer (``slower``) or shorter, kept in range."""
    if slower:
        return next((step for step in REFRESH_STEPS_S if step > current), max(current, REFRESH_STEPS_S[-1]))
    return next((step for step in reversed(REFRESH_STEPS_S) if step < current), min(current, REFRESH_STEPS_S[0]))


@dataclass(frozen=True)
class Settings:
    """What the dashboard needs to know besides its reader and actions."""

    refresh_s: float = 2.0
    read_only: bool = False
    pending_threshold: int = 10
    offline_after_s: float = 60.0
    history_limit: int = 50
    page_size: int = 50
    mask_patterns: tuple[str, ...] = DEFAULT_MASK_PATTERNS
    task_mask_patterns: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Extra patterns per task, e.g. RQTOP_MASK_TASK_PATTERNS="app.tasks.login=pin,ssn;app.tasks.pay=iban"."""
    keymap: tuple[tuple[str, str], ...] = ()
    """Keys moved by binding id, e.g. RQTOP_KEYMAP="jobs.janitor=ctrl+j,view.refresh=f5" (applied by the App)."""
    pending_amber: int = 100
    """A queue's Pending (and the Pending card) turns amber at this many jobs (RQTOP_PENDING_AMBER)."""
    pending_red: int = 1_000
    """... and red at this many (RQTOP_PENDING_RED)."""
    oldest_pending_amber_s: float = 60.0
    """A queue's Oldest pending turns amber at this age in seconds (RQTOP_OLDEST_PENDING_AMBER_S)."""
    oldest_pending_red_s: float = 300.0
    """... and red at this age (RQTOP_OLDEST_PENDING_RED_S)."""
    notify_email: str = ""
    """The operator's default address for Run now + notify (the config file's ``notify_email``); the
    ``RQTOP_NOTIFY_EMAIL`` variable wins over it."""
    theme: str | None = None
    """The Textual theme to start with (config file, or the one picked last); None keeps Textual's default."""
    timezone: str = "UTC"
    """The zone every shown time is in: an IANA name or ``local`` (the config file's ``timezone``, or ``--tz``)."""
    profile: str | None = None
    """The config file's profile in use (--profile), shown in the status bar; None without one."""
    profile_color: str | None = None
    """The colour the status bar gives the profile's name (its ``color`` field)."""
    tls_unverified: bool = False
    """True when TLS certificates are not checked (--tls-insecure): the status bar says so loudly."""
    state_path: Path | None = field(default=None, compare=False)
    """Where the App remembers the picked theme (state.toml beside the config file); None remembers nothing."""
    role: str = DEFAULT_ROLE
    """The role this dashboard acts as (--role, RQTOP_ROLE, the config file's ``role``); Redis may make it weaker."""
    role_map: RoleMap = field(default=DEFAULT_ROLE_MAP, compare=False)
    """What each role may do (the config file's ``[roles]`` over ``tui.data.roles.DEFAULT_GRANTS``)."""
    role_chosen: bool = False
    """True when the role was configured (flag, variable, config file or profile), not the default: the default
    admin keeps every action as before roles existed, but only a chosen admin sees payloads unmasked."""
    clock: Callable[[], float] = field(default=time.time, compare=False)

    def refusal(self, action: str) -> str | None:
        """Why this dashboard's role may not take ``action`` (one line), or None when it may."""
        return self.role_map.refusal(self.role, action)

    @property
    def backlog(self) -> Backlog:
        """The amber/red thresholds of queue backlogs, as the Workers tab takes them."""
        return Backlog(self.pending_amber, self.pending_red, self.oldest_pending_amber_s, self.oldest_pending_red_s)

    @property
    def payloads_unmasked(self) -> bool:
        """Whether this view shows payloads, descriptions and errors unmasked: the issue 17 map gives that to the
        admin alone, and only to an admin chosen as such (``role_chosen``) that Redis lets act as one."""
        return self.role == "admin" and self.role_chosen

    @property
    def mask_rules(self) -> MaskRules:
        """The masking patterns, global and per task, as the data layer takes them (nothing masked for an admin)."""
        return MaskRules(self.mask_patterns, self.task_mask_patterns, unmasked=self.payloads_unmasked)

    def audit_shape(self, text: str, task: str | None = None) -> str:
        """An edit's shape as the audit records it: masked for every role but an unmasked admin (issue 17)."""
        return mask(text, self.mask_rules.for_task(task)) or ""

    @classmethod
    def from_env(cls, file_values: Mapping[str, object] | None = None, **overrides: object) -> Settings:
        """Defaults, then the config file's ``file_values``, then RQTOP_* environment variables, then explicit
        overrides (CLI flags); SettingsError for a malformed variable."""
        values: dict[str, object] = dict(file_values or {})
        if _env_flag("RQTOP_READ_ONLY"):
            values["read_only"] = True
        patterns = os.environ.get("RQTOP_MASK_PATTERNS")
        if patterns:
            values["mask_patterns"] = tuple(p.strip().lower() for p in patterns.split(",") if p.strip())
        per_task = os.environ.get("RQTOP_MASK_TASK_PATTERNS")
        if per_task:
            values["task_mask_patterns"] = parse_task_patterns(per_task)
        for name, (variable, kind) in THRESHOLD_VARIABLES.items():
            if os.environ.get(variable, "").strip():
                values[name] = _env_number(variable, kind)
        keymap = os.environ.get("RQTOP_KEYMAP")
        if keymap:
            values["keymap"] = parse_keymap(keymap)
        role = os.environ.get("RQTOP_ROLE", "").strip()
        if role:
            values["role"] = role
        values.update({key: value for key, value in overrides.items() if value is not None})
        if "role" in values:
            values["role_chosen"] = True
            try:
                check_role(values["role"], "--role" if overrides.get("role") else
                           "RQTOP_ROLE" if role else "the config file's field 'role'")
            except RoleError as exc:
                raise SettingsError(str(exc)) from None
        return cls(**values)  # type: ignore[arg-type]
