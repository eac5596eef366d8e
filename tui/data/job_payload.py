"""A job's arguments for the detail drawer, decoded as plain data only and masked; anything else shown as the
structure its pickle describes, each object named, never built.

RQ stores ``data`` as zlib of the serializer's dump of ``(func_name, instance, args, kwargs)``: a JSON list for
RQ's JSONSerializer, a pickle otherwise. JSON is read as JSON; a pickle goes through
``worker.safe_decoding.SafeSerializer`` (the unpickler that refuses every global, so nothing is imported or
called). A pickle it refuses (an object, a function call) is walked with ``pickletools.genops``, which parses
opcodes and never executes them: the walk rebuilds a text picture of the value (``os.system('…')`` for a
REDUCE of the global ``os.system``), naming every global the payload would have imported. Keyword arguments
whose name matches a mask pattern show ``***``; every other value passes through ``mask`` and ``safe_text``.
"""

from __future__ import annotations

import io
import json
import pickletools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from tui.data.masking import sensitive_key
from worker.display_text import safe_text
from worker.masking import MASK, mask
from worker.safe_decoding import SafeSerializer, inflate

PAYLOAD_MAX_BYTES = 256 * 1024
"""Most bytes of a payload decompressed; a larger one is named as too large, not read."""
SHOWN_MAX = 400
"""Characters of one shown value (args, one keyword argument, the structure)."""
WALK_MAX_OPS = 20_000
"""Opcodes walked at most (a hostile payload cannot make the walk unbounded)."""


@dataclass(frozen=True)
class Payload:
    """What the drawer shows of a job's ``data``: its arguments as plain data, or the structure it describes."""

    plain: bool
    """True when args and kwargs were decoded as plain data."""
    args: str | None = None
    kwargs: tuple[tuple[str, str], ...] = ()
    structure: str | None = None
    """The payload's structure, for one that is not plain data (each global it names, never imported)."""
    globals: tuple[str, ...] = ()
    """Every ``module.name`` the payload would import, in order."""
    note: str | None = None
    """Why nothing more is shown (absent, too large, not zlib, unknown serializer)."""


