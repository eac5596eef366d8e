"""Which queues' counts a dashboard refresh re-reads: the rows on screen every time, the rest at a cadence, a slice
per refresh; and the last counts of the others, kept with how old they are.

Each queue costs ten count commands a refresh (LLEN, the started registry's ZCARD and ZCOUNT, ZCOUNT of finished
and failed, three ZCARDs, the scheduled entries' ZRANGE, LINDEX of its head) and one HGET of its head: 36 queues
are ~400 commands a refresh, 1,000 queues ~11,000. With a ``QueueReads`` the reader re-reads, per refresh, the
queues named ``visible`` (the rows in the Workers tab's queue table viewport), every queue it has never read, and
the stalest of the rest up to ``budget`` of them (enough to go round them all once per ``cadence_s``); the others
keep the row of their last read, whose ``read_at`` says when it was read; at most ``MOST_QUEUES`` off-screen queues a
refresh, and none but new ones for a tab that shows no queue (``QueueReads.off_screen``). ``read(queues=None)`` (``rqtop
status``, the exporter) reads every queue.

The total cards are sums of the rows, so they are as fresh as the stalest row summed: ``QueueTotals.as_of_s``
says how old that is (at most about one cadence plus a refresh). Exact totals every refresh would still need one
command per queue and count (an LLEN per queue for Pending alone: 1,000 commands a refresh at 1,000 queues, half
of what the cadence reads for all ten counts), so the totals follow the rows' rule rather than having one of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.data.models import QueueRow
from tui.data.worker_reads import ScreenReads

QUEUE_CADENCE_S = 10.0
"""An off-screen queue's counts are re-read at least about this often (up to ``MOST_QUEUES``)."""
MOST_QUEUES = 40
"""Off-screen queues one refresh re-reads at most (about 440 commands): every one within 10 s up to 200 queues,
within Q / 40 refreshes beyond."""


@dataclass(frozen=True)
class QueueReads(ScreenReads):
    """The queues a refresh must re-read (``visible``: the queue table's viewport) and how often the rest are."""

    cadence_s: float = QUEUE_CADENCE_S
    most: int = MOST_QUEUES


class QueueCounts:
    """The last row read of every listed queue and when it was read; a row not re-read is kept as it is (its
    ``read_at`` says when)."""

    def __init__(self) -> None:
        self.read_at: dict[bytes, float] = {}
        """Queue name -> when its counts were last read, in the order of those reads (``worker_reads.due`` picks the
        stalest from the front)."""
        self._rows: dict[bytes, QueueRow] = {}
        self._last: tuple[list[bytes], tuple[QueueRow, ...]] | None = None

    def raw_names(self, shown: frozenset[str]) -> set[bytes]:
        """The raw names of the kept rows named ``shown`` (names as the rows show them)."""
        return {raw for raw, row in self._rows.items() if row.name in shown} if shown else set()

    def rows(self, names: list[bytes], fresh: dict[bytes, QueueRow], now: float) -> tuple[QueueRow, ...]:
        """One row per name in ``names``: the ``fresh`` one when read now, else the kept one; queues no longer listed
        are forgotten. When no queue was read now and the same ones are listed, the last tuple comes back whole."""
        if not fresh and self._last is not None and self._last[0] == names:
            return self._last[1]
        kept, read_at = self._rows, self.read_at
        for name, row in fresh.items():
            read_at.pop(name, None)  # re-inserted: the dict stays in order of reads, stalest first (due)
            kept[name], read_at[name] = row, now
        built = tuple(kept[name] for name in names)
        if len(kept) > len(names):
            listed = set(names)
            for gone in [n for n in kept if n not in listed]:
                del kept[gone], read_at[gone]
        self._last = (names, built)
        return built
