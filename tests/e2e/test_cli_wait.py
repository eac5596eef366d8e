"""``rqtop jobs wait``, ``rqtop run-now --wait`` and ``rqtop jobs cancel-running`` against a real rqtop worker."""

from __future__ import annotations

import subprocess
import sys
import uuid

import redis
from rq import Queue

from tests import jobs
from tests.cli_support import ROOT, one_error_line, rqtop, rqtop_env
from tests.e2e.procs import WorkerPool
from tests.waiting import wait_for
from worker import keys
from worker.schedules import ScheduleEntry


def test_wait_prints_one_line_per_change_and_exits_0_when_the_job_finishes(conn: redis.Redis, redis_url: str,
                                                                           pool: WorkerPool) -> None:
    pool.rqtop("wait-ok")
    job = Queue("default", connection=conn).enqueue(jobs.progress_steps, 3, 1.1)
    done = rqtop("jobs", "wait", job.id, url=redis_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"{job.id}: started · 3/3 · 100 % · step 3" in lines or any("2/3 · 67 %" in line for line in lines), lines
    assert any(line.startswith(f"{job.id}: started · 1/3 · 33 %") for line in lines), lines
    assert lines[-1].startswith(f"{job.id} finished after "), lines
    assert len(lines) == len(set(lines)), "one line per change, never the same line twice in a row"


def test_wait_exits_1_with_the_error_when_the_job_fails(conn: redis.Redis, redis_url: str, pool: WorkerPool) -> None:
    pool.rqtop("wait-fail")
    job = Queue("default", connection=conn).enqueue(jobs.progress_steps, 1, 0.2, True)
    done = rqtop("jobs", "wait", job.id, url=redis_url)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout.splitlines()[-1].startswith(f"{job.id} failed after ")
    assert "step failed on purpose" in done.stdout.splitlines()[-1]


def test_wait_for_no_such_job_is_one_line_exit_2(redis_url: str) -> None:
    assert "no job nope" in one_error_line(rqtop("jobs", "wait", "nope", url=redis_url))
    assert "no job nope" in one_error_line(rqtop("jobs", "show", "nope", "--wait", url=redis_url))
    assert "--json" in one_error_line(rqtop("jobs", "show", "nope", "--wait", "--json", url=redis_url))


def test_jobs_show_wait_is_jobs_wait(conn: redis.Redis, redis_url: str, pool: WorkerPool) -> None:
    """Issue 16: `rqtop jobs show ID --wait` follows the job like `jobs wait ID`: lines per change, the outcome,
    exit 0 when it finished and 1 when it failed."""
    pool.rqtop("show-wait")
    queue = Queue("default", connection=conn)
    ok, bad = queue.enqueue(jobs.progress_steps, 2, 0.6), queue.enqueue(jobs.progress_steps, 1, 0.2, True)
    done = rqtop("jobs", "show", ok.id, "--wait", url=redis_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith(f"{ok.id}: ") for line in lines[:-1]), lines
    assert lines[-1].startswith(f"{ok.id} finished after "), lines
    failed = rqtop("jobs", "show", bad.id, "--wait", "--timeout", "30", url=redis_url)
    assert failed.returncode == 1 and failed.stdout.splitlines()[-1].startswith(f"{bad.id} failed after ")


def test_cancel_running_ends_the_followed_job_canceled_and_the_follower_exits_1(
        conn: redis.Redis, redis_url: str, pool: WorkerPool) -> None:
    pool.rqtop("wait-cancel")
    job = Queue("default", connection=conn).enqueue(jobs.report_until_released, f"never:{uuid.uuid4().hex}")
    wait_for(lambda: conn.exists(keys.progress(job.id)), 15, "the job to report")
    follower = subprocess.Popen([sys.executable, "-m", "tui", "jobs", "wait", job.id], cwd=ROOT,
                                env=rqtop_env(redis_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    refused = rqtop("jobs", "cancel-running", job.id, url=redis_url)
    assert refused.returncode == 2 and "--yes" in refused.stderr, "no terminal: asks for --yes"
    asked = rqtop("jobs", "cancel-running", job.id, "--yes", url=redis_url)
    assert asked.returncode == 0, asked.stderr
    assert "finishes first" in asked.stdout, "the confirmation says a task without checkpoints finishes first"
    out, err = follower.communicate(timeout=30)
    assert follower.returncode == 1, (out, err)
    assert out.splitlines()[-1].startswith(f"{job.id} canceled after "), out
    again = rqtop("jobs", "cancel-running", job.id, "--yes", url=redis_url)
    assert again.returncode == 2 and "not running" in again.stdout
    assert rqtop("jobs", "cancel-running", job.id, "--yes", "--read-only", url=redis_url).returncode == 2


def test_run_now_wait_follows_the_queued_run(conn: redis.Redis, redis_url: str, pool: WorkerPool) -> None:
    entry = ScheduleEntry(name="steps", task="tests.jobs.progress_steps", interval=3600,
                          kwargs={"steps": 2, "pause_s": 0.3})
    conn.hset(keys.SCHEDULES, entry.name, entry.to_json())
    pool.rqtop("run-now", queues=entry.queue)
    done = rqtop("run-now", "steps", "--yes", "--wait", url=redis_url)
    assert done.returncode == 0, (done.stdout, done.stderr)
    last = done.stdout.splitlines()[-1]
    assert last.startswith("sched--steps--") and " finished after " in last, done.stdout
