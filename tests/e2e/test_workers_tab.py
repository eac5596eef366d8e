"""Workers tab truth against real worker processes: heartbeats, counts, the running job, crashes and clean stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import redis
import rq
from rq import Queue

import worker as worker_package
from tests import jobs
from tests.e2e.procs import OFFLINE_AFTER_S, ROOT, WorkerPool
from tests.waiting import wait_for
from tui.data.models import Snapshot, WorkerRow
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.data.status_document import status_document
from worker import keys

TERMINAL = (b"finished", b"failed", b"stopped", b"canceled")


def worker_row(snapshot: Snapshot, name: str) -> WorkerRow | None:
    """The snapshot's row for worker ``name``, or None when the tab does not list it."""
    return next((row for row in snapshot.workers if row.name == name), None)


def read_row(reader: DashboardReader, name: str) -> tuple[Snapshot, WorkerRow | None]:
    """One refresh and the row of ``name`` in it."""
    snapshot = reader.read()
    return snapshot, worker_row(snapshot, name)


def all_ended(conn: redis.Redis, job_ids: list[str]) -> bool:
    """True when every job's RQ status is terminal."""
    return all(conn.hget(keys.rq_job(job_id), "status") in TERMINAL for job_id in job_ids)


def test_live_worker_row_tracks_beats_counts_and_the_running_job(
    conn: redis.Redis, pool: WorkerPool, settings: Settings
) -> None:
    """Online with advancing last_seen; processed/failed (RQ's) and attempts (rqtop's) equal what ran; current
    job and elapsed grow, then clear."""
    worker = pool.rqtop("live")
    reader = DashboardReader(conn, settings)
    _, first = wait_for(lambda: (found := read_row(reader, worker.name))[1] and found, 15, "the worker row")
    assert first is not None and first.status == "online"
    assert (first.mode, first.pid, first.hostname) == ("worker", worker.pid, socket.gethostname())
    assert (first.version, first.queues, first.processed, first.failed) == (worker_package.__version__, ("default",),
                                                                             0, 0)
    assert first.last_seen is not None and first.up_since is not None
    _, second = wait_for(lambda: (found := read_row(reader, worker.name))[1].last_seen > first.last_seen and found,
                         5, "a later heartbeat")
    assert second is not None and second.status == "online" and second.up_since == first.up_since, (
        "uptime counts from one birth")

    queue = Queue("default", connection=conn)
    ran = [queue.enqueue(jobs.recorded_ok).id, queue.enqueue(jobs.recorded_ok).id, queue.enqueue(jobs.recorded_boom).id]
    wait_for(lambda: all_ended(conn, ran) and (read_row(reader, worker.name)[1].attempts or 0) >= 3, 15,
             "three jobs to run and be counted")
    _, beat = wait_for(lambda: (found := read_row(reader, worker.name))[1].last_seen > second.last_seen and found,
                       5, "a heartbeat after the jobs")
    assert beat is not None and (beat.processed, beat.failed) == (2, 1), "RQ's counts equal the jobs that really ran"
    assert (beat.attempts, beat.attempts_failed) == (3, 1), "rqtop's own record counts every run"
    assert (conn.zcard("rq:finished:default"), conn.zcard("rq:failed:default")) == (2, 1)
    assert beat.current_job is None and beat.elapsed_at(time.time()) is None

    release = f"e2e:release:{uuid.uuid4().hex}"
    held = queue.enqueue(jobs.hold, release)
    busy_snap, busy = wait_for(lambda: held.id in jobs.starts(conn) and (found := read_row(reader, worker.name))[1]
                               .current_job_id == held.id and found, 10, "the held job to show as current")
    assert busy is not None and busy.current_job == "tests.jobs.hold" and busy.status == "online"
    busy_elapsed = busy.elapsed_at(busy_snap.taken_at.timestamp())
    assert busy_elapsed is not None and 0 <= busy_elapsed < 5
    assert busy_snap.totals.active == 1
    later_snap, later = wait_for(
        lambda: ((found := read_row(reader, worker.name))[1].elapsed_at(found[0].taken_at.timestamp()) or 0)
        > busy_elapsed + 1.0 and found,
        5, "the elapsed time to grow",
    )
    assert later is not None and later.current_job == "tests.jobs.hold" and later.current_job_id == held.id
    waited = later_snap.taken_at.timestamp() - busy_snap.taken_at.timestamp()
    later_elapsed = later.elapsed_at(later_snap.taken_at.timestamp())
    assert later_elapsed is not None and abs((later_elapsed - busy_elapsed) - waited) < 0.01, (
        "elapsed moves with the clock")
    assert later.status == "online" and later.last_seen > busy.last_seen, "a busy worker keeps beating"

    conn.set(release, 1)
    _, idle = wait_for(lambda: (found := read_row(reader, worker.name))[1].current_job is None and found, 10,
                       "the held job to end")
    assert idle is not None and (idle.processed, idle.failed) == (3, 1) and idle.elapsed_at(time.time()) is None
    assert conn.hget(keys.rq_job(held.id), "status") == b"finished"


