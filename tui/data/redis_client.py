"""The Redis client for a Target: every setting checked first (files loaded once, so a bad one is named now),
then a client that fails fast; a failed connect explained in one line naming the setting to fix."""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, Sentinel

from tui.data.connection import BadRedisUrl, mask_url, tls_hint, validate_url
from tui.data.sentinel_connection import master_connection_class
from tui.data.target import Target, TargetError


def _address(target: Target, host: str) -> tuple[str, int]:
    """(host, port) of one ``host:port``, else TargetError naming the sentinel source."""
    name, _, port = host.rpartition(":")
    if not name or not port.isdigit() or not 0 < int(port) < 65536:
        raise TargetError(f"{target.source('sentinel')}: {host!r} is not host:port")
    return name.strip("[]"), int(port)


def _readable(target: Target, name: str) -> str:
    """The path of file field ``name`` (with ~ expanded) when it can be read, else TargetError naming it."""
    raw = getattr(target, name)
    path = Path(os.path.expanduser(raw))
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise TargetError(f"{target.source(name)}: cannot read {raw}: {exc.strerror or exc}") from None
    return str(path)


def _check_tls_files(target: Target) -> dict[str, object]:
    """redis-py's ssl_* arguments, after loading each file once so a bad one is named now, not at connect."""
    options: dict[str, object] = {}
    for name in ("tls_ca", "tls_cert", "tls_key"):
        if getattr(target, name) and not target.tls:
            raise TargetError(f"{target.source(name)}: TLS files need a rediss:// URL "
                              f"(the URL is {mask_url(target.effective_url)})")
    if target.tls_key and not target.tls_cert:
        raise TargetError(f"{target.source('tls_key')}: a client key needs its certificate (--tls-cert)")
    if target.tls and target.tls_insecure:
        options.update(ssl_cert_reqs="none", ssl_check_hostname=False)
    if not (target.tls_ca or target.tls_cert):
        return options
    context = ssl.create_default_context()  # ~20 ms (it loads the system's CA store): only to check files given
    if target.tls_ca:
        ca = _readable(target, "tls_ca")
        try:
            context.load_verify_locations(cafile=ca)
        except (ssl.SSLError, ValueError) as exc:
            raise TargetError(f"{target.source('tls_ca')}: {target.tls_ca} is not a PEM CA certificate "
                              f"({exc.__class__.__name__}: {exc})") from None
        options["ssl_ca_certs"] = ca
    if target.tls_cert:
        cert = _readable(target, "tls_cert")
        key = _readable(target, "tls_key") if target.tls_key else None
        try:
            context.load_cert_chain(cert, key)
        except (ssl.SSLError, ValueError) as exc:
            raise TargetError(f"{target.source('tls_cert')}: {target.tls_cert} and its key are not a usable "
                              f"PEM certificate and key ({exc})") from None
        options["ssl_certfile"] = cert
        if key:
            options["ssl_keyfile"] = key
    return options


def _password(target: Target) -> str | None:
    """The password from the password file or variable; TargetError naming the source when it is unusable."""
    if target.password_file:
        path = _readable(target, "password_file")
        text = Path(path).read_text(encoding="utf-8", errors="replace").strip("\r\n")
        if not text:
            raise TargetError(f"{target.source('password_file')}: {target.password_file} is empty")
        return text
    if target.password_env:
        value = os.environ.get(target.password_env, "")
        if not value:
            raise TargetError(f"{target.source('password_env')}: the variable ${target.password_env} is not set")
        return value
    return None


def check(target: Target) -> dict[str, object]:
    """The client arguments for ``target`` after checking every setting; TargetError naming the bad one."""
    try:
        validate_url(target.effective_url)
    except BadRedisUrl as exc:
        given = target.sources.get("url")
        raise TargetError(f"{given}: {exc}" if given and given != "--url" else str(exc)) from None
    options = _check_tls_files(target)
    password = _password(target)
    if password is not None:
        if urlsplit(target.effective_url).password:
            raise TargetError(f"{target.source('password_file' if target.password_file else 'password_env')}: "
                              "the URL already holds a password; give one or the other")
        options["password"] = password
    if target.sentinel and not target.sentinel_master:
        raise TargetError(f"{target.source('sentinel_master')}: needed with {target.source('sentinel')} "
                          "(the name the sentinels monitor, e.g. mymaster)")
    if target.sentinel_master and not target.sentinel:
        raise TargetError(f"{target.source('sentinel')}: needed with {target.source('sentinel_master')} "
                          "(host:port of one or more sentinels)")
    for host in target.sentinel:
        _address(target, host)
    return options


def _asking(target: Target, options: dict[str, object], timeout: float) -> dict[str, object]:
    """The client arguments of a connection to a sentinel: a TLS deployment's sentinels listen on TLS too
    (sentinel.conf: ``tls-port``, ``port 0``), checked with the same CA and client certificate as the master."""
    asking: dict[str, object] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if target.tls:
        asking.update(ssl=True, **{name: value for name, value in options.items() if name.startswith("ssl_")})
    return asking


