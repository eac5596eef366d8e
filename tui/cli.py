"""The `rqtop` command line: the dashboard, the demo, the worker, status --json and the action twins."""

from __future__ import annotations

import gc
import json
import math
import os
import re
import sys
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
import redis

from tui import formatting as fmt
from tui.action_table import ACTIONS, CliVerb, OperatorAction
from tui.cli_target import connection_options
from tui.data.connection import mask_url, resolve_url
from tui.data.profiles import Profile
from tui.data.redis_client import connect_checked
from tui.data.roles import ROLES
from tui.data.settings import Settings, SettingsError
from tui.data.target import Target, TargetError
from tui.protocols import OperatorActions
from worker import keys
from worker.display_text import safe_text
from worker.records import one_line

DEFAULT_URL = "redis://localhost:6379/0"
EXIT_USAGE = 2
T = TypeVar("T")

url_option = click.option(
    "--url", "-u", default=None, metavar="URL",
    help="Redis URL (default: $RQ_REDIS_URL, then $REDIS_URL, then redis://localhost:6379/0).",
)

key_prefix_option = click.option(
    "--key-prefix", default=None, metavar="PREFIX",
    help="RQ's key prefix, as RQ 3 names it (default: $RQ_KEY_PREFIX, then rq).",
)


def fail(message: str) -> NoReturn:
    """Print one line (safe display text: it can quote Redis) to stderr and exit 2."""
    click.echo(f"rqtop: error: {safe_text(message)}", err=True)
    sys.exit(EXIT_USAGE)


def redis_said(exc: redis.RedisError) -> str:
    """What Redis said, as one line: refused (ACL, OOM, wrong type), no answer in time, or connection lost."""
    if isinstance(exc, redis.TimeoutError):
        how = "Redis did not answer in time"
    elif isinstance(exc, redis.ConnectionError):
        how = "lost the connection to Redis"
    else:
        how = "Redis refused"
    return f"{how} ({type(exc).__name__}): {one_line(exc)}"


def guarded(verb: str, call: Callable[[], T]) -> T:
    """``call()``, or one line naming ``verb`` and what Redis said and exit 2 (the audit log holds the rest)."""
    try:
        return call()
    except redis.RedisError as exc:
        fail(f"{verb}: {redis_said(exc)}")


def _root_option(name: str, value: Any) -> Any:
    """A subcommand's option, else the same option given before the subcommand (``rqtop -u URL status``)."""
    if value:
        return value
    ctx = click.get_current_context(silent=True)
    return ctx.find_root().params.get(name) if ctx is not None else None


def _command_option(name: str) -> Any:
    """A connection flag given after the subcommand (``rqtop worker --sentinel …``, the commands that take
    ``connection_options`` themselves), else before it."""
    ctx = click.get_current_context(silent=True)
    return _root_option(name, ctx.params.get(name) if ctx is not None else None)


def require_rq3() -> None:
    """Exit 2 with one line when the installed rq is older than 3.0 (the worker needs RQ 3's executions and
    hooks; the dashboard and status read any RQ >= 2.0 and import no rq code)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("rq")
    except PackageNotFoundError:
        fail("rqtop worker needs rq >= 3.0, and rq is not installed")
    major = installed.split(".", 1)[0]
    if not major.isdigit() or int(major) < 3:
        fail(f"rqtop worker needs rq >= 3.0 (installed: rq {installed}); the dashboard and `rqtop status` "
             "work with rq 2.x, or install rqtop with pipx to keep its own rq 3")


def use_key_prefix(prefix: str | None) -> None:
    """Read RQ's keys under ``prefix`` (the flag), else $RQ_KEY_PREFIX; a prefix RQ would refuse exits 2."""
    chosen = prefix or os.environ.get(keys.RQ_KEY_PREFIX_ENV) or None
    if chosen is None:
        return
    try:
        keys.set_rq_prefix(chosen)
    except ValueError as exc:
        source = "--key-prefix" if prefix else f"${keys.RQ_KEY_PREFIX_ENV}"
        fail(f"{source}: {exc}")


def url_source(explicit: str | None) -> str | None:
    """Where the URL came from when the environment gave it ($RQ_REDIS_URL, $REDIS_URL); None for --url or none."""
    if explicit:
        return None
    for name in ("RQ_REDIS_URL", "REDIS_URL"):
        if os.environ.get(name):
            return f"${name}"
    return None


