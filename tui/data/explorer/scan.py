"""An incremental scan of RQ's job hashes for filters only the hashes can answer (task, worker, text, time).

Each step is one SCAN over ``rq:job:*`` (COUNT ``CHUNK``), then one round of small HMGETs of only the fields
the filter can rule a job out by (``probe.Probe``: status, and ``data`` for a task, ``worker_name`` for a worker),
skipped for jobs whose task the cache already knows does not match; full rows are read and built only for the
jobs the probe kept. No single Redis call walks more than a chunk, so none blocks Redis for long. The scan stops as
soon as it holds the matches a page needs (or its time budget is spent) and continues from its cursor when
asked for more; matched ids are kept (bounded) so earlier pages are read again by id. Only read commands on
``pipeline(transaction=False)``; nothing is unpickled (the task name comes from the pickle's opcodes).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from tui.data.explorer.bulk import hmget_many
from tui.data.explorer.cache import TaskCache
from tui.data.explorer.match import matches
from tui.data.explorer.probe import Probe
from tui.data.explorer.query import Filter
from tui.data.explorer.rows import ExplorerRow, build_row
from tui.data.job_meta import SUMMARY_FIELDS, Fields, summarize
from tui.data.masking import MaskRules
from worker import keys
from worker.safe_decoding import UNREADABLE

CHUNK = 500
"""Keys asked of one SCAN call."""
MATCHES_MAX = 10_000
"""Matched ids kept; a scan that finds more stops there and says so."""
SCAN_EXTRA = ("retries_left", "number_of_retries", "last_heartbeat", "timeout")
FIELDS = (*SUMMARY_FIELDS, *SCAN_EXTRA)
DESCRIPTION_AT = SUMMARY_FIELDS.index("description")


@dataclass(frozen=True)
class ScanProgress:
    """How far a scan got: keys looked at, roughly how many jobs Redis holds, matches found, and whether it ended."""

    scanned: int
    total: int
    matched: int
    done: bool
    capped: bool = False
    longest_call_s: float = 0.0

    def line(self) -> str:
        """``scanned 120,000 of 1,000,000 · 37 matches`` (exact counts)."""
        of = f" of {self.total:,}" if self.total else ""
        tail = " · done" if self.done else ""
        cap = f" · stopped at {MATCHES_MAX:,} matches" if self.capped else ""
        return f"scanned {self.scanned:,}{of} · {self.matched:,} matches{tail}{cap}"


class Scanner:
    """One filter's scan: its cursor, what it has looked at and the ids that matched, in the order found."""

    def __init__(self, flt: Filter, patterns: Sequence[str] | MaskRules, cache: TaskCache, total: int = 0) -> None:
        self.filter = flt
        self._patterns = patterns
        self._cache = cache
        self._probe = Probe(flt)
        self.cursor = 0
        self.started = False
        self.scanned = 0
        self.total = total
        self.ids: list[str] = []
        self._seen: set[str] = set()
        self.longest_call_s = 0.0

    @property
    def done(self) -> bool:
        """True when SCAN came back to cursor 0, or the matches reached their bound."""
        return (self.started and self.cursor == 0) or len(self.ids) >= MATCHES_MAX

    def progress(self) -> ScanProgress:
        """Where the scan stands."""
        return ScanProgress(self.scanned, max(self.total, self.scanned), len(self.ids), self.done,
                            len(self.ids) >= MATCHES_MAX, self.longest_call_s)

    def run(self, conn: redis.Redis, want: int, now: float, budget_s: float = 0.4) -> ScanProgress:
        """Scan on until ``want`` ids matched, the scan ended, or ``budget_s`` passed."""
        deadline = time.monotonic() + budget_s
        while not self.done and len(self.ids) < want and time.monotonic() < deadline:
            self.step(conn, now)
        return self.progress()

    def _timed_scan(self, conn: redis.Redis) -> list[bytes]:
        """One SCAN call, timed (its duration is the longest single call a scan makes)."""
        began = time.perf_counter()
        cursor, found = conn.scan(self.cursor, match=keys.rq_job("*"), count=CHUNK)
        self.longest_call_s = max(self.longest_call_s, time.perf_counter() - began)
        self.cursor = int(cursor)
        self.started = True
        return [k for k in found if isinstance(k, bytes)]

    def step(self, conn: redis.Redis, now: float) -> None:
        """One SCAN chunk; a probe of the few fields the filter can rule a job out by (none for a job whose cached
        task already rules it out); full rows only for the jobs the probe kept."""
        prefix = keys.rq_job("").encode()
        found = self._timed_scan(conn)
        ids = [k[len(prefix):] for k in found if b":" not in k[len(prefix):]]
        if not ids:
            return
        self.scanned += len(ids)
        probe = self._probe
        unknown, kept = probe.known(ids, self._cache) if probe.tasks else (ids, [])
        if probe.fields and unknown:
            replies = hmget_many(conn, [prefix + job_id for job_id in unknown], probe.fields)
            kept += probe.keep(unknown, replies, self._cache)
        elif not probe.fields:
            kept += unknown
        if kept:
            self._match(conn, prefix, kept, now)

    def _match(self, conn: redis.Redis, prefix: bytes, ids: list[bytes], now: float) -> None:
        """Read the full summary of ``ids`` and keep those the whole filter matches, in the order scanned."""
        flt = self.filter
        for job_id, reply in zip(ids, hmget_many(conn, [prefix + job_id for job_id in ids], FIELDS), strict=True):
            if reply is None:
                continue
            if not flt.text:  # masking a description costs more than the rest of a row: only when text is asked
                reply[DESCRIPTION_AT] = None
            summary = summarize(job_id.decode(errors="replace"), reply[:len(SUMMARY_FIELDS)], self._patterns, 1)
            if summary.task != UNREADABLE:
                self._cache.put(job_id, summary.task)
            extra = Fields.from_hmget(SCAN_EXTRA, reply[len(SUMMARY_FIELDS):])
            row: ExplorerRow = build_row(summary, extra, Fields({}), self._patterns, now)
            if summary.state == "expired" or not matches(row, flt, now, extra.number("timeout")):
                continue
            shown = summary.redis_id or summary.id
            if shown not in self._seen and len(self.ids) < MATCHES_MAX:
                self._seen.add(shown)
                self.ids.append(shown)
