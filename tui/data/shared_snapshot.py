"""Many dashboards, one cost: a Snapshot that rqtop's worker shares, read by every dashboard with one command.

``SnapshotPublisher`` runs beside ``rqtop worker --mode scheduler|all`` (the CLI starts it in a thread; worker/
knows nothing of it): every ``interval_s`` (the dashboard's 2 s cadence) it reads one Snapshot with the
dashboard's own ``DashboardReader`` as an open dashboard's Background Jobs tab does (no worker or queue re-read
but new ones: the tabs it serves show none, and the Workers tab reads its own) with the metrics re-read every
``METRICS_EVERY_S`` - and SETs it, encoded by ``snapshot_codec``, with a TTL of
``TTL_INTERVALS`` intervals, so the snapshot of a publisher that stopped vanishes by itself. Several publishers on
one Redis (every ``--mode all`` worker runs one) take turns through a lease key: one read per interval in all.

``SharedSnapshotReader`` wraps a dashboard's ``DashboardReader``. A refresh GETRANGEs the shared snapshot (one
command, bounded by ``MAX_STORED_BYTES``) and uses it when it decodes and is fresh (at most ``TTL_INTERVALS``
publisher intervals and ``max_age_s`` old); otherwise it reads Redis itself, as it would without a publisher (plain
RQ deployments), and says why. The Workers tab reads directly too: its rows on screen are re-read every refresh
(``worker_reads``), which one snapshot for every dashboard cannot do; the first direct read after shared ones
re-reads every worker, so no row is older than the shared one it replaces. Neither side's choice writes from the
dashboard: the reader only GETRANGEs.

The key is per read signature (``snapshot_key``): the settings that change what ``read`` returns (RQ's key prefix,
the offline threshold, the history length, the masking patterns) and the snapshot layout. A dashboard whose
settings differ from every publisher's finds no snapshot under its key and reads directly; the time zone, theme,
refresh interval and thresholds are display-only and do not matter. A test classifies every Settings field.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import replace

import redis

from tui.data import snapshot_codec
from tui.data.explorer.attempts import AttemptHistory
from tui.data.explorer.pages import ExplorerPage
from tui.data.explorer.query import Filter
from tui.data.job_meta import JobDetail
from tui.data.jobs_page import JobsPage
from tui.data.models import ReadSource, Snapshot
from tui.data.queue_reads import QueueReads
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.data.worker_reads import HEARTBEAT_CADENCE_S, WorkerReads
from worker import keys, records

log = logging.getLogger("rqtop.snapshot")

INTERVAL_S = 2.0
"""The publisher's default cadence: the dashboard's default refresh."""
TTL_INTERVALS = 3
"""A shared snapshot lives (and counts as fresh) for this many of its publisher's intervals."""
MAX_AGE_S = 10.0
"""A dashboard never uses a shared snapshot older than this by its own clock, whatever the publisher's cadence."""
LEASE_SHARE = 0.8
"""The lease lasts this share of an interval: its holder's next turn finds it free, another publisher's finds it
held (one read per interval among several publishers)."""

READ_FIELDS = frozenset({"offline_after_s", "history_limit", "mask_patterns", "task_mask_patterns"})
"""Settings fields that change what ``DashboardReader.read`` returns (with ``keys.RQ_PREFIX``)."""
DISPLAY_FIELDS = frozenset({
    "refresh_s", "read_only", "pending_threshold", "page_size", "keymap", "pending_amber", "pending_red",
    "oldest_pending_amber_s", "oldest_pending_red_s", "notify_email", "theme", "timezone", "profile", "profile_color",
    "tls_unverified", "state_path", "role", "role_map", "role_chosen", "clock"})
"""Settings fields a shared snapshot serves whatever their value (display, actions, the clock); the role's one
effect on a read, payloads unmasked for a chosen admin, is in the signature as ``unmasked``."""

METRICS_EVERY_S = 10.0
"""How often a publisher re-reads the metrics (24 h aggregates; a dashboard off their tab re-reads them every 30 s):
the Metrics tab through a shared snapshot shows them at most this old."""

