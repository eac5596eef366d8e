"""The words of one notification: the same lines for the email body and the webhook's Slack-style text."""

from __future__ import annotations

from datetime import datetime, timezone

from worker.notify.outbox import Notification


def _when(epoch: float | None) -> str:
    """An epoch as UTC text, or "?"."""
    if epoch is None:
        return "?"
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float | None) -> str:
    """A duration as 1.2s, 3m 04s or 1h 02m."""
    if seconds is None:
        return "?"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def lines(note: Notification) -> list[str]:
    """Job, outcome, duration, attempts, error and worker, one per line (the fields are already masked and safe)."""
    out = [
        f"Job:      {note.schedule + ' / ' if note.schedule else ''}{note.task} ({note.job_id})",
        f"Outcome:  {note.state}",
        f"Duration: {_duration(note.duration_s)} (ended {_when(note.ended_at)})",
        f"Attempts: {note.attempts}",
    ]
    if note.error:
        out.append(f"Error:    {note.error}")
    out.append(f"Worker:   {note.worker or '?'}")
    if note.queue:
        out.append(f"Queue:    {note.queue}")
    return out


def text(note: Notification) -> str:
    """The whole message as plain text: subject line, then the detail lines."""
    return "\n".join([note.subject, *lines(note)])