def redis_target(url: str | None = None) -> tuple[Target, Profile | None]:
    """The Target the flags (before or after the subcommand), the chosen profile and the environment give; a bad
    profile or config file is one line and exit 2."""
    from tui.cli_target import FLAG_NAMES, build_target
    from tui.data.config_file import load_profiles

    flags = {name: _command_option(name) for name in FLAG_NAMES}
    flags["url"] = _root_option("url", url)
    try:
        profiles = load_profiles()
        check_colours(profiles)
        return build_target(flags, profiles)
    except SettingsError as exc:
        fail(str(exc))


def check_colours(profiles: dict[str, Profile]) -> None:
    """SettingsError naming the profile whose ``color`` the status bar could not show (Textual, ~75 ms to import,
    is imported only when a profile names a colour: ``status`` and the other one-shot commands need none of it)."""
    coloured = [profile for profile in profiles.values() if profile.color]
    if not coloured:
        return
    from textual.color import Color, ColorParseError

    from tui.data.config_file import config_path

    for profile in coloured:
        try:
            Color.parse(profile.color)
        except ColorParseError:
            raise SettingsError(f"{config_path()}: profile {profile.name!r} field 'color': {profile.color!r} is "
                                "not a colour (a name such as red, green, orange, or #rrggbb)") from None


def open_target(url: str | None = None) -> tuple[redis.Redis, Target, Profile | None]:
    """Connect and PING, or exit 2 with one line naming the flag, variable or profile field to fix."""
    use_key_prefix(_root_option("key_prefix", None))
    target, profile = redis_target(url)
    try:
        conn = connect_checked(target)
    except TargetError as exc:
        fail(str(exc))
    if target.tls_insecure and target.tls:
        click.echo(f"rqtop: WARNING: {target.source('tls_insecure')}: the server's TLS certificate is NOT checked; "
                   "anyone on the path can read and change what rqtop sends", err=True)
    return conn, target, profile


def open_redis(url: str | None) -> tuple[redis.Redis, str]:
    """Connect and PING, or exit 2 with one line; returns the client and the URL (a label for Sentinel)."""
    conn, target, _ = open_target(url)
    return conn, target.label() if target.sentinel else target.effective_url


def _settings(read_only: bool | None = None, refresh: float | None = None) -> Settings:
    """Settings from the config file, the chosen profile and the environment with CLI overrides (given before or
    after the subcommand); a bad value is one line and exit 2."""
    target, profile = redis_target()
    try:
        return settings_for(profile, target, _root_option("read_only", read_only), _root_option("refresh", refresh),
                            role=_root_option("role", None), timezone=_root_option("tz", None))
    except SettingsError as exc:
        fail(str(exc))


def settings_for(profile: Profile | None, target: Target, read_only: bool | None, refresh: float | None,
                 role: str | None = None, timezone: str | None = None) -> Settings:
    """Settings from the config file, ``profile`` and the environment, with the flags over them; SettingsError
    for a bad value."""
    from tui.data.config_file import load_config

    chosen = profile.settings_values() if profile is not None else {}
    return Settings.from_env({**load_config(), **chosen}, read_only=read_only or None, refresh_s=refresh,
                             tls_unverified=(target.tls and target.tls_insecure) or None, role=role,
                             timezone=timezone)


MIN_REFRESH_S, MAX_REFRESH_S = 0.2, 3600.0


