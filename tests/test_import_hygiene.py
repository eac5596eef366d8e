"""tui.data and the shared worker contracts import without Textual or Rich (data stays apart from the UI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import importlib, json, pkgutil, sys
import tui.data
names = ["tui.data." + m.name for m in pkgutil.iter_modules(tui.data.__path__)]
names += ["worker.keys", "worker.records", "worker.schedules", "worker.plans", "worker.audit",
          "worker.safe_decoding", "worker.liveness", "worker.queues", "worker.tokens", "tui.data.settings"]
for name in names:
    importlib.import_module(name)
print(json.dumps({"modules": names, "ui": sorted(m for m in ("textual", "rich") if m in sys.modules)}))
"""


def test_data_layer_imports_no_textual_or_rich() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=60,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"tui.data.reader", "tui.data.job_meta", "tui.data.masking", "tui.data.metrics",
            "tui.data.jobs_page", "tui.data.models"} <= set(report["modules"])
    assert report["ui"] == [], f"imported {report['ui']}"
