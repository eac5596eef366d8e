"""One page of the explorer for a Filter, read the cheapest way the filter allows, never writing.

- ``id:…``: the job's hash by key (HMGET-style reads of one key, two small rounds).
- state and queue only: RQ's lists and registries are paged directly with the queue pager
  (``jobs_page.read_jobs_page``) over the concatenation of every (queue, list) the filter names; the lengths
  are one round, the page one or two pager calls, the row extras one more round.
- anything else (task, worker, text, time, attention, retrying/stopped/abandoned): an incremental
  ``scan.Scanner`` kept per filter, continued on demand; its matched ids are read again for each page.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import redis

from tui.data.explorer.cache import TaskCache
from tui.data.explorer.match import matches
from tui.data.explorer.query import Filter
from tui.data.explorer.rows import ExplorerRow, read_extras, read_rows
from tui.data.explorer.scan import Scanner, ScanProgress
from tui.data.job_meta import JobSummary
from tui.data.jobs_page import SOURCES, read_jobs_page, source_key
from tui.data.masking import MaskRules
from tui.data.settings import DEFAULT_MASK_PATTERNS
from worker import keys

STATE_SOURCES = {"running": "active", "pending": "pending", "scheduled": "scheduled", "deferred": "deferred",
                 "failed": "failed", "canceled": "canceled", "completed": "completed"}
"""Explorer state -> the queue pager's list, in the order the default view concatenates them."""
NEWEST_FIRST = ("completed", "failed", "canceled")
MATCH_CAP = 100_000
"""The most ids "act on all matching" collects; a larger set is refused (narrow the filter, or use the CLI)."""
MATCH_CHUNK = 1000
"""Ids read per page while collecting every match."""


class TooManyMatches(ValueError):
    """More jobs match than "act on all matching" collects; the message says how to narrow them."""


@dataclass(frozen=True)
class ExplorerPage:
    """One page of matching jobs and how it was found."""

    filter: Filter
    offset: int
    limit: int
    rows: tuple[ExplorerRow, ...] = ()
    mode: str = "registry"
    """"id", "registry" (paged lists, exact ``total``) or "scan" (``total`` = matches so far)."""
    total: int = 0
    progress: ScanProgress | None = None
    read_at: float = 0.0
    sections: tuple[tuple[str, str, int], ...] = field(default=(), compare=False)
    """(queue, list, length) of every list a registry page concatenates."""

    @property
    def complete(self) -> bool:
        """True when ``total`` is final (not a scan still under way)."""
        return self.progress is None or self.progress.done

    @property
    def has_previous(self) -> bool:
        """True when a page comes before this one."""
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        """True when a page (possibly still to be scanned for) comes after this one."""
        return self.offset + self.limit < self.total or not self.complete


def sections_for(flt: Filter) -> tuple[str, ...]:
    """The lists a state/queue filter concatenates (the default: every list but completed)."""
    wanted = flt.states or tuple(s for s in STATE_SOURCES if s != "completed" or flt.include_completed)
    return tuple(STATE_SOURCES[s] for s in STATE_SOURCES if s in wanted)


def queue_names(conn: redis.Redis) -> list[str]:
    """Every queue RQ lists in ``rq:queues``, sorted."""
    prefix = keys.rq_queue("").encode()
    raw = conn.smembers(keys.RQ_QUEUES)
    return sorted(m[len(prefix):].decode(errors="replace") for m in raw if isinstance(m, bytes)
                  and m.startswith(prefix))