def _refresh_seconds(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """``--refresh`` as a finite number of seconds in range (nan would busy-loop, inf never refresh)."""
    if value is not None and not (math.isfinite(value) and MIN_REFRESH_S <= value <= MAX_REFRESH_S):
        raise click.BadParameter(f"{value!r} is not a number of seconds from {MIN_REFRESH_S} to {MAX_REFRESH_S:g}")
    return value


def _zone_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--tz`` as a zone that exists (an IANA name, UTC or local); every time shown from then on is in it."""
    if value is not None:
        try:
            fmt.use_zone(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
    return value


def _config_zone() -> None:
    """A command's times in the config file's ``timezone`` when ``--tz`` names none; a config that cannot be read
    changes nothing here (the commands that read the settings say what is wrong with it, in one line)."""
    from tui.data.config_file import load_config

    try:
        zone = load_config().get("timezone")
        if isinstance(zone, str):
            fmt.use_zone(zone)
    except (SettingsError, ValueError, OSError):
        pass


class RqtopGroup(click.Group):
    """A click group whose usage errors are one line and exit 2, and whose help lists each command's whole first
    sentence (wrapped, never cut with "...")."""

    group_class = type  # `@cli.group()` subgroups list their commands the same way

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The "Commands" section with uncut summaries."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Abort:
            click.echo("rqtop: aborted", err=True)
            sys.exit(1)
        except click.UsageError as exc:
            fail(exc.format_message().splitlines()[0])
        except click.ClickException as exc:
            fail(exc.format_message())


@click.group(cls=RqtopGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@url_option
@click.option("--refresh", type=float, default=None, callback=_refresh_seconds,
              help="Seconds between refreshes, 0.2 to 3600 (2).")
@click.option("--read-only", is_flag=True, default=False, help="Hide and refuse every action ($RQTOP_READ_ONLY=1).")
@click.option("--role", type=click.Choice(ROLES), default=None,
              help="Act as this role ($RQTOP_ROLE, the config file's role; default admin); Redis may make it weaker.")
@click.option("--tz", default=None, metavar="ZONE", callback=_zone_option,
              help="Show times in ZONE: an IANA name (Europe/Berlin), UTC or local (default: the config file's "
                   "timezone, else UTC).")
@key_prefix_option
@connection_options
@click.version_option(package_name="rqtop")
@click.pass_context
def cli(ctx: click.Context, url: str | None, refresh: float | None, read_only: bool, role: str | None, tz: str | None,
        key_prefix: str | None, **connection: Any) -> None:
    """rqtop: a terminal dashboard for RQ. Without a command, opens the dashboard."""
    if ctx.invoked_subcommand is not None:
        if tz is None:
            _config_zone()
        return
    conn, target, _ = open_target(url)
    run_dashboard(conn, target.label(), _settings(read_only, refresh), profiles=profile_sessions(conn, read_only,
                                                                                               refresh))


def profile_sessions(conn: redis.Redis, read_only: bool, refresh: float | None) -> Any:
    """The App's profile switcher over the config file's profiles (None when there are none)."""
    from tui.data.config_file import load_profiles
    from tui.sessions import ProfileSessions

    profiles = load_profiles()
    if not profiles:
        return None
    return ProfileSessions(profiles, lambda profile, target: settings_for(profile, target, read_only, refresh), conn)


def run_dashboard(conn: redis.Redis, url: str, settings: Settings, notice: str | None = None,
                  watch: Callable[[], str | None] | None = None, profiles: Any = None) -> None:
    """Build the App with the real reader and actions and run it (a keymap naming no binding exits 2); ``notice``
    is a first toast, ``watch`` names a dead helper process (the demo's Redis or worker) for a toast."""
    from tui.bindings import BINDING_IDS

    unknown = sorted({binding_id for binding_id, _ in settings.keymap} - BINDING_IDS)
    if unknown:
        fail(f"RQTOP_KEYMAP or the config file's keymap: no binding with id {', '.join(map(repr, unknown))} "
             f"(ids: {', '.join(sorted(BINDING_IDS))})")
    app = dashboard_app(conn, url, settings, notice, profiles)
    app.watch_problem = watch
    app.run()


def dashboard_app(conn: redis.Redis, url: str, settings: Settings, notice: str | None = None,
                  profiles: Any = None) -> Any:
    """The App on the real reader and actions, acting as the weaker of the configured role and the one Redis lets
    this user act as (which also decides whether payloads show unmasked)."""
    from tui.app import RqtopApp
    from tui.data.acl import acting_role
    from tui.data.actions import DashboardActions
    from tui.data.reader import DashboardReader
    from tui.data.shared_snapshot import SharedSnapshotReader

    settings, redis_user, problem = acting_role(conn, settings)
    app = RqtopApp(
        reader=SharedSnapshotReader(DashboardReader(conn, settings)),
        actions=DashboardActions(conn, settings, redis_user=redis_user),
        settings=settings,
        url_label=mask_url(url),
        profiles=profiles,
    )
    app.first_notice = "\n".join(text for text in (notice, problem) if text) or None
    return app


@cli.command()
@url_option
@click.option("--schedules", "schedules_path", default="schedules.toml", type=click.Path(dir_okay=False),
              show_default=True, help="The schedules file the demo worker registers.")
@click.option("--no-dashboard", is_flag=True, help="Run Redis, worker and traffic without the dashboard.")
@click.option("--duration", type=float, default=None, help="With --no-dashboard: stop after this many seconds.")
def demo(url: str | None, schedules_path: str, no_dashboard: bool, duration: float | None) -> None:
    """Private embedded Redis (unless a URL is given), a worker in mode all, demo traffic and the dashboard."""
    from tui.demo import demo_platform

    target = resolve_url(_root_option("url", url))
    if target:
        open_redis(target)  # a bad or unreachable URL: one line, exit 2, before anything starts
    settings = _settings()
    with demo_platform(target, Path(schedules_path)) as platform:
        if no_dashboard:
            platform.wait(duration)
        else:
            run_dashboard(platform.conn, platform.url, settings,
                          notice=f"Attach a second dashboard: {platform.attach}  (or: make attach)",
                          watch=platform.problem)


@cli.command()
@url_option
@connection_options
@click.option("--mode", type=click.Choice(["all", "worker", "scheduler"]), default="all", show_default=True,
              help="Run jobs, queue scheduled runs, or both.")
@click.option("--queues", default="high,default,low", show_default=True, help="Comma-separated, in priority order.")
@click.option("--schedules", "schedules_path", default="schedules.toml", type=click.Path(dir_okay=False),
              show_default=True, help="The schedules file (modes all and scheduler).")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--name", default=None, help="Worker name (default: RQ's).")
@click.option("--read-only", is_flag=True, hidden=True, help="Refused: a worker writes by nature.")
@click.option("--snapshot/--no-snapshot", "share", default=True, show_default=True,
              help="Modes all and scheduler: share a dashboard snapshot every --snapshot-interval, so open dashboards "
                   "read one key instead of everything.")
@click.option("--snapshot-interval", type=click.FloatRange(min=0.5, max=60), default=2.0, show_default=True,
              help="Seconds between shared snapshots (the dashboards' refresh).")
def worker(url: str | None, mode: str, queues: str, schedules_path: str, burst: bool, name: str | None,
           read_only: bool, share: bool, snapshot_interval: float, **connection: Any) -> None:
    """Run an rqtop worker: RQ worker with heartbeats and bookkeeping, and/or the scheduler; it connects as the
    dashboard does (--profile, TLS files, --password-file, Sentinel, and follows a Sentinel failover)."""
    require_rq3()
    import faulthandler

    from worker.runner import default_name, run
    from worker.schedules import ScheduleError, load_schedules

    faulthandler.enable()  # a crash in native code (hiredis, a job's extension) leaves every thread's stack in the log
    if _root_option("read_only", read_only):
        fail("worker: refused with --read-only: a worker writes by nature (runs jobs, records them, registers "
             "schedules); nothing was started")
    queue_names = tuple(q.strip() for q in queues.split(",") if q.strip())
    if not queue_names:
        fail("--queues: give at least one queue name")
    if mode in ("all", "scheduler"):
        try:
            load_schedules(schedules_path)
        except ScheduleError as exc:
            fail(str(exc))
    conn, target, _ = open_target(url)  # every connection setting checked and one PING: a bad one is one line, exit 2
    from tui.data.redis_client import client_factory
    from worker.notify.config import NotifyConfigError

    name = name or default_name(mode)
    stop = threading.Event()
    publisher = start_publisher(conn, name, snapshot_interval, stop) \
        if share and mode in ("all", "scheduler") and not burst else None
    try:
        run(client_factory(target), mode=mode, queues=queue_names, schedules_path=schedules_path,
            burst=burst, name=name, stop_event=stop)
    except NotifyConfigError as exc:
        fail(str(exc))
    finally:
        stop.set()
        if publisher is not None:  # let a publish under way finish: a daemon thread still in native code (hiredis)
            publisher.join(PUBLISHER_JOIN_S)  # when the interpreter exits can crash the process at its exit


PUBLISHER_JOIN_S = 5.0
"""How long the worker's exit waits for the snapshot publisher's last publish (a read of one refresh, ~ms)."""


def start_publisher(conn: redis.Redis, name: str, interval_s: float, stop: threading.Event
                    ) -> threading.Thread | None:
    """Share a dashboard snapshot from a thread beside the worker until ``stop`` (``tui.data.shared_snapshot``;
    worker/ knows nothing of the dashboard); returns that thread. Settings that cannot be read only leave the
    snapshot unshared (None)."""
    import socket

    from tui.data.shared_snapshot import SnapshotPublisher
    from worker.runner import _setup_logging  # the worker's own log format (run() calls it too: idempotent)

    _setup_logging()
    target, profile = redis_target()
    try:
        settings = settings_for(profile, target, None, None)
    except SettingsError as exc:
        click.echo(f"rqtop: warning: no shared snapshot: {safe_text(str(exc))}", err=True)
        return None
    publisher = SnapshotPublisher(conn, settings, name, socket.gethostname(), interval_s)
    thread = threading.Thread(target=publisher.run_until, args=(stop,), name="rqtop-snapshot", daemon=True)
    thread.start()
    return thread


@cli.command()
@url_option
@key_prefix_option
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document (everything the three tabs show, with schema_version) instead.")
def status(url: str | None, key_prefix: str | None, as_json: bool) -> None:
    """Print one summary line of jobs, workers and schedules; --json prints everything the tabs show."""
    from tui.data.reader import DashboardReader
    from tui.data.status_document import status_bytes

    if key_prefix:
        use_key_prefix(key_prefix)
    gc.disable()  # one read, then exit: the cyclic collector would only rescan the rows as they pile up (~10 %)
    conn, target = open_redis(url)
    try:
        snapshot = DashboardReader(conn, read_settings(conn, "status")).read()
    except redis.RedisError as exc:
        fail(f"cannot read from Redis at {mask_url(target)}: {one_line(exc)}")
    if as_json:
        sys.stdout.flush()
        sys.stdout.buffer.write(status_bytes(snapshot) + b"\n")  # 7.5 MB at 10,000 workers: the bytes orjson made
        sys.stdout.buffer.flush()
        return
    totals = snapshot.totals
    online = sum(1 for w in snapshot.workers if w.status == "online")
    click.echo(
        f"{mask_url(target)}: {totals.active} active, {totals.pending} pending, {totals.completed} completed, "
        f"{totals.failed} failed, {totals.retry} retry; {online}/{len(snapshot.workers)} workers online; "
        f"{len(snapshot.schedules)} schedules"
    )
    if snapshot.other_key_prefixes:
        click.echo(f"nothing under the key prefix {snapshot.key_prefix!r}; RQ keys found under "
                   f"{', '.join(map(repr, snapshot.other_key_prefixes))}: try --key-prefix")


@cli.command()
@url_option
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1, max=3600),
              help="Seconds between passes.")
@click.option("--once", is_flag=True, help="Run one pass, print what it recorded and exit.")
@click.option("--read-only", is_flag=True, hidden=True, help="Refused: the collector writes.")
def collect(url: str | None, interval: float, once: bool, read_only: bool) -> None:
    """Record runs of plain `rq worker` processes (RQ's finished/failed registries) into History and Metrics."""
    from worker.collector import Collector, run_collector

    if _root_option("read_only", read_only):
        fail("collect: refused with --read-only: the collector writes rqtop's history and metrics; "
             "nothing was started")
    conn, target = open_redis(url)
    if once:
        try:
            result = Collector(conn).collect_once()
        except redis.RedisError as exc:
            fail(f"cannot collect from Redis at {mask_url(target)}: {one_line(exc)}")
        click.echo(f"{mask_url(target)}: read {result.read} registry entries, recorded {result.recorded} run(s)")
        return
    import signal
    import threading

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    click.echo(f"rqtop collect: harvesting RQ's registries at {mask_url(target)} every {interval:g} s", err=True)
    run_collector(conn, interval, stop)


@cli.group()
def schedules() -> None:
    """Work with schedules: check a file; edit, create, reset, delete and export at run time."""


@schedules.command("check")
@click.argument("path", default="schedules.toml", type=click.Path(dir_okay=False))
def schedules_check(path: str) -> None:
    """Validate a schedules file: exit 0 when good, 2 with one line per problem."""
    from worker.schedules import ScheduleError, load_schedules

    try:
        entries = load_schedules(path)
    except ScheduleError as exc:
        for message in exc.messages:
            click.echo(f"rqtop: error: {message}", err=True)
        sys.exit(EXIT_USAGE)
    click.echo(f"{path}: {len(entries)} schedules OK")


def _confirm_or_exit(question: str, yes: bool) -> None:
    """Ask y/N on a TTY; without one, require --yes; a refusal exits 2."""
    if yes:
        return
    if not sys.stdin.isatty():
        fail(f"{question.rstrip('?')}: refusing without a terminal; pass --yes")
    if not click.confirm(question, default=False):
        fail("not confirmed; nothing was changed")


def _actions(url: str | None, read_only: bool, verb: str, action: str) -> OperatorActions:
    """The same actions object the dashboard uses, acting as the weaker of the configured role and the one Redis
    lets this user act as; read-only, or a role that may not take ``action``, refuses before anything is asked."""
    from tui.data.actions import DashboardActions

    settings = _settings(read_only)
    if settings.read_only:
        fail(f"{verb}: refused in read-only mode (--read-only or RQTOP_READ_ONLY); nothing was changed")
    conn, target = open_redis(url)
    settings, redis_user = _with_detected_role(conn, settings, verb)
    refusal = settings.refusal(action)
    if refusal:
        fail(f"{verb}: {refusal}; nothing was changed")
    return DashboardActions(conn, settings, redis_user=redis_user)


def read_settings(conn: redis.Redis, verb: str) -> Settings:
    """Settings for a command that shows jobs: when they would show payloads unmasked (a chosen admin), the weaker
    of that role and what Redis lets this user do, so only an admin Redis user sees an unmasked payload."""
    settings = _settings()
    if settings.payloads_unmasked:
        settings, _ = _with_detected_role(conn, settings, verb)
    return settings


def _with_detected_role(conn: redis.Redis, settings: Settings, verb: str) -> tuple[Settings, str]:
    """``settings`` acting as the weaker of its role and what Redis lets this connection do, and the ACL user; a
    Redis that does not answer the probes is one line naming ``verb``, exit 2."""
    from tui.data.acl import acting_as, detect

    found = guarded(verb, lambda: detect(conn))
    return acting_as(settings, found), found.redis_user


def _finish(result: Any, plan: Any = None) -> None:
    """Print an action result in the dashboard toast's words (safe display text: it can quote Redis), the job id
    Run now queued on its own line, and exit 0 when it succeeded, 2 when refused."""
    from tui.outcome_words import outcome_words
    from worker.plans import ActionResult

    click.echo(outcome_words(result, plan) if isinstance(result, ActionResult) else safe_text(result.message))
    job_id = getattr(result, "job_id", None)
    if job_id:
        click.echo(f"job id: {safe_text(job_id)}")
    if not getattr(result, "ok", True) or getattr(result, "status", "queued") in ("unknown", "not_allowed"):
        sys.exit(EXIT_USAGE)


VERB_ACTIONS = {"pause": "toggle_pause", "resume": "toggle_pause"}
"""Schedule verbs whose action (capability) is named otherwise."""


def _schedule_command(group: click.Group, twin: CliVerb) -> None:
    """Register one `rqtop <verb> NAME` twin of a schedule row action."""
    on_schedule = twin.on_schedule
    assert on_schedule is not None
    row_action = VERB_ACTIONS.get(twin.verb, twin.verb.replace("-", "_"))

    @group.command(name=twin.verb, help=f"{twin.help} (as the dashboard's key; not destructive, so it never asks).")
    @url_option
    @click.argument("schedule")
    @click.option("--yes", "-y", is_flag=True, hidden=True, help="Accepted and ignored: this verb never asks.")
    @click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
    def command(url: str | None, schedule: str, yes: bool, read_only: bool, wait: bool = False) -> None:
        actions = _actions(url, read_only, twin.verb, row_action)
        result = guarded(twin.verb, lambda: on_schedule(actions, schedule))
        _finish(result)
        job_id = getattr(result, "job_id", None)
        if wait and job_id:
            from tui.cli_wait import follow

            sys.exit(follow(actions.conn, job_id, read_settings(actions.conn, "wait")))  # type: ignore[attr-defined]

    if twin.verb == "run-now":  # follow the queued run (tui.cli_wait): exit 0 finished, 1 failed or canceled
        click.option("--wait", is_flag=True, help="Follow the run with a progress bar until it ends.")(command)


def _plan_command(group: click.Group, row: OperatorAction[Any], twin: CliVerb) -> None:
    """Register one destructive twin: plan, state the count, confirm, act on exactly that plan."""
    plan_of = row.plan
    assert plan_of is not None

    @group.command(name=twin.verb, help=f"{twin.help} (asks y/N; --yes without a terminal).")
    @url_option
    @click.option("--yes", "-y", is_flag=True, help="Do not ask (needed without a terminal).")
    @click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
    def command(url: str | None, yes: bool, read_only: bool) -> None:
        actions = _actions(url, read_only, twin.verb, row.name)
        plan = guarded(twin.verb, lambda: plan_of(actions))
        _confirm_or_exit(f"{twin.help}: {plan.total:,} item(s) will be touched. Proceed?", yes)
        _finish(guarded(twin.verb, lambda: row.execute(actions, plan)), plan)


def add_action_verbs(group: click.Group, table: tuple[OperatorAction[Any], ...]) -> None:
    """One `rqtop <verb>` per CLI twin of each row: schedule verbs take a NAME, planned ones confirm a plan."""
    for row in table:
        for twin in row.cli:
            if twin.group:
                continue  # built by its group's own module (tui.cli_schedules), with the form's fields as flags
            if twin.on_schedule is not None:
                _schedule_command(group, twin)
            else:
                _plan_command(group, row, twin)


add_action_verbs(cli, ACTIONS)


@cli.command()
@url_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="Newest entries to print.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (entries and refused counts).")
@click.option("--actor", default="", metavar="TEXT",
              help="Only entries whose who, OS user, sudo user, SSH client or Redis user contains TEXT.")