def test_sigkilled_worker_turns_offline_after_the_threshold_and_stays_listed(
    conn: redis.Redis, pool: WorkerPool, settings: Settings
) -> None:
    """SIGKILL of worker and horse: the row stays, online until offline_after_s has passed, then offline for good."""
    worker = pool.rqtop("doomed")
    reader = DashboardReader(conn, settings)
    held = Queue("default", connection=conn).enqueue(jobs.hold, f"e2e:never:{uuid.uuid4().hex}")
    wait_for(lambda: (read_row(reader, worker.name)[1] or None) and read_row(reader, worker.name)[1].current_job_id
             == held.id and held.id in jobs.starts(conn), 15, "the worker to run the held job")
    horses = worker.kill_hard()
    assert horses == [jobs.starts(conn)[held.id][0][0]], ("the horse running the job was killed", horses)

    def settled_last_seen() -> object:
        """last_seen once two reads 0.2 s apart agree (a beat sent just before the kill may still land)."""
        before = read_row(reader, worker.name)[1]
        time.sleep(0.2)
        after = read_row(reader, worker.name)[1]
        return before and after and before.last_seen == after.last_seen and after.last_seen

    frozen = wait_for(settled_last_seen, 3, "the dead worker's last_seen to settle")
    went_offline = None
    deadline = time.monotonic() + OFFLINE_AFTER_S + 5
    while time.monotonic() < deadline:
        snapshot, row = read_row(reader, worker.name)
        assert row is not None, "a crashed worker must not vanish from the tab"
        assert row.last_seen == frozen, ("nobody beats for a dead worker", row.last_seen, frozen)
        silent = snapshot.taken_at.timestamp() - frozen.timestamp()
        if row.status == "offline":
            went_offline = silent
            break
        assert row.status == "online" and silent <= OFFLINE_AFTER_S + 0.01, f"still online {silent:.1f}s after"
        time.sleep(0.1)
    assert went_offline is not None and went_offline > OFFLINE_AFTER_S, went_offline
    time.sleep(0.5)
    snapshot, row = read_row(reader, worker.name)
    assert row is not None and row.status == "offline" and row.up_since is None and row.last_seen == frozen
    assert (row.mode, row.pid) == ("worker", worker.pid)
    far = DashboardReader(conn, Settings(offline_after_s=OFFLINE_AFTER_S, clock=lambda: time.time() + 3600)).read()
    assert (found := worker_row(far, worker.name)) is not None and found.status == "offline"


def test_sigterm_finishes_the_job_then_the_worker_leaves_the_tab(conn: redis.Redis, pool: WorkerPool) -> None:
    """`python -m tui worker` + SIGTERM mid-job: the job finishes, exit 0, and the row is gone (never "offline")."""
    worker = pool.cli("polite")
    reader = DashboardReader(conn, Settings())  # the CLI worker beats every 10 s: the default 60 s threshold
    wait_for(lambda: read_row(reader, worker.name)[1], 15, "the CLI worker row")
    job = Queue("default", connection=conn).enqueue(jobs.nap, 1.5)
    wait_for(lambda: (read_row(reader, worker.name)[1] or None) and read_row(reader, worker.name)[1].current_job_id
             == job.id and job.id in jobs.starts(conn), 10, "the job to start")
    worker.process.send_signal(signal.SIGTERM)
    statuses: list[str | None] = []
    glimpses: list[tuple] = []
    deadline = time.monotonic() + 15
    while worker.alive() and time.monotonic() < deadline:
        snapshot, row = read_row(reader, worker.name)
        statuses.append(row.status if row else None)
        if row and row.status != "online":
            glimpses.append((row.status, row.mode, row.last_seen and snapshot.taken_at - row.last_seen,
                             conn.hget(keys.rq_worker(worker.name), "death"), conn.exists(keys.worker(worker.name))))
        time.sleep(0.1)
    assert worker.process.wait(timeout=1) == 0, worker.log()
    assert set(statuses) <= {"online", None}, ("a clean stop must never show the worker offline", glimpses)
    assert conn.hget(keys.rq_job(job.id), "status") == b"finished", "a warm shutdown finishes the current job"
    for clock in (time.time, lambda: time.time() + 3600):
        snapshot = DashboardReader(conn, Settings(offline_after_s=OFFLINE_AFTER_S, clock=clock)).read()
        assert worker_row(snapshot, worker.name) is None, "a clean stop removes the worker from the tab"
    assert conn.hget(keys.rq_worker(worker.name), "death") is not None
    assert not conn.exists(keys.worker(worker.name)) and conn.zscore(keys.WORKERS, worker.name) is None
    assert "Traceback" not in worker.log(), worker.log()


