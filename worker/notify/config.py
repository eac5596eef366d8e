"""Notification settings from the environment and ``schedules.toml``, validated into one frozen config.

Environment: ``RQTOP_ALERT_EMAIL`` (comma-separated addresses for system alerts), ``RQTOP_SMTP_URL``
(``smtp://user:pass@host:587``; ``smtps://`` for TLS from the start; STARTTLS with ``smtp+starttls://`` or
``?starttls=1``; ``?from=addr`` sets the sender), ``RQTOP_WEBHOOK_URL``, ``RQTOP_WEBHOOK_SECRET`` (HMAC key of
the ``X-Rqtop-Signature`` header) and ``RQTOP_NOTIFY_EMAIL`` (an operator's default address for Run now +
notify). The ``[notify]`` table (``email``, ``webhook``) adds to them; each schedule's ``notify`` and
``webhook`` override them. Every problem is one line naming the field.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ENV_ALERT_EMAIL = "RQTOP_ALERT_EMAIL"
ENV_SMTP_URL = "RQTOP_SMTP_URL"
ENV_WEBHOOK_URL = "RQTOP_WEBHOOK_URL"
ENV_WEBHOOK_SECRET = "RQTOP_WEBHOOK_SECRET"
ENV_NOTIFY_EMAIL = "RQTOP_NOTIFY_EMAIL"

POLICIES = ("failures", "all", "never")
"""A schedule's ``notify`` values: alert on failed runs only, on every ended run, or never."""

NOTIFY_TABLE_KEYS = ("email", "webhook")
SMTP_SCHEMES = ("smtp", "smtps", "smtp+starttls")
SMTP_TIMEOUT_S = 10.0

_ADDRESS = re.compile(r"[^@\s<>,;\"']+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*")


class NotifyConfigError(ValueError):
    """A notification setting that cannot be used; ``str()`` is one line naming the field."""


def addresses(text: str, field_name: str) -> tuple[str, ...]:
    """Comma-separated email addresses; a malformed one raises NotifyConfigError naming ``field_name``."""
    found = tuple(part.strip() for part in text.split(",") if part.strip())
    for address in found:
        if not _ADDRESS.fullmatch(address):
            raise NotifyConfigError(f"{field_name}: malformed email address {address!r}")
    return found


def webhook_url(text: str, field_name: str) -> str:
    """A webhook URL: http(s) with a host, else NotifyConfigError naming ``field_name`` (the URL is not quoted:
    it may carry a token)."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        scheme = parts.scheme or "no scheme"
        raise NotifyConfigError(f"{field_name}: webhook URL must be http:// or https:// with a host (got {scheme})")
    return text.strip()


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send email, from ``RQTOP_SMTP_URL``."""

    host: str
    port: int
    tls: bool = False
    starttls: bool = False
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""

    @property
    def masked(self) -> str:
        """The URL as it may be printed: the password replaced by ``***``."""
        scheme = "smtps" if self.tls else ("smtp+starttls" if self.starttls else "smtp")
        auth = f"{self.user}:***@" if self.user else ""
        return f"{scheme}://{auth}{self.host}:{self.port}"