@click.option("--action", default="", metavar="NAME", help="Only entries of this action (rerun, dismiss, janitor …).")
@click.option("--since", default=None, metavar="AGE|TIME",
              help="Only entries this recent: an age (90s, 15m, 2h, 7d) or an ISO time (2026-01-31T08:00Z).")
def audit(url: str | None, limit: int, as_json: bool, actor: str, action: str, since: str | None) -> None:
    """Print the audit log of operator actions, newest first; --actor, --action and --since filter it."""
    from worker import audit as audit_log

    since_epoch = _since(since) if since is not None else None
    conn, _ = open_redis(url)
    entries, cut = guarded("audit", lambda: audit_log.search(conn, limit, since_epoch, actor.strip(), action.strip()))
    if cut:
        click.echo(f"rqtop: searched the newest {audit_log.SEARCH_SCAN_MAX:,} entries only; narrow with --since",
                   err=True)
    refused = guarded("audit", lambda: audit_log.refused_counts(conn))
    removed = guarded("audit", lambda: audit_log.removed_early(conn))
    if removed is not None:
        click.echo(f"rqtop: warning: audit entries were removed before their {keys.AUDIT_KEEP_S // 86400} days "
                   f"(the newest removed was written {_utc(removed)}): someone deleted or trimmed the log",
                   err=True)
    concluded = {entry.intent for entry in entries if entry.phase == "outcome"}
    if as_json:
        click.echo(json.dumps({"schema_version": 1, "entries": [_audit_json(entry, concluded) for entry in entries],
                               "refused": dict(sorted(refused.items())),
                               "removed_early_at": _utc(removed) if removed is not None else None}, indent=2))
        return
    if entries:
        click.echo(audit_header())
    else:
        click.echo("no operator action recorded yet")
    for entry in entries:
        click.echo(_format_audit(entry, concluded))
    if any(refused.values()):
        click.echo("refused no-ops (counted, not logged): "
                   + ", ".join(f"{k}={v}" for k, v in refused.items() if v))


