"""The connection flags (--profile, --tls-*, --password-file, --sentinel...) and the Target they build: flags over
the chosen profile over the environment, each value remembering where it came from for one-line errors."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tui.data.profiles import Profile, ProfileError, find_profile
from tui.data.target import Target, split_hosts

F = TypeVar("F", bound=Callable[..., Any])

ENV_VARIABLES = {
    "tls_ca": "RQTOP_TLS_CA", "tls_cert": "RQTOP_TLS_CERT", "tls_key": "RQTOP_TLS_KEY",
    "password_file": "RQTOP_PASSWORD_FILE", "sentinel": "RQTOP_SENTINEL", "sentinel_master": "RQTOP_SENTINEL_MASTER",
}
"""Target field -> the environment variable that sets it when no flag or profile does."""
PASSWORD_ENV = "RQTOP_REDIS_PASSWORD"
"""Holds the password itself (read from the environment, never printed)."""
PROFILE_ENV = "RQTOP_PROFILE"
LOCATION_FIELDS = ("url", "sentinel", "sentinel_master")
"""Where Redis is: a profile that says it replaces the environment's (TLS files and passwords still apply)."""

FLAG_NAMES = ("profile", "tls_ca", "tls_cert", "tls_key", "tls_insecure", "password_file", "sentinel",
              "sentinel_master")
"""The root options connection_options adds (read back with the root context)."""


def connection_options(command: F) -> F:
    """Add the connection flags to a click command."""
    options = [
        click.option("--profile", default=None, metavar="NAME",
                     help=f"Use the config file's [profile.NAME] (URL, TLS, read-only...; ${PROFILE_ENV})."),
        click.option("--tls-ca", default=None, metavar="FILE", help="CA certificate (PEM) for a rediss:// URL."),
        click.option("--tls-cert", default=None, metavar="FILE", help="Client certificate (PEM) for rediss://."),
        click.option("--tls-key", default=None, metavar="FILE", help="Client key (PEM) for --tls-cert."),
        click.option("--tls-insecure", is_flag=True, default=False,
                     help="Do NOT check the server's certificate (labelled in the status bar)."),
        click.option("--password-file", default=None, metavar="FILE",
                     help=f"Read the Redis password from FILE (or the password itself from ${PASSWORD_ENV})."),
        click.option("--sentinel", default=None, metavar="HOST:PORT,...",
                     help="Reach the master through these Redis Sentinels (with --sentinel-master)."),
        click.option("--sentinel-master", default=None, metavar="NAME",
                     help="The master name the sentinels monitor (e.g. mymaster)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def env_target() -> Target:
    """The Target the environment gives: $RQ_REDIS_URL / $REDIS_URL and the RQTOP_* connection variables."""
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for name in ("RQ_REDIS_URL", "REDIS_URL"):
        if os.environ.get(name):
            values["url"], sources["url"] = os.environ[name], f"${name}"
            break
    for field, variable in ENV_VARIABLES.items():
        if os.environ.get(variable, "").strip():
            raw = os.environ[variable].strip()
            values[field] = split_hosts(raw) if field == "sentinel" else raw
            sources[field] = f"${variable}"
    if os.environ.get(PASSWORD_ENV):
        values["password_env"], sources["password_env"] = PASSWORD_ENV, f"${PASSWORD_ENV}"
    return Target().merged(values, lambda field: sources[field])


def build_target(flags: dict[str, Any], profiles: dict[str, Profile]) -> tuple[Target, Profile | None]:
    """Flags over the named profile over the environment; ProfileError for an unknown profile name."""
    target = env_target()
    profile = None
    name = flags.get("profile") or os.environ.get(PROFILE_ENV)
    if name:
        profile = find_profile(profiles, name, "--profile" if flags.get("profile") else f"${PROFILE_ENV}")
        chosen = profile.target
        if chosen.url or chosen.sentinel:  # the profile says where: the environment's address does not apply
            target = Target().merged({field: getattr(target, field) for field in target.sources
                                      if field not in LOCATION_FIELDS}, lambda field: target.sources[field])
        target = target.merged({field: getattr(chosen, field) for field in chosen.sources},
                               lambda field: chosen.sources[field])
    given = {field: flags.get(field) for field in FLAG_NAMES if field != "profile"}
    given["url"] = flags.get("url")
    target = target.merged(given, lambda field: "--" + field.replace("_", "-"))
    return target, profile


__all__ = ["ProfileError", "build_target", "connection_options", "env_target"]
