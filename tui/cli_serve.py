"""The ``rqtop serve`` command: the dashboard in a browser through textual-serve, loopback by default; off loopback
it warns and requires a token. Each browser tab runs its own ``rqtop`` process with the same connection."""

from __future__ import annotations

import os
import shlex
import sys

import click

from tui.cli import _root_option, fail, open_target, url_option
from worker.display_text import safe_text

TARGET_VARIABLES = {"tls_ca": "RQTOP_TLS_CA", "tls_cert": "RQTOP_TLS_CERT", "tls_key": "RQTOP_TLS_KEY",
                    "password_file": "RQTOP_PASSWORD_FILE", "sentinel_master": "RQTOP_SENTINEL_MASTER"}
"""Root flags handed to each session through the environment (never on a command line others can list)."""


def session_command(read_only: bool, refresh: float | None, tls_insecure: bool) -> str:
    """The command textual-serve runs per browser tab: this Python's ``-m tui`` with the flags that are not
    connection details (those travel in the environment)."""
    parts = [sys.executable, "-m", "tui"]
    if read_only:
        parts.append("--read-only")
    if refresh is not None:
        parts += ["--refresh", str(refresh)]
    if tls_insecure:
        parts.append("--tls-insecure")
    return shlex.join(parts)


def session_environment(url: str | None, profile: str | None) -> None:
    """Put the connection flags where each session's ``rqtop`` finds them: $RQ_REDIS_URL, $RQTOP_PROFILE, ..."""
    if url:
        os.environ["RQ_REDIS_URL"] = url
    if profile:
        os.environ["RQTOP_PROFILE"] = profile
    for name, variable in TARGET_VARIABLES.items():
        value = _root_option(name, None)
        if value:
            os.environ[variable] = value
    sentinel = _root_option("sentinel", None)
    if sentinel:
        os.environ["RQTOP_SENTINEL"] = sentinel
    prefix = _root_option("key_prefix", None)
    if prefix:
        os.environ["RQ_KEY_PREFIX"] = prefix


@click.command("serve")
@url_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs --token.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--profile", default=None, metavar="NAME", help="Serve the config file's [profile.NAME].")
@click.option("--token", default=None, metavar="TOKEN|auto",
              help="Require this token (auto: generate one and print it); required off loopback.")
@click.option("--public-url", default=None, metavar="URL",
              help="The address browsers use, when it is not http://HOST:PORT (a proxy, or --host 0.0.0.0).")
def serve(url: str | None, host: str, port: int, profile: str | None, token: str | None,
          public_url: str | None) -> None:
    """Serve the dashboard in a browser (textual-serve): loopback only, unless --host and a token say otherwise."""
    from tui.web.server import DashboardServer, is_loopback, new_token

    if not is_loopback(host) and not token:
        fail(f"serve: --host {host} is not loopback: anyone who reaches it could drive rqtop; give --token TOKEN "
             "(or --token auto to generate one), or bind 127.0.0.1")
    if token == "auto":
        token = new_token()
    if token is not None and len(token) < 12:
        fail("--token: use at least 12 characters (or --token auto)")
    explicit_url = _root_option("url", url)
    chosen = _root_option("profile", profile)
    if explicit_url and chosen:
        fail("serve: give --url or --profile, not both (each session reads the URL from its profile)")
    if chosen and not _root_option("profile", None):
        click.get_current_context().find_root().params["profile"] = chosen
    _, target, _ = open_target(explicit_url)  # bad input: one line, exit 2, before anything listens
    session_environment(explicit_url, chosen)
    if not is_loopback(host):
        click.echo(f"rqtop serve: WARNING: listening on {host}:{port}, beyond this machine: anyone with the token "
                   "can see the jobs and run every action this rqtop may run; put it behind TLS (a proxy)", err=True)
    server = DashboardServer(
        session_command(bool(_root_option("read_only", None)), _root_option("refresh", None),
                        bool(_root_option("tls_insecure", None))),
        host, port, token, public_url, say=lambda line: click.echo(safe_text(line), err=True))
    click.echo(f"rqtop serve: sessions read {target.label()}", err=True)
    try:
        server.serve()
    except OSError as exc:
        fail(f"serve: cannot listen on {host}:{port}: {exc.strerror or exc}")