_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _since(text: str) -> float:
    """``--since`` as an epoch: an age like 15m or 2h back from now, or an ISO-8601 time (UTC unless it says)."""
    import time
    from datetime import datetime, timezone

    word = text.strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", word)
    if match:
        return time.time() - float(match.group(1)) * _AGE_UNITS[match.group(2)]
    try:
        at = datetime.fromisoformat(word.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--since: {text!r}: expected an age (90s, 15m, 2h, 7d) or an ISO time (2026-01-31T08:00Z)")
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).timestamp()


def _utc(epoch: float) -> str:
    """An epoch as ISO-8601 UTC with Z."""
    from worker.records import from_epoch

    at = from_epoch(epoch)
    return at.isoformat().replace("+00:00", "Z") if at else "?"


def audit_header() -> str:
    """The column names above `rqtop audit`'s lines, WHEN naming the zone its times are in (--tz)."""
    return f"{f'WHEN ({fmt.zone_label()})':<23}  {'WHO':<24} {'ACTION':<16} {'TARGET':<20} STATUS AND COUNTS"


def _audit_json(entry: Any, concluded: Collection[str]) -> dict[str, Any]:
    """One audit entry as JSON: the same fields the line shows, counts of zero included (scripts sum them)."""
    from worker.records import from_epoch

    at = from_epoch(entry.at)
    return {"id": entry.id, "at": at.isoformat().replace("+00:00", "Z") if at else None, "who": safe_text(entry.who),
            "action": safe_text(entry.action), "target": safe_text(entry.target), "phase": entry.phase,
            "status": _audit_status(entry, concluded), "ok": entry.ok, "error": safe_text(entry.error),
            "counts": {safe_text(str(k)): v for k, v in entry.counts.items()}, "unreadable": list(entry.unreadable),
            "before": entry.before, "after": entry.after,
            **{name: safe_text(value) for name, value in entry.actor.items()}}


