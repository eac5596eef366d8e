"""Running `rqtop` as a real process for tests: its environment, the call, and the one-line error check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def rqtop_env(url: str | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment `python -m tui` runs in: this checkout, ``url`` as the only Redis URL, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "RQ_REDIS_URL")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    if url:
        env["RQ_REDIS_URL"] = url
    return env


def rqtop(
    *args: str, url: str | None = None, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m tui ARGS` with no terminal on stdin (``env``: extra environment variables)."""
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True, text=True, cwd=ROOT, env=rqtop_env(url, env), timeout=60,
        input=stdin if stdin is not None else "",
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """Assert exit 2 and exactly one stderr line with no traceback; return it."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def with_user(url: str, user: str, password: str) -> str:
    """The same URL with credentials."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{user}:{password}@{host}", parts.path, parts.query, parts.fragment))
