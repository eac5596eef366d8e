"""Where and how to reach Redis: a URL or Sentinel, TLS files, and a password kept apart (plain data, no redis).

Every value remembers where it came from (a flag, an environment variable or a profile field), so a bad one is
one line naming that source; the password is read from a file or a variable and never shows in a label.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

DEFAULT_URL = "redis://localhost:6379/0"
SENTINEL_PORT = 26379


class TargetError(ValueError):
    """A connection setting that cannot be used, or a connection that failed; the message is one line."""


@dataclass(frozen=True)
class Target:
    """A Redis to connect to, as given: ``sources`` maps each field set to the flag or field that set it."""

    url: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_insecure: bool = False
    password_file: str | None = None
    password_env: str | None = None
    """The name of an environment variable holding the password (never its value)."""
    sentinel: tuple[str, ...] = ()
    """Sentinel addresses as ``host:port``."""
    sentinel_master: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    def source(self, name: str) -> str:
        """The flag, variable or profile field that gave ``name`` (the flag's spelling when nothing did)."""
        return self.sources.get(name, "--" + name.replace("_", "-"))

    def merged(self, values: Mapping[str, object], source: Callable[[str], str]) -> Target:
        """This target with ``values`` (None entries skipped) laid over it, each remembered as ``source(name)``."""
        given = {name: value for name, value in values.items() if value not in (None, (), False)}
        if "sentinel" in given and isinstance(given["sentinel"], str):
            given["sentinel"] = split_hosts(str(given["sentinel"]))
        sources = {**self.sources, **{name: source(name) for name in given}}
        return replace(self, **given, sources=sources)  # type: ignore[arg-type]

    @property
    def effective_url(self) -> str:
        """The URL in use (the default when none was given)."""
        return self.url or DEFAULT_URL

    @property
    def tls(self) -> bool:
        """True when the connection speaks TLS (a rediss:// URL)."""
        return urlsplit(self.effective_url).scheme == "rediss"

    def label(self) -> str:
        """Where we read from, safe to show and log: the masked URL or the Sentinel master, and how TLS checks."""
        from tui.data.connection import mask_url  # imports redis: only when a label is shown

        if self.sentinel:
            parts = urlsplit(self.effective_url)
            db = parts.path.lstrip("/") or "0"
            text = f"sentinel {self.sentinel_master} via {','.join(self.sentinel)} db {db}"
        else:
            text = mask_url(self.effective_url)
        if self.tls and self.tls_insecure:
            text += " · TLS NOT VERIFIED"
        return text


def split_hosts(text: str) -> tuple[str, ...]:
    """``h1:26379, h2`` -> ("h1:26379", "h2:26379")."""
    hosts = []
    for item in text.split(","):
        item = item.strip()
        if item:
            hosts.append(item if ":" in item.rsplit("]", 1)[-1] else f"{item}:{SENTINEL_PORT}")
    return tuple(hosts)
