"""An incremental scan of RQ's job hashes for filters only the hashes can answer (task, worker, text, time).

Each round trip carries the next SCAN over ``rq:job:*`` (COUNT ``CHUNK``) and the probe of the keys the previous
SCAN returned: one small read of only the fields the filter can rule a job out by (``probe.Probe``: ``data`` alone,
one HGET, for a task filter; status, ``data``, ``description`` or ``worker_name`` by HMGET for the others), skipped
for jobs whose task the cache already knows does not match; full rows are read and built only for the jobs the
probe kept. The next round is sent before the client works through the last one's replies (``bulk.Link``), so
Redis and the client work at the same time. No single Redis call walks more than a chunk, so none blocks Redis for
long. The scan stops as soon as it holds the matches a page needs (or its time budget is spent) and continues from
its cursor when asked for more; matched ids are kept (bounded) so earlier pages are read again by id. Only read
commands (SCAN, HGET, HMGET); nothing is unpickled (the task name comes from the pickle's opcodes).
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from tui.data.explorer.bulk import Link, hmget_many, packed_hget, packed_hmget, packed_scan
from tui.data.explorer.cache import END, TaskCache, key_hashes, position
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
PREFIX = keys.rq_job("").encode()
SCAN_MATCH = keys.rq_job("*").encode()
COLONS = PREFIX.count(b":")
"""A job's key has the prefix's colons and no more (``rq:job:<id>:dependents`` and the like are not jobs)."""


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


@dataclass
class _Chunk:
    """The job keys one SCAN returned, the span of the keyspace it covered (``cache.position``), their hashes
    and the task numbers the cache knew for them when they were probed (0: unknown)."""

    keys: list[bytes]
    start: int
    end: int
    hashes: array[int]
    tasks: bytes


@dataclass
class _Round:
    """One request on the wire: the ids probed (their replies come first), the ids kept without a probe (the
    cache knows their task can match, or the filter has nothing to probe), the chunk they came from, and the
    cursor of the SCAN ending it (None: no SCAN)."""

    began: float
    asked: list[bytes]
    """Job keys, as are ``kept``."""
    kept: list[bytes]
    chunk: _Chunk | None
    scan_from: int | None

    @property
    def count(self) -> int:
        """Replies to read (0: nothing was sent)."""
        return len(self.asked) + (self.scan_from is not None)


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
        self._keys: list[bytes] = []
        """Job keys the last SCAN returned, probed by the next round."""
        self._span = (0, 0)
        """Where in the keyspace the last SCAN walked (``cache.position`` of its cursor and of the next)."""
        self.longest_call_s = 0.0

    @property
    def done(self) -> bool:
        """True when SCAN came back to cursor 0 and every key it returned was looked at, or the matches reached
        their bound."""
        return (self._scan_over and not self._keys) or len(self.ids) >= MATCHES_MAX

    @property
    def _scan_over(self) -> bool:
        """True once SCAN came back to cursor 0."""
        return self.started and self.cursor == 0

    def progress(self) -> ScanProgress:
        """Where the scan stands."""
        return ScanProgress(self.scanned, max(self.total, self.scanned), len(self.ids), self.done,
                            len(self.ids) >= MATCHES_MAX, self.longest_call_s)

    def run(self, conn: redis.Redis, want: int, now: float, budget_s: float = 0.4) -> ScanProgress:
        """Scan on until ``want`` ids matched, the scan ended, or ``budget_s`` passed.

        Each round trip carries the probe of the keys the previous SCAN returned and the next SCAN; the next round
        is sent before this one's replies are worked through, so Redis answers it while the client decodes (one
        request in flight at most, and it is always received and worked through before ``run`` returns)."""
        deadline = time.monotonic() + budget_s
        if self.done:
            return self.progress()
        with Link(conn) as link:
            ahead: _Round | None = self._send(link)
            while ahead is not None:
                this = ahead
                replies = link.receive() if this.count else []
                if this.count:
                    self.longest_call_s = max(self.longest_call_s, time.perf_counter() - this.began)
                if this.scan_from is not None:
                    self._scanned_to(this.scan_from, replies[-1])
                more = not self.done and len(self.ids) < want and time.monotonic() < deadline
                ahead = self._send(link) if more else None
                self._work(conn, this, replies, now)
                if len(self.ids) >= want or len(self.ids) >= MATCHES_MAX:
                    deadline = 0.0  # the round already in flight is still received and worked through
        return self.progress()

    def step(self, conn: redis.Redis, now: float) -> None:
        """One round trip: the probe of the keys found last and the next SCAN chunk."""
        self.run(conn, 1 << 62, now, budget_s=0.0)

    def _send(self, link: Link) -> _Round:
        """Send the probe of the waiting keys the cache cannot settle, and the next SCAN unless it is over."""
        waiting, self._keys = self._keys, []
        probe = self._probe
        self.scanned += len(waiting)
        chunk = None
        unknown, kept = waiting, list[bytes]()
        if waiting:
            hashes = key_hashes(waiting)
            chunk = _Chunk(waiting, *self._span, hashes, self._cache.known(*self._span, hashes))
            if probe.tasks:
                unknown, kept = probe.known(waiting, chunk.tasks, self._cache)
        if not probe.fields:
            unknown, kept = [], kept + unknown
        scan_from = None if self._scan_over else self.cursor
        packed = (packed_hget(unknown, "data") if probe.data_only else packed_hmget(unknown, probe.fields)
                  ) if unknown else b""
        if scan_from is not None:
            packed += packed_scan(scan_from, SCAN_MATCH, CHUNK)
        this = _Round(time.perf_counter(), unknown, kept, chunk, scan_from)
        if this.count:
            link.send(packed, this.count)
        return this

    def _scanned_to(self, scan_from: int, reply: object) -> None:
        """Take the reply of ``SCAN scan_from``: the next cursor and the job keys it returned (not
        ``rq:job:<id>:…`` sub-keys)."""
        if not isinstance(reply, list) or len(reply) != 2:
            raise redis.ResponseError(f"unexpected SCAN reply: {str(reply)[:200]}")
        self.cursor = int(reply[0])
        self.started = True
        self._span = (position(scan_from), position(self.cursor) if self.cursor else END)
        found = reply[1]
        if not isinstance(found, list):
            raise redis.ResponseError(f"unexpected SCAN reply: {str(reply)[:200]}")
        try:
            clean = b"\n".join(found).count(b":") == COLONS * len(found)  # every key matched rq:job:*: >= COLONS each
        except TypeError:  # not bytes (a client decoding replies): not a key this scan can read
            clean = False
        if not clean:
            found = [key for key in found if isinstance(key, bytes) and key.count(b":") == COLONS]
        self._keys = found

    def _work(self, conn: redis.Redis, this: _Round, replies: list[object], now: float) -> None:
        """Rule out the probed jobs the probe can, match the rest on their full rows, and teach the cache the
        tasks read on the way."""
        kept, numbers = this.kept, list[int]()
        probe = self._probe
        if this.asked:
            probed = replies[:len(this.asked)]
            if probe.data_only:
                passed, numbers = probe.keep_data(this.asked, probed, self._cache)
            else:
                passed, numbers = probe.keep(this.asked, [r if isinstance(r, list) else None for r in probed],
                                             self._cache)
            kept = kept + passed
        learnt = self._match(conn, kept, now, not probe.reads_task) if kept else {}
        chunk = this.chunk
        if chunk is None or not (numbers or learnt):
            return
        if this.asked is chunk.keys and not learnt:  # every key probed, in order (the usual cold chunk)
            known = chunk.tasks
            tasks = bytes(numbers) if known.count(0) == len(known) else bytes(
                [was or number for was, number in zip(known, numbers, strict=True)])
        else:
            learnt.update(zip(this.asked, numbers, strict=True))
            tasks = bytes([known or learnt.get(key, 0) for key, known in zip(chunk.keys, chunk.tasks, strict=True)])
        if tasks != chunk.tasks:
            self._cache.learn(chunk.start, chunk.end, chunk.hashes, tasks)

    def _match(self, conn: redis.Redis, job_keys: list[bytes], now: float, learn: bool) -> dict[bytes, int]:
        """Read the full summary of the jobs at ``job_keys`` and keep those the whole filter matches, in the order
        scanned; with ``learn``, the cache's number of each readable task read (when the probe read none)."""
        flt, cut, cache = self.filter, len(PREFIX), self._cache
        learnt: dict[bytes, int] = {}
        for key, reply in zip(job_keys, hmget_many(conn, job_keys, FIELDS), strict=True):
            if reply is None:
                continue
            if not flt.text:  # masking a description costs more than the rest of a row: only when text is asked
                reply[DESCRIPTION_AT] = None
            summary = summarize(key[cut:].decode(errors="replace"), reply[:len(SUMMARY_FIELDS)], self._patterns, 1)
            if learn and summary.task != UNREADABLE:
                learnt[key] = cache.number(summary.task)
            extra = Fields.from_hmget(SCAN_EXTRA, reply[len(SUMMARY_FIELDS):])
            row: ExplorerRow = build_row(summary, extra, Fields({}), self._patterns, now)
            if summary.state == "expired" or not matches(row, flt, now, extra.number("timeout")):
                continue
            shown = summary.redis_id or summary.id
            if shown not in self._seen and len(self.ids) < MATCHES_MAX:
                self._seen.add(shown)
                self.ids.append(shown)
        return learnt
