"""Reading job data and error texts from Redis without ever running code: plain-data unpickling, capped inflation.

``SafeSerializer`` is an RQ serializer whose ``loads`` rebuilds plain data only (dicts, lists, numbers,
strings, datetimes) and refuses every other global, so a hostile ``meta`` pickle cannot run code in the
process that reads it. Error texts (``exc_info`` = zlib text, results-stream ``exc_string`` =
base64(zlib(text))) are decompressed with a size cap.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import pickletools
import re
import zlib
from functools import partial
from typing import Any

UNREADABLE = "unreadable"
"""Shown for a field (or a whole job) that cannot be decoded safely."""

HEAD_BYTES = 64 * 1024
"""Most bytes decompressed from a job's data or error text: the function name sits in the first few dozen."""

_SAFE_GLOBALS = {
    ("builtins", name)
    for name in ("dict", "list", "tuple", "set", "frozenset", "str", "bytes", "bytearray", "int", "float",
                 "bool", "complex", "slice", "range")
} | {
    ("datetime", name) for name in ("datetime", "date", "time", "timedelta", "timezone")
} | {("collections", "OrderedDict"), ("decimal", "Decimal")}


class _PlainUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds plain data only and refuses every other global."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused global {module}.{name}")


class SafeSerializer:
    """RQ serializer that writes like RQ's pickle default but never executes code when reading."""

    dumps = partial(pickle.dumps, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def loads(data: bytes) -> Any:
        """Rebuild plain data; raise UnpicklingError for anything else."""
        return _PlainUnpickler(io.BytesIO(data)).load()


def inflate(raw: bytes | None, limit: int = HEAD_BYTES) -> bytes | None:
    """At most ``limit`` bytes of zlib-decompressed ``raw``; None when it is not zlib."""
    if not raw:
        return None
    try:
        return zlib.decompressobj().decompress(bytes(raw), limit)
    except (zlib.error, TypeError, ValueError):
        return None


def error_text(raw: bytes | None, base64_wrapped: bool = False) -> str | None:
    """Decompressed error text from ``exc_info`` (zlib) or ``exc_string`` (base64 of zlib); None if bad."""
    if not raw:
        return None
    if base64_wrapped:
        try:
            raw = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return None
    text = inflate(raw)
    return text.decode("utf-8", errors="replace") if text else None


_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING"}
_NAME = re.compile(r"[\w.<>:\-]{1,200}")


QUICK_BYTES = 320
"""Bytes inflated for the quick path: a protocol 2-5 pickle's name ends within its first 220 or so."""


_QUICK_NAMES: dict[bytes, str] = {}
"""Raw name bytes -> the name ("" when not a valid name): a scan meets the same few task names a million times."""
QUICK_NAMES_MAX = 4096


def _leading_name(head: bytes | None) -> str | None:
    """The name in RQ's usual pickle prefix (PROTO, optional FRAME, MARK, then SHORT_BINUNICODE or BINUNICODE),
    read from the bytes alone; None when the prefix is any other shape (``function_name`` then walks the opcodes,
    which accept exactly this prefix too, so both give the same name)."""
    if not head or head[0] != 0x80 or len(head) < 5:
        return None
    at = 11 if head[2] == 0x95 else 2
    if len(head) < at + 3 or head[at] != 0x28:
        return None
    op = head[at + 1]
    if op == 0x8C:
        size, at = head[at + 2], at + 3
    elif op == 0x58:
        size, at = int.from_bytes(head[at + 2:at + 6], "little"), at + 6
    else:
        return None
    raw = head[at:at + size]
    if len(raw) != size:
        return None
    name = _QUICK_NAMES.get(raw)
    if name is None:
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            return None
        name = text if _NAME.fullmatch(text) else ""
        if len(_QUICK_NAMES) < QUICK_NAMES_MAX:
            _QUICK_NAMES[raw] = name
    return name or None


def function_name(data: bytes | None) -> str:
    """The job's function name from its ``data`` field, or ``UNREADABLE``; never executes the payload.

    It is the first element of the pickled ``(func_name, instance, args, kwargs)`` tuple, found by walking the
    opcodes of the decompressed pickle with ``pickletools.genops`` (parses, never executes); RQ's JSON
    serializer writes a JSON list instead."""
    quick = _leading_name(inflate(data, QUICK_BYTES))
    if quick is not None:
        return quick
    head = inflate(data)
    if not head:
        return UNREADABLE
    if head[:1] == b"[":  # rq's JSONSerializer: ["func", instance, args, kwargs]
        try:
            name = json.loads(head)[0]
        except (ValueError, IndexError, KeyError, TypeError):
            return UNREADABLE
        return name if isinstance(name, str) and _NAME.fullmatch(name) else UNREADABLE
    marked = False
    try:
        for opcode, arg, _ in pickletools.genops(io.BytesIO(head)):
            if opcode.name in ("PROTO", "FRAME"):
                continue
            if opcode.name == "MARK" and not marked:
                marked = True
                continue
            if marked and opcode.name in _STRING_OPS and isinstance(arg, str) and _NAME.fullmatch(arg):
                return arg
            return UNREADABLE
    except Exception:  # noqa: BLE001 - genops raises several types on a truncated or foreign stream
        return UNREADABLE
    return UNREADABLE
