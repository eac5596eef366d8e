"""Runs of plain RQ (2.12 from .venv-rq2, 3.x from .venv): jobs enqueued and run by that RQ's own code and CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_ENQUEUE = """
import json, sys, redis
from rq import Queue
from tests import jobs
url, queue, plan = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
q = Queue(queue, connection=redis.Redis.from_url(url))
ids = [q.enqueue(jobs.sleep_then, seconds, fail).id for seconds, fail in plan]
sys.stdout.write(json.dumps(ids))
"""


def _env() -> dict[str, str]:
    """The environment of a plain RQ process: tests.jobs importable from the repo root."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def enqueue_plain(bin_dir: Path, url: str, queue: str, plan: list[tuple[float, bool]]) -> list[str]:
    """Enqueue ``tests.jobs.sleep_then(seconds, fail)`` per plan entry with that RQ's own Queue; the job ids."""
    out = subprocess.run([str(bin_dir / "python"), "-c", _ENQUEUE, url, queue, json.dumps(plan)], cwd=ROOT,
                         env=_env(), capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def burst_plain_worker(bin_dir: Path, url: str, queue: str, name: str) -> None:
    """Run ``rq worker --burst`` of that RQ (a forking worker) until the queue is empty."""
    out = subprocess.run([str(bin_dir / "rq"), "worker", "--burst", "--url", url, "--name", name, queue], cwd=ROOT,
                         env=_env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
