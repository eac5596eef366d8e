"""The `rqtop` command line: the dashboard, the demo, the worker, status --json and the action twins."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
import redis

from tui.data.connection import BadRedisUrl, connect, mask_url, resolve_url, validate_url
from tui.data.settings import Settings
from worker import keys
from worker.records import one_line

DEFAULT_URL = "redis://localhost:6379/0"
EXIT_USAGE = 2

url_option = click.option(
    "--url", "-u", default=None, metavar="URL",
    help="Redis URL (default: $RQ_REDIS_URL, then $REDIS_URL, then redis://localhost:6379/0).",
)

key_prefix_option = click.option(
    "--key-prefix", default=None, metavar="PREFIX",
    help="RQ's key prefix, as RQ 3 names it (default: $RQ_KEY_PREFIX, then rq).",
)


def fail(message: str) -> NoReturn:
    """Print one line to stderr and exit 2."""
    click.echo(f"rqtop: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def _root_option(name: str, value: Any) -> Any:
    """A subcommand's option, else the same option given before the subcommand (``rqtop -u URL status``)."""
    if value:
        return value
    ctx = click.get_current_context(silent=True)
    return ctx.find_root().params.get(name) if ctx is not None else None


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


def open_redis(url: str | None) -> tuple[redis.Redis, str]:
    """Connect and PING, or exit 2 with one line naming the (masked) URL and the reason."""
    use_key_prefix(_root_option("key_prefix", None))
    target = resolve_url(_root_option("url", url)) or DEFAULT_URL
    try:
        validate_url(target)
        conn = connect(target)
        conn.ping()
    except BadRedisUrl as exc:
        fail(str(exc))
    except redis.RedisError as exc:
        fail(f"cannot reach Redis at {mask_url(target)}: {one_line(exc)}")
    return conn, target


def _settings(read_only: bool | None = None, refresh: float | None = None) -> Settings:
    """Settings from the environment with CLI overrides (given before or after the subcommand)."""
    return Settings.from_env(read_only=_root_option("read_only", read_only) or None,
                             refresh_s=_root_option("refresh", refresh))


