"""Which entries of RQ's scheduled registry are retries: RQ 2 and 3 park a failed job's retry-with-interval
there exactly like an ``enqueue_in`` / ``enqueue_at`` job, and only the job hash tells them apart.

A retry has run before: ``Job.retry`` (RQ 2.12 and 3.x) re-schedules a job that already has a ``started_at``
and was enqueued with ``Retry`` (its ``retries_left`` field is set); a job waiting for its first run has an
empty ``started_at``. Each entry is classified once, keyed by (id, score) — a new score is a new scheduling
— at most ``CLASSIFY_PER_REFRESH`` new entries per refresh, and kept in a bounded cache.
"""

from __future__ import annotations

from typing import Any

SCAN_PER_QUEUE = 100
"""Entries of each queue's scheduled registry read for classification (the soonest first)."""
CLASSIFY_PER_REFRESH = 100
"""K: job hashes read per refresh to classify entries not seen before (one HMGET each, round 3)."""
CACHE_MAX = 20_000
"""Classified entries kept between refreshes; entries no refresh listed are forgotten first."""
FIELDS = ("started_at", "retries_left")
"""What the HMGET reads of a scheduled job."""

Entry = tuple[bytes, float]


def is_retry(reply: Any) -> bool:
    """A scheduled job that has run before and was enqueued with Retry: RQ re-scheduled it after a failure."""
    if not isinstance(reply, list) or len(reply) != len(FIELDS):
        return False
    started_at, retries_left = reply
    return bool(started_at) and retries_left is not None


class RetryKinds:
    """The bounded cache of classified scheduled entries: (id, score) -> is a retry."""

    def __init__(self) -> None:
        self._known: dict[Entry, bool] = {}
        self._seen: set[Entry] = set()

    def get(self, entry: Entry) -> bool | None:
        """True / False once classified, None when not yet."""
        self._seen.add(entry)
        return self._known.get(entry)

    def put(self, entry: Entry, retry: bool) -> None:
        """Remember one classification."""
        self._known[entry] = retry

    def turn(self) -> None:
        """End of a refresh: forget entries it did not list once the cache is over ``CACHE_MAX``."""
        if len(self._known) > CACHE_MAX:
            self._known = {e: r for e, r in self._known.items() if e in self._seen}
            while len(self._known) > CACHE_MAX:
                self._known.pop(next(iter(self._known)))
        self._seen = set()
