"""History read from RQ's own registries, for a Redis where rqtop's worker and ``rqtop collect`` recorded nothing.

Rule (only when rqtop's history index is empty): round 2, per queue and per ended registry (finished, failed,
canceled), one ZREVRANGEBYSCORE of its live entries (score above now: RQ scores by expiry, so an entry whose
job has expired is left out), at most ``limit`` each; round 3, the newest ``limit`` of each registry merged over
the queues (highest score first: one TTL per registry makes that the latest end) get one HMGET of their job
hash, and a failed one also the newest entry of its results stream (its error). So round 3 holds at most
4 x ``limit`` commands, whatever the registries hold. Rows are the newest ``limit`` by end time.

The note says where the rows come from and how long RQ keeps them (each job's ``result_ttl`` /
``failure_ttl``, RQ's defaults when absent), because that is all the history there is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tui.data import metrics
from tui.data.job_meta import UNREADABLE, Fields, state_of
from tui.data.masking import MaskRules, decode, mask_error
from tui.data.models import HistoryRow, MetricRow
from tui.data.sections.raw_keys import bkey
from tui.data.sections.rounds import Replies, Round, reply_as
from worker import keys, records
from worker.safe_decoding import error_text, function_name

ENDED: tuple[keys.RqRegistry, ...] = ("finished", "failed", "canceled")
"""The registries of jobs that ended."""

RQ_RESULT_TTL_S = 500
RQ_FAILURE_TTL_S = 31_536_000
"""RQ's defaults (``rq.defaults``) for a job hash that names no ``result_ttl`` / ``failure_ttl``."""

FIELDS = ("status", "origin", "data", "created_at", "started_at", "ended_at", "worker_name", "exc_info",
          "number_of_retries", "result_ttl", "failure_ttl")
"""What one row reads of a job hash."""

SOURCE = "rq-registries"
"""``Snapshot.history_source`` when the rows came from RQ's registries."""


def span_text(seconds: float) -> str:
    """A retention or window length an operator reads at a glance: "500 s", "12 min", "5 h", "365 days"."""
    if seconds < 120 or (seconds < 3600 and round(seconds) % 60):
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


@dataclass(frozen=True)
class RegistryHistory:
    """The rows read from RQ's registries and the honest note about them."""

    rows: tuple[HistoryRow, ...]
    """Every row read (up to 3 x limit), newest end first; the section shows the first ``limit``."""
    note: str


def _registry_key(queue: str, kind: str) -> str:
    """RQ's registry key with the queue name first, so ``bkey`` can fill it in."""
    return keys.rq_registry(kind, queue)


