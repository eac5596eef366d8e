"""The ``rqtop jobs`` command group: find, show and act on single jobs from the shell.

Listing verbs (``ls``, ``show``) and action verbs (``retry``, ``cancel``, ``stop``, ``dismiss`` …) attach here;
``tui.cli`` adds the group to the root command. ``ls`` takes the explorer's filters as flags or as one
``--query``; a filter term that cannot be used is a warning line on stderr and the rest still lists.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from tui.data.explorer.attempts import AttemptHistory
    from tui.data.explorer.pages import ExplorerPage
    from tui.data.explorer.rows import ExplorerRow
    from tui.data.job_meta import JobDetail

CLI_SCAN_BUDGET_S = 300.0
"""How long ``jobs ls`` may scan for a filter the job hashes answer (a terminal can wait; the TUI cannot)."""


@click.group("jobs")
def jobs() -> None:
    """Find, show and act on single jobs (the Jobs tab's twin)."""


def _iso(when: Any) -> str | None:
    """An aware datetime as ISO-8601, or None."""
    return when.isoformat() if when is not None else None


def row_json(row: ExplorerRow) -> dict[str, Any]:
    """One listed job as JSON (display text only: masked, printable)."""
    job = row.job
    return {
        "id": job.id, "task": job.task, "queue": job.queue, "state": row.state, "status": job.status,
        "description": job.description, "last_event": _iso(row.last_event), "attempts": row.attempts,
        "max_attempts": row.max_attempts, "worker": job.worker, "error": row.error,
        "enqueued_at": _iso(job.enqueued_at), "started_at": _iso(job.started_at), "ended_at": _iso(job.ended_at),
    }


def _line(row: ExplorerRow, now: float) -> str:
    """One listed job as a tab-separated line."""
    from tui import formatting as fmt

    last = row.last_event
    when = f"{fmt.relative(last, now)} ({fmt.timestamp(last)})" if last else "-"
    cells = (row.job.id, row.job.task, row.job.queue or "-", row.state, row.attempts_text, when,
             row.job.worker or "-", row.error or "-", row.job.description or "-")
    return "\t".join(cells)


def _query(state: tuple[str, ...], task: tuple[str, ...], queue: tuple[str, ...], worker: tuple[str, ...],
           since: str | None, job_id: str | None, query: str | None, until: str | None = None) -> str:
    """The flags written as one query in the explorer's syntax, ``--query`` last."""
    import shlex

    terms = [f"state:{s}" for s in state] + [f"task:{t}" for t in task] + [f"queue:{q}" for q in queue]
    terms += [f"worker:{w}" for w in worker]
    terms += [f"since:{since}"] if since else []
    terms += [f"until:{until}"] if until else []
    terms += [f"id:{job_id}"] if job_id else []
    return " ".join([shlex.quote(t) for t in terms] + ([query] if query else []))


@jobs.command("ls")
@click.option("--url", "-u", default=None, metavar="URL", help="Redis URL (default: $RQ_REDIS_URL, $REDIS_URL).")
@click.option("--state", multiple=True, help="pending, running, scheduled, retrying, deferred, failed, canceled, "
              "stopped, completed, abandoned (repeatable).")
@click.option("--task", multiple=True, help="Task name, exact or glob (import*).")
@click.option("--queue", multiple=True, help="Queue name (repeatable).")
@click.option("--worker", multiple=True, help="Worker name or glob.")
@click.option("--since", default=None, help="Last event at most this long ago: 90s, 15m, 2h, 3d, 1w.")
@click.option("--until", default=None, help="Last event at least this long ago (with --since: a time range).")
@click.option("--id", "job_id", default=None, help="One job by id (one read).")
@click.option("--query", "-q", default=None, help='The Jobs tab\'s query syntax: "state:failed task:import* …".')
@click.option("--completed", is_flag=True, help="Include completed jobs (hidden by default).")
@click.option("--limit", type=click.IntRange(min=1, max=1000), default=50, show_default=True,
              help="At most this many rows (one page).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def jobs_ls(url: str | None, state: tuple[str, ...], task: tuple[str, ...], queue: tuple[str, ...],
            worker: tuple[str, ...], since: str | None, until: str | None, job_id: str | None, query: str | None,
            completed: bool, limit: int, as_json: bool) -> None:
    """List jobs matching a filter, across every queue and registry, without writing."""
    import redis

    from tui.cli import fail, open_redis, read_settings, redis_said
    from tui.data.explorer.pages import ExplorerReader
    from tui.data.explorer.query import parse_query
    from worker.display_text import safe_text

    flt = parse_query(_query(state, task, queue, worker, since, job_id, query, until), include_completed=completed)
    for warning in flt.warnings:
        click.echo(f"rqtop: warning: ignored {safe_text(str(warning))}", err=True)
    conn, _ = open_redis(url)
    settings = read_settings(conn, "jobs ls")
    reader = ExplorerReader(conn, settings.mask_rules, settings.clock, scan_budget_s=CLI_SCAN_BUDGET_S)
    try:
        page = reader.page(flt, 0, limit)
    except redis.RedisError as exc:
        fail(f"jobs ls: {redis_said(exc)}")
    if as_json:
        click.echo(json.dumps(page_json(page), indent=2))
        return
    now = settings.clock()
    for row in page.rows:
        click.echo(_line(row, now))
    click.echo(_footer(page), err=True)


def page_json(page: ExplorerPage) -> dict[str, Any]:
    """A listed page as JSON: the filter, its warnings, how it was read and the jobs."""
    progress = page.progress
    return {
        "query": page.filter.to_query(), "warnings": [{"term": w.term, "reason": w.reason}
                                                      for w in page.filter.warnings],
        "include_completed": page.filter.include_completed, "mode": page.mode, "total": page.total,
        "complete": page.complete,
        "scan": None if progress is None else {"scanned": progress.scanned, "of": progress.total,
                                               "matches": progress.matched, "done": progress.done},
        "jobs": [row_json(row) for row in page.rows],
    }


def _footer(page: ExplorerPage) -> str:
    """One stderr line saying how many were listed of how many."""
    of = f"{page.total:,}" if page.complete else f"{page.total:,}+"
    tail = f" ({page.progress.line()})" if page.progress is not None else ""
    return f"{len(page.rows):,} of {of} jobs{tail}"


def detail_json(detail: JobDetail, history: AttemptHistory, now: float | None = None) -> dict[str, Any]:
    """One job's detail as JSON (masked; the payload only as plain data or as its structure, never unpickled)."""
    return {
        "id": detail.id, "task": detail.task, "queue": detail.queue, "state": detail.state, "status": detail.status,
        "description": detail.description, "created_at": _iso(detail.created_at),
        "enqueued_at": _iso(detail.enqueued_at), "started_at": _iso(detail.started_at),
        "ended_at": _iso(detail.ended_at), "retries": detail.retries, "retries_left": detail.retries_left,
        "worker": detail.worker, "schedule": detail.schedule, "error": detail.error,
        "meta": dict(detail.meta), "dependencies": [{"id": i, "state": s} for i, s in detail.dependencies],
        "attempts": [{"outcome": a.outcome, "started_at": _iso(a.started_at), "ended_at": _iso(a.ended_at),
                      "worker": a.worker, "error": a.error} for a in history.attempts],
        "running_executions": list(history.running), "traceback": history.traceback,
        **_drawer_json(detail, history, now),
    }


def _drawer_json(detail: JobDetail, history: AttemptHistory, now: float | None) -> dict[str, Any]:
    """The drawer's own fields: health, attempts n of max, scheduled/canceled times, the payload (plain data,
    masked, or the structure of one that is not plain data)."""
    import time

    from tui.data.explorer.health import job_health

    health = job_health(detail, history, time.time() if now is None else now)
    payload = detail.payload
    shown: dict[str, Any] = {"plain": payload.plain, "args": payload.args, "kwargs": dict(payload.kwargs),
                             "structure": payload.structure, "names": list(payload.globals), "note": payload.note
                             } if payload is not None else {}
    return {"health": health.health, "attempts_of_max": health.attempts, "scheduled_at": _iso(detail.scheduled_at),
            "canceled_at": _iso(detail.canceled_at), "payload": shown}


@jobs.command("show")
@click.argument("job_id")
@click.option("--url", "-u", default=None, metavar="URL", help="Redis URL (default: $RQ_REDIS_URL, $REDIS_URL).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--wait", "wait", is_flag=True,
              help="Follow the job until it ends, as `jobs wait ID` (exit 0 finished, 1 failed/stopped/canceled).")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0), default=None,
              help="With --wait: give up after SECONDS.")
