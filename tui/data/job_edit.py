"""Edit and replay: a dead-letter job whose payload is plain data becomes a new job with edited args/kwargs.

The original's ``data`` (zlib of the pickled ``(func_name, instance, args, kwargs)``) is decoded with the
plain-data unpickler only (``worker.safe_decoding``: every global refused, nothing runs); a payload that is not
plain data, has a bound instance or is too large is refused. The new job gets a fresh id and attempt counter, the
same queue, timeouts and TTLs, a ``meta`` of the original's plain-data meta plus ``replay_of``; the original is
kept where it is and gets a plain ``rqtop_replayed_as`` field. Both writes go in one MULTI/EXEC.

The dashboard's editor (``read_form``) holds the call as one JSON document ``{"args": [...], "kwargs": {...}}``
with sensitive values masked as they are in the drawer (a keyword whose name matches a mask pattern shows ``***``,
credentials inside text are masked); a masked value left as shown keeps the original's (``unmask``), so a secret
is never put on screen and never replaced by ``***``.
"""

from __future__ import annotations

import json
import pickle
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from tui.data.edit_document import EditForm, NotReplayable, masked_count, masked_view, unmask
from tui.data.masking import MaskRules, resolve
from worker import keys
from worker.job_ops import iso_now
from worker.records import as_text
from worker.safe_decoding import SafeSerializer

PAYLOAD_MAX = 1024 * 1024
"""Most bytes of decompressed payload edit-and-replay reads (a larger one is refused, not truncated)."""
COPIED = ("origin", "timeout", "result_ttl", "failure_ttl", "ttl")
"""Hash fields the new job takes over from the original."""
REPLAYABLE = ("failed", "stopped")
"""The statuses Edit and replay applies to (the dead letter)."""
__all__ = ["EditForm", "NotReplayable", "JobCall", "parse_arguments", "read_form", "read_call", "replay_edited",
           "unmask"]


@dataclass(frozen=True)
class JobCall:
    """A job's call as plain data: function name, positional and keyword arguments."""

    job_id: str
    queue: str
    func_name: str
    args: list[Any]
    kwargs: dict[str, Any]


def read_call(conn: redis.Redis, job_id: str) -> JobCall:
    """The job's call decoded as plain data only; NotReplayable when it is not plain data or not replayable."""
    status, origin, data = conn.hmget(keys.rq_job(job_id), "status", "origin", "data")
    if status is None:
        raise NotReplayable(f"{job_id}: no such job")
    if as_text(status) not in REPLAYABLE:
        raise NotReplayable(f"{job_id}: is {as_text(status)}; edit and replay applies to the dead letter "
                            f"({', '.join(REPLAYABLE)})")
    call = _plain_call(data, job_id)
    if not (isinstance(call, tuple) and len(call) == 4 and isinstance(call[0], str)):
        raise NotReplayable(f"{job_id}: the payload is not RQ's (func_name, instance, args, kwargs) tuple")
    func_name, instance, args, kwargs = call
    if instance is not None or not isinstance(args, (list, tuple)) or not isinstance(kwargs, dict):
        raise NotReplayable(f"{job_id}: the payload has a bound instance or odd arguments: not replayable")
    return JobCall(job_id, as_text(origin), func_name, list(args), dict(kwargs))


def parse_arguments(args_json: str | None, kwargs_json: str | None, payload: JobCall) -> tuple[list[Any], dict]:
    """The edited args (a JSON list) and kwargs (a JSON object), each defaulting to the original's."""
    args: Any = payload.args if args_json is None else _json(args_json, "args")
    kwargs: Any = payload.kwargs if kwargs_json is None else _json(kwargs_json, "kwargs")
    if not isinstance(args, list):
        raise NotReplayable("args: must be a JSON list")
    if not isinstance(kwargs, dict):
        raise NotReplayable("kwargs: must be a JSON object")
    return args, kwargs