class RegistryReads:
    """The fallback's reads over rounds 2 and 3, and its rows."""

    def __init__(self, limit: int, now: float, mask_rules: MaskRules) -> None:
        self.limit = limit
        self.now = now
        self.mask_rules = mask_rules
        self._slots: list[tuple[bytes, str, int]] = []
        self._picked: list[tuple[bytes, bytes, int, int | None]] = []
        """Round-3 reads per picked job: its queue, id, HMGET slot and results-stream slot (failed only)."""

    def second(self, queues: list[bytes], r2: Round) -> None:
        """Queue one ZREVRANGEBYSCORE per queue and ended registry."""
        self._slots = [(q, kind, r2.add("zrevrangebyscore", bkey(_registry_key, q, kind), "+inf", f"({self.now!r}",
                                         start=0, num=self.limit, withscores=True))
                       for q in queues for kind in ENDED]

    def third(self, two: Replies, r3: Round) -> None:
        """Queue the job reads of the newest ``limit`` entries of each registry, merged over the queues."""
        for kind in ENDED:
            entries = [(score, q, member) for q, k, slot in self._slots if k == kind
                       for member, score in reply_as(two[slot], list, [])]
            entries.sort(key=lambda e: (-e[0], e[2]))
            for _, queue, job_id in entries[: self.limit]:
                fields = r3.add("hmget", bkey(keys.rq_job, job_id), list(FIELDS))
                stream = r3.add("xrevrange", bkey(keys.rq_results, job_id), "+", "-", count=1) \
                    if kind == "failed" else None
                self._picked.append((queue, job_id, fields, stream))

    def rows(self, three: Replies) -> RegistryHistory:
        """The rows, newest end first, and the note naming the source and RQ's retention."""
        built = [self._row(q, job_id, Fields.from_hmget(FIELDS, three[f]), None if s is None else three[s])
                 for q, job_id, f, s in self._picked]
        rows = [row for row, _ in built if row is not None]
        rows.sort(key=lambda r: (r.ended_at is None, -(r.ended_at.timestamp() if r.ended_at else 0.0), r.id))
        kept = {"completed": [t for row, t in built if row is not None and row.state == "completed"],
                "failed": [t for row, t in built if row is not None and row.state == "failed"]}
        result_ttl = max(kept["completed"], default=RQ_RESULT_TTL_S)
        failure_ttl = max(kept["failed"], default=RQ_FAILURE_TTL_S)
        note = (f"From RQ's own registries (rqtop's worker and `rqtop collect` recorded nothing): RQ keeps a "
                f"finished job {span_text(result_ttl)} (result_ttl), a failed one {span_text(failure_ttl)} "
                f"(failure_ttl). Run `rqtop collect` for the full 24 h record.")
        return RegistryHistory(rows=tuple(rows), note=note)

    def _row(self, queue: bytes, job_id: bytes, job: Fields, results: Any) -> tuple[HistoryRow | None, float]:
        """One ended job and how long RQ keeps it; no row when its hash has expired."""
        if not job and not job.bad:
            return None, 0.0
        status = job.text("status", 40)
        state = state_of(status)
        task = function_name(job.value("data"))
        error = None
        if state == "failed":
            entries = reply_as(results, list, [])
            newest = Fields(entries[0][1]) if entries and isinstance(entries[0], tuple) else Fields({})
            error = error_text(newest.value("exc_string"), base64_wrapped=True) or error_text(job.value("exc_info"))
        ttl = job.number("failure_ttl" if state == "failed" else "result_ttl")
        ttl = ttl if ttl is not None and ttl >= 0 else (RQ_FAILURE_TTL_S if state == "failed" else RQ_RESULT_TTL_S)
        bad = job.bad or task == UNREADABLE or state not in ("completed", "failed", "canceled")
        return HistoryRow(
            id=decode(job_id) or "", task=task, queue=job.text("origin") or decode(queue) or "",
            state=UNREADABLE if bad else state, created_at=job.when("created_at"), ended_at=job.when("ended_at"),
            started_at=job.when("started_at"), retries=job.number("number_of_retries") or 0,
            worker=job.text("worker_name") or None,
            error=mask_error(error, self.mask_rules.for_task(task)) if error else None,
        ), float(ttl)


@dataclass(frozen=True)
class RegistryMetrics:
    """Metrics rows computed from the jobs RQ's registries still hold, and the window they really cover."""

    rows: tuple[MetricRow, ...]
    note: str
    since: datetime | None


def registry_metrics(history: RegistryHistory, now: float) -> RegistryMetrics:
    """Exact runs, failures, p50/p95/max of the ended jobs read from RQ's registries, labelled with their window."""
    rows, since = metrics.from_history(history.rows, now)
    runs = sum(r.runs for r in rows)
    window = f"ended in the last {span_text(now - since)}" if since is not None else "none ended in the last 24 h"
    note = (f"From the {runs} job(s) RQ's registries still hold ({window}), not a full 24 h: RQ forgets finished "
            f"jobs after their result_ttl. Run `rqtop collect` for the full record.")
    return RegistryMetrics(rows=rows, note=note, since=records.from_epoch(since))