class RqtopGroup(click.Group):
    """A click group whose usage errors are one line and exit 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
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
@click.option("--refresh", type=click.FloatRange(min=0.2), default=None, help="Seconds between refreshes (2).")
@click.option("--read-only", is_flag=True, default=False, help="Hide and refuse every action ($RQTOP_READ_ONLY=1).")
@key_prefix_option
@click.version_option(package_name="rqtop")
@click.pass_context
def cli(ctx: click.Context, url: str | None, refresh: float | None, read_only: bool, key_prefix: str | None) -> None:
    """rqtop: a terminal dashboard for RQ. Without a command, opens the dashboard."""
    if ctx.invoked_subcommand is not None:
        return
    conn, target = open_redis(url)
    run_dashboard(conn, target, _settings(read_only, refresh))


def run_dashboard(conn: redis.Redis, url: str, settings: Settings) -> None:
    """Build the App with the real reader and actions and run it."""
    from tui.app import RqtopApp
    from tui.data.actions import DashboardActions
    from tui.data.reader import DashboardReader

    app = RqtopApp(
        reader=DashboardReader(conn, settings),
        actions=DashboardActions(conn, settings),
        settings=settings,
        url_label=mask_url(url),
    )
    app.run()


@cli.command()
@url_option
@click.option("--schedules", "schedules_path", default="schedules.toml", type=click.Path(dir_okay=False))
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
            run_dashboard(platform.conn, platform.url, settings)


@cli.command()
@url_option
@click.option("--mode", type=click.Choice(["all", "worker", "scheduler"]), default="all", show_default=True)
@click.option("--queues", default="high,default,low", show_default=True, help="Comma-separated, in priority order.")
@click.option("--schedules", "schedules_path", default="schedules.toml", type=click.Path(dir_okay=False))
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.option("--name", default=None, help="Worker name (default: RQ's).")
def worker(url: str | None, mode: str, queues: str, schedules_path: str, burst: bool, name: str | None) -> None:
    """Run an rqtop worker: RQ worker with heartbeats and bookkeeping, and/or the scheduler."""
    require_rq3()
    from worker.runner import run
    from worker.schedules import ScheduleError, load_schedules

    queue_names = tuple(q.strip() for q in queues.split(",") if q.strip())
    if not queue_names:
        fail("--queues: give at least one queue name")
    if mode in ("all", "scheduler"):
        try:
            load_schedules(schedules_path)
        except ScheduleError as exc:
            fail(str(exc))
    _, target = open_redis(url)
    run(target, mode=mode, queues=queue_names, schedules_path=schedules_path, burst=burst, name=name)


@cli.command()
@url_option
@key_prefix_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a summary line.")
def status(url: str | None, key_prefix: str | None, as_json: bool) -> None:
    """Print exactly what the three tabs show, as JSON, for scripts and monitoring."""
    from tui.data.reader import DashboardReader

    if key_prefix:
        use_key_prefix(key_prefix)
    conn, target = open_redis(url)
    try:
        snapshot = DashboardReader(conn, _settings()).read()
    except redis.RedisError as exc:
        fail(f"cannot read from Redis at {mask_url(target)}: {one_line(exc)}")
    if as_json:
        click.echo(json.dumps(snapshot.to_json(), indent=2))
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


@cli.group()
def schedules() -> None:
    """Work with schedules files."""


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


def _actions(url: str | None, read_only: bool, verb: str) -> Any:
    """The same actions object the dashboard uses; read-only settings refuse before anything is asked or sent."""
    from tui.data.actions import DashboardActions

    settings = _settings(read_only)
    if settings.read_only:
        fail(f"{verb}: refused in read-only mode (--read-only or RQTOP_READ_ONLY); nothing was changed")
    conn, target = open_redis(url)
    return DashboardActions(conn, settings)


def _finish(result: Any) -> None:
    """Print an action result and exit 0 when it succeeded, 2 when it was refused."""
    click.echo(result.message)
    counts = getattr(result, "counts", None)
    if counts:
        for step, count in counts.items():
            click.echo(f"  {step}: {count}")
    if not getattr(result, "ok", True) or getattr(result, "status", "queued") in ("unknown", "not_allowed"):
        sys.exit(EXIT_USAGE)


def _schedule_command(name: str, verb: str, method: Callable[[Any, str], Any]) -> None:
    """Register one `rqtop <verb> NAME` twin of a schedule row action."""

    @cli.command(name=verb, help=f"{verb.capitalize().replace('-', ' ')} one schedule (as the dashboard's key).")
    @url_option
    @click.argument("schedule")
    @click.option("--yes", "-y", is_flag=True, help="Do not ask.")
    @click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
    def command(url: str | None, schedule: str, yes: bool, read_only: bool) -> None:
        actions = _actions(url, read_only, verb)
        _confirm_or_exit(f"{verb} {schedule}?", yes)
        _finish(method(actions, schedule))

    command.__name__ = name


_schedule_command("run_now", "run-now", lambda a, n: a.run_now(n))
_schedule_command("pause", "pause", lambda a, n: a.pause(n))
_schedule_command("resume", "resume", lambda a, n: a.resume(n))


def _plan_command(verb: str, what: str, plan_name: str, run_name: str) -> None:
    """Register one destructive twin: plan, state the count, confirm, act on exactly that plan."""

    @cli.command(name=verb, help=f"{what} (asks y/N; --yes without a terminal).")
    @url_option
    @click.option("--yes", "-y", is_flag=True, help="Do not ask.")
    @click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
    def command(url: str | None, yes: bool, read_only: bool) -> None:
        actions = _actions(url, read_only, verb)
        plan = getattr(actions, plan_name)()
        _confirm_or_exit(f"{what}: {plan.total} item(s) will be touched. Proceed?", yes)
        _finish(getattr(actions, run_name)(plan))


_plan_command("janitor", "Run the janitor now", "plan_janitor", "run_janitor")
_plan_command("fail-active", "Fail every active job", "plan_fail_active", "fail_active")
_plan_command("cancel-pending", "Cancel every pending job", "plan_cancel_pending", "cancel_pending")


@cli.command()
@url_option
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def audit(url: str | None, limit: int) -> None:
    """Print the audit log of operator actions, newest first."""
    from worker import audit as audit_log

    conn, _ = open_redis(url)
    for entry in audit_log.read(conn, limit=limit):
        click.echo(_format_audit(entry))


def _format_audit(entry: Any) -> str:
    """One audit entry as one line."""
    from worker.records import from_epoch

    at = from_epoch(getattr(entry, "at", None))
    when = at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "?"
    counts = getattr(entry, "counts", {}) or {}
    detail = " ".join(f"{k}={v}" for k, v in counts.items())
    status = "ok" if getattr(entry, "ok", True) else "REFUSED"
    return f"{when}  {entry.who:<24} {entry.action:<16} {entry.target or '-':<20} {status} {detail}".rstrip()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="rqtop")


if __name__ == "__main__":  # pragma: no cover
    main()
