"""The sender loop: deliver the outbox's notifications by email and webhook, at least once, never losing one.

Each entry is delivered per channel (``email:<address>`` or ``webhook``): a delivered mark checked first and
a short claim make a second sender, or a retry after a crash, skip what was already sent (where a crash
falls between the send and the mark, the entry is sent again: at-least-once, with the same Message-ID and
``X-Rqtop-Delivery`` id for the receiver to dedupe). A failing channel kind waits with ``worker.outage``'s
doubling backoff; its entries stay in the outbox until it works again. Failures are counted in Redis and
logged once per change of state (failing, working again), not per retry.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time
from collections.abc import Callable

import redis

from worker.notify import outbox, smtp_sender, webhook
from worker.notify.config import ENV_SMTP_URL, NotifyConfig
from worker.notify.outbox import Notification
from worker.outage import HEALTH, OUTAGE_ERRORS, Backoff, wait_for_redis
from worker.records import one_line

log = logging.getLogger("rqtop.notify")

POLL_S = 1.0
"""Pause between passes over the outbox."""
PAGE = 200
"""Entries read per round trip while a pass walks the outbox."""
DELIVERY_ERRORS = (OSError, smtplib.SMTPException, ValueError)
"""What a failed delivery raises (urllib's errors are OSErrors); anything else is a bug and propagates."""


class Sender:
    """Delivers waiting notifications; one instance per process, safe beside senders in other processes."""

    def __init__(self, conn: redis.Redis, config: NotifyConfig, name: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.conn, self.config, self.name, self.clock = conn, config, name, clock
        self._backoff = {"email": Backoff(1.0), "webhook": Backoff(1.0)}
        self._not_before = {"email": 0.0, "webhook": 0.0}
        self._failing: dict[str, str] = {}
        self._untargeted: set[str] = set()

    def channels(self, note: Notification) -> list[str]:
        """Where one notification goes: alert addresses and the webhook by policy, the Run-now address."""
        found: list[str] = []
        if note.system:
            found += [f"email:{address}" for address in self.config.alert_email]
            if self.config.webhook_for(note.schedule):
                found.append("webhook")
        if note.to and f"email:{note.to}" not in found:
            found.append(f"email:{note.to}")
        return found

    def deliver(self, note: Notification, channel: str) -> None:
        """Send one notification on one channel; raises one of ``DELIVERY_ERRORS`` when it could not."""
        if channel == "webhook":
            webhook.post(self.config.webhook_for(note.schedule), note, self.config.webhook_secret)
            return
        if self.config.smtp is None:
            raise ValueError(f"{ENV_SMTP_URL} is not set")
        address = channel.split(":", 1)[1]
        smtp_sender.send_email(self.config.smtp, smtp_sender.build_email(note, address, self.config.sender))

    def pass_once(self) -> int:
        """Walk the outbox once, delivering what is due; how many deliveries succeeded."""
        sent, start = 0, "-"
        while True:
            notes = outbox.page(self.conn, start, PAGE)
            for note in notes:
                sent += self._handle(note)
            if len(notes) < PAGE:
                return sent
            start = "(" + notes[-1].entry_id

    def _handle(self, note: Notification) -> int:
        """Deliver one entry on each channel that does not have it yet; remove it once all do."""
        channels = self.channels(note)
        if not channels:
            if note.entry_id not in self._untargeted:
                self._untargeted.add(note.entry_id)
                log.warning("notification %s for %s has no target in this sender's config; kept in the outbox",
                            note.entry_id, note.job_id)
            return 0
        sent, complete = 0, True
        for channel, done in zip(channels, outbox.delivered(self.conn, note.entry_id, channels), strict=True):
            if done:
                continue
            kind = channel.split(":", 1)[0]
            if self.clock() < self._not_before[kind] or not outbox.claim(self.conn, note.entry_id, channel, self.name):
                complete = False
                continue
            if outbox.delivered(self.conn, note.entry_id, [channel])[0]:
                outbox.release(self.conn, note.entry_id, channel)  # another sender finished it since we looked
                continue
            try:
                self.deliver(note, channel)
            except DELIVERY_ERRORS as exc:
                self._failed(kind, note, channel, exc)
                complete = False
                continue
            outbox.mark_delivered(self.conn, note.entry_id, channel)
            self._worked(kind)
            sent += 1
        if complete:
            outbox.remove(self.conn, note.entry_id)
        return sent

    def _failed(self, kind: str, note: Notification, channel: str, exc: BaseException) -> None:
        """Count the failure, back off this channel kind, log only when it starts failing."""
        reason = f"{kind}: {one_line(exc)}"
        self._not_before[kind] = self.clock() + self._backoff[kind].next()
        if kind not in self._failing:
            log.warning("notification delivery failing (%s); kept in the outbox, retrying with backoff", reason)
        self._failing[kind] = reason
        outbox.mark_failed(self.conn, note.entry_id, channel, reason, self.clock(), ",".join(sorted(self._failing)))

    def _worked(self, kind: str) -> None:
        """A delivery went through: reset the backoff, log once when the channel kind was failing."""
        self._backoff[kind].reset()
        if self._failing.pop(kind, None) is not None:
            log.warning("notification delivery by %s works again", kind)
            outbox.set_failing(self.conn, ",".join(sorted(self._failing)))

    def run_until(self, stop: threading.Event, poll_s: float = POLL_S) -> None:
        """Pass over the outbox every ``poll_s`` until ``stop`` is set, riding out Redis outages."""
        while not stop.is_set():
            try:
                self.pass_once()
                HEALTH.back()
            except OUTAGE_ERRORS as exc:
                HEALTH.lost(exc)
                wait_for_redis(self.conn, stop, pause_first=True)
                continue
            except redis.RedisError as exc:
                log.warning("notification sender: %s", one_line(exc))
            stop.wait(poll_s)


def start_thread(conn: redis.Redis, config: NotifyConfig, name: str, stop: threading.Event) -> threading.Thread:
    """Run a sender in a daemon thread of this process (the worker's all/scheduler mode)."""
    thread = threading.Thread(target=Sender(conn, config, name).run_until, args=(stop,), name="rqtop-notify",
                              daemon=True)
    thread.start()
    return thread