def _audit_status(entry: Any, concluded: Collection[str]) -> str:
    """How an entry's action went: intent (with or without an outcome), ok, failed, or not ok."""
    if entry.phase == "intent":
        return "started" if entry.id in concluded else "started, NO OUTCOME (interrupted or still running)"
    if entry.error:
        return f"FAILED: {entry.error}"
    return "ok" if entry.ok else "NOT OK"


def _format_audit(entry: Any, concluded: Collection[str] = ()) -> str:
    """One audit entry as one line; fields that could not be read are named, never fatal."""
    when = fmt.timestamp(entry.at) if entry.at is not None else "?"
    detail = " ".join(f"{k}={v}" for k, v in entry.counts.items() if v)
    if entry.unreadable:
        detail += " (unreadable: " + ", ".join(entry.unreadable) + ")"
    if entry.before or entry.after:
        detail += f" before={entry.before or '-'} after={entry.after or '-'}"
    status = _audit_status(entry, concluded)
    return f"{when:<23}  {entry.who:<24} {entry.action:<16} {entry.target or '-':<20} {status} {detail}".rstrip()


def _add_jobs_group() -> None:
    """Attach ``rqtop jobs`` (its module imports nothing heavy, so ``rqtop --help`` stays fast)."""
    from tui import cli_wait  # noqa: F401 - attaches `jobs wait` and `jobs cancel-running`
    from tui.cli_jobs import jobs

    cli.add_command(jobs)