def test_clean_stops_are_never_caught_half_done_as_offline(conn: redis.Redis, pool: WorkerPool) -> None:
    """Six idle CLI workers stopped at once, the tab read back to back: each row is online, then gone."""
    workers = [pool.cli(f"clean{n}") for n in range(6)]
    wait_for(lambda: all(conn.exists(keys.worker(w.name)) for w in workers), 20, "six CLI workers")
    names = {w.name for w in workers}
    reader = DashboardReader(conn, Settings())
    assert {row.name: row.status for row in reader.read().workers} == dict.fromkeys(names, "online")
    for worker in workers:
        worker.process.send_signal(signal.SIGTERM)
    glimpses = []
    deadline = time.monotonic() + 10
    while any(w.alive() for w in workers) and time.monotonic() < deadline:  # sampled back to back on purpose:
        glimpses += [(row.name, row.status, row.mode) for row in reader.read().workers  # the half-done state
                     if row.name in names and row.status != "online"]  # lasts one round trip
    assert [w.process.wait(timeout=5) for w in workers] == [0] * 6
    assert glimpses == [], f"clean stops seen as offline: {glimpses[:5]}"
    assert not names & {row.name for row in reader.read().workers}


def _comparable(document: dict) -> dict:
    """A status document without what moves between two reads a moment apart."""
    document = {key: value for key, value in document.items()
                if key not in ("taken_at", "metrics_taken_at", "round_trips")}
    document["workers"] = [{k: v for k, v in row.items() if k not in ("last_seen", "uptime_s", "current_elapsed_s")}
                           for row in document["workers"]]
    return document


def test_plain_rq_worker_row_and_status_json_agree_with_the_reader(
    conn: redis.Redis, redis_url: str, pool: WorkerPool
) -> None:
    """`rq worker` shows as mode "rq" with its rq version and counts; `rqtop status --json` equals the Snapshot."""
    plain = pool.plain_rq("plain", "default")
    ours = pool.rqtop("ours", "high")
    wait_for(lambda: conn.exists(keys.rq_worker(plain.name)) and conn.exists(keys.worker(ours.name)), 15,
             "both workers to register")
    default, high = Queue("default", connection=conn), Queue("high", connection=conn)
    ran = [default.enqueue(jobs.recorded_ok).id, default.enqueue(jobs.recorded_ok).id,
           default.enqueue(jobs.recorded_boom).id, high.enqueue(jobs.recorded_ok).id,
           high.enqueue(jobs.recorded_boom).id]
    waiting = default.enqueue_in(timedelta(hours=1), jobs.recorded_ok)
    reader = DashboardReader(conn, Settings())
    wait_for(lambda: all_ended(conn, ran) and ((worker_row(reader.read(), ours.name) or None)
                                               and worker_row(reader.read(), ours.name).attempts == 2), 15,
             "five jobs to run")
    starts = jobs.starts(conn)
    assert all(len(starts[job_id]) == 1 for job_id in ran)

    snapshot = reader.read()
    plain_row, ours_row = worker_row(snapshot, plain.name), worker_row(snapshot, ours.name)
    assert plain_row is not None and ours_row is not None
    assert (plain_row.mode, plain_row.version, plain_row.status) == ("rq", rq.__version__, "online")
    assert (plain_row.pid, plain_row.queues, plain_row.current_job) == (plain.pid, ("default",), None)
    assert (plain_row.processed, plain_row.failed) == (2, 1), "RQ's successful_job_count and failed_job_count"
    assert (plain_row.attempts, plain_row.state) == (None, "idle")
    assert (ours_row.mode, ours_row.processed, ours_row.failed) == ("worker", 1, 1)
    assert (ours_row.attempts, ours_row.attempts_failed) == (2, 1), "rqtop's count of runs, under its own name"
    queues = {row.name: row for row in snapshot.queues}
    assert (queues["default"].completed, queues["default"].failed, queues["default"].scheduled) == (2, 1, 1)
    assert (queues["high"].completed, queues["high"].failed) == (1, 1)
    assert (snapshot.totals.completed, snapshot.totals.failed, snapshot.totals.active) == (3, 2, 0)
    assert waiting.id not in starts

    result = subprocess.run([sys.executable, "-m", "tui", "status", "--json", "--url", redis_url], cwd=ROOT,
                            capture_output=True, text=True, timeout=30, env=_env())
    after = status_document(reader.read())  # the CLI's versioned, sorted, rounded form
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert _comparable(status) == _comparable(after)
    assert status["totals"] == after["totals"] and status["queues"] == after["queues"]
    for row in status["workers"]:
        assert row["status"] == "online" and row["last_seen"] is not None


def _env() -> dict[str, str]:
    """The environment of a CLI subprocess: the repository importable, no URL or mode from the caller's shell."""
    env = {k: v for k, v in os.environ.items() if k not in ("RQ_REDIS_URL", "REDIS_URL", "RQTOP_READ_ONLY")}
    return {**env, "PYTHONPATH": str(ROOT)}
