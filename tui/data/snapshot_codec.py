"""A Snapshot as bytes and back, for the shared snapshot: JSON of the reader's frozen dataclasses, zlib-compressed;
never pickle, and decoded as untrusted input.

Stored value: ``MAGIC`` + one format byte + zlib(JSON). The JSON document is ``{"v": SCHEMA_VERSION, "layout":
LAYOUT, "settings": <the publisher's read signature>, "published_at": <epoch µs>, "publisher": str, "host": str,
"interval_s": float, "snapshot": [...]}``. Each dataclass is an array of its fields in declaration order (no field
names: a tenth of the bytes at 10,000 workers); ``LAYOUT`` hashes every class's field names and types, so a
publisher running another rqtop version (a field added, moved or retyped) is refused instead of misread. Datetimes
are integer microseconds since the epoch (exact both ways), tuples are arrays, a missing value is null.

Decoding checks everything: the magic and format byte, the compressed and inflated sizes (``MAX_STORED_BYTES``,
``MAX_JSON_BYTES``: a zip bomb stops at the cap), JSON without NaN or Infinity, the version, the layout, and every
value against its field's type (a bool is not an int, an int is not a str). Every string of the snapshot passes
``safe_text`` again, as the reader's own strings did (``RAW_FIELDS``, ids kept exactly as Redis holds them for a
lookup and never shown, excepted). Anything wrong raises ``SnapshotRejected`` with one line; the dashboard then
reads Redis itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from tui.data.models import Snapshot
from worker.display_text import safe_text

MAGIC = b"RQTS"
FORMAT = 1
"""The framing byte after ``MAGIC`` (zlib over JSON)."""
SCHEMA_VERSION = 1
"""Bumped when the document's envelope changes; the dataclasses' own changes are caught by ``LAYOUT``."""
MAX_STORED_BYTES = 16 * 1024 * 1024
"""The largest stored value a dashboard reads (GETRANGE stops there) or a publisher writes."""
MAX_JSON_BYTES = 128 * 1024 * 1024
"""The most a stored value may inflate to (10,000 workers x 1,000 queues is about 5 MB)."""
SKIPPED = frozenset({(Snapshot, "read_source")})
"""Fields not shared: the reading dashboard sets them."""
RAW_FIELDS = frozenset({"ScheduleRow.latest_failure_key"})
"""Strings the reader keeps exactly as Redis holds them (to look the job up), never shown: not re-sanitised."""
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)


class SnapshotRejected(ValueError):
    """A stored snapshot that cannot be used; the message is one line saying why."""


@dataclass(frozen=True)
class Envelope:
    """Who shared a snapshot, when, at what cadence and with which read settings."""

    published_at: float
    """Epoch seconds, the publisher's clock."""
    publisher: str
    host: str
    interval_s: float
    settings: str
    """The publisher's read signature (``shared_snapshot.read_signature``)."""


Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]


def _fail(what: str, value: Any) -> typing.NoReturn:
    raise SnapshotRejected(f"{what}: unexpected {type(value).__name__}")


def _scalar(kind: type, name: str) -> tuple[Encoder, Decoder]:
    """Codec of str, int, float or bool: the value itself, checked (bool is no number, int counts as float)."""
    sanitise = kind is str and name not in RAW_FIELDS

    def check(value: Any) -> Any:
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return value
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            _fail(name, value)
        return value

    def decode(value: Any) -> Any:
        return safe_text(check(value)) if sanitise else check(value)

    return check, decode


def _datetime(name: str) -> tuple[Encoder, Decoder]:
    """Codec of an aware datetime as integer microseconds since the epoch."""

    def encode(value: Any) -> int:
        if not isinstance(value, datetime) or value.tzinfo is None:
            _fail(name, value)
        return (value - EPOCH) // MICROSECOND

    def decode(value: Any) -> datetime:
        if not isinstance(value, int) or isinstance(value, bool):
            _fail(name, value)
        try:
            return EPOCH + value * MICROSECOND
        except OverflowError:
            raise SnapshotRejected(f"{name}: time out of range") from None

    return encode, decode


