"""Email delivery with the standard library: one message per notification, its outbox id as the Message-ID."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate

from worker.notify.config import SmtpSettings, open_smtp
from worker.notify.message import lines
from worker.notify.outbox import Notification


def build_email(note: Notification, to: str, sender: str) -> EmailMessage:
    """The email for one notification to one address; the Message-ID derives from the outbox entry (a resend
    after a crash carries the same id, so a mail system that dedupes by it shows one)."""
    message = EmailMessage()
    message["Subject"] = note.subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    digest = hashlib.sha256(f"{note.entry_id}:{to}".encode()).hexdigest()[:24]
    message["Message-ID"] = f"<{note.entry_id}.{digest}@rqtop>"
    message["X-Rqtop-Job"] = note.job_id
    message.set_content("\n".join(lines(note)) + "\n")
    return message


def send_email(settings: SmtpSettings, message: EmailMessage) -> None:
    """Send one message; raises OSError or smtplib.SMTPException when the server is away or refuses it."""
    client = open_smtp(settings)
    try:
        client.send_message(message)
    finally:
        try:
            client.quit()
        except Exception:  # noqa: BLE001 - the message was accepted (or the error above is the one to report)
            client.close()