def jobs_show(job_id: str, url: str | None, as_json: bool, wait: bool, timeout_s: float | None) -> None:
    """Show one job: fields, attempt history and traceback (masked; nothing is unpickled or run); with --wait,
    follow it to its end instead (the same as ``rqtop jobs wait ID``)."""
    import redis

    if wait:
        from tui.cli import fail as refuse

        if as_json:
            refuse("jobs show: --wait and --json cannot be combined (use `jobs show ID --json` once it ended)")
        _wait(job_id, url, timeout_s)
        return
    if timeout_s is not None:
        from tui.cli import fail as refuse

        refuse("jobs show: --timeout only applies with --wait")

    from tui import formatting as fmt
    from tui.cli import fail, open_redis, read_settings, redis_said
    from tui.data.explorer.attempts import read_attempts
    from tui.data.job_meta import read_job_detail
    from tui.widgets.drawer_fields import drawer_fields

    conn, _ = open_redis(url)
    settings = read_settings(conn, "jobs show")
    try:
        detail = read_job_detail(conn, job_id, settings.mask_rules)
        history = read_attempts(conn, job_id, detail.task, settings.mask_rules)
    except redis.RedisError as exc:
        fail(f"jobs show: {redis_said(exc)}")
    if detail.state == "expired":
        fail(f"jobs show: no job {job_id!r} (its hash is gone or never existed)")
    if as_json:
        click.echo(json.dumps(detail_json(detail, history, settings.clock()), indent=2))
        return
    now = settings.clock()
    for label, value in drawer_fields(detail, history, now):
        click.echo(f"{label}: {value}")
    for number, attempt in enumerate(history.attempts, 1):
        click.echo(f"Attempt -{number}: {attempt.outcome} · {fmt.timestamp(attempt.started_at)} → "
                   f"{fmt.timestamp(attempt.ended_at)} · {attempt.worker or '-'} · {attempt.error or '-'}")
    for execution in history.running:
        click.echo(f"Running: {execution}")
    if history.traceback:
        click.echo("Traceback:" if settings.mask_rules.unmasked else "Traceback (masked):")
        click.echo(history.traceback)


def _wait(job_id: str, url: str | None, timeout_s: float | None) -> None:
    """``jobs show ID --wait``: exactly ``jobs wait ID`` (tui.cli_wait), its output and exit code."""
    import sys

    from tui.cli import open_redis, read_settings
    from tui.cli_wait import follow

    conn, _ = open_redis(url)
    sys.exit(follow(conn, job_id, read_settings(conn, "jobs show"), timeout_s=timeout_s))
