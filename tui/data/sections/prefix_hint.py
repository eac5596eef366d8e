"""The empty-Redis hint: RQ keys under another prefix, when nothing is found under the one in use.

Rule: nothing in round 1 (it reuses the queue and worker planners' indexes); round 2 one ``SCAN 0 MATCH
*:queues COUNT 100`` only when RQ's queue set and worker set are both empty under the prefix in use;
nothing in round 3. The hint names each other ``<prefix>:queues`` key that one SCAN call met: a bounded
look (100 slots of the keyspace), not a promise that there is none.
"""

from __future__ import annotations

from tui.data.masking import decode
from tui.data.sections.queues import QueuesPlanner
from tui.data.sections.rounds import Replies, Round, reply_as
from tui.data.sections.workers import WorkersPlanner
from worker import keys

SCAN_COUNT = 100
"""The COUNT of the one SCAN call the hint may send."""
MAX_HINTS = 5
"""At most this many other prefixes are named."""


class PrefixHintPlanner:
    """Looks once, cheaply, for RQ queue sets under other key prefixes when this one shows nothing."""

    def __init__(self, queues: QueuesPlanner, workers: WorkersPlanner) -> None:
        self.queues = queues
        self.workers = workers
        self._slot: int | None = None

    def first(self, r1: Round) -> None:
        pass

    def second(self, one: Replies, r2: Round) -> None:
        empty = not self.queues.names and not self.workers.names
        self._slot = r2.add("scan", 0, match="*:queues", count=SCAN_COUNT) if empty else None

    def third(self, two: Replies, r3: Round) -> None:
        pass

    def rows(self, two: Replies, three: Replies) -> tuple[str, ...]:
        if self._slot is None:
            return ()
        reply = two[self._slot]  # (cursor, keys) as redis-py parses SCAN
        found = reply_as(reply[1], list, []) if isinstance(reply, (tuple, list)) and len(reply) == 2 else []
        mine = keys.RQ_QUEUES.encode()
        prefixes = sorted({decode(k[: -len(b":queues")]) or "" for k in found
                           if isinstance(k, bytes) and k != mine and k != keys.PREFIX.encode() + b"queues"})
        return tuple(p for p in prefixes if p and keys.valid_key_prefix(p))[:MAX_HINTS]
