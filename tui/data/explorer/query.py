"""The explorer's query syntax parsed into a frozen Filter; a bad term becomes a warning, never an exception.

``state:failed task:import* queue:high worker:w1 since:2h until:1h id:abc attention:any free text``: each ``key:value``
narrows the list (several values of one key, comma-separated or repeated, mean any of them); words without a
known key match the task or the description. Terms that cannot be used are ignored and reported with the reason.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, replace

STATES = ("pending", "running", "scheduled", "retrying", "deferred", "failed", "canceled", "stopped",
          "completed", "abandoned")
"""The states a filter may name, as the README's table defines them."""

STATE_ALIASES = {
    "queued": "pending", "started": "running", "active": "running", "busy": "running", "retry": "retrying",
    "dead": "failed", "dead-letter": "failed", "dead_letter": "failed", "deadletter": "failed",
    "finished": "completed", "succeeded": "completed", "done": "completed", "cancelled": "canceled",
}

ATTENTION = ("failures", "retry", "stuck", "backlog")
"""Attention kinds: failed not re-run, retry budget pressure, stuck or abandoned execution, backlog pressure."""

KEYS = ("state", "task", "queue", "worker", "since", "until", "id", "attention", "completed")

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")


@dataclass(frozen=True)
class QueryWarning:
    """One term of a query that was ignored, and why."""

    term: str
    reason: str

    def __str__(self) -> str:
        return f"{self.term}: {self.reason}"


@dataclass(frozen=True)
class Filter:
    """What the explorer lists; the empty Filter lists every job but completed ones."""

    states: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    """Exact task names or globs (``import*``), matched case-sensitively on the full or short name."""
    queues: tuple[str, ...] = ()
    workers: tuple[str, ...] = ()
    since_s: float | None = None
    """Only jobs whose last event is at most this many seconds old."""
    until_s: float | None = None
    """Only jobs whose last event is at least this many seconds old (with ``since_s``: a time range)."""
    job_id: str | None = None
    attention: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    """Words each matched, case-insensitively, against the task or the description."""
    include_completed: bool = False
    warnings: tuple[QueryWarning, ...] = field(default=(), compare=False)

    @property
    def needs_scan(self) -> bool:
        """True when the filter asks for fields only the job hashes hold (so they are scanned, not paged)."""
        paged_states = set(self.states) <= PAGED_STATES
        return bool(self.tasks or self.workers or self.text or self.since_s is not None or self.attention
                    or self.until_s is not None or not paged_states)

    def with_completed(self, include: bool) -> Filter:
        """The same filter with completed rows shown or hidden."""
        return replace(self, include_completed=include)

    def to_query(self) -> str:
        """The filter written back in the query syntax (what the bar shows)."""
        terms = [f"state:{s}" for s in self.states] + [f"task:{t}" for t in self.tasks]
        terms += [f"queue:{q}" for q in self.queues] + [f"worker:{w}" for w in self.workers]
        if self.since_s is not None:
            terms.append(f"since:{_duration_text(self.since_s)}")
        if self.until_s is not None:
            terms.append(f"until:{_duration_text(self.until_s)}")
        if self.job_id:
            terms.append(f"id:{self.job_id}")
        terms += [f"attention:{a}" for a in self.attention]
        terms += [shlex.quote(t) if " " in t else t for t in self.text]
        return " ".join(terms)


PAGED_STATES = frozenset({"pending", "running", "scheduled", "deferred", "failed", "canceled", "completed"})
"""States that are one RQ list or registry each, so a filter on them pages the registries directly."""


def _duration_text(seconds: float) -> str:
    """``7200`` -> ``2h``: the largest unit that divides it."""
    for unit in ("w", "d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{seconds:g}s"


def parse_duration(value: str) -> float | None:
    """``90s``, ``15m``, ``2h``, ``3d``, ``1w`` as seconds; None when it is not one."""
    match = _DURATION.match(value.strip().lower())
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


def _split(query: str) -> list[str]:
    """The query's terms; quotes group words, and an unbalanced quote just splits on spaces."""
    try:
        return shlex.split(query)
    except ValueError:
        return query.split()


def parse_query(query: str, include_completed: bool = False) -> Filter:
    """The Filter a query asks for, with every unusable term in ``warnings`` (this never raises)."""
    values: dict[str, list[str]] = {key: [] for key in ("states", "tasks", "queues", "workers", "attention",
                                                        "text")}
    since: float | None = None
    until: float | None = None
    job_id: str | None = None
    warnings: list[QueryWarning] = []
    for term in _split(query):
        key, colon, raw = term.partition(":")
        key = key.lower()
        if not colon or key not in KEYS:
            if colon and re.fullmatch(r"[a-z_]+", key):
                warnings.append(QueryWarning(term, f"unknown filter {key!r} (use {', '.join(KEYS)})"))
            else:
                values["text"].append(term)
            continue
        parts = [part for part in raw.split(",") if part]
        if not parts:
            warnings.append(QueryWarning(term, f"{key} needs a value"))
            continue
        for part in parts:
            problem = _take(key, part, values)
            if key == "since" and problem is None:
                since = parse_duration(part)
            elif key == "until" and problem is None:
                until = parse_duration(part)
            elif key == "id" and problem is None:
                job_id = part
            elif key == "completed" and problem is None:
                include_completed = part.lower() in ("yes", "true", "1", "show", "on")
            if problem:
                warnings.append(QueryWarning(term if len(parts) == 1 else f"{key}:{part}", problem))
    if since is not None and until is not None and until >= since:
        warnings.append(QueryWarning(f"until:{_duration_text(until)}", f"is not after since:{_duration_text(since)} "
                                     "(the range would be empty)"))
        until = None
    states = tuple(dict.fromkeys(values["states"]))
    if "completed" in states:
        include_completed = True
    return Filter(states=states, tasks=tuple(values["tasks"]), queues=tuple(values["queues"]),
                  workers=tuple(values["workers"]), since_s=since, until_s=until, job_id=job_id,
                  attention=tuple(dict.fromkeys(values["attention"])), text=tuple(values["text"]),
                  include_completed=include_completed, warnings=tuple(warnings))


def _take(key: str, value: str, values: dict[str, list[str]]) -> str | None:
    """Add one value of ``key`` to ``values``; the reason it cannot be used, or None."""
    if key == "state":
        state = STATE_ALIASES.get(value.lower(), value.lower())
        if state not in STATES:
            return f"unknown state {value!r} (use {', '.join(STATES)})"
        values["states"].append(state)
    elif key == "attention":
        kind = value.lower()
        kinds = ATTENTION if kind in ("any", "all", "yes") else (kind,)
        if kind not in ATTENTION and kinds == (kind,):
            return f"unknown attention {value!r} (use any, {', '.join(ATTENTION)})"
        values["attention"].extend(kinds)
    elif key in ("since", "until"):
        if parse_duration(value) is None:
            return f"{value!r} is not a duration like 90s, 15m, 2h, 3d or 1w"
    elif key == "id":
        if not _ID.match(value):
            return f"{value!r} is not a job id"
    elif key == "completed":
        if value.lower() not in ("yes", "no", "true", "false", "1", "0", "show", "hide", "on", "off"):
            return f"{value!r} is not yes or no"
    else:
        values[f"{key}s"].append(value)
    return None