_add_jobs_group()


def _add_notify() -> None:
    """Attach ``rqtop notify`` and ``run-now --notify`` (tui.cli_notify imports the worker only when run)."""
    from tui.cli_notify import add_notify_option, notify

    cli.add_command(notify)
    add_notify_option(cli.commands["run-now"])


_add_notify()


def _add_job_action_verbs() -> None:
    """Attach the job actions to ``rqtop jobs`` and the ``rqtop queues`` / ``rqtop workers`` groups (issue 13)."""
    from tui.cli_job_actions import queues, workers

    cli.add_command(queues)
    cli.add_command(workers)


_add_job_action_verbs()


def _add_acl_command() -> None:
    """Attach ``rqtop acl print``."""
    from tui.cli_acl import acl

    cli.add_command(acl)


_add_acl_command()


def _add_exporter_command() -> None:
    """Attach ``rqtop exporter`` (prometheus_client is imported only when it runs)."""
    from tui.cli_exporter import exporter

    cli.add_command(exporter)


_add_exporter_command()


def _add_schedule_edits() -> None:
    """Attach ``rqtop schedules set|create|reset|delete|export`` (issue 19)."""
    from tui.cli_schedules import attach

    attach(schedules)


_add_schedule_edits()


def _add_serve_command() -> None:
    """Attach ``rqtop serve`` (textual-serve and aiohttp are imported only when it runs)."""
    from tui.cli_serve import serve

    cli.add_command(serve)


_add_serve_command()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="rqtop")


if __name__ == "__main__":  # pragma: no cover
    main()
