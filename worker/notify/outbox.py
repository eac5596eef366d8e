"""The notification outbox in Redis: what the worker's end-of-job script appended, read back as plain data.

Entries are appended by ``worker.finish_script.NOTIFY_FINISH_LUA`` in the round trip that records a run's
end; a sender delivers each on its channels and deletes it only once every channel has it (the per-channel
delivered mark, ``keys.notify_done``, is the idempotency key a retry after a crash checks first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis

from worker import keys
from worker.display_text import safe_text
from worker.masking import mask, patterns_from_env
from worker.records import as_int, as_text, to_epoch

DONE_TTL_S = 7 * 24 * 3600
"""How long a delivered mark outlives its delivery (a crashed sender's retry checks it)."""

CLAIM_TTL_S = 120
"""A sender's claim on one delivery; another sender may take over after this long."""


@dataclass(frozen=True)
class Notification:
    """One ended run to tell someone about: the outbox entry's fields, safe to print (masked, no controls)."""

    entry_id: str
    job_id: str
    schedule: str
    state: str
    task: str
    queue: str
    started_at: float | None
    ended_at: float | None
    attempts: int
    error: str
    worker: str
    system: bool
    """Sent because the schedule's policy asks (to the alert addresses and the webhook)."""
    to: str
    """The Run now + notify address, or ""."""

    @property
    def duration_s(self) -> float | None:
        """How long the run took, when both ends are known."""
        if self.started_at is None or self.ended_at is None:
            return None
        return max(0.0, self.ended_at - self.started_at)

    @property
    def subject(self) -> str:
        """One line naming the job and its outcome."""
        name = self.schedule or self.task
        return f"[rqtop] {name}: {self.state}"


def _clean(value: object) -> str:
    """Text from Redis as data: masked as on screen, terminal controls replaced."""
    return safe_text(mask(as_text(value), patterns_from_env()) or "")


def parse_entry(entry_id: str, fields: Mapping[bytes | str, bytes | str]) -> Notification:
    """One outbox entry as a Notification (missing fields read as empty)."""
    data = {as_text(k): v for k, v in fields.items()}
    return Notification(
        entry_id=entry_id, job_id=_clean(data.get("job_id")), schedule=_clean(data.get("schedule")),
        state=_clean(data.get("state")), task=_clean(data.get("task")), queue=_clean(data.get("queue")),
        started_at=to_epoch(as_text(data.get("started_at")) or None),
        ended_at=to_epoch(as_text(data.get("ended_at")) or None),
        attempts=as_int(data.get("attempts")) or 1, error=_clean(data.get("error")),
        worker=_clean(data.get("worker")), system=as_text(data.get("system")) == "1",
        to=as_text(data.get("to")).strip(),
    )


def page(conn: redis.Redis, start: str = "-", count: int = 100) -> list[Notification]:
    """Up to ``count`` waiting notifications from ``start`` on (an id, "(id" for after it, or "-"), oldest first."""
    entries: Any = conn.xrange(keys.NOTIFY_OUTBOX, min=start, count=count)
    return [parse_entry(as_text(entry_id), fields or {}) for entry_id, fields in entries or []]


def delivered(conn: redis.Redis, entry_id: str, channels: list[str]) -> list[bool]:
    """For each channel, whether the entry was already delivered there (one round trip)."""
    with conn.pipeline(transaction=False) as pipe:
        for channel in channels:
            pipe.exists(keys.notify_done(entry_id, channel))
        return [bool(found) for found in pipe.execute()]


def claim(conn: redis.Redis, entry_id: str, channel: str, owner: str) -> bool:
    """Take the short claim on one delivery; False when another sender holds it."""
    return bool(conn.set(keys.notify_claim(entry_id, channel), owner, nx=True, ex=CLAIM_TTL_S))


def release(conn: redis.Redis, entry_id: str, channel: str) -> None:
    """Give up a claim without delivering (the delivery was already made)."""
    conn.delete(keys.notify_claim(entry_id, channel))


def mark_delivered(conn: redis.Redis, entry_id: str, channel: str) -> None:
    """Record one delivery (the idempotency key), release its claim and count it sent."""
    with conn.pipeline(transaction=True) as pipe:
        pipe.set(keys.notify_done(entry_id, channel), "1", ex=DONE_TTL_S)
        pipe.delete(keys.notify_claim(entry_id, channel))
        pipe.hincrby(keys.NOTIFY_STATUS, "sent", 1)
        pipe.execute()


def mark_failed(conn: redis.Redis, entry_id: str, channel: str, error: str, now: float, failing: str) -> None:
    """Count one failed attempt, release its claim so the next try can be made, keep the error visible."""
    with conn.pipeline(transaction=True) as pipe:
        pipe.delete(keys.notify_claim(entry_id, channel))
        pipe.hincrby(keys.NOTIFY_STATUS, "failures", 1)
        pipe.hset(keys.NOTIFY_STATUS, mapping={"last_error": error, "last_error_at": f"{now:.6f}", "failing": failing})
        pipe.execute()


def set_failing(conn: redis.Redis, failing: str) -> None:
    """Which channels are failing now ("" once all deliver again)."""
    conn.hset(keys.NOTIFY_STATUS, "failing", failing)


def remove(conn: redis.Redis, entry_id: str) -> None:
    """Drop an entry every channel has."""
    conn.xdel(keys.NOTIFY_OUTBOX, entry_id)


def write_policies(conn: redis.Redis, policies: Mapping[str, str]) -> None:
    """Replace the per-schedule notify policies the end-of-job script reads (one transaction)."""
    with conn.pipeline(transaction=True) as pipe:
        pipe.delete(keys.NOTIFY_POLICY)
        if policies:
            pipe.hset(keys.NOTIFY_POLICY, mapping=dict(policies.items()))
        pipe.execute()


def request_notify(conn: redis.Redis | redis.client.Pipeline, job_id: str, address: str) -> None:
    """Ask for an email to ``address`` when job ``job_id`` ends (Run now + notify)."""
    conn.set(keys.notify_trigger(job_id), address, ex=keys.NOTIFY_TRIGGER_TTL_S)


@dataclass(frozen=True)
class OutboxStatus:
    """What ``rqtop notify status`` and the Background Jobs tab show."""

    pending: int
    sent: int
    failures: int
    failing: str
    last_error: str
    last_error_at: float | None


def read_status(conn: redis.Redis) -> OutboxStatus:
    """The outbox's size and the senders' counters, in one pipelined round trip of reads."""
    with conn.pipeline(transaction=False) as pipe:
        pipe.xlen(keys.NOTIFY_OUTBOX)
        pipe.hmget(keys.NOTIFY_STATUS, ["sent", "failures", "failing", "last_error", "last_error_at"])
        pending, (sent, failures, failing, last_error, last_at) = pipe.execute()
    return OutboxStatus(
        pending=int(pending or 0), sent=as_int(sent) or 0, failures=as_int(failures) or 0,
        failing=_clean(failing), last_error=_clean(last_error), last_error_at=to_epoch(as_text(last_at) or None),
    )
