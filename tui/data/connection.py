"""Redis clients with short, owned timeouts, and URL handling (validation, password masking)."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from worker.masking import MASK

URL_SCHEMES = ("redis", "rediss", "unix")


class BadRedisUrl(ValueError):
    """A Redis URL that cannot be used; the message is one line."""


def resolve_url(explicit: str | None = None) -> str | None:
    """The URL to use: ``--url``, then ``RQ_REDIS_URL``, then ``REDIS_URL``; None means embedded."""
    for candidate in (explicit, os.environ.get("RQ_REDIS_URL"), os.environ.get("REDIS_URL")):
        if candidate:
            return candidate
    return None


def validate_url(url: str) -> str:
    """Return ``url`` unchanged when redis-py can use it as written, else raise BadRedisUrl with one line."""
    parts = urlsplit(url)
    if parts.scheme not in URL_SCHEMES:
        raise BadRedisUrl(f"bad Redis URL {mask_url(url)!r}: scheme must be redis://, rediss:// or unix://")
    if parts.scheme != "unix" and not parts.hostname:
        raise BadRedisUrl(f"bad Redis URL {mask_url(url)!r}: no host")
    try:
        port = parts.port
        redis.connection.parse_url(url)
    except ValueError as exc:
        raise BadRedisUrl(f"bad Redis URL {mask_url(url)!r}: {exc}") from None
    if port == 0:
        raise BadRedisUrl(f"bad Redis URL {mask_url(url)!r}: port 0 (redis-py would silently use 6379)")
    if parts.scheme != "unix" and parts.path not in ("", "/") and not re.fullmatch(r"/\d+", parts.path):
        raise BadRedisUrl(f"bad Redis URL {mask_url(url)!r}: database {parts.path.lstrip('/')!r} is not a number "
                          "(redis-py would silently use database 0)")
    return url


def tls_hint(url: str, exc: BaseException) -> str:
    """Why a rediss:// connection may have failed (a plaintext server lets the TLS handshake time out), or ""."""
    if urlsplit(url).scheme != "rediss" or not isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
        return ""
    if isinstance(exc, redis.TimeoutError) or "ssl" in str(exc).lower():
        return " (TLS handshake failed: the server may not speak TLS; use redis:// for a plaintext server)"
    return ""


_SECRET_PARAM = re.compile(r"(?P<name>[?&;][^=&;#]*(?:pass|pwd|token|secret|auth|key|credential)[^=&;#]*=)[^&;#]*",
                           re.I)
"""A query parameter whose name says it holds a secret (``password=``, ``pwd=``, ``token=``, ``auth=``...)."""


def mask_url(url: str) -> str:
    """The URL with its password and secret query parameters replaced by ``***``, safe to show and log.

    Works on the text, not on ``urlsplit``: a password with an unencoded ``#``, ``/``, ``?`` or ``@`` makes
    urlsplit cut the URL in the wrong place, so the password is everything between ``user:`` and the last
    ``@``; the host, port (IPv6 brackets included) and path stay exactly as written."""
    scheme, sep, rest = url.partition("://")
    if sep:
        userinfo, at, host = rest.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        if at and colon:
            rest = f"{user}:{MASK}@{host}"
    return _SECRET_PARAM.sub(lambda m: m["name"] + MASK, f"{scheme}{sep}{rest}")


def connect(url: str, timeout: float = 2.0) -> redis.Redis:
    """A client that fails fast (no hidden retries) so callers own the reconnect loop."""
    validate_url(url)
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )
