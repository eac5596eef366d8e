"""`rqtop demo`'s platform: embedded Redis (or a claimed URL), a worker in mode all, demo traffic and a warm-up.

``demo_platform`` sets it all up and tears it down on exit; what runs inside it (the dashboard, or a plain
wait) is the caller's business, so this module knows nothing of the dashboard.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import redis

from tui.data.connection import connect, mask_url
from worker import keys
from worker.embedded_redis import EmbeddedRedis, die_with_parent

DEMO_PAUSED_SCHEDULE = "soft_delete_cleanup"
"""One schedule starts paused, as on a real platform mid-incident."""

DEMO_WARM_SCHEDULES = ("account_reconciliation", "alert_evaluation", "runtime_cleanup", "catalog_sync")
"""Schedules run once at start so the first screen already shows last runs, history and metrics."""


def rqtop_command() -> str:
    """A path to `rqtop` that works from this shell: the console script beside this Python (``.venv/bin/rqtop``,
    relative when under the current folder), else ``python -m tui``."""
    script = Path(sys.executable).parent / "rqtop"
    if not script.exists():
        return f"{sys.executable} -m tui"
    with contextlib.suppress(ValueError):
        return str(script.relative_to(Path.cwd()))
    return str(script)


def attach_command(url: str) -> str:
    """The command that opens a second dashboard on the demo's Redis (its URL masked as everywhere)."""
    return f"{rqtop_command()} --url {mask_url(url)}"


def demo_url_file() -> Path:
    """Where a running demo leaves its Redis URL for `make attach` (removed when the demo stops)."""
    return Path(tempfile.gettempdir()) / f"rqtop-demo-{os.getuid()}.url"


def _leave_url(url: str) -> None:
    """Write the URL for `make attach`, readable by this user only (a given URL may carry a password)."""
    path = demo_url_file()
    with contextlib.suppress(OSError):
        path.unlink()
    with contextlib.suppress(OSError):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(url + "\n")


def schedules_file(path: Path) -> Path:
    """The given schedules file, or the checked-in one next to the package when run from elsewhere."""
    if path.exists() or path.is_absolute():
        return path
    bundled = Path(__file__).resolve().parent.parent / path.name
    return bundled if bundled.exists() else path


def _raise_exit(signum: int, _frame: object) -> None:
    """Turn SIGTERM/SIGHUP into SystemExit so every finally block runs."""
    raise SystemExit(128 + signum)


def start_worker(url: str, schedules: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """Start `rqtop worker --mode all` in its own process group, logging to a file."""
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child, closed with it
    return subprocess.Popen(
        [sys.executable, "-m", "tui", "worker", "--url", url, "--mode", "all", "--schedules", str(schedules)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "RQTOP_DEMO": "1"},
        preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl; a killed demo takes its worker along
    )


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM the process group (warm shutdown), then SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def _warm_up(conn: redis.Redis, timeout: float = 15.0) -> None:
    """Run a few schedules once, as soon as the worker has registered them."""
    from worker.dispatch import run_now

    deadline = time.monotonic() + timeout
    pending = list(DEMO_WARM_SCHEDULES)
    while pending and time.monotonic() < deadline:
        pending = [name for name in pending if run_now(conn, name).status == "unknown"]
        if pending:
            time.sleep(0.2)


def claim_database(conn: redis.Redis, url: str) -> None:
    """Refuse a database that holds anything but an earlier demo (the demo replaces its schedules), else mark it."""
    size = conn.dbsize()
    if size and not conn.exists(keys.DEMO_MARKER):
        raise click.ClickException(
            f"{mask_url(url)} already holds {size} key(s) that rqtop demo did not write; the demo enqueues demo jobs "
            "and replaces the registered schedules: give it an empty database, or no URL for a private Redis"
        )
    conn.set(keys.DEMO_MARKER, "1")


@dataclass(frozen=True)
class DemoPlatform:
    """The running demo: its Redis connection and URL (``conn, url = platform`` unpacks them) and its worker."""

    conn: redis.Redis
    url: str
    worker: subprocess.Popen[bytes]
    log_path: Path
    server: EmbeddedRedis | None = None
    """The private Redis, when the demo started one."""

    @property
    def attach(self) -> str:
        """The command that attaches a second dashboard."""
        return attach_command(self.url)

    def problem(self) -> str | None:
        """What of the demo's own processes has died (its private Redis, its worker), or None when all run."""
        process = self.server.process if self.server is not None else None
        if self.server is not None and (process is None or process.poll() is not None):
            return "the demo's private Redis exited: the dashboard shows the last data; restart `rqtop demo`"
        if self.worker.poll() is not None:
            return f"the demo worker exited; see {self.log_path}"
        return None

    def __iter__(self) -> Iterator[object]:
        return iter((self.conn, self.url))

    def wait(self, duration: float | None = None) -> None:
        """Block until ``duration`` passes (forever without one); a worker that exits is an error naming its log."""
        deadline = time.monotonic() + duration if duration else None
        while deadline is None or time.monotonic() < deadline:
            problem = self.problem()
            if problem:
                raise click.ClickException(problem)
            time.sleep(0.5)


@contextlib.contextmanager
def demo_platform(url: str | None, schedules_path: Path) -> Iterator[DemoPlatform]:
    """Start Redis (private unless ``url``), the worker, traffic and the warm-up; tear all of it down on exit."""
    from worker import demo_traffic
    from worker.dispatch import set_paused

    schedules = schedules_file(schedules_path)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_exit)
    server: EmbeddedRedis | None = None
    worker_process: subprocess.Popen[bytes] | None = None
    stop = threading.Event()
    traffic: threading.Thread | None = None
    log_dir = Path(tempfile.mkdtemp(prefix="rqtop-demo-"))
    try:
        if url is None:
            server = EmbeddedRedis(die_with_parent=True).start()
            url = server.url
        conn = connect(url)
        conn.ping()
        if server is None:
            claim_database(conn, url)
        click.echo(f"rqtop demo: Redis at {mask_url(url)}")
        click.echo(f"  attach a second dashboard with:  {attach_command(url)}   (or: make attach)")
        click.echo(f"  worker log: {log_dir / 'worker.log'} (removed when the demo stops)")
        _leave_url(url)
        worker_process = start_worker(url, schedules, log_dir / "worker.log")
        traffic = threading.Thread(
            target=demo_traffic.run, args=(connect(url), stop), name="demo-traffic", daemon=True
        )
        traffic.start()
        set_paused(conn, DEMO_PAUSED_SCHEDULE, True)
        threading.Thread(target=_warm_up, args=(connect(url),), name="demo-warm-up", daemon=True).start()
        with contextlib.suppress(KeyboardInterrupt):
            yield DemoPlatform(conn, url, worker_process, log_dir / "worker.log", server)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if traffic is not None:
            traffic.join(timeout=5)
        if worker_process is not None:
            stop_process(worker_process)
        if server is not None:
            server.stop()
        with contextlib.suppress(OSError):
            demo_url_file().unlink()
        shutil.rmtree(log_dir, ignore_errors=True)
