"""The Grafana dashboard and the alerting rules name only metrics the exporter serves; the README points at both."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.cli_support import ROOT
from tui.data.models import Snapshot
from tui.exporter.cache import ReadState
from tui.exporter.server import _StateCollector
from tui.exporter.task_totals import TaskTotals

METRIC = re.compile(r"\b(rqtop_[a-z0-9_]+|rq_[a-z0-9_]+)\b")
SUFFIXES = ("_total", "_bucket", "_gsum", "_gcount", "_count", "_sum")


def served() -> set[str]:
    """Every family name of a scrape of an empty Redis (the families are there with no samples too)."""
    state = ReadState(snapshot=Snapshot(taken_at=datetime.now(timezone.utc)), read_at=0.0, read_s=0.0, commands=0,
                      round_trips=0, reads=1, errors=0, read_s_total=0.0)
    text = generate_latest(_StateCollector(state, TaskTotals())).decode()
    return {family.name for family in text_string_to_metric_families(text)}


def family(name: str) -> str:
    """A sample name's family (``rq_workers_success_total`` -> ``rq_workers_success``)."""
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def test_dashboard_and_alerts_use_served_metrics_only() -> None:
    """Every metric an expression names is served; the dashboard is valid JSON with one query per panel at least."""
    families = served()
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(dashboard["panels"]) >= 10 and all(panel["targets"] for panel in dashboard["panels"])
    alerts = (ROOT / "docs" / "alerts.yml").read_text()
    rule_exprs = re.findall(r"expr: (\|\n(?:\s{10}.*\n)+|.*)", alerts)
    assert len(rule_exprs) >= 5
    named = {family(m) for text in [*exprs, *rule_exprs] for m in METRIC.findall(text)}
    assert named and named <= families, named - families
    for alert in ("RqQueueBacklogOld", "RqTaskFailureRateHigh", "RqQueueHasNoWorker", "RqScheduleMissed"):
        assert f"alert: {alert}" in alerts
    readme = (ROOT / "README.md").read_text()
    assert "## Exporter" in readme and "docs/grafana-dashboard.json" in readme and "docs/alerts.yml" in readme


def test_label_values_carry_no_terminal_escapes() -> None:
    """A queue and a worker named with ESC / BEL / newline: the text served has none of them raw."""
    from tui.data.models import QueueRow, WorkerRow

    hostile = "evil\x1b]8;;http://x\x07\nq\x1b[2J"
    snapshot = Snapshot(taken_at=datetime.now(timezone.utc),
                        queues=(QueueRow(hostile, pending=1, active=0, completed=0, failed=0, retry=0, scheduled=0),),
                        workers=(WorkerRow(hostile, None, None, "rq", None, "online", None, 1, 0, None, None, None,
                                           queues=(hostile,), state="idle"),))
    state = ReadState(snapshot=snapshot, read_at=0.0, read_s=0.0, commands=0, round_trips=0, reads=1, errors=0,
                      read_s_total=0.0)
    text = generate_latest(_StateCollector(state, TaskTotals())).decode()
    assert "\x1b" not in text and "\x07" not in text
    samples = [s for f in text_string_to_metric_families(text) for s in f.samples if s.name == "rq_jobs"]
    assert samples and all("evil" in s.labels["queue"] for s in samples)