class ExplorerReader:
    """Reads explorer pages; keeps one scan (the last scanned filter's) and the task cache between pages."""

    def __init__(self, conn: redis.Redis, patterns: Sequence[str] | MaskRules = DEFAULT_MASK_PATTERNS,
                 clock: object = time.time, scan_budget_s: float = 0.4) -> None:
        self.conn = conn
        self.patterns = patterns
        self.clock = clock if callable(clock) else time.time
        self.cache = TaskCache()
        self.scanner: Scanner | None = None
        self.scan_budget_s = scan_budget_s

    def page(self, flt: Filter, offset: int = 0, limit: int = 50, rescan: bool = False) -> ExplorerPage:
        """Jobs ``offset``..``offset+limit-1`` matching ``flt`` (``offset`` < 0: the last page known)."""
        now = float(self.clock())
        limit = max(1, min(limit, 1000))
        if flt.job_id:
            return self._by_id(flt, now, limit)
        if flt.needs_scan:
            return self._scanned(flt, offset, limit, now, rescan)
        return self._paged(flt, offset, limit, now)

    def matching_ids(self, flt: Filter, cap: int = MATCH_CAP) -> list[str]:
        """Every job id matching ``flt`` now, page by page (a scan runs to its end); TooManyMatches above ``cap``.

        Reads only. Ids are as Redis holds them, each once, in the explorer's order; what the operator then
        confirms is exactly this list (a job that changes state meanwhile is skipped by the action, and counted).
        """
        seen: dict[str, None] = {}
        offset = 0
        while True:
            page = self.page(flt, offset, MATCH_CHUNK)
            seen.update(dict.fromkeys(row.redis_id for row in page.rows))
            if len(seen) > cap:
                raise TooManyMatches(f"more than {cap:,} jobs match {flt.to_query() or 'the filter'}: narrow the "
                                     "filter, or use rqtop jobs <verb> --queue Q --state S")
            if page.mode == "id" or not page.has_next:
                return list(seen)
            offset += len(page.rows) if page.mode == "scan" else page.limit

    def _by_id(self, flt: Filter, now: float, limit: int) -> ExplorerPage:
        """The one job named by id, if it exists and passes the rest of the filter."""
        assert flt.job_id is not None
        rows = tuple(row for row in read_rows(self.conn, [flt.job_id], self.patterns, now)
                     if row.job.state != "expired" and matches(row, flt.with_completed(True), now))
        return ExplorerPage(flt, 0, limit, rows, "id", len(rows), read_at=now)

    def _paged(self, flt: Filter, offset: int, limit: int, now: float) -> ExplorerPage:
        """A page of the concatenated lists, read with the queue pager."""
        queues = list(flt.queues) or queue_names(self.conn)
        names = sections_for(flt)
        pipe = self.conn.pipeline(transaction=False)
        plan = [(queue, source) for source in names for queue in queues]
        for queue, source in plan:
            key = source_key(queue, source)
            (pipe.llen if SOURCES[source] == "queue" else pipe.zcard)(key)
        lengths = [n if isinstance(n, int) else 0 for n in pipe.execute(raise_on_error=False)] if plan else []
        sections = tuple((q, s, n) for (q, s), n in zip(plan, lengths, strict=True))
        total = sum(lengths)
        if offset < 0:
            offset = ((total - 1) // limit) * limit if total else 0
        jobs: list[JobSummary] = []
        start = 0
        for queue, source, length in sections:
            end = start + length
            want_from, want_to = max(offset, start), min(offset + limit, end)
            if want_from < want_to:
                page = read_jobs_page(self.conn, queue, source, want_from - start, want_to - want_from,
                                      self.patterns, newest_first=source in NEWEST_FIRST)
                jobs.extend(page.jobs)
            start = end
            if start >= offset + limit:
                break
        rows = read_extras(self.conn, jobs, self.patterns, now)
        return ExplorerPage(flt, offset, limit, rows, "registry", total, read_at=now, sections=sections)

    def _estimate(self) -> int:
        """Roughly how many jobs Redis holds: every queue's pending and registry lengths, in one round."""
        queues = queue_names(self.conn)
        pipe = self.conn.pipeline(transaction=False)
        for queue in queues:
            for source in STATE_SOURCES.values():
                key = source_key(queue, source)
                (pipe.llen if SOURCES[source] == "queue" else pipe.zcard)(key)
        return sum(n for n in pipe.execute(raise_on_error=False) if isinstance(n, int)) if queues else 0

    def _scanned(self, flt: Filter, offset: int, limit: int, now: float, rescan: bool) -> ExplorerPage:
        """A page of a scan's matches, scanning on (within the time budget) until the page is full."""
        scanner = self.scanner
        if scanner is None or scanner.filter != flt or rescan:
            scanner = self.scanner = Scanner(flt, self.patterns, self.cache, self._estimate())
        if offset < 0:
            scanner.run(self.conn, 1 << 62, now, self.scan_budget_s)
            offset = ((len(scanner.ids) - 1) // limit) * limit if scanner.ids else 0
        progress = scanner.run(self.conn, offset + limit, now, self.scan_budget_s)
        ids = scanner.ids[offset:offset + limit]
        rows = read_rows(self.conn, ids, self.patterns, now)
        return ExplorerPage(flt, offset, limit, rows, "scan", len(scanner.ids), progress, read_at=now)
