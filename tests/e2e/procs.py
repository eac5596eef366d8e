"""Start, stop and kill real worker processes for the end-to-end tests, every wait bounded by a deadline."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import redis
from rq import Queue

from tests import jobs
from tests.waiting import wait_for
from worker import keys

ROOT = Path(__file__).resolve().parents[2]


_RUNNER = (
    "import sys\n"
    "from worker.runner import run\n"
    "run(sys.argv[1], mode='worker', queues=tuple(sys.argv[3].split(',')), name=sys.argv[2],\n"
    "    worker_ttl=16, job_monitoring_interval=1)\n"
)
"""An rqtop worker (worker.runner.run) that beats every ~1 s idle and busy (worker_ttl=16, monitoring 1 s)."""

OFFLINE_AFTER_S = 3.0
"""The dashboard's offline threshold in these tests (workers beat every ~1 s)."""


def unique(tag: str) -> str:
    """A worker name no other test uses."""
    return f"e2e-{tag}-{uuid.uuid4().hex[:6]}"


def children(pid: int) -> list[int]:
    """Pids whose parent is ``pid`` (the work horses of a worker), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def _signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the process group led by ``pid`` (the worker and anything it did not detach)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


@dataclass
class WorkerProcess:
    """One worker process started by a test, with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        """True while the process has not exited."""
        return self.process.poll() is None

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill_hard(self) -> list[int]:
        """A machine crash: freeze the worker (it can fork no more), SIGKILL it and its horses; the horse pids.

        RQ's horse calls setpgrp, so killing the worker's group alone would leave it running; the worker is
        stopped first so it never sees its horse die (it would fail the job itself).
        """
        if not self.alive():
            return []
        _signal_group(self.pid, signal.SIGSTOP)
        horses = children(self.pid)
        _signal_group(self.pid, signal.SIGKILL)
        self.process.wait(timeout=5)
        for horse in horses:
            with contextlib.suppress(ProcessLookupError):
                os.kill(horse, signal.SIGKILL)
        return horses

    def terminate(self, timeout: float = 10.0) -> int:
        """SIGTERM (RQ's warm shutdown: finish the current job) and wait; the exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


class WorkerPool:
    """Every worker process a test starts; ``close`` (fixture teardown) kills whatever is still running."""

    def __init__(self, url: str, log_dir: Path) -> None:
        self.url = url
        self.log_dir = log_dir
        self.started: list[WorkerProcess] = []

    def _spawn(self, name: str, argv: list[str]) -> WorkerProcess:
        """Start ``argv`` in its own session with the repository importable; output goes to a log file."""
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}, start_new_session=True,
            )
        worker = WorkerProcess(name, process, log_path)
        self.started.append(worker)
        return worker

    def rqtop(self, tag: str, queues: str = "default", url: str | None = None) -> WorkerProcess:
        """An rqtop worker through worker.runner.run with ~1 s heartbeats."""
        name = unique(tag)
        return self._spawn(name, [sys.executable, "-c", _RUNNER, url or self.url, name, queues])

    def cli(self, tag: str, queues: str = "default", url: str | None = None) -> WorkerProcess:
        """An rqtop worker exactly as operators start it: ``python -m tui worker --mode worker``."""
        name = unique(tag)
        return self._spawn(name, [sys.executable, "-m", "tui", "worker", "--url", url or self.url, "--mode", "worker",
                                  "--queues", queues, "--name", name])

    def scheduler(self, tag: str, schedules: Path, *flags: str) -> WorkerProcess:
        """``python -m tui worker --mode scheduler`` exactly as operators start it (it shares the dashboard
        snapshot unless ``--no-snapshot`` is among ``flags``)."""
        name = unique(tag)
        return self._spawn(name, [sys.executable, "-m", "tui", "worker", "--url", self.url, "--mode", "scheduler",
                                  "--schedules", str(schedules), "--name", name, *flags])

    def plain_rq(self, tag: str, queues: str = "default") -> WorkerProcess:
        """RQ's own ``rq worker`` command (no rqtop code), heartbeating every ~1 s."""
        name = unique(tag)
        return self._spawn(name, [sys.executable, "-m", "rq.cli", "worker", "--url", self.url, "--name", name,
                                  "--worker-ttl", "16", "--job-monitoring-interval", "1", *queues.split(",")])

    def close(self) -> None:
        """Kill every worker and horse still running and reap them (fixture teardown)."""
        for worker in self.started:
            if worker.alive():
                worker.kill_hard()


def start_holding(pool: WorkerPool, conn: redis.Redis, tag: str) -> tuple[WorkerProcess, str]:
    """A worker running a job that only ends when told (never, here); the worker and the job id."""
    worker = pool.rqtop(tag)
    job = Queue("default", connection=conn).enqueue(jobs.hold, f"e2e:never:{uuid.uuid4().hex}")
    wait_for(lambda: conn.hget(keys.worker(worker.name), "current_job_id") == job.id.encode()
             and conn.hget(keys.rq_job(job.id), "status") == b"started" and job.id in jobs.starts(conn),
             15, f"{worker.name} to run its job")
    return worker, job.id