class _Named:
    """A value the walk rebuilt as text only (a global, a call, an object): shown as it is, never built."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text[:TEXT_BUDGET]


TEXT_BUDGET = SHOWN_MAX * 4
"""Characters any rendering stops at: a payload whose values share parts (a pickle's memo) cannot make the text
grow without bound (two references per level double it)."""
DEPTH_MAX = 12
_SCALARS = (str, bytes, int, float, bool, complex, Decimal, date, time, timedelta)


def _render(value: Any, budget: int = TEXT_BUDGET, depth: int = 0) -> str:
    """``value`` as Python-like text of at most about ``budget`` characters, whatever its size or depth."""
    if isinstance(value, _Named):
        return value.text[:budget]
    if value is None or isinstance(value, _SCALARS):
        return repr(value[:budget] if isinstance(value, str | bytes) else value)[:budget]
    if depth >= DEPTH_MAX:
        return "…"
    if isinstance(value, dict):
        items: Any = value.items()
        opener, closer = "{", "}"
    elif isinstance(value, list | tuple | set | frozenset):
        items, opener, closer = value, *{list: "[]", tuple: "()"}.get(type(value), "{}")
    else:
        return f"<{type(value).__name__}>"
    parts: list[str] = []
    left = budget - 2
    for item in items:
        if left <= 0:
            parts.append("…")
            break
        if isinstance(value, dict):
            text = f"{_render(item[0], left, depth + 1)}: {_render(item[1], left, depth + 1)}"
        else:
            text = _render(item, left, depth + 1)
        parts.append(text)
        left -= len(text) + 2
    tail = "," if isinstance(value, tuple) and len(parts) == 1 else ""
    return f"{opener}{', '.join(parts)}{tail}{closer}"


def _line(value: Any, patterns: Sequence[str]) -> str:
    """One value as masked, printable, single-line text of at most ``SHOWN_MAX`` characters."""
    text = value if isinstance(value, str) else _render(value)
    text = safe_text(" ".join((mask(text[: SHOWN_MAX * 4], patterns) or "").split()))
    return text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 1] + "…"


def _arguments(args: Any, kwargs: Any, patterns: Sequence[str]) -> Payload:
    """Plain args and kwargs, masked (a sensitive keyword's value is ``***`` whatever it holds)."""
    shown_args = _line(list(args) if isinstance(args, tuple | list) else args, patterns)
    pairs: list[tuple[str, str]] = []
    if isinstance(kwargs, dict):
        for key, value in list(kwargs.items())[:40]:
            name = safe_text(str(key))[:60]
            pairs.append((name, MASK if sensitive_key(name, patterns) else _line(value, patterns)))
    return Payload(True, shown_args, tuple(pairs))


def read_payload(raw: bytes | None, patterns: Sequence[str]) -> Payload:
    """The drawer's view of a job's ``data`` field; never raises, never imports or calls anything."""
    if not raw:
        return Payload(False, note="no payload")
    body = inflate(raw, PAYLOAD_MAX_BYTES + 1)
    if body is None:
        return Payload(False, note="unreadable (not zlib)")
    if len(body) > PAYLOAD_MAX_BYTES:
        return Payload(False, note=f"not read (larger than {PAYLOAD_MAX_BYTES // 1024} KiB)")
    if body[:1] == b"[":
        try:
            decoded = json.loads(body)
        except (ValueError, RecursionError):
            return Payload(False, note="unreadable (not JSON)")
        if isinstance(decoded, list) and len(decoded) == 4:
            return _arguments(decoded[2], decoded[3], patterns)
        return Payload(False, note="unreadable (not RQ's JSON shape)")
    try:
        loaded = SafeSerializer.loads(body)
    except Exception:  # noqa: BLE001 - refused (a global) or malformed: walk its opcodes instead
        return _structure(body, patterns)
    if isinstance(loaded, tuple) and len(loaded) == 4:
        return _arguments(loaded[2], loaded[3], patterns)
    return Payload(False, structure=_line(loaded, patterns), note="not RQ's payload shape")


_MARK = object()


def _pop_mark(stack: list[Any]) -> list[Any]:
    """The items above the topmost MARK, removed with it."""
    for at in range(len(stack) - 1, -1, -1):
        if stack[at] is _MARK:
            items = stack[at + 1:]
            del stack[at:]
            return items
    raise ValueError("no MARK")


def _call(func: Any, args: Any) -> str:
    """``func(arg, …)`` as text (a call the payload asks for, never made)."""
    inner = _render(args)[1:-1].rstrip(",") if isinstance(args, tuple) else f"*{_render(args)}"
    return f"{_render(func)}({inner})"


def _pairs(items: list[Any]) -> dict[Any, Any]:
    """key, value, key, value… as a dict whose keys are plain (anything else by its text)."""
    return {k if isinstance(k, str | int | float | bool | bytes) or k is None else _render(k): v
            for k, v in zip(items[::2], items[1::2], strict=False)}


def _walk(body: bytes) -> tuple[Any, list[str]]:
    """The value a pickle describes, with globals, calls and objects as ``_Named`` text, and every global it
    names; raises ValueError for an opcode the picture does not cover (the globals are then all it shows)."""
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    names: list[str] = []
    for count, (opcode, arg, _) in enumerate(pickletools.genops(io.BytesIO(body))):
        if count > WALK_MAX_OPS:
            raise ValueError("too many opcodes")
        name = opcode.name
        if name in ("PROTO", "FRAME"):
            continue
        if name == "STOP":
            return (stack[-1] if stack else None), names
        if name == "MARK":
            stack.append(_MARK)
        elif name in ("GLOBAL", "STACK_GLOBAL", "INST"):
            if name == "STACK_GLOBAL":
                qual = stack.pop(-1)
                module = stack.pop(-1)
                dotted = f"{module}.{qual}"
            else:
                dotted = str(arg).replace(" ", ".", 1)
            names.append(dotted)
            if name == "INST":
                stack.append(_Named(_call(_Named(dotted), tuple(_pop_mark(stack)))))
            else:
                stack.append(_Named(dotted))
        elif name in ("REDUCE", "NEWOBJ"):
            call_args = stack.pop()
            func = stack.pop()
            stack.append(_Named(_call(func, call_args)))
        elif name == "NEWOBJ_EX":
            kw, call_args, cls = stack.pop(), stack.pop(), stack.pop()
            stack.append(_Named(f"{_render(cls)}(*{_render(call_args)}, **{_render(kw)})"))
        elif name == "OBJ":
            items = _pop_mark(stack)
            stack.append(_Named(_call(items[0], tuple(items[1:])) if items else "object()"))
        elif name == "BUILD":
            state = stack.pop()
            stack.append(_Named(f"{_render(stack.pop())} with state {_render(state)}"))
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(arg or 0)] = stack[-1]
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo[int(arg or 0)])
        elif name == "POP":
            stack.pop()
        elif name == "POP_MARK":
            _pop_mark(stack)
        elif name == "DUP":
            stack.append(stack[-1])
        elif name in ("EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"):
            size = {"EMPTY_TUPLE": 0, "TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}.get(name)
            if size is None:
                stack.append(tuple(_pop_mark(stack)))
            else:
                items = stack[len(stack) - size:] if size else []
                del stack[len(stack) - size:]
                stack.append(tuple(items))
        elif name in ("EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET"):
            stack.append({"EMPTY_LIST": [], "EMPTY_DICT": {}, "EMPTY_SET": set()}[name])
        elif name in ("LIST", "DICT", "FROZENSET"):
            items = _pop_mark(stack)
            stack.append(items if name == "LIST" else frozenset(map(_render, items)) if name == "FROZENSET"
                         else _pairs(items))
        elif name in ("APPEND", "APPENDS", "ADDITEMS"):
            items = [stack.pop()] if name == "APPEND" else _pop_mark(stack)
            target = stack[-1]
            if isinstance(target, list):
                target.extend(items)
            elif isinstance(target, set):
                target.update(map(_render, items))
            else:
                stack[-1] = _Named(f"{_render(target)} + {_render(items)}")
        elif name in ("SETITEM", "SETITEMS"):
            items = stack[-2:] if name == "SETITEM" else _pop_mark(stack)
            if name == "SETITEM":
                del stack[-2:]
            target = stack[-1]
            pairs = _pairs(items)
            if isinstance(target, dict):
                target.update(pairs)
            else:
                stack[-1] = _Named(f"{_render(target)} with items {_render(pairs)}")
        elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
            stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
        elif opcode.arg is not None and isinstance(arg, str | bytes | int | float | bool) and not name.startswith(
                ("PERSID", "BINPERSID", "EXT")):
            stack.append(arg)  # a literal: a string, bytes, a number
        else:
            raise ValueError(f"opcode {name} not pictured")
    raise ValueError("no STOP")


def _structure(body: bytes, patterns: Sequence[str]) -> Payload:
    """The picture of a payload the plain-data unpickler refused: its arguments when RQ's 4-tuple survives the
    walk, else the whole value; the globals it names in any case."""
    names: list[str] = []
    try:
        value, names = _walk(body)
    except Exception:  # noqa: BLE001 - a truncated or foreign stream: name what was met
        value = None
        names = names or _globals_only(body)
    shown = tuple(dict.fromkeys(safe_text(n)[:120] for n in names))
    if isinstance(value, tuple) and len(value) == 4:
        args, kwargs = value[2], value[3]
        structure: str | None = _line(_Named(f"args={_render(args)} kwargs={_render(kwargs)}"), patterns)
    else:
        structure = _line(value, patterns) if value is not None else None
    return Payload(False, structure=structure, globals=shown, note="not plain data (shown, never executed)")


def _globals_only(body: bytes) -> list[str]:
    """The globals a stream names, read opcode by opcode until it stops parsing."""
    names: list[str] = []
    strings: list[str] = []
    try:
        for count, (opcode, arg, _) in enumerate(pickletools.genops(io.BytesIO(body))):
            if count > WALK_MAX_OPS:
                break
            if opcode.name in ("GLOBAL", "INST"):
                names.append(str(arg).replace(" ", ".", 1))
            elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                names.append(f"{strings[-2]}.{strings[-1]}")
            elif isinstance(arg, str):
                strings.append(arg)
    except Exception:  # noqa: BLE001,S110 - the names met before the stream broke are what there is
        pass
    return names