NO_SNAPSHOT = "no shared snapshot"
WORKERS_TAB = "Workers tab reads its rows directly"


def read_signature(settings: Settings) -> str:
    """A short hash of what decides a read's result: RQ's key prefix, ``READ_FIELDS`` and the snapshot layout."""
    parts = {"prefix": keys.RQ_PREFIX, "layout": snapshot_codec.LAYOUT, "unmasked": settings.payloads_unmasked,
             **{name: getattr(settings, name) for name in sorted(READ_FIELDS)}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=list).encode()).hexdigest()[:16]


def publisher_label(name: str, host: str) -> str:
    """The publisher as the status bar names it: its worker name, with the host when the name does not say it."""
    short = host.split(".")[0]
    return name if not short or short in name else f"{name} on {host}"


class SnapshotPublisher:
    """Reads one Snapshot per interval and shares it (one publisher per interval among those holding a lease)."""

    def __init__(self, conn: redis.Redis, settings: Settings, name: str, host: str, interval_s: float = INTERVAL_S,
                 reader: DashboardReader | None = None) -> None:
        self.conn = conn
        self.settings = settings = replace(settings, role_chosen=False)  # shared text is always masked (issue 17)
        self.name = name
        self.host = host
        self.interval_s = interval_s
        self.reader = reader or DashboardReader(conn, settings)
        self.signature = read_signature(settings)
        self.key = keys.snapshot(self.signature)
        self.lease = keys.snapshot_lease(self.signature)
        self.published = 0
        """Snapshots written so far."""
        self.last_size = 0
        """Bytes of the last one."""
        self._metrics: Snapshot | None = None
        """The last read that read the metrics (re-read every ``METRICS_EVERY_S``)."""

    def publish_once(self) -> bool:
        """Take the lease and, when it was free, read and share one Snapshot; False when another publisher holds
        the lease this interval. Redis errors propagate; a snapshot that cannot be encoded raises ValueError."""
        if not self.conn.set(self.lease, self.name, nx=True, px=max(1, int(self.interval_s * LEASE_SHARE * 1000))):
            return False
        now = self.settings.clock()
        kept = self._metrics
        wants = kept is None or kept.metrics_taken_at is None or (
            now - kept.metrics_taken_at.timestamp() >= METRICS_EVERY_S)
        snapshot = self.reader.read(include_metrics=wants, workers=WorkerReads.off_screen(self.interval_s),
                                    queues=QueueReads.off_screen(self.interval_s))
        if wants or kept is None:
            self._metrics = snapshot
        else:
            snapshot = snapshot.with_metrics_of(kept)
        envelope = snapshot_codec.Envelope(published_at=snapshot.taken_at.timestamp(), publisher=self.name,
                                           host=self.host, interval_s=self.interval_s, settings=self.signature)
        stored = snapshot_codec.encode(snapshot, envelope)
        self.conn.set(self.key, stored, px=int(self.interval_s * TTL_INTERVALS * 1000))
        self.published += 1
        self.last_size = len(stored)
        return True

    def run_until(self, stop: threading.Event) -> None:
        """Publish every interval until ``stop`` is set; a failure is logged once per change and retried next
        interval (the worker beside it never notices)."""
        log.info("shared snapshot: publishing every %gs to %s", self.interval_s, self.key)
        problem = ""
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.publish_once()
                if problem:
                    log.info("shared snapshot: publishing again")
                problem = ""
            except (redis.RedisError, OSError, ValueError) as exc:
                said = records.one_line(exc)
                if said != problem:
                    log.warning("shared snapshot not published (dashboards read Redis themselves): %s", said)
                problem = said
            stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))


