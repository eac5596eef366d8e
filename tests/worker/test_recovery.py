"""worker.recovery: the dead-worker registry path, its re-checks, its reason, and start-up orphan recovery."""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import time
import zlib
from base64 import b64decode
from pathlib import Path

import redis
from rq import Queue
from rq.utils import now, utcformat

from tests.rq_support import plant_running
from worker import keys
from worker.plans import ExecutionRef
from worker.recovery import fail_dead_executions, fail_orphaned_for_host
from worker.safe_decoding import SafeSerializer


class _Hostile:
    """Unpickling this would create a directory: the proof that code ran."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def _latest_error(conn: redis.Redis, job_id: str) -> tuple[str, str]:
    """(worker_name, exc text) of the newest result."""
    (_id, fields), = conn.xrevrange(f"rq:results:{job_id}", count=1)
    return fields[b"worker_name"].decode(), zlib.decompress(b64decode(fields[b"exc_string"])).decode()


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_dead_path_never_unpickles_hostile_meta(conn: redis.Redis, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    job_id, execution_id = plant_running(conn, "ghost")
    hostile = pickle.dumps({"x": _Hostile(str(marker))})
    conn.hset(keys.rq_job(job_id), "meta", hostile)
    assert fail_dead_executions(conn, [ExecutionRef(job_id, execution_id, "default", "ghost")], "gone") == 1
    assert not marker.exists()
    assert conn.hget(keys.rq_job(job_id), "status") == b"failed"
    assert conn.hget(keys.rq_job(job_id), "meta") == hostile
    assert conn.zscore("rq:failed:default", job_id) is not None
    assert _latest_error(conn, job_id) == ("ghost", "AbandonedJobError: gone")


def test_safe_serializer_reads_plain_data_only() -> None:
    data = {"a": [1, 2.5, "x", b"y", (True, None)], "when": now()}
    assert SafeSerializer.loads(SafeSerializer.dumps(data)) == data
    try:
        SafeSerializer.loads(pickle.dumps(_Hostile("/nonexistent/never")))
    except pickle.UnpicklingError:
        pass
    else:
        raise AssertionError("a global outside the allow-list was loaded")


def test_live_worker_job_is_never_failed(conn: redis.Redis) -> None:
    job_id, execution_id = plant_running(conn, "busy")
    conn.hset(keys.rq_worker("busy"), mapping={
        "last_heartbeat": utcformat(now()), "hostname": "another-host", "pid": "4242"})
    member = f"{job_id}:{execution_id}"
    score = conn.zscore("rq:wip:default", member)
    assert fail_dead_executions(conn, [ExecutionRef(job_id, execution_id, "default", "busy")], "x") == 0
    assert conn.hget(keys.rq_job(job_id), "status") == b"started"
    assert conn.zscore("rq:wip:default", member) == score
    assert conn.zcard("rq:failed:default") == 0


def test_a_rerun_elsewhere_is_not_the_planned_execution(conn: redis.Redis) -> None:
    job_id, execution_id = plant_running(conn, "old-worker")
    conn.hset(keys.rq_job(job_id), "worker_name", "new-worker")  # the job runs again, on another worker
    assert fail_dead_executions(conn, [ExecutionRef(job_id, execution_id, "default", "old-worker")], "x") == 0
    assert conn.hget(keys.rq_job(job_id), "status") == b"started"


def test_stale_heartbeat_counts_as_dead_and_lock_is_released(conn: redis.Redis) -> None:
    job_id, execution_id = plant_running(conn, "stale")
    conn.hset(keys.rq_worker("stale"), mapping={"last_heartbeat": "2000-01-01T00:00:00.000000Z",
                                                "hostname": "another-host", "pid": "1"})
    assert fail_dead_executions(conn, [ExecutionRef(job_id, execution_id, "default", "stale")], "x") == 1
    assert not conn.exists("rq:clean_registries:default")


def test_orphans_of_this_host_are_failed_at_startup(conn: redis.Redis) -> None:
    host = socket.gethostname()
    conn.zadd(keys.WORKERS, {"crashed": time.time(), "running": time.time(), "remote": time.time()})
    conn.hset(keys.worker("crashed"), mapping={"hostname": host, "pid": str(_dead_pid())})
    conn.hset(keys.worker("running"), mapping={"hostname": host, "pid": str(os.getppid())})
    conn.hset(keys.worker("remote"), mapping={"hostname": "elsewhere", "pid": str(_dead_pid())})
    conn.hset(keys.rq_worker("running"), mapping={"last_heartbeat": utcformat(now()), "hostname": host,
                                                  "pid": str(os.getppid())})
    conn.hset(keys.rq_worker("remote"), mapping={"last_heartbeat": utcformat(now()), "hostname": "elsewhere"})
    crashed, _ = plant_running(conn, "crashed")
    running, _ = plant_running(conn, "running")
    remote, _ = plant_running(conn, "remote")

    assert fail_orphaned_for_host(conn, host) == 1
    assert conn.hget(keys.rq_job(crashed), "status") == b"failed"
    assert _latest_error(conn, crashed) == ("crashed", "AbandonedJobError: Worker restarted during execution")
    assert conn.hget(keys.rq_job(running), "status") == b"started"
    assert conn.hget(keys.rq_job(remote), "status") == b"started"
    assert fail_orphaned_for_host(conn, host) == 0


def test_busy_maintenance_lock_fails_nothing(conn: redis.Redis, monkeypatch) -> None:
    from worker import recovery

    monkeypatch.setattr(recovery, "LOCK_WAIT_S", 0.2)
    job_id, execution_id = plant_running(conn, "ghost")
    conn.set("rq:clean_registries:default", 1, ex=60)  # a worker is cleaning this queue
    assert fail_dead_executions(conn, [ExecutionRef(job_id, execution_id, "default", "ghost")], "x") == 0
    assert conn.hget(keys.rq_job(job_id), "status") == b"started"
    assert conn.exists("rq:clean_registries:default"), "someone else's lock is never released by us"


def test_startup_puts_back_every_state_a_dead_worker_leaves(conn: redis.Redis, monkeypatch) -> None:
    """Issue 14.2: an id taken into the intermediate list, a wip entry still ``queued``, a stale executions member."""
    from worker import recovery

    monkeypatch.setattr(recovery, "INTERMEDIATE_GRACE_S", 0.05)
    host = socket.gethostname()
    conn.zadd(keys.WORKERS, {"crashed": time.time()})
    conn.hset(keys.worker("crashed"), mapping={"hostname": host, "pid": str(_dead_pid())})
    taken = Queue("default", connection=conn).enqueue("tests.jobs.ok").id
    conn.lmove("rq:queue:default", "rq:queue:default:intermediate")
    unstarted, execution_id = plant_running(conn, "crashed")
    conn.hset(keys.rq_job(unstarted), "status", "queued")
    conn.sadd(keys.rq_worker_executions("crashed"), f"{unstarted}:{execution_id}", "gone-job:0")

    assert fail_orphaned_for_host(conn, host) == 2
    assert conn.lrange("rq:queue:default", 0, -1) == [taken.encode(), unstarted.encode()]
    assert conn.llen("rq:queue:default:intermediate") == 0 and conn.zcard("rq:wip:default") == 0
    assert not conn.exists(keys.rq_worker_executions("crashed"))
    assert conn.hget(keys.rq_job(unstarted), "status") == b"queued"
