"""The ``rqtop status --json`` document: a snapshot written by orjson, schema_version first, keys sorted.

orjson walks the snapshot itself and writes what it knows in C: text, numbers, tuples, and datetimes (ISO 8601,
UTC as ``Z``). For each dataclass it calls back into ``_Fields``, which gives the shown fields in sorted order, the
durations a row keeps as instants worked out at the snapshot's ``taken_at`` (``COMPUTED``) and the finite floats
rounded (a name ending ``_s``, seconds: 0.1; any other: 0.01). At 10,000 workers the document has ~280,000 leaves:
building it as plain dicts and strings in Python first cost ~85 ms, this ~35 ms. Non-ASCII text is then
``\\u``-escaped and each array of plain numbers (the hourly buckets) put on one line, so the text is byte for byte
what the stdlib's ``json.dumps(..., indent=2)`` of the same document wrote.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from tui.data.models import QueueRow, Snapshot, WorkerRow

STATUS_SCHEMA_VERSION = 1
"""Bumped when a key of `status --json` is renamed or removed (adding keys keeps the version)."""

COMPUTED: dict[type, dict[str, Callable[[Any, float], Any]]] = {
    WorkerRow: {"uptime_s": WorkerRow.uptime_at, "current_elapsed_s": WorkerRow.elapsed_at,
                "read_age_s": WorkerRow.age_at},
    QueueRow: {"read_age_s": QueueRow.age_at},
}
"""Durations the document shows that a row keeps as instants: worked out at the snapshot's ``taken_at``."""
HIDDEN: dict[type, tuple[str, ...]] = {WorkerRow: ("current_started", "read_at"), QueueRow: ("read_at",)}
"""Those instants, left out of the document (its keys stay as they were)."""

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_NUMBER_ARRAY = re.compile(rb"\[\s*((?:-?[\d.eE+-]+|null)(?:,\s*(?:-?[\d.eE+-]+|null))*)\s*\]")


class _Fields:
    """How one dataclass becomes a dict of the document, worked out once per class: a getter of its shown fields
    (sorted by name), the slots the computed durations go in, and the slots of its float fields."""

    def __init__(self, kind: type) -> None:
        computed = COMPUTED.get(kind, {})
        shown = [f for f in fields(kind) if f.name not in HIDDEN.get(kind, ())]
        stored = sorted(f.name for f in shown)
        self.names = tuple(sorted([*stored, *computed]))
        self.fetch: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*stored) if len(stored) > 1 else \
            self._one_or_none(stored)
        self.computed = tuple((self.names.index(name), computed[name]) for name in sorted(computed))
        """(slot, how) per computed duration, in slot order (each is inserted at its place)."""
        floats = {f.name for f in shown if "float" in (f.type if isinstance(f.type, str) else repr(f.type))}
        floats |= set(computed)
        self.floats = tuple((self.names.index(name), 1 if name.endswith("_s") else 2) for name in sorted(floats))

    @staticmethod
    def _one_or_none(stored: list[str]) -> Callable[[Any], tuple[Any, ...]]:
        """The getter of a dataclass with one field or none (``attrgetter`` of one name gives a bare value)."""
        def fetch(value: Any) -> tuple[Any, ...]:
            return tuple(getattr(value, name) for name in stored)
        return fetch

    def __call__(self, value: Any, taken: float) -> dict[str, Any]:
        values = list(self.fetch(value))
        for slot, how in self.computed:
            values.insert(slot, how(value, taken))
        for slot, places in self.floats:
            item = values[slot]
            if type(item) is float and math.isfinite(item):
                values[slot] = round(item, places)
        return dict(zip(self.names, values, strict=True))


_FIELDS: dict[type, _Fields] = {}
"""Per dataclass, its ``_Fields``."""


def _fields_of(value: Any, taken: float) -> dict[str, Any]:
    """One dataclass as the document's dict (orjson's ``default``: it calls it for every dataclass it meets)."""
    kind = type(value)
    spec = _FIELDS.get(kind)
    if spec is None:
        if not hasattr(kind, "__dataclass_fields__"):
            raise TypeError(f"{kind.__name__} is not part of the status document")
        spec = _FIELDS[kind] = _Fields(kind)
    return spec(value, taken)


def status_bytes(snapshot: Snapshot) -> bytes:
    """The `status --json` text of ``snapshot`` as the UTF-8 bytes written out (all ASCII): schema_version first,
    keys sorted at every level, ISO 8601 UTC timestamps, durations in seconds (a worker's and a row's age as of
    ``taken_at``) rounded to 0.1 s and other floats to 0.01, None as null, non-ASCII \\u-escaped, each array of
    plain numbers on one line."""
    import orjson  # only `status --json` writes it

    taken = snapshot.taken_at.timestamp()
    document = {"schema_version": STATUS_SCHEMA_VERSION, **_fields_of(snapshot, taken)}
    data = orjson.dumps(document, default=lambda value: _fields_of(value, taken),
                        option=orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_UTC_Z)
    if not data.isascii():  # every non-ASCII character \u-escaped, as the stdlib's encoder did: C1 and bidi included
        data = _NON_ASCII.sub(lambda match: json.dumps(match.group())[1:-1], data.decode()).encode()
    return _NUMBER_ARRAY.sub(lambda match: b"[" + b", ".join(part.strip() for part in match.group(1).split(b","))
                             + b"]", data)


def status_json(snapshot: Snapshot) -> str:
    """``status_bytes`` as text."""
    return status_bytes(snapshot).decode()


def status_document(snapshot: Snapshot) -> dict[str, Any]:
    """The `status --json` document as the plain data a script reading that text gets."""
    document: dict[str, Any] = json.loads(status_json(snapshot))
    return document
