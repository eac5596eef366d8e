"""Time from `rqtop --url ...` to the first screen with data, and the RSS of the running TUI, at 1 M jobs.

The dashboard runs as the console script would (``tui.cli.main``) in a fresh process on a pseudo-terminal
(120x40). A hook added in that process only (``RqtopApp.on_snapshot_ready`` wrapped, nothing edited)
writes the wall-clock time once the first snapshot has been rendered and the screen refreshed
(``call_after_refresh``). The parent samples VmRSS/VmHWM from /proc while the TUI keeps refreshing for
``--settle`` seconds, then presses q. Targets: first screen <= 1.5 s, RSS <= 150 MB.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import signal
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TARGET_S = 1.5
TARGET_MB = 150.0
SHOWN = b"catalog_sync"
"""Text only a data-bearing first screen contains (the first schedule of the checked-in schedules.toml)."""


def child(url: str, marker: str) -> None:
    """Run the real CLI with one hook that notes when the first data is on screen."""
    sys.path.insert(0, str(ROOT))
    from tui.app import RqtopApp
    from tui.cli import main as cli_main

    original = RqtopApp.on_snapshot_ready

    def on_snapshot_ready(self: RqtopApp, message: object) -> None:
        original(self, message)  # type: ignore[arg-type]
        if not getattr(self, "_bench_marked", False):
            self._bench_marked = True  # type: ignore[attr-defined]
            self.call_after_refresh(lambda: Path(marker).write_text(f"{time.time()!r}\n"))

    RqtopApp.on_snapshot_ready = on_snapshot_ready  # type: ignore[method-assign]
    sys.argv = ["rqtop", "--url", url]
    cli_main()


def memory(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def one_run(url: str, settle: float, timeout: float = 60.0) -> tuple[float, float, float]:
    """Start the TUI on a pty; return (seconds to first data on screen, RSS MB then, peak RSS MB over the run)."""
    marker = Path(f"/tmp/rqtop-bench-{os.getpid()}-{time.monotonic_ns()}.mark")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40", "PYTHONPATH": str(ROOT)}
    started = time.time()
    proc = subprocess.Popen([sys.executable, __file__, "--child", url, str(marker)], stdin=slave, stdout=slave,
                            stderr=slave, env=env, cwd=ROOT, start_new_session=True, close_fds=True)
    os.close(slave)

    screen = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen.extend(chunk)

    threading.Thread(target=drain, daemon=True).start()
    peak = 0.0
    try:
        deadline = time.time() + timeout
        while not marker.exists() or not marker.read_text().endswith("\n"):
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit(f"the TUI exited or took over {timeout:.0f}s (code {proc.poll()})")
            peak = max(peak, memory(proc.pid)[1])
            time.sleep(0.01)
        first = float(marker.read_text()) - started
        rss_first = memory(proc.pid)[0]
        time.sleep(0.2)
        if SHOWN not in screen:
            raise SystemExit(f"the first screen does not show {SHOWN!r}: the hook fired before data was drawn")
        end = time.time() + settle
        while time.time() < end:
            peak = max(peak, memory(proc.pid)[1])
            time.sleep(0.1)
        os.write(master, b"q")
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        os.close(master)
        marker.unlink(missing_ok=True)
    return first, rss_first, peak


def main() -> None:
    """Populate, then start the TUI ``--runs`` times and print the figures."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=6.0, help="seconds the TUI keeps refreshing per run")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(BENCH))
    import redis
    from populate import populate

    from worker.embedded_redis import EmbeddedRedis

    with EmbeddedRedis() as server:
        t0 = time.perf_counter()
        populate(redis.Redis.from_url(server.url), args.jobs, args.workers)
        print(f"populated {args.jobs:,} jobs x {args.workers} workers in {time.perf_counter() - t0:.0f}s", flush=True)
        firsts, peaks = [], []
        for i in range(args.runs):
            first, rss, peak = one_run(server.url, args.settle)
            firsts.append(first)
            peaks.append(peak)
            print(f"run {i + 1}: first screen with data after {first:.3f} s; RSS then {rss:.1f} MB, "
                  f"peak over {args.settle:.0f} s of refreshes {peak:.1f} MB", flush=True)
    first, peak = statistics.median(firsts), max(peaks)
    print(f"target: first screen <= {TARGET_S} s: {'MET' if first <= TARGET_S else 'NOT MET'} (median {first:.3f} s)")
    print(f"target: RSS <= {TARGET_MB:.0f} MB: {'MET' if peak <= TARGET_MB else 'NOT MET'} (peak {peak:.1f} MB)")


if __name__ == "__main__":
    main()
