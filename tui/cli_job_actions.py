"""CLI twins of the job-level actions: ``rqtop jobs retry|replay|cancel|stop|retry-now|dead-letter|dismiss``,
``rqtop queues requeue-failed|empty`` and ``rqtop workers suspend|resume|shutdown``.

Each verb plans first (reads only), prints the exact count per queue, asks (y/N on a terminal, the count typed
above 1,000 jobs or with ``--all``; ``--yes`` without a terminal), then acts on exactly the planned ids through the
same ``DashboardActions`` the dashboard uses. ``--json`` prints one JSON document instead of the summary.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from tui.action_table import JOB_ACTIONS, JobAction, JobConfirmation, confirm_job_action, find_job_action
from tui.cli_jobs import jobs
from worker.display_text import safe_text
from worker.job_states import APPLIES, SOURCES
from worker.plans import ActionResult, JobActionPlan

STATES = tuple(SOURCES)
"""The states ``--state`` takes (RQ's status names; ``queued`` is the pending list)."""


def _cli() -> Any:
    """The root CLI module (imported late: it imports this module while it loads)."""
    from tui import cli

    return cli


def _confirm(wording: JobConfirmation, yes: bool) -> None:
    """Show the confirmation; ask y/N, or for the typed count; without a terminal require --yes."""
    cli = _cli()
    if yes:
        return
    if not sys.stdin.isatty():
        cli.fail(f"{wording.title}: refusing without a terminal; pass --yes")
    click.echo(wording.body, err=True)
    if wording.typed:
        answer = click.prompt(f"Type {wording.typed} to {wording.title.lower()}", default="", show_default=False,
                              err=True)
        if answer.strip() != wording.typed:
            cli.fail("not confirmed; nothing was changed")
    elif not click.confirm(f"{wording.button}?", default=False, err=True):
        cli.fail("not confirmed; nothing was changed")


def _report(plan: JobActionPlan, result: ActionResult | None, as_json: bool) -> None:
    """Print the outcome (or that nothing applied) and exit 0 when it ran, 2 when refused."""
    if as_json:
        click.echo(json.dumps({
            "action": plan.action, "ok": bool(result and result.ok), "planned": [job.job_id for job in plan.jobs],
            "per_queue": plan.per_queue(), "skipped": [list(pair) for pair in plan.skipped],
            "message": result.message if result else "no job to act on", "counts": result.counts if result else {},
        }, sort_keys=True))
    else:
        for job_id, status in plan.skipped:
            click.echo(f"skipped {safe_text(job_id)}: {safe_text(status)}", err=True)
        if result is not None:
            _cli()._finish(result)
        else:
            click.echo("no job to act on")
    if result is not None and not result.ok:
        sys.exit(2)


def _job_verb(row: JobAction) -> None:
    """Register ``rqtop jobs <verb> ID... | --queue Q --state S | --state S --all``."""
    applies = ", ".join(APPLIES[row.name])

    @jobs.command(name=row.verb, help=f"{row.help}. Applies to: {applies}. Asks first (--yes without a terminal).")
    @click.argument("job_ids", nargs=-1)
    @click.option("--queue", "queues", multiple=True, help="Act on every job of this queue in --state.")
    @click.option("--state", type=click.Choice(STATES), default=None, help="With --queue or --all: which jobs.")
    @click.option("--all", "every_queue", is_flag=True, help="With --state: every queue (asks for the count typed).")
    @click.option("--reason", default="", help="Dead letter: the reason recorded on each job.")
    @click.option("--retries", type=click.IntRange(min=0), default=None,
                  help="Re-run/replay: the retry budget to give each job (RQ keeps no original budget).")
    @click.option("--task", "tasks", multiple=True, help="As jobs ls: act on every job matching (exact or glob).")
    @click.option("--worker", "workers", multiple=True, help="As jobs ls: the worker that last ran it (glob).")
    @click.option("--since", default=None, help="As jobs ls: last event at most this long ago (90s, 2h, 3d).")
    @click.option("--query", "-q", default=None, help='As jobs ls: the Jobs tab\'s query ("state:failed task:x*").')
    @click.option("--yes", "-y", is_flag=True, help="Do not ask.")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
    @click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
    @click.option("--url", "-u", default=None, help="Redis URL (as rqtop --url).")
    def command(job_ids: tuple[str, ...], queues: tuple[str, ...], state: str | None, every_queue: bool, reason: str,
                retries: int | None, tasks: tuple[str, ...], workers: tuple[str, ...], since: str | None,
                query: str | None, yes: bool, as_json: bool, read_only: bool, url: str | None) -> None:
        cli = _cli()
        if (tasks or workers or since or query) and not (job_ids or every_queue):
            _filter_verb(row, queues, state, tasks, workers, since, query, reason, retries, yes, as_json,
                         read_only, url)
            return
        if bool(job_ids) == bool(queues or every_queue):
            cli.fail(f"jobs {row.verb}: name job ids, or --queue Q --state S, or --state S --all (one of them)")
        if (queues or every_queue) and state is None:
            cli.fail(f"jobs {row.verb}: --queue and --all need --state (one of {', '.join(STATES)})")
        actions = cli._actions(url, read_only, f"jobs {row.verb}", row.name)
        plan = cli.guarded(f"jobs {row.verb}", lambda: _plan(actions, row, list(job_ids), queues, state,
                                                              every_queue, reason, retries))
        if not plan.total:
            _report(plan, None, as_json)
            return
        _confirm(confirm_job_action(row, plan, every_queue), yes)
        _report(plan, cli.guarded(f"jobs {row.verb}", lambda: actions.job_action(plan)), as_json)


def _filter_verb(row: JobAction, queues: tuple[str, ...], state: str | None, tasks: tuple[str, ...],
                 workers: tuple[str, ...], since: str | None, query: str | None, reason: str, retries: int | None,
                 yes: bool, as_json: bool, read_only: bool, url: str | None) -> None:
    """Act on every job matching the explorer filter (as ``jobs ls`` reads it), after the confirmation."""
    from tui.cli_jobs import _query
    from tui.data.explorer.pages import ExplorerReader
    from tui.data.explorer.query import parse_query

    cli = _cli()
    flt = parse_query(_query((state,) if state else (), tasks, queues, workers, since, None, query),
                      include_completed=True)
    for warning in flt.warnings:
        click.echo(f"rqtop: warning: ignored {safe_text(str(warning))}", err=True)
    actions = cli._actions(url, read_only, f"jobs {row.verb}", row.name)
    settings = cli._settings(read_only)
    reader = ExplorerReader(actions.conn, settings.mask_rules, settings.clock, scan_budget_s=2.0)
    try:
        ids = cli.guarded(f"jobs {row.verb}", lambda: reader.matching_ids(flt))
    except ValueError as exc:  # more than MATCH_CAP jobs match
        cli.fail(f"jobs {row.verb}: {exc}")
    plan = cli.guarded(f"jobs {row.verb}", lambda: actions.plan_job_action(row.name, ids, reason, retries))
    if not plan.total:
        _report(plan, None, as_json)
        return
    _confirm(confirm_job_action(row, plan, scope=f"Every job matching {flt.to_query()} ({len(ids):,} read):"), yes)
    _report(plan, cli.guarded(f"jobs {row.verb}", lambda: actions.job_action(plan)), as_json)


def _plan(actions: Any, row: JobAction, job_ids: list[str], queues: tuple[str, ...], state: str | None,
          every_queue: bool, reason: str, retries: int | None) -> JobActionPlan:
    """The plan for named ids, or for every job of ``state`` on the given queues (all queues with --all)."""
    if job_ids:
        return actions.plan_job_action(row.name, job_ids, reason, retries)
    assert state is not None
    names = list(queues) or sorted(_queue_names(actions))
    plans = [actions.plan_queue_job_action(row.name, queue, state, reason, retries) for queue in names]
    return JobActionPlan(row.name, tuple(job for plan in plans for job in plan.jobs),
                         tuple(pair for plan in plans for pair in plan.skipped), reason, retries,
                         tuple(ref for plan in plans for ref in plan.stops))


def _queue_names(actions: Any) -> list[str]:
    """Every queue RQ knows (``rq:queues``), for --all."""
    from worker.queues import queue_names

    return list(queue_names(actions.conn))


for _row in JOB_ACTIONS:
    if not _row.own_cli:  # cancel-running is tui.cli_wait's command: one id, its own refusals
        _job_verb(_row)


@jobs.command("edit-replay")
@click.argument("job_id")
@click.option("--args", "args_json", default=None, help="The new positional arguments as a JSON list.")
@click.option("--kwargs", "kwargs_json", default=None, help="The new keyword arguments as a JSON object.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
@click.option("--url", "-u", default=None, help="Redis URL (as rqtop --url).")
def edit_replay(job_id: str, args_json: str | None, kwargs_json: str | None, yes: bool, as_json: bool,
                read_only: bool, url: str | None) -> None:
    """Enqueue a new job from a dead-letter job (plain-data payload only) with edited args/kwargs; the original
    is kept and linked (its new job's meta names it)."""
    cli = _cli()
    actions = cli._actions(url, read_only, "jobs edit-replay", "edit_replay")
    cli._confirm_or_exit(f"replay {safe_text(job_id)} as a new job with the edited arguments?", yes)
    result = cli.guarded("jobs edit-replay", lambda: actions.edit_replay(job_id, args_json, kwargs_json))
    if as_json:
        click.echo(json.dumps({"action": "edit_replay", "ok": result.ok, "message": result.message}, sort_keys=True))
        if not result.ok:
            sys.exit(2)
        return
    if not result.ok:
        cli.fail(result.message)
    cli._finish(result)


@click.group("queues")
def queues() -> None:
    """Act on every job of one queue's registry."""


@queues.command("requeue-failed")
@click.argument("queue")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
@click.option("--url", "-u", default=None, help="Redis URL (as rqtop --url).")
def requeue_failed(queue: str, yes: bool, as_json: bool, read_only: bool, url: str | None) -> None:
    """Re-run every failed (and stopped) job of QUEUE; asks for the queue name typed."""
    _queue_verb("rerun", queue, "failed", yes, as_json, read_only, url)


@queues.command("empty")
@click.argument("queue")
@click.argument("state", type=click.Choice([s for s in STATES if s in APPLIES["dismiss"]]))
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
@click.option("--url", "-u", default=None, help="Redis URL (as rqtop --url).")
def empty(queue: str, state: str, yes: bool, as_json: bool, read_only: bool, url: str | None) -> None:
    """Dismiss (delete) every job of one registry (or the pending list) of QUEUE; asks for the queue name typed."""
    _queue_verb("dismiss", queue, state, yes, as_json, read_only, url)


def _queue_verb(action: str, queue: str, state: str, yes: bool, as_json: bool, read_only: bool,
                url: str | None) -> None:
    """Plan one queue's registry, confirm with the queue name typed, act on exactly the plan."""
    cli = _cli()
    row = find_job_action(action)
    actions = cli._actions(url, read_only, f"queues {action}", action)
    plan = cli.guarded(action, lambda: actions.plan_queue_job_action(action, queue, state))
    if not plan.total:
        _report(plan, None, as_json)
        return
    wording = confirm_job_action(row, plan)
    _confirm(JobConfirmation(wording.title, wording.body + f"\nType the queue name ({safe_text(queue)}) to confirm.",
                             wording.button, typed=queue), yes)
    _report(plan, cli.guarded(action, lambda: actions.job_action(plan)), as_json)


@click.group("workers")
def workers() -> None:
    """Suspend or resume every RQ worker, or ask one to shut down."""


def _worker_verb(action: str, help_text: str, named: bool) -> None:
    """Register ``rqtop workers <action> [NAME...]``."""

    @workers.command(name=action, help=help_text)
    @click.argument("names", nargs=-1, required=named)
    @click.option("--yes", "-y", is_flag=True, help="Do not ask.")
    @click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
    @click.option("--url", "-u", default=None, help="Redis URL (as rqtop --url).")
    def command(names: tuple[str, ...], yes: bool, read_only: bool, url: str | None) -> None:
        cli = _cli()
        actions = cli._actions(url, read_only, f"workers {action}", action)
        plan = cli.guarded(action, lambda: actions.plan_worker_action(action, list(names)))
        if named and not plan.workers:
            cli.fail(f"workers {action}: no such worker: {', '.join(names)} (not in RQ's worker set)")
        target = ", ".join(plan.workers) if named else "every RQ worker on this Redis"
        cli._confirm_or_exit(f"{action} {safe_text(target)}?", yes)
        cli._finish(cli.guarded(action, lambda: actions.worker_action(plan)))


_worker_verb("suspend", "Suspend every RQ worker (rq suspend): running jobs finish, no new job starts.", False)
_worker_verb("resume", "Resume every RQ worker (rq resume).", False)
_worker_verb("shutdown", "Ask the named workers to shut down (RQ's shutdown command) after their current job.",
             True)
