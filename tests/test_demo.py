"""`rqtop demo` as a real process: it runs the platform on an empty database and leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import redis

from tests.waiting import wait_for
from tui.demo import demo_url_file
from worker import keys

ROOT = Path(__file__).resolve().parent.parent


def demo(*args: str) -> subprocess.Popen[str]:
    """Start `python -m tui demo --no-dashboard ARGS` with no Redis URL in the environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "RQ_REDIS_URL")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.Popen([sys.executable, "-m", "tui", "demo", "--no-dashboard", *args], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_demo_on_an_empty_database_runs_the_platform_and_stops_its_worker(redis_url: str, conn: redis.Redis) -> None:
    process = demo("--url", redis_url, "--duration", "10")
    try:
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "attach a second dashboard with:  .venv/bin/rqtop --url" in out or "-m tui --url" in out
    log_dir = Path(next(line for line in out.splitlines() if "worker log:" in line).split("worker log: ")[1]
                   .split(" (")[0]).parent
    assert log_dir.name.startswith("rqtop-demo-") and not log_dir.exists(), "the demo removes its temp folder"
    assert not demo_url_file().exists(), "the attach URL file goes with the demo"
    assert conn.get(keys.DEMO_MARKER) == b"1"
    assert len(conn.hkeys(keys.SCHEDULES)) == 11 and conn.sismember(keys.PAUSED, "soft_delete_cleanup")
    assert conn.zcard(keys.HISTORY) > 0, "demo traffic and warm-up runs reached the worker"
    assert conn.zcard(keys.WORKERS) == 0, "the demo worker stopped cleanly and removed its record"


def test_a_killed_demo_takes_its_private_redis_and_worker_along() -> None:
    """SIGKILL leaves no finally block to run: the children must go by themselves (Linux parent-death signal)."""
    process = demo()
    try:
        first = process.stdout.readline() if process.stdout else ""
        assert first.startswith("rqtop demo: Redis at unix://"), first + (process.stderr.read() if process.stderr
                                                                          else "")
        url = first.split(" at ", 1)[1].strip()
        conn = redis.Redis.from_url(url, socket_timeout=1)
        wait_for(lambda: conn.zcard(keys.WORKERS) == 1, 20, "the demo worker to register")
        worker_pid = int(conn.hget(keys.worker(conn.zrange(keys.WORKERS, 0, 0)[0].decode()), "pid") or 0)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=5)

        def server_gone() -> bool:
            try:
                conn.ping()
            except redis.RedisError:
                return True
            return False

        wait_for(server_gone, 10, "the private redis-server to exit")
        wait_for(lambda: not Path(f"/proc/{worker_pid}").exists() or _zombie(worker_pid), 15, "the demo worker to exit")
    finally:
        if process.poll() is None:
            process.kill()


def _zombie(pid: int) -> bool:
    """True when ``pid`` has exited and only waits to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True