class SharedSnapshotReader:
    """The dashboard's reader: the shared snapshot when it is fresh and readable, else the wrapped reader's own
    read; every Snapshot says which (``Snapshot.read_source``). Pages, details and the explorer read directly."""

    def __init__(self, direct: DashboardReader, max_age_s: float = MAX_AGE_S) -> None:
        self.direct = direct
        self.conn = direct.conn
        self.settings = direct.settings
        self.max_age_s = max_age_s
        self.signature = read_signature(direct.settings)
        self.key = keys.snapshot(self.signature)
        self._direct_at: float | None = None
        """Clock time of the last direct read (its worker rows' age)."""
        self._shared_last = False

    def read(self, include_metrics: bool = True, workers: WorkerReads | None = None,
             queues: QueueReads | None = None) -> Snapshot:
        """The shared snapshot (one GETRANGE) when fresh, else a direct read; never a write."""
        now = self.settings.clock()
        if (workers is not None and workers.visible) or (queues is not None and queues.visible):
            return self._direct(include_metrics, workers, queues, now, WORKERS_TAB, looked=False)
        try:
            stored = self.conn.getrange(self.key, 0, snapshot_codec.MAX_STORED_BYTES)
        except redis.ResponseError as exc:  # the key holds another type: not ours to trust
            return self._direct(include_metrics, workers, queues, now,
                                f"shared snapshot unreadable: {records.one_line(exc)}")
        if not stored or not isinstance(stored, bytes):
            return self._direct(include_metrics, workers, queues, now, NO_SNAPSHOT)
        try:
            snapshot, envelope = snapshot_codec.decode(stored)
        except snapshot_codec.SnapshotRejected as exc:
            return self._direct(include_metrics, workers, queues, now, f"shared snapshot unreadable: {exc}")
        limit = min(self.max_age_s, TTL_INTERVALS * envelope.interval_s)
        age = now - envelope.published_at
        if envelope.settings != self.signature:
            return self._direct(include_metrics, workers, queues, now, "shared snapshot read with other settings")
        if not -limit <= age <= limit:
            return self._direct(include_metrics, workers, queues, now, f"shared snapshot stale ({age:.0f} s old)")
        self._shared_last = True
        source = ReadSource("shared", publisher_label(envelope.publisher, envelope.host),
                            records.from_epoch(envelope.published_at))
        return replace(snapshot, round_trips=1, read_source=source)

    def _direct(self, include_metrics: bool, workers: WorkerReads | None, queues: QueueReads | None, now: float,
                reason: str, looked: bool = True) -> Snapshot:
        """The wrapped reader's own read, saying why (its round trips count the look for a shared one); after shared
        reads whose rows are fresher than this reader's kept ones (older than the heartbeat cadence), every worker
        and queue is re-read."""
        if self._shared_last and (self._direct_at is None or now - self._direct_at > HEARTBEAT_CADENCE_S):
            workers = queues = None
        snapshot = self.direct.read(include_metrics=include_metrics, workers=workers, queues=queues)
        self._direct_at, self._shared_last = now, False
        return replace(snapshot, read_source=ReadSource("direct", reason=reason),
                       round_trips=snapshot.round_trips + int(looked))

    def jobs_page(self, queue: str, source: str = "pending", offset: int = 0, limit: int | None = None) -> JobsPage:
        """One page of a queue's list, read directly (``DashboardReader.jobs_page``)."""
        return self.direct.jobs_page(queue, source, offset, limit)

    def job_detail(self, job_id: str, worker: str | None = None) -> JobDetail:
        """One job's detail, read directly."""
        return self.direct.job_detail(job_id, worker)

    def explorer_page(self, flt: Filter, offset: int = 0, limit: int = 50, rescan: bool = False) -> ExplorerPage:
        """One page of the Jobs explorer, read directly."""
        return self.direct.explorer_page(flt, offset, limit, rescan)

    def matching_ids(self, flt: Filter) -> list[str]:
        """Every job id matching ``flt``, read directly."""
        return self.direct.matching_ids(flt)

    def job_attempts(self, job_id: str, task: str | None = None) -> AttemptHistory:
        """A job's attempt history, read directly."""
        return self.direct.job_attempts(job_id, task)
