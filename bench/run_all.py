"""Run every benchmark in turn with its default sizes (about 11 minutes on 2 cores) and print their figures.

Each script runs in its own process with its own embedded Redis and a time limit; the exit code is 1 when
a script failed or ran out of time (a target NOT MET is a figure to read, not a failure).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("refresh.py", ("--rq-info",), 420),
    ("refresh.py", ("--scale", "--rounds", "10"), 420),
    ("pages.py", (), 240),
    ("dashboards.py", (), 120),
    ("metrics.py", (), 120),
    ("tui_startup.py", (), 240),
    ("worker_throughput.py", ("--jobs", "500", "--pairs", "4"), 300),
    ("cancel_pending.py", (), 240),
    ("explorer.py", ("--jobs", "300000", "--repeat", "5"), 420),
)
"""(script, arguments, time limit in seconds)."""


def main() -> None:
    """Run the scripts named (default: all) and report how long each took."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("only", nargs="*", help="script names to run (default: all)")
    args = parser.parse_args()
    failed = []
    for script, extra, limit in SCRIPTS:
        if args.only and script not in args.only and script.removesuffix(".py") not in args.only and not (
                "--scale" in extra and "scale" in args.only):
            continue
        print(f"==> {script} {' '.join(extra)}", flush=True)
        t0 = time.perf_counter()
        try:
            code = subprocess.run([sys.executable, str(BENCH / script), *extra], timeout=limit, check=False).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        print(f"<== {script}: {time.perf_counter() - t0:.0f}s, exit {code}\n", flush=True)
        if code != 0:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
