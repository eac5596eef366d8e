"""Run-time schedule edits against a real rqtop scheduler process (issue 19): edits apply from the next tick,
reset restores the file's, a run-time schedule fires and survives a restart, bad and concurrent edits."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import redis

from tests.cli_support import ROOT, one_error_line, rqtop, rqtop_env
from tests.e2e.procs import WorkerPool, WorkerProcess, unique
from tests.waiting import wait_for
from worker import keys
from worker.schedules import ScheduleEntry, load_schedules

_SCHEDULER = (
    "import sys\n"
    "from worker.runner import run\n"
    "run(sys.argv[1], mode='all', queues=('high', 'default', 'low'), name=sys.argv[2], schedules_path=sys.argv[3],\n"
    "    scheduler_interval=0.3, worker_ttl=16, job_monitoring_interval=1)\n"
)
"""rqtop's worker in mode all (scheduler and worker), ticking every 0.3 s."""

FILE = """timezone = "UTC"

[[schedule]]
name = "nightly"
task = "tests.jobs.ok"
cron = "0 3 * * *"
timeout = 60
"""


def _start(pool: WorkerPool, path: Path) -> WorkerProcess:
    """A scheduler process on the test's database, running ``path``; waits until it registered the file."""
    name = unique("sched")
    process = pool._spawn(name, [sys.executable, "-c", _SCHEDULER, pool.url, name, str(path)])  # noqa: SLF001
    conn = redis.Redis.from_url(pool.url)
    wait_for(lambda: conn.hexists(keys.FILE_SCHEDULES, "nightly") and conn.hget(keys.worker(name), "mode"),
             20, f"{name} to register its schedules")
    return process


def _runs(conn: redis.Redis, name: str, since: float = 0.0) -> list[str]:
    """Ids of the runs of schedule ``name`` created after ``since`` (the history index)."""
    prefix = keys.run_id(name, "")
    return [member.decode() for member, score in conn.zrange(keys.HISTORY, 0, -1, withscores=True)
            if member.decode().startswith(prefix) and score > since]


def _applied(conn: redis.Redis, name: str) -> ScheduleEntry | None:
    """The definition the scheduler registered (the effective one)."""
    raw = conn.hget(keys.SCHEDULES, name)
    return None if raw is None else ScheduleEntry.from_json(raw)


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "schedules.toml"
    path.write_text(FILE)
    return path


def test_edit_applies_on_the_next_tick_and_reset_restores_the_file(
    pool: WorkerPool, conn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    path = _file(tmp_path)
    (file_entry,) = load_schedules(path)
    scheduler = _start(pool, path)
    assert _runs(conn, "nightly") == []

    edited = rqtop("schedules", "set", "nightly", "--interval", "1", url=redis_url)
    assert edited.returncode == 0, edited.stderr
    wait_for(lambda: (_applied(conn, "nightly") or file_entry).interval == 1, 10, "the override to be applied")
    wait_for(lambda: len(_runs(conn, "nightly")) >= 2, 15, "two runs of the edited schedule")
    wait_for(lambda: conn.hget(keys.sched_state("nightly"), "last_status") == b"completed", 15, "a finished run")

    bad = one_error_line(rqtop("schedules", "set", "nightly", "--cron", "61 * * * *", url=redis_url))
    assert bad == ("rqtop: error: run-time override: schedule 'nightly': field 'cron': invalid cron expression "
                   "'61 * * * *': minute value 61 is out of range 0-59")
    assert (_applied(conn, "nightly") or file_entry).interval == 1, "a refused edit changes nothing"

    assert rqtop("schedules", "reset", "nightly", url=redis_url).returncode == 0
    wait_for(lambda: _applied(conn, "nightly") == file_entry, 10, "the file's definition back")
    assert conn.zscore(keys.RQ_SCHEDULED_JOBS, keys.template_id("nightly")) == file_entry.next_run(time.time())
    settled = time.time() + 1.0
    time.sleep(2.5)
    assert _runs(conn, "nightly", since=settled) == [], "the file's cron (03:00) does not fire every second"
    assert scheduler.alive(), scheduler.log()


def test_two_admins_at_once_end_with_one_whole_edit(
    pool: WorkerPool, conn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    """Two `schedules set` processes started together: the scheduler runs exactly one of the two edits."""
    _start(pool, _file(tmp_path))
    argv = [sys.executable, "-m", "tui", "schedules", "set", "nightly"]
    edits = {("--interval", "400", "--timeout", "111", "--description", "A"): (None, 400, 111, "A"),
             ("--cron", "*/7 * * * *", "--timeout", "222", "--description", "B"): ("*/7 * * * *", None, 222, "B")}
    processes = [subprocess.Popen([*argv, *flags], cwd=ROOT, env=rqtop_env(redis_url), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for flags in edits]
    assert [process.wait(60) for process in processes] == [0, 0]

    def applied_edit() -> tuple[object, ...] | None:
        entry = _applied(conn, "nightly")
        return None if entry is None or entry.description == "" else (
            entry.cron, entry.interval, entry.timeout, entry.description)

    assert wait_for(applied_edit, 10, "an edit to be applied") in edits.values()


def test_runtime_schedule_fires_survives_a_restart_and_exports(
    pool: WorkerPool, conn: redis.Redis, redis_url: str, tmp_path: Path
) -> None:
    path = _file(tmp_path)
    first = _start(pool, path)
    created = rqtop("schedules", "create", "adhoc", "--task", "tests.jobs.ok", "--interval", "1", url=redis_url)
    assert created.returncode == 0, created.stderr
    wait_for(lambda: len(_runs(conn, "adhoc")) >= 1, 15, "the run-time schedule to fire")

    assert first.terminate() == 0, first.log()
    restarted_at = time.time()
    second = _start(pool, path)
    assert _applied(conn, "adhoc") is not None, "registration at start keeps the run-time schedule"
    wait_for(lambda: _runs(conn, "adhoc", since=restarted_at), 15, "a run after the restart")
    assert second.alive()

    exported = rqtop("schedules", "export", url=redis_url)
    assert exported.returncode == 0, exported.stderr
    out = tmp_path / "exported.toml"
    out.write_text(exported.stdout)
    checked = rqtop("schedules", "check", str(out))
    assert checked.returncode == 0, checked.stderr
    assert [(entry.name, entry.interval) for entry in load_schedules(out)] == [("nightly", None), ("adhoc", 1)]

    assert rqtop("schedules", "delete", "adhoc", url=redis_url).returncode == 0
    wait_for(lambda: _applied(conn, "adhoc") is None, 10, "the run-time schedule to be unregistered")
    assert conn.zscore(keys.RQ_SCHEDULED_JOBS, keys.template_id("adhoc")) is None
