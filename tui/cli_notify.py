"""``rqtop notify`` (the sender as its own process, and ``status``) and ``rqtop run-now NAME --notify EMAIL``.

``tui.cli`` attaches both at import; this module imports the worker's notify package only when a command runs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
from pathlib import Path
from typing import Any

import click

DEFAULT_SCHEDULES = "schedules.toml"


def _root() -> Any:
    """``tui.cli`` (imported late: it imports this module)."""
    from tui import cli

    return cli


@click.group("notify", invoke_without_command=True)
@click.option("--url", "-u", default=None, metavar="URL", help="Redis URL (as for every rqtop command).")
@click.option("--schedules", "schedules_path", default=None, type=click.Path(dir_okay=False),
              help="schedules.toml with a [notify] table and per-schedule webhooks (default: ./schedules.toml "
                   "when it exists).")
@click.option("--once", is_flag=True, help="Deliver what is waiting once, print how many, and exit.")
@click.option("--name", default=None, help="Sender name in claims (default: host-notify-pid).")
@click.pass_context
def notify(ctx: click.Context, url: str | None, schedules_path: str | None, once: bool, name: str | None) -> None:
    """Deliver the notification outbox by email and webhook (as a worker in all/scheduler mode does)."""
    if ctx.invoked_subcommand is not None:
        return
    from tui.data.redis_client import client_factory
    from worker.notify.config import NotifyConfigError
    from worker.notify.sender import Sender
    from worker.runner import notify_config
    from worker.schedules import ScheduleError, load_schedules

    root = _root()
    path = schedules_path or (DEFAULT_SCHEDULES if Path(DEFAULT_SCHEDULES).is_file() else None)
    try:
        entries = load_schedules(path, check_imports=False) if path else ()
        config = notify_config(entries, path) if path else notify_config((), os.devnull)
    except (ScheduleError, NotifyConfigError) as exc:
        root.fail(str(exc))
    if not config.active:
        root.fail("notify: nothing to deliver with: set RQTOP_SMTP_URL and/or RQTOP_WEBHOOK_URL")
    _, target, _ = root.open_target(url)  # TLS files, password file, Sentinel: as the dashboard connects
    sender = Sender(client_factory(target)(), config, name or f"{socket.gethostname()}-notify-{os.getpid()}")
    if once:
        sent = root.guarded("notify", sender.pass_once)
        click.echo(f"delivered {sent} notification(s)")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    smtp = config.smtp.masked if config.smtp else "no SMTP"
    click.echo(f"rqtop notify: delivering with {smtp}; webhook {'on' if config.webhook else 'off'}", err=True)
    sender.run_until(stop)


@notify.command("status")
@click.option("--url", "-u", default=None, metavar="URL", help="Redis URL (as for every rqtop command).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def notify_status(url: str | None, as_json: bool) -> None:
    """How many notifications wait, were sent and failed (reads only)."""
    from tui import formatting as fmt
    from worker.notify.outbox import read_status

    root = _root()
    conn, _ = root.open_redis(url)
    status = root.guarded("notify status", lambda: read_status(conn))
    if as_json:
        click.echo(json.dumps({
            "pending": status.pending, "sent": status.sent, "failures": status.failures,
            "failing": status.failing, "last_error": status.last_error, "last_error_at": status.last_error_at,
        }, sort_keys=True))
        return
    click.echo(f"pending {status.pending} · sent {status.sent} · failed attempts {status.failures}"
               + (f" · FAILING: {status.failing}" if status.failing else ""))
    if status.last_error:
        when = fmt.timestamp(status.last_error_at) if status.last_error_at is not None else "?"
        click.echo(f"last error ({when}): {status.last_error}")


def add_notify_option(command: click.Command) -> None:
    """Give ``rqtop run-now NAME`` a ``--notify EMAIL`` option: that address gets an email when the run ends."""
    original = command.callback
    assert original is not None
    command.params.append(click.Option(
        ["--notify", "notify_to"], default=None, metavar="EMAIL",
        help="Email this address when the run ends ('-': $RQTOP_NOTIFY_EMAIL, else the config file's "
             "notify_email).",
    ))

    def callback(notify_to: str | None = None, **kwargs: Any) -> Any:
        if notify_to is None:
            return original(**kwargs)
        from worker.notify.config import NotifyConfigError, addresses, default_notify_address

        root = _root()
        try:
            found = ((default_notify_address(configured=root._settings().notify_email),) if notify_to == "-"
                     else addresses(notify_to, "--notify"))
        except NotifyConfigError as exc:
            root.fail(str(exc))
        if len(found) != 1 or not found[0]:
            root.fail("--notify: give one email address (or '-' with RQTOP_NOTIFY_EMAIL or the config file's "
                      "notify_email set)")
        schedule = kwargs["schedule"]
        actions = root._actions(kwargs["url"], kwargs["read_only"], "run-now", "run_now_notify")
        root._confirm_or_exit(f"run-now {schedule}?", kwargs["yes"])
        root._finish(root.guarded("run-now", lambda: actions.run_now(schedule, notify=found[0])))

    command.callback = callback
