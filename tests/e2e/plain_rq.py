"""Real plain RQ processes of one RQ line (2.12 from .venv-rq2, 3.x from the test virtualenv) on a test's database:
``rq worker`` / ``rq worker-pool`` commands, and jobs enqueued by that line's own ``Queue`` (each line reads
only the job hashes it writes), so the Redis state is exactly what such a deployment has."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from tests.e2e.procs import ROOT, WorkerPool, WorkerProcess

_ENQUEUE = """
import json, sys
from datetime import timedelta
import redis
from rq import Queue, Retry
from tests import jobs
url, queue, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
conn = redis.Redis.from_url(url)
serializer = None
if spec.pop("json", False):
    from rq.serializers import JSONSerializer as serializer
q = Queue(queue, connection=conn, serializer=serializer)
func = getattr(jobs, spec.pop("func"))
args = spec.pop("args", [])
if "retry" in spec:
    spec["retry"] = Retry(**spec["retry"])
if "depends_on" in spec:
    spec["depends_on"] = spec["depends_on"]
if "in_s" in spec:
    job = q.enqueue_in(timedelta(seconds=spec.pop("in_s")), func, *args, **spec)
else:
    job = q.enqueue(func, *args, **spec)
sys.stdout.write(job.id)
"""


class PlainRq:
    """One RQ line's commands and enqueues against ``url``; workers join ``pool`` so teardown kills them."""

    def __init__(self, bin_dir: Path, url: str, pool: WorkerPool, env: dict[str, str] | None = None) -> None:
        self.bin_dir = bin_dir
        self.url = url
        self.pool = pool
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **(env or {})}
        self._env_argv = ["env", *(f"{k}={v}" for k, v in (env or {}).items())] if env else []
        """Prepended to a worker's argv (``env`` execs it: same pid) so the worker sees ``env`` too."""

    @property
    def version(self) -> str:
        """The RQ version this line runs."""
        return self.python("import rq, sys; sys.stdout.write(rq.__version__)")

    def python(self, source: str, *args: str) -> str:
        """Run ``source`` with this line's interpreter; its stdout (a failure raises with its stderr)."""
        done = subprocess.run([str(self.bin_dir / "python"), "-c", source, *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=30)
        if done.returncode:
            raise AssertionError(f"{self.bin_dir} python failed: {done.stderr[-2000:]}")
        return done.stdout

    def enqueue(self, func: str, *args: Any, queue: str = "default", **spec: Any) -> str:
        """Enqueue ``tests.jobs.<func>(*args)`` with this line's Queue; the job id. ``spec`` takes enqueue's
        keywords plus ``retry`` (Retry's keywords), ``in_s`` (enqueue_in) and ``json`` (JSONSerializer)."""
        return self.python(_ENQUEUE, self.url, queue, json.dumps({"func": func, "args": list(args), **spec}))

    def worker(self, tag: str, *queues: str, extra: tuple[str, ...] = ()) -> WorkerProcess:
        """``rq worker`` of this line, beating every ~1 s (``--worker-ttl 16``, monitoring interval 1 s)."""
        name = f"plain-{tag}-{uuid.uuid4().hex[:6]}"
        return self.pool._spawn(name, [*self._env_argv, str(self.bin_dir / "rq"), "worker", "--url", self.url,
                                       "--name", name, "--worker-ttl", "16", "--job-monitoring-interval", "1",
                                       *extra, *(queues or ("default",))])

    def worker_pool(self, tag: str, *queues: str, num: int = 2) -> WorkerProcess:
        """``rq worker-pool`` of this line with ``num`` workers."""
        return self.pool._spawn(f"pool-{tag}-{uuid.uuid4().hex[:6]}", [
            *self._env_argv, str(self.bin_dir / "rq"), "worker-pool", "--url", self.url, "-n", str(num),
            *(queues or ("default",))])


def status_json(url: str, *extra: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """``rqtop status --json`` as an operator runs it, parsed."""
    done = subprocess.run([sys.executable, "-m", "tui", "status", "--json", "--url", url, *extra], cwd=ROOT,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)
