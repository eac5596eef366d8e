"""rqtop's reader as it was at a git revision, in a process of its own, for a baseline measured in the same run.

``BaselineReader(url, rev)`` extracts ``tui/`` and ``worker/`` of ``rev`` (``git archive``) into a temporary
directory and starts this file with ``--serve``: a loop that, per line read on stdin (``full`` or ``tab``),
advances its clock and times one ``DashboardReader.read()`` (``tab``: ``include_metrics=False``, what that
revision's App sent on the Jobs and Workers tabs) and writes the seconds back. The caller alternates it with
today's reader against the same Redis, so machine load weighs on both alike. The default revision is the parent
of issue 18's first commit (314209c), the reader the issue's "100 workers x 8 queues, 12 ms" figure was taken of.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
BEFORE_ISSUE_18 = "314209c^"
"""The revision before the reader followed the screen."""


def branch_base() -> str:
    """The commit this branch leaves main at (``git merge-base HEAD main``): main's reader without this branch."""
    return subprocess.run(["git", "-C", str(ROOT), "merge-base", "HEAD", "main"], capture_output=True, text=True,
                          check=True).stdout.strip()


def head() -> str:
    """The commit checked out (on main itself the branch's base is this: nothing to compare)."""
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()


def extract(rev: str, into: Path) -> None:
    """``tui/`` and ``worker/`` of ``rev`` into ``into`` (nothing of the work tree is touched)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "tui", "worker"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


class BaselineReader:
    """The reader of ``rev`` in a subprocess; ``read(mode)`` returns the seconds one read took there."""

    def __init__(self, url: str, now: float, refresh_s: float, rev: str = BEFORE_ISSUE_18) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="rqtop-baseline-")
        extract(rev, Path(self._dir.name))
        self._proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", self._dir.name, url, repr(now), repr(refresh_s)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=self._dir.name)
        self.cold_s = self._ask("cold")

    def _ask(self, mode: str) -> float:
        """Send one request, return the seconds the read took."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(mode + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise SystemExit(f"the baseline reader exited ({self._proc.wait()})")
        return float(line)

    def read(self, mode: str) -> float:
        """Seconds of one ``full`` or ``tab`` read of the baseline reader."""
        return self._ask(mode)

    def __enter__(self) -> BaselineReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=30)
        self._dir.cleanup()


def serve(root: str, url: str, now: float, refresh_s: float) -> None:
    """The subprocess: the old reader, one timed read per request line."""
    sys.path.insert(0, root)
    import redis

    from tui.data.reader import DashboardReader
    from tui.data.settings import Settings

    clock = [now]
    reader = DashboardReader(redis.Redis.from_url(url), Settings(clock=lambda: clock[0]))
    for line in sys.stdin:
        clock[0] += refresh_s
        mode = line.strip()
        t = time.perf_counter()
        reader.read(include_metrics=mode != "tab")
        print(repr(time.perf_counter() - t), flush=True)


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    serve(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]))