def _sentinel_said(target: Target) -> BaseException | None:
    """Why the first sentinel does not answer a PING (its TLS or connect error, not redis-py's summary of it)."""
    host, port = _address(target, target.sentinel[0])
    probe = redis.Redis(host=host, port=port, **_asking(target, check(target), 2.0))  # type: ignore[arg-type]
    try:
        probe.ping()
    except (redis.RedisError, OSError) as exc:
        return exc
    finally:
        probe.close()
    return None


def client(target: Target, timeout: float = 2.0, *, blocking: bool = False) -> redis.Redis:
    """A client that fails fast (no hidden retries, so callers own the reconnect loop); for Sentinel, one whose
    every new connection asks the sentinels for the current master, so a reconnect follows a failover. With
    ``blocking`` (a worker's) only connecting is timed: a read waits as long as RQ's own socket timeout lets it."""
    options = check(target)
    fast: dict[str, object] = {"socket_timeout": None if blocking else timeout, "socket_connect_timeout": timeout,
                               "retry": Retry(NoBackoff(), 0), "health_check_interval": 0}
    if not target.sentinel:
        return redis.Redis.from_url(target.effective_url, **fast, **options)
    parsed = redis.connection.parse_url(target.effective_url) if target.url else {}
    master_options: dict[str, object] = {**fast, **options}
    for name in ("username", "password", "db"):
        if parsed.get(name) is not None:
            master_options[name] = parsed[name]
    master_options["connection_class"] = master_connection_class(target.tls)  # replaces redis-py's ssl=True choice
    sentinel = Sentinel([_address(target, host) for host in target.sentinel],
                        sentinel_kwargs=_asking(target, options, timeout), socket_timeout=timeout)
    master_for: Any = sentinel.master_for  # its keyword types differ between redis-py releases
    master: redis.Redis = master_for(str(target.sentinel_master), redis_class=redis.Redis, **master_options)
    return master


def _auth_source(target: Target) -> str:
    """Where the password came from, for a refused login."""
    if target.password_file:
        return target.source("password_file")
    if target.password_env:
        return target.source("password_env")
    return target.source("url")


def explain(target: Target, exc: BaseException) -> str:
    """One line for a failed connect or PING that names the setting to fix (password, CA, master name...)."""
    text = " ".join(str(exc).split())
    lowered = text.lower()
    if isinstance(exc, MasterNotFoundError):
        if " : " in text:  # redis-py lists the sentinels that did not answer after " : " (as client reprs)
            said = _sentinel_said(target)
            if said is not None and not isinstance(said, MasterNotFoundError):
                why = explain(target, said)
                if not why.startswith("cannot reach"):  # a named cause: the CA, a client certificate, a password
                    return f"{why} (asking the sentinels at {','.join(target.sentinel)})"
            return (f"{target.source('sentinel')}: no master {target.sentinel_master!r} found; sentinels that did "
                    f"not answer: {','.join(target.sentinel)}" + (f" ({one_line_of(said)})" if said else ""))
        return (f"{target.source('sentinel_master')}: the sentinels at {','.join(target.sentinel)} know no master "
                f"named {target.sentinel_master!r} ({text})")
    if isinstance(exc, redis.AuthenticationError) or "wrongpass" in lowered or "invalid password" in lowered \
            or "invalid username-password" in lowered or "noauth" in lowered:
        return f"{_auth_source(target)}: Redis refused the user name or password ({text})"
    if "certificate verify failed" in lowered:
        if target.tls_ca:
            return (f"{target.source('tls_ca')}: the server's certificate is not signed by {target.tls_ca} "
                    f"or does not name this host ({text})")
        return ("--tls-ca: the server's certificate is not trusted by the system's CAs; give its CA with "
                f"--tls-ca (or --tls-insecure to skip the check) ({text})")
    if target.tls and ("certificate required" in lowered or "handshake failure" in lowered
                       or ("eof occurred in violation of protocol" in lowered and not target.tls_cert)):
        return (f"{target.source('tls_cert')}: the server closed the TLS connection: it wants a client certificate "
                f"and key signed by its CA (--tls-cert, --tls-key) ({text})")
    given = target.sources.get("url")
    where = f" (from {given})" if given and given != "--url" else ""
    return f"cannot reach Redis at {target.label()}{where}: {text}{tls_hint(target.effective_url, exc)}"


def one_line_of(exc: BaseException) -> str:
    """An exception as one line: its type and its words."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def client_factory(target: Target) -> Callable[[], redis.Redis]:
    """Makes the clients of a long-running writer (``rqtop worker``, ``rqtop notify``) for ``target``, every setting
    checked now: each call a client of its own pool whose reads wait as long as RQ's own timeouts let them (a
    Sentinel one asks the sentinels at each new connection, so the worker's reconnect follows a failover)."""
    check(target)
    return lambda: client(target, blocking=True)


def connect_checked(target: Target, timeout: float = 2.0) -> redis.Redis:
    """``client(target)`` after one PING; TargetError with the line ``explain`` gives when it does not answer."""
    conn = client(target, timeout)
    try:
        conn.ping()
    except (redis.RedisError, OSError) as exc:
        raise TargetError(explain(target, exc)) from None
    return conn