def read_form(conn: redis.Redis, job_id: str, patterns: Sequence[str] | MaskRules) -> EditForm:
    """The editor's document for a dead-letter job whose payload is plain data JSON can hold; NotReplayable
    otherwise (an object in the pickle, bytes or dates JSON cannot hold, not in the dead letter)."""
    payload = read_call(conn, job_id)
    rules = resolve(patterns, payload.func_name)
    call = {"args": list(payload.args), "kwargs": payload.kwargs}
    try:
        json.dumps(call, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise NotReplayable(f"{job_id}: the arguments hold values JSON cannot (such as bytes or dates): edit and "
                            f"replay works on JSON only ({type(exc).__name__})") from None
    shown = masked_view(call, rules)
    return EditForm(job_id, payload.queue, payload.func_name, json.dumps(shown, indent=2, ensure_ascii=False),
                    masked_count(shown, call))


def replay_edited(conn: redis.Redis, payload: JobCall, args: list[Any], kwargs: dict[str, Any],
                  now: float) -> str:
    """Enqueue a new job calling the same function with ``args``/``kwargs``; its id. The original stays."""
    original = keys.rq_job(payload.job_id)
    fields = dict(zip(COPIED, conn.hmget(original, *COPIED), strict=True))
    meta = _plain_meta(conn.hget(original, "meta"), payload.job_id)
    meta["replay_of"] = payload.job_id
    new_id = uuid.uuid4().hex
    stamp = iso_now(now)
    mapping: dict[Any, Any] = {name: value for name, value in fields.items() if value is not None}
    mapping.update({
        "status": "queued", "created_at": stamp, "enqueued_at": stamp, "origin": payload.queue,
        "description": f"{payload.func_name} (edited replay of {payload.job_id})",
        "data": zlib.compress(pickle.dumps((payload.func_name, None, tuple(args), kwargs),
                                           protocol=pickle.HIGHEST_PROTOCOL)),
        "meta": pickle.dumps(meta, protocol=pickle.HIGHEST_PROTOCOL),
    })
    pipe = conn.pipeline(transaction=True)
    pipe.hset(keys.rq_job(new_id), mapping=mapping)
    pipe.rpush(keys.rq_queue(payload.queue), new_id)
    pipe.sadd(keys.RQ_QUEUES, keys.rq_queue(payload.queue))
    pipe.hset(original, "rqtop_replayed_as", new_id)
    pipe.execute()
    return new_id


def _plain_call(data: bytes | str | None, job_id: str) -> Any:
    """The decompressed payload rebuilt as plain data; NotReplayable otherwise."""
    if not data:
        raise NotReplayable(f"{job_id}: the job has no payload")
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(data if isinstance(data, bytes) else data.encode(), PAYLOAD_MAX)
    except zlib.error:
        raise NotReplayable(f"{job_id}: the payload is not zlib data") from None
    if not inflater.eof:
        raise NotReplayable(f"{job_id}: the payload is larger than {PAYLOAD_MAX} bytes")
    try:
        return SafeSerializer.loads(raw)
    except Exception as exc:  # every refusal or malformed pickle: the payload is not plain data
        raise NotReplayable(f"{job_id}: the payload is not plain data ({type(exc).__name__})") from None


def _plain_meta(raw: bytes | str | None, job_id: str) -> dict[str, Any]:
    """The original's meta as plain data ({} when it has none); NotReplayable when it is not plain data."""
    if not raw:
        return {}
    try:
        meta = SafeSerializer.loads(raw if isinstance(raw, bytes) else raw.encode())
    except Exception:
        raise NotReplayable(f"{job_id}: its meta is not plain data") from None
    if not isinstance(meta, dict):
        raise NotReplayable(f"{job_id}: its meta is not a mapping")
    return dict(meta)


def _json(text: str, name: str) -> Any:
    """``text`` parsed as JSON; NotReplayable naming ``name`` otherwise."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise NotReplayable(f"{name}: not JSON ({exc})") from None