def smtp_settings(url: str, field_name: str = ENV_SMTP_URL) -> SmtpSettings:
    """Parse an SMTP URL; a bad one raises NotifyConfigError naming ``field_name`` (never quoting the password)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise NotifyConfigError(f"{field_name}: not a URL like smtp://user:pass@host:587") from None
    if parts.scheme not in SMTP_SCHEMES or not parts.hostname:
        raise NotifyConfigError(f"{field_name}: must be smtp://, smtps:// or smtp+starttls:// with a host")
    query = parse_qs(parts.query)
    starttls = parts.scheme == "smtp+starttls" or query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes")
    sender = query.get("from", [""])[-1]
    if sender:
        addresses(sender, f"{field_name} (from)")
    tls = parts.scheme == "smtps"
    return SmtpSettings(
        host=parts.hostname, port=port or (465 if tls else 587 if starttls else 25), tls=tls, starttls=starttls,
        user=unquote(parts.username or ""), password=unquote(parts.password or ""), sender=sender,
    )


def open_smtp(settings: SmtpSettings, timeout: float = SMTP_TIMEOUT_S) -> smtplib.SMTP:
    """A connected (and, with a user, logged-in) SMTP client; raises OSError or smtplib.SMTPException."""
    client: smtplib.SMTP
    if settings.tls:
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    try:
        client.ehlo()
        if settings.starttls:
            client.starttls()
            client.ehlo()
        if settings.user:
            client.login(settings.user, settings.password)
    except BaseException:
        client.close()
        raise
    return client


def check_smtp(settings: SmtpSettings) -> None:
    """Connect once at start: an unreachable server or refused login raises NotifyConfigError (one line)."""
    try:
        client = open_smtp(settings, timeout=5.0)
    except (OSError, smtplib.SMTPException) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotifyConfigError(f"{ENV_SMTP_URL}: cannot use SMTP server {settings.masked} ({reason})") from None
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


@dataclass(frozen=True)
class NotifyConfig:
    """Everything a sender and the schedule registration need to know about notifications."""

    alert_email: tuple[str, ...] = ()
    webhook: str = ""
    webhook_secret: str = field(default="", repr=False)
    smtp: SmtpSettings | None = None
    schedule_webhooks: Mapping[str, str] = field(default_factory=dict)
    policies: Mapping[str, str] = field(default_factory=dict)
    """Schedule name -> effective policy (failures, all or never)."""

    @property
    def sender(self) -> str:
        """The From address: the SMTP URL's ``from``, else rqtop@<this host>."""
        if self.smtp is not None and self.smtp.sender:
            return self.smtp.sender
        return f"rqtop@{socket.gethostname() or 'localhost'}"

    @property
    def active(self) -> bool:
        """Whether this config can deliver anything (a sender is worth running)."""
        return self.smtp is not None or bool(self.webhook) or any(self.schedule_webhooks.values())

    def webhook_for(self, schedule: str) -> str:
        """The webhook a schedule's alerts go to: its own, else the global one, else ""."""
        return self.schedule_webhooks.get(schedule) or self.webhook


def effective_policy(own: str | None, own_webhook: str | None, has_global_target: bool) -> str:
    """A schedule's policy: its own ``notify``, else ``all`` when any target is configured, else ``never``."""
    if own:
        return own
    return "all" if has_global_target or own_webhook else "never"


def load_config(
    entries: tuple[Any, ...] = (), table: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
) -> NotifyConfig:
    """The notification config from the environment, the ``[notify]`` table and the schedules' own fields."""
    env = os.environ if env is None else env
    table = table or {}
    alert = addresses(env.get(ENV_ALERT_EMAIL, ""), ENV_ALERT_EMAIL)
    alert += tuple(a for a in addresses(str(table.get("email", "")), "[notify] email") if a not in alert)
    hook = env.get(ENV_WEBHOOK_URL, "").strip()
    hook = webhook_url(hook, ENV_WEBHOOK_URL) if hook else ""
    if not hook and table.get("webhook"):
        hook = webhook_url(str(table["webhook"]), "[notify] webhook")
    smtp_url = env.get(ENV_SMTP_URL, "").strip()
    smtp = smtp_settings(smtp_url) if smtp_url else None
    default_to = env.get(ENV_NOTIFY_EMAIL, "").strip()
    if default_to:
        addresses(default_to, ENV_NOTIFY_EMAIL)
    if alert and smtp is None:
        raise NotifyConfigError(f"{ENV_SMTP_URL}: not set, but alert email addresses are configured")
    has_global = bool(alert or hook)
    return NotifyConfig(
        alert_email=alert, webhook=hook, webhook_secret=env.get(ENV_WEBHOOK_SECRET, ""), smtp=smtp,
        schedule_webhooks={e.name: e.webhook for e in entries if getattr(e, "webhook", None)},
        policies={e.name: effective_policy(getattr(e, "notify", None), getattr(e, "webhook", None), has_global)
                  for e in entries},
    )


def default_notify_address(env: Mapping[str, str] | None = None, configured: str = "") -> str:
    """The operator's default Run now + notify address: ``RQTOP_NOTIFY_EMAIL``, else ``configured`` (the config
    file's ``notify_email``), else the first alert address."""
    env = os.environ if env is None else env
    own = env.get(ENV_NOTIFY_EMAIL, "").strip()
    if own:
        return addresses(own, ENV_NOTIFY_EMAIL)[0]
    if configured.strip():
        return addresses(configured, "notify_email")[0]
    alert = addresses(env.get(ENV_ALERT_EMAIL, ""), ENV_ALERT_EMAIL)
    return alert[0] if alert else ""
