"""The two RQ lines the plain-deployment tests run: RQ 2.12 from .venv-rq2, RQ 3 from the test virtualenv."""

from __future__ import annotations

import subprocess
from pathlib import Path

VERSION = "import rq, sys; sys.stdout.write(rq.__version__)"


def test_rq2_venv_runs_rq_2_12(rq2_bin: Path) -> None:
    """``rq2_bin`` is a real RQ 2.12 with rq-scheduler beside it."""
    out = subprocess.run([str(rq2_bin / "python"), "-c", VERSION], capture_output=True, text=True, check=True)
    assert out.stdout == "2.12.0"
    assert (rq2_bin / "rqscheduler").exists()


def test_rq3_bin_runs_rq_3(rq3_bin: Path) -> None:
    """``rq3_bin`` is the test virtualenv's RQ 3."""
    out = subprocess.run([str(rq3_bin / "python"), "-c", VERSION], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("3.")
