"""Webhook delivery with urllib: a Slack-compatible JSON body, signed with HMAC-SHA256 of the shared secret."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from worker.notify.message import text
from worker.notify.outbox import Notification

TIMEOUT_S = 10.0
SIGNATURE_HEADER = "X-Rqtop-Signature"
DELIVERY_HEADER = "X-Rqtop-Delivery"
"""The outbox entry id: a receiver that saw it already can drop a resend (the idempotency key)."""


def body(note: Notification) -> bytes:
    """``{"text": ...}`` (what Slack and compatible chats show) plus the fields as data under ``rqtop``."""
    data = {
        "text": text(note),
        "rqtop": {
            "id": note.entry_id, "job_id": note.job_id, "schedule": note.schedule, "task": note.task,
            "state": note.state, "duration_s": note.duration_s, "attempts": note.attempts, "error": note.error,
            "worker": note.worker, "queue": note.queue,
        },
    }
    return json.dumps(data, sort_keys=True).encode()


def signature(secret: str, payload: bytes) -> str:
    """The signature header's value: ``sha256=`` and the hex HMAC of the body."""
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def post(url: str, note: Notification, secret: str) -> None:
    """POST the notification; raises OSError (urllib's errors among them) unless the answer is 2xx."""
    payload = body(note)
    headers = {"Content-Type": "application/json", "User-Agent": "rqtop", DELIVERY_HEADER: note.entry_id}
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, payload)
    request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310 - http(s) checked at config
        if not 200 <= answer.status < 300:
            raise OSError(f"webhook answered HTTP {answer.status}")