def _codec(hint: Any, name: str) -> tuple[Encoder, Decoder]:
    """Encoder and decoder of one annotated type."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        if len(inner) != 1 or len(args) != 2:
            raise TypeError(f"{name}: only X | None is shared, not {hint}")
        enc, dec = _codec(inner[0], name)
        return (lambda v: None if v is None else enc(v)), (lambda v: None if v is None else dec(v))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        enc, dec = _codec(args[0], name)

        def encode_items(value: Any) -> list[Any]:
            if not isinstance(value, tuple):
                _fail(name, value)
            return [enc(item) for item in value]

        def decode_items(value: Any) -> tuple[Any, ...]:
            if not isinstance(value, list):
                _fail(name, value)
            return tuple(dec(item) for item in value)

        return encode_items, decode_items
    if hint is datetime:
        return _datetime(name)
    if hint in (str, int, float, bool):
        return _scalar(hint, name)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _class_codec(hint)
    raise TypeError(f"{name}: {hint} cannot be shared")


_CLASSES: dict[type, tuple[Encoder, Decoder]] = {}
_LAYOUT: list[str] = []


def _class_codec(cls: type) -> tuple[Encoder, Decoder]:
    """Encoder and decoder of a frozen dataclass as the array of its (shared) fields, built once per class."""
    if cls in _CLASSES:
        return _CLASSES[cls]
    hints = typing.get_type_hints(cls)
    shared = [f.name for f in dataclasses.fields(cls) if (cls, f.name) not in SKIPPED]
    codecs = [_codec(hints[field], f"{cls.__name__}.{field}") for field in shared]
    _LAYOUT.append(f"{cls.__name__}(" + ",".join(f"{field}:{hints[field]}" for field in shared) + ")")
    count = len(shared)

    def encode(value: Any) -> list[Any]:
        if type(value) is not cls:
            _fail(cls.__name__, value)
        return [enc(getattr(value, field)) for field, (enc, _) in zip(shared, codecs, strict=True)]

    def decode(value: Any) -> Any:
        if not isinstance(value, list) or len(value) != count:
            raise SnapshotRejected(f"{cls.__name__}: expected {count} fields")
        return cls(**{field: dec(item) for field, (_, dec), item in zip(shared, codecs, value, strict=True)})

    _CLASSES[cls] = (encode, decode)
    return encode, decode


_encode_snapshot, _decode_snapshot = _class_codec(Snapshot)
LAYOUT = hashlib.sha256("\n".join(sorted(_LAYOUT)).encode()).hexdigest()[:16]
"""Hash of every shared class's field names and types: publisher and dashboard must agree on it."""


def encode(snapshot: Snapshot, envelope: Envelope) -> bytes:
    """The stored value of ``snapshot`` shared by ``envelope``'s publisher; ValueError when a value does not fit
    its field's type (a reader bug: nothing is published) or the result is over ``MAX_STORED_BYTES``."""
    document = {"v": SCHEMA_VERSION, "layout": LAYOUT, "settings": envelope.settings,
                "published_at": round(envelope.published_at * 1_000_000), "publisher": envelope.publisher,
                "host": envelope.host, "interval_s": envelope.interval_s, "snapshot": _encode_snapshot(snapshot)}
    text = json.dumps(document, separators=(",", ":"), allow_nan=False)
    stored = MAGIC + bytes([FORMAT]) + zlib.compress(text.encode(), 6)
    if len(stored) > MAX_STORED_BYTES:
        raise ValueError(f"the snapshot is {len(stored):,} bytes compressed, over the {MAX_STORED_BYTES:,} cap")
    return stored


def _no_constant(name: str) -> Any:
    raise SnapshotRejected(f"{name} is not a number")


def _inflate(stored: bytes) -> bytes:
    """The JSON text of a stored value, refusing a wrong frame, a truncated stream or one over the cap."""
    if len(stored) > MAX_STORED_BYTES:
        raise SnapshotRejected(f"over {MAX_STORED_BYTES:,} bytes")
    if not stored.startswith(MAGIC) or len(stored) < len(MAGIC) + 1:
        raise SnapshotRejected("not an rqtop snapshot")
    if stored[len(MAGIC)] != FORMAT:
        raise SnapshotRejected(f"format {stored[len(MAGIC)]}, this rqtop reads {FORMAT}")
    inflater = zlib.decompressobj()
    try:
        text = inflater.decompress(stored[len(MAGIC) + 1:], MAX_JSON_BYTES)
    except zlib.error as exc:
        raise SnapshotRejected(f"not zlib data ({exc})") from None
    if inflater.unconsumed_tail:
        raise SnapshotRejected(f"inflates past {MAX_JSON_BYTES:,} bytes")
    if not inflater.eof or inflater.unused_data:
        raise SnapshotRejected("truncated or trailing data")
    return text


def _text(document: dict[str, Any], name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str):
        _fail(name, value)
    return value


def decode(stored: bytes) -> tuple[Snapshot, Envelope]:
    """The Snapshot and Envelope of a stored value; SnapshotRejected (one line) for anything not exactly what
    ``encode`` writes with this rqtop's dataclasses."""
    text = _inflate(stored)
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, SnapshotRejected):
            raise
        raise SnapshotRejected("not JSON") from None
    if not isinstance(document, dict):
        raise SnapshotRejected("not a snapshot document")
    if document.get("v") != SCHEMA_VERSION:
        raise SnapshotRejected(f"schema version {safe_text(str(document.get('v')))[:20]}, "
                               f"this rqtop reads {SCHEMA_VERSION}")
    if document.get("layout") != LAYOUT:
        raise SnapshotRejected("published by another rqtop version (its fields differ)")
    published, interval = document.get("published_at"), document.get("interval_s")
    if not isinstance(published, int) or isinstance(published, bool):
        _fail("published_at", published)
    if not isinstance(interval, (int, float)) or isinstance(interval, bool) or not 0 < interval <= 3600:
        raise SnapshotRejected("interval_s out of range")
    try:
        snapshot = _decode_snapshot(document.get("snapshot"))
    except RecursionError:
        raise SnapshotRejected("nested too deeply") from None
    except (TypeError, ValueError) as exc:  # a dataclass refusing a value (e.g. a time out of range)
        if isinstance(exc, SnapshotRejected):
            raise
        raise SnapshotRejected(f"a value does not fit ({type(exc).__name__})") from None
    envelope = Envelope(published_at=published / 1_000_000, publisher=safe_text(_text(document, "publisher"))[:120],
                        host=safe_text(_text(document, "host"))[:120], interval_s=float(interval),
                        settings=_text(document, "settings"))
    return snapshot, envelope
