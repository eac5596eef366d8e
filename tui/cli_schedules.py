"""``rqtop schedules set|reset|create|delete|export``: run-time schedule edits from the command line (issue 19).

Each verb goes through the same ``DashboardActions`` as the dashboard's edit form: refused in read-only mode,
validated by the schedules file's own parser (one line, exit 2, nothing changed), written whole, audited with the
before/after shape. The scheduler applies an edit from its next tick. ``export`` prints the effective set (the
file's schedules with their overrides, then the run-time ones) as a schedules file ``schedules check`` accepts.
"""

from __future__ import annotations

import json
import time
from typing import Any

import click

from tui.action_table import CREATE_SCHEDULE, EDIT_SCHEDULE
from worker.schedules import PRIORITY_QUEUES, QUEUE_PRIORITIES

SET_VERB, RESET_VERB = EDIT_SCHEDULE.cli
CREATE_VERB, DELETE_VERB = CREATE_SCHEDULE.cli
"""The dashboard's Edit schedule and Add run-time schedule rows name these verbs (one action table)."""


def _cli() -> Any:
    """The root CLI module (imported late: it imports this module while it loads)."""
    from tui import cli

    return cli


def _edit_options(command: Any) -> Any:
    """The options `set` and `create` share: one per editable field of a [[schedule]] table."""
    options = [
        click.option("--cron", default=None, help="Five-field cron expression (replaces --interval)."),
        click.option("--interval", type=int, default=None, help="Seconds between runs (replaces --cron)."),
        click.option("--timezone", default=None, help="IANA timezone of the cron expression."),
        click.option("--priority", type=click.Choice(list(PRIORITY_QUEUES)), default=None,
                     help="high, normal or low (the queue follows)."),
        click.option("--queue", default=None, help="The queue instead of --priority: high, default or low."),
        click.option("--timeout", type=int, default=None, help="Seconds a run may take."),
        click.option("--expires-after-min", type=int, default=None, help="Drop a run that waited longer (minutes)."),
        click.option("--kwargs", "kwargs_json", default=None, help="The task's keyword arguments as a JSON object."),
        click.option("--notify", type=click.Choice(["failures", "all", "never"]), default=None,
                     help="When this schedule's runs notify."),
        click.option("--description", default=None, help="What the schedule is for."),
        click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does)."),
        _cli().url_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def edit_fields(cron: str | None, interval: int | None, timezone: str | None, priority: str | None,
                queue: str | None, timeout: int | None, expires_after_min: int | None, kwargs_json: str | None,
                notify: str | None, description: str | None) -> dict[str, Any]:
    """The table fields the flags give (a flag not given is left out); a bad flag is one line and exit 2."""
    fail = _cli().fail
    if cron is not None and interval is not None:
        fail("--cron and --interval: give one of them, not both")
    if queue is not None:
        if priority is not None:
            fail("--queue and --priority: give one of them, not both")
        if queue not in QUEUE_PRIORITIES:
            fail(f"--queue: unknown queue {queue!r} (expected {', '.join(QUEUE_PRIORITIES)})")
        priority = QUEUE_PRIORITIES[queue]
    fields: dict[str, Any] = {
        "cron": cron, "interval": interval, "timezone": timezone, "priority": priority, "timeout": timeout,
        "expires_after_min": expires_after_min, "notify": notify, "description": description,
    }
    fields = {key: value for key, value in fields.items() if value is not None}
    if kwargs_json is not None:
        try:
            kwargs = json.loads(kwargs_json)
        except ValueError as exc:
            fail(f"--kwargs: not JSON ({exc})")
        if not isinstance(kwargs, dict):
            fail(f"--kwargs: must be a JSON object, got {type(kwargs).__name__}")
        fields["kwargs"] = kwargs
    return fields


def _finish(result: Any) -> None:
    """Print the result line; a refused edit is one line on stderr (``rqtop: error: …``) and exit 2."""
    if not result.ok:
        _cli().fail(result.message)
    click.echo(_cli().safe_text(result.message))


@click.command(SET_VERB.verb, help=SET_VERB.help + ".")
@click.argument("name")
def schedules_set(name: str, read_only: bool, url: str | None, **flags: Any) -> None:
    """The dashboard's Edit schedule (E), from the command line."""
    fields = edit_fields(**flags)
    if not fields:
        _cli().fail("set: give at least one field to change (--cron, --interval, --timeout …)")
    actions = _cli()._actions(url, read_only, "schedules set", "edit_schedule")  # noqa: SLF001
    _finish(_cli().guarded("schedules set", lambda: actions.set_schedule(name, fields)))


@click.command(CREATE_VERB.verb, help=CREATE_VERB.help + ".")
@click.argument("name")
@click.option("--task", required=True, help="Dotted path of a task in a module of the file's tasks; the scheduler "
              "import-checks it.")
def schedules_create(name: str, task: str, read_only: bool, url: str | None, **flags: Any) -> None:
    """The dashboard's Add run-time schedule (A), from the command line."""
    table = {"name": name, "task": task, **edit_fields(**flags)}
    actions = _cli()._actions(url, read_only, "schedules create", "create_schedule")  # noqa: SLF001
    _finish(_cli().guarded("schedules create", lambda: actions.create_schedule(table)))


schedules_set = _edit_options(schedules_set)
schedules_create = _edit_options(schedules_create)


@click.command(RESET_VERB.verb, help=RESET_VERB.help + ".")
@click.argument("name")
@click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
def schedules_reset(name: str, read_only: bool, url: str | None) -> None:
    """The edit form's Reset to file, from the command line."""
    actions = _cli()._actions(url, read_only, "schedules reset", "edit_schedule")  # noqa: SLF001
    _finish(_cli().guarded("schedules reset", lambda: actions.reset_schedule(name)))


@click.command(DELETE_VERB.verb, help=DELETE_VERB.help + ".")
@click.argument("name")
@click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
def schedules_delete(name: str, read_only: bool, url: str | None) -> None:
    """The edit form's Delete (run-time schedules), from the command line."""
    actions = _cli()._actions(url, read_only, "schedules delete", "create_schedule")  # noqa: SLF001
    _finish(_cli().guarded("schedules delete", lambda: actions.delete_schedule(name)))


@click.command("export")
def schedules_export(url: str | None) -> None:
    """Print the effective schedules (file + overrides + run-time schedules) as a schedules file."""
    from tui.data.schedule_export import export_toml

    conn, _ = _cli().open_redis(url)
    click.echo(_cli().guarded("schedules export", lambda: export_toml(conn, time.time())), nl=False)


def attach(group: click.Group) -> None:
    """Add the edit verbs to ``rqtop schedules``."""
    url_option = _cli().url_option
    for command in (schedules_set, schedules_create):
        group.add_command(command)
    for command in (schedules_reset, schedules_delete, schedules_export):
        group.add_command(url_option(command))
