"""Which workers' hashes a dashboard refresh re-reads: the ones on screen every time, the rest at the heartbeat
cadence, a slice per refresh.

A worker's hashes change when it beats (every 10 s for rqtop's worker, ``--job-monitoring-interval`` for a busy
plain ``rq worker``) or starts or ends a job, so re-reading all of them every 2 s mostly reads what is already
known: at 10,000 workers that is 40,000 commands a refresh. With a ``WorkerReads`` the reader re-reads, per
refresh, the workers named ``visible`` (the rows on screen of the Workers tab), every worker it has never read,
and the stalest of the rest up to ``budget`` of them (enough to go round them all once per ``cadence_s``); the
others keep the row built from their last read, whose ``read_at`` says when that was. rqtop's own workers'
last-seen times come from round 1's index every refresh, so their online/offline status never lags.
``read(workers=None)`` (``rqtop status``, the exporter, a first read) reads every worker.

Two limits keep a refresh's cost on the screen at any fleet size: at most ``most`` off-screen items a refresh (past
that the cadence stretches: at 10,000 workers the cadence alone would be 2,000 workers, 6,000 commands, a refresh;
the rows' ``read_at`` says how old they are), and ``off_screen`` reads, for a tab that shows none of the items
(the Background Jobs, Metrics and Jobs tabs): there the workers section reads nothing at all, not even the index (at
10,000 workers listing them alone is ~15 ms a refresh), and hands back its last rows whole, with
``Snapshot.workers_as_of`` saying when they were built; the queues section lists the queues (History needs their
names) and reads only those never read. The App reads at once when the Workers tab becomes visible.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

HEARTBEAT_CADENCE_S = 10.0
"""How often rqtop's worker beats: a worker's hashes are re-read at least about this often (up to ``MOST_WORKERS``)."""
MOST_WORKERS = 100
"""Off-screen workers one refresh re-reads at most (300 commands): every one within 10 s up to 500 workers, within
W / 100 refreshes beyond."""

_Reads = TypeVar("_Reads", bound="ScreenReads")


@dataclass(frozen=True)
class ScreenReads:
    """Which items of one section a refresh must re-read (``visible``) and how often the rest are re-read; the rule
    ``due`` applies, shared by workers and queues (``queue_reads``)."""

    visible: frozenset[str] = field(default_factory=frozenset)
    """Names of the items on screen: re-read every refresh."""
    refresh_s: float = 2.0
    """The dashboard's refresh interval: with ``cadence_s`` it sets how many of the rest one refresh reads."""
    cadence_s: float = HEARTBEAT_CADENCE_S
    most: int = MOST_WORKERS
    """Off-screen items one refresh re-reads at most."""

    @classmethod
    def off_screen(cls: type[_Reads], refresh_s: float = 2.0) -> _Reads:
        """For a tab showing none of the items: re-read only those never read (the kept rows age, saying so)."""
        return cls(refresh_s=refresh_s, cadence_s=math.inf)

    @property
    def hidden(self) -> bool:
        """The items are on no visible tab (``off_screen``)."""
        return math.isinf(self.cadence_s) and not self.visible

    def budget(self, items: int) -> int:
        """How many off-screen items one refresh re-reads so that every one is re-read about once per
        ``cadence_s`` (at least one while there are any), at most ``most``; none off screen."""
        if items <= 0 or math.isinf(self.cadence_s):
            return 0
        return min(self.most, max(1, math.ceil(items * min(1.0, self.refresh_s / self.cadence_s))))


@dataclass(frozen=True)
class WorkerReads(ScreenReads):
    """The workers a refresh must re-read (``visible``: the Workers tab's viewport) and how often the rest are."""


def due(names: list[bytes], read_at: dict[bytes, float], now: float, reads: ScreenReads | None,
        raw_names: Callable[[frozenset[str]], set[bytes]]) -> set[bytes]:
    """The items (workers, queues) to re-read now: all without ``reads``; else the visible ones (``raw_names`` gives
    the raw names of the known items shown under the names ``visible`` holds), those never read, and the stalest
    others past ``cadence_s`` up to ``reads.budget``, taken from the front of ``read_at``, which holds the items in
    the order they were read (each re-read moves to the back); set operations and a walk that stops at the first
    item read within the cadence, nothing per item decoded (at 10,000 workers decoding every name and sorting the
    stale took ~20 ms a refresh)."""
    listed = set(names)
    if reads is None:
        return listed
    chosen = listed.difference(read_at)
    chosen |= raw_names(reads.visible) & listed
    rest = reads.budget(len(listed) - len(chosen))
    cadence = reads.cadence_s
    stale: list[bytes] = []
    for name, at in read_at.items() if rest else ():
        if now - at < cadence:
            break
        if name in listed and name not in chosen:
            stale.append(name)
            if len(stale) == rest:
                break
    chosen.update(stale)
    return chosen
