"""``rqtop jobs wait ID``, ``rqtop run-now NAME --wait`` and ``rqtop jobs cancel-running ID``.

The follower polls one job (``tui.data.job_follow``: one read-only round trip per poll) and shows its progress:
a rich progress bar on a terminal, one line per change on a pipe; it prints the outcome and exits 0 when the job
finished, 1 when it failed, was stopped or canceled, 2 when there is no such job.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import click
import redis

from tui.action_table import find_job_action
from tui.cli import _actions, _confirm_or_exit, fail, guarded, open_redis, read_settings, url_option
from tui.cli_jobs import jobs
from tui.data.job_follow import JobState, read_job_state
from tui.data.settings import Settings
from worker.cancel_request import CANCEL_NOTE
from worker.display_text import safe_text

POLL_S = 0.5
"""How often a follower reads the job (its progress is written at most once a second)."""

EXIT_OK, EXIT_UNSUCCESSFUL = 0, 1


def describe(state: JobState) -> str:
    """One line for a pipe: status, then the progress summary when the job reports one."""
    line = f"{state.job_id}: {state.status or state.history_state or 'gone'}"
    if state.progress is not None and state.status == "started":
        line += f" · {state.progress.summary}"
    return line


def outcome(state: JobState, elapsed: float) -> str:
    """The last line: how the job ended, after how long, and its error when it failed."""
    if not state.ended:
        return f"{state.job_id} still {state.status} after {elapsed:.1f}s: gave up waiting (--timeout)"
    how = state.status or (f"{state.history_state} (its RQ record has expired)" if state.history_state else
                           "gone (its RQ record was deleted)")
    line = f"{state.job_id} {how} after {elapsed:.1f}s"
    return f"{line}: {state.error}" if state.error and not state.succeeded else line


def follow(conn: redis.Redis, job_id: str, settings: Settings, tty: bool | None = None,
           clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
           timeout_s: float | None = None) -> int:
    """Follow ``job_id`` until it ends (or ``timeout_s`` passes: exit 1); the exit code."""
    patterns = settings.mask_rules.for_task(None)
    read = lambda: guarded("wait", lambda: read_job_state(conn, job_id, patterns))  # noqa: E731
    first = read()
    if first.status is None and first.history_state is None:
        fail(f"wait: no job {job_id}")
    started = clock()
    use_bar = sys.stdout.isatty() if tty is None else tty
    state = (_follow_bar if use_bar else _follow_lines)(first, read, clock, sleep, started, timeout_s)
    click.echo(outcome(state, clock() - started))
    return EXIT_OK if state.succeeded else EXIT_UNSUCCESSFUL


def _timed_out(clock: Callable[[], float], started: float, timeout_s: float | None) -> bool:
    """``timeout_s`` has passed since ``started``."""
    return timeout_s is not None and clock() - started > timeout_s


def _follow_lines(state: JobState, read: Callable[[], JobState], clock: Callable[[], float],
                  sleep: Callable[[float], None], started: float, timeout_s: float | None) -> JobState:
    """One line per change until the job ends."""
    last = ""
    while True:
        line = describe(state)
        if line != last:
            click.echo(line)
            last = line
        if state.ended or _timed_out(clock, started, timeout_s):
            return state
        sleep(POLL_S)
        state = read()


def _follow_bar(state: JobState, read: Callable[[], JobState], clock: Callable[[], float],
                sleep: Callable[[float], None], started: float, timeout_s: float | None) -> JobState:
    """A rich progress bar (processed of total, or a pulse while the total is unknown) until the job ends."""
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[summary]}"),
                  TimeElapsedColumn(), transient=False) as bar:
        task = bar.add_task(escape(state.job_id), total=None, summary="")
        while True:
            progress = state.progress
            total = progress.total if progress and progress.total else None
            summary = escape(progress.summary if progress else state.status or "")
            bar.update(task, total=total, completed=progress.processed if progress and total else 0, summary=summary)
            if state.ended or _timed_out(clock, started, timeout_s):
                return state
            sleep(POLL_S)
            state = read()


@jobs.command("wait")
@url_option
@click.argument("job_id")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0), default=None, help="Give up after SECONDS.")
def wait(url: str | None, job_id: str, timeout_s: float | None) -> None:
    """Follow one job until it ends: exit 0 when it finished, 1 when it failed or was stopped or canceled."""
    conn, _ = open_redis(url)
    sys.exit(follow(conn, job_id, read_settings(conn, "jobs wait"), timeout_s=timeout_s))


@jobs.command("cancel-running")
@url_option
@click.argument("job_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask.")
@click.option("--read-only", is_flag=True, help="Refuse (as rqtop --read-only does).")
def cancel_running(url: str | None, job_id: str, yes: bool, read_only: bool) -> None:
    """Ask a running job to stop at its next checkpoint (cooperative cancel); it then ends as canceled.

    The CLI twin of the job detail's Cancel running key (``tui.action_table``'s ``cancel_running`` row)."""
    row = find_job_action("cancel_running")
    actions = _actions(url, read_only, "cancel-running", "cancel_running")
    _confirm_or_exit(f"{row.title} {safe_text(job_id)}? ({CANCEL_NOTE}; {row.note})", yes)
    result = guarded("cancel-running", lambda: actions.cancel_running(job_id))
    click.echo(result.message)
    if not result.ok:
        sys.exit(2)
