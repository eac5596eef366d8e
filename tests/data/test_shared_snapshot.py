"""The shared snapshot against a real Redis: what a publisher shares decodes to the very Snapshot it read, and every
stored value that is not exactly that (garbage, another version, too big, stale, hostile text) leaves the dashboard
reading Redis itself, saying why, never crashing and never writing."""

from __future__ import annotations

import dataclasses
import json
import zlib
from typing import Any

import pytest
import redis

from tests.data.reader_support import NOW, settings
from tests.hostile_text import ESCAPES, plant_everything, strings, unsafe
from tests.redis_commands import WRITE_COMMANDS, command_calls
from tests.test_command_budget import add_workers, base_state
from tui.data import shared_snapshot, snapshot_codec
from tui.data.models import Snapshot
from tui.data.queue_reads import QueueReads
from tui.data.reader import DashboardReader
from tui.data.settings import Settings
from tui.data.shared_snapshot import SharedSnapshotReader, SnapshotPublisher, read_signature
from tui.data.worker_reads import WorkerReads


def _publisher(conn: redis.Redis, now: float = NOW, **overrides: Any) -> SnapshotPublisher:
    return SnapshotPublisher(conn, settings(now, **overrides), "pub-1", "host-a", 2.0)


def _reader(conn: redis.Redis, now: float = NOW, **overrides: Any) -> SharedSnapshotReader:
    return SharedSnapshotReader(DashboardReader(conn, settings(now, **overrides)))


def _same(a: Snapshot, b: Snapshot) -> bool:
    """Equal as the tabs show them: everything but the round trips and where it came from."""
    return dataclasses.replace(a, round_trips=0, read_source=None) == dataclasses.replace(
        b, round_trips=0, read_source=None)


def _jobs_tab(reader: DashboardReader) -> Snapshot:
    """A direct read as a tab showing no worker or queue asks for it (what the publisher reads and shares)."""
    return reader.read(workers=WorkerReads.off_screen(), queues=QueueReads.off_screen())


def _document(conn: redis.Redis, key: str) -> dict[str, Any]:
    stored = conn.get(key)
    assert stored is not None
    return json.loads(zlib.decompress(stored[len(snapshot_codec.MAGIC) + 1:]))


def _stored(document: dict[str, Any]) -> bytes:
    return snapshot_codec.MAGIC + bytes([snapshot_codec.FORMAT]) + zlib.compress(json.dumps(document).encode())


def test_a_shared_snapshot_is_the_snapshot_the_publisher_read(conn: redis.Redis) -> None:
    head = base_state(conn, queued=10)
    add_workers(conn, 0, 8, head)
    publisher = _publisher(conn)
    assert publisher.publish_once()
    shared = _reader(conn).read(include_metrics=False)
    direct = _jobs_tab(DashboardReader(conn, settings(NOW)))
    assert shared.read_source is not None and shared.read_source.kind == "shared"
    assert shared.read_source.publisher == "pub-1 on host-a" and shared.read_source.reason is None
    assert shared.round_trips == 1
    assert _same(shared, direct) and shared.metrics and shared.queues and shared.schedules and shared.history
    assert shared.workers == () and shared.workers_as_of is not None, "no worker shared: the Workers tab reads its own"
    assert conn.pttl(publisher.key) > 5000  # 3 intervals: an abandoned snapshot vanishes by itself


def test_hostile_text_is_shared_as_safely_as_it_is_read(conn: redis.Redis) -> None:
    plant_everything(conn)
    assert _publisher(conn).publish_once()
    shared = _reader(conn).read()
    assert shared.read_source is not None and shared.read_source.kind == "shared"
    assert _same(shared, _jobs_tab(DashboardReader(conn, settings(NOW))))
    assert [text for text in strings(dataclasses.replace(shared, read_source=None)) if unsafe(text)] == []


def test_without_a_publisher_the_dashboard_reads_directly_and_says_so(conn: redis.Redis) -> None:
    base_state(conn, queued=3)
    snapshot = _reader(conn).read()
    assert snapshot.read_source is not None
    assert (snapshot.read_source.kind, snapshot.read_source.reason) == ("direct", shared_snapshot.NO_SNAPSHOT)
    assert _same(snapshot, DashboardReader(conn, settings(NOW)).read())


def test_other_read_settings_use_another_key_and_read_directly(conn: redis.Redis) -> None:
    base_state(conn, queued=3)
    assert _publisher(conn).publish_once()
    other = _reader(conn, mask_patterns=("pin",))
    assert other.read().read_source == _reader(conn, history_limit=10).read().read_source
    assert other.read().read_source.reason == shared_snapshot.NO_SNAPSHOT  # type: ignore[union-attr]
    shown_elsewhere = _reader(conn, timezone="Europe/Berlin", refresh_s=5.0, read_only=True)
    assert shown_elsewhere.read().read_source.kind == "shared"  # type: ignore[union-attr]


def test_a_chosen_admin_reads_unmasked_directly_and_publishers_share_masked_text(conn: redis.Redis) -> None:
    """Issue 17: payloads unmasked only for a chosen admin, so the shared (masked) snapshot is never theirs, and a
    publisher configured as a chosen admin still shares what every other role may see."""
    base_state(conn, queued=3)
    publisher = _publisher(conn, role="admin", role_chosen=True)
    assert not publisher.settings.payloads_unmasked and publisher.publish_once()
    assert _reader(conn, role="viewer", role_chosen=True).read().read_source.kind == "shared"  # type: ignore[union-attr]
    admin = _reader(conn, role="admin", role_chosen=True)
    assert admin.key != publisher.key
    assert admin.read().read_source.reason == shared_snapshot.NO_SNAPSHOT  # type: ignore[union-attr]


def test_every_setting_is_classified_as_read_or_display_only() -> None:
    fields = {field.name for field in dataclasses.fields(Settings)}
    assert fields == shared_snapshot.READ_FIELDS | shared_snapshot.DISPLAY_FIELDS
    assert not shared_snapshot.READ_FIELDS & shared_snapshot.DISPLAY_FIELDS
    assert read_signature(settings(NOW)) != read_signature(settings(NOW, offline_after_s=5.0))
    assert read_signature(settings(NOW)) == read_signature(settings(NOW + 60, timezone="local"))


def test_a_stale_snapshot_is_not_used(conn: redis.Redis) -> None:
    base_state(conn, queued=3)
    assert _publisher(conn, now=NOW - 7).publish_once()  # 3 intervals of 2 s and a second ago
    snapshot = _reader(conn).read()
    assert snapshot.read_source is not None and snapshot.read_source.kind == "direct"
    assert snapshot.read_source.reason == "shared snapshot stale (7 s old)"


def test_the_workers_tab_reads_its_rows_directly_and_then_every_worker(conn: redis.Redis) -> None:
    head = base_state(conn, queued=3)
    add_workers(conn, 0, 12, head)
    assert _publisher(conn).publish_once()
    clock = [NOW]
    reader = SharedSnapshotReader(DashboardReader(conn, Settings(clock=lambda: clock[0])))
    assert reader.read(workers=WorkerReads()).read_source.kind == "shared"  # type: ignore[union-attr]
    on_screen = WorkerReads(visible=frozenset({"plain-0"}))
    snapshot = reader.read(workers=on_screen)
    assert snapshot.read_source is not None
    assert (snapshot.read_source.kind, snapshot.read_source.reason) == ("direct", shared_snapshot.WORKERS_TAB)
    taken = snapshot.taken_at.timestamp()
    assert all(row.age_at(taken) is None for row in snapshot.workers)  # first direct read: every worker re-read
    clock[0] += 2
    again = reader.read(workers=on_screen)
    assert sum(row.age_at(again.taken_at.timestamp()) is not None for row in again.workers) > 0


def test_two_publishers_take_turns_one_read_per_interval(conn: redis.Redis) -> None:
    base_state(conn, queued=3)
    first, second = _publisher(conn), SnapshotPublisher(conn, settings(NOW), "pub-2", "host-b", 2.0)
    assert first.publish_once()
    assert not second.publish_once()
    assert conn.get(first.lease) == b"pub-1"


def test_a_publisher_reads_as_the_background_jobs_tab_and_the_metrics_every_few_seconds(conn: redis.Redis) -> None:
    """A publisher reads no worker at all and, after its first read, no queue's registries (the tabs it serves show
    neither; the Workers tab reads its own), only new queues, and the metrics every ``METRICS_EVERY_S``, sharing the
    kept ones (with their time) between."""
    head = base_state(conn, queued=3)
    add_workers(conn, 0, 8, head)
    clock = [NOW]
    publisher = SnapshotPublisher(conn, Settings(clock=lambda: clock[0]), "pub-1", "host-a", 2.0)

    def publish() -> tuple[dict[str, int], Snapshot]:
        conn.delete(publisher.lease)  # the lease outlives a simulated interval
        before = command_calls(conn)
        assert publisher.publish_once()
        after = command_calls(conn)
        return {c: n - before.get(c, 0) for c, n in after.items() if n != before.get(c, 0)}, _reader(
            conn, clock[0]).read()

    first, shared = publish()
    assert "pttl" not in first and shared.workers == () and shared.metrics_taken_at is not None  # no worker read
    clock[0] += 12  # past the heartbeat cadence: a Workers tab would re-read a slice now
    second, shared = publish()
    assert "pttl" not in second and second["zcard"] < first["zcard"] and second["hgetall"] < first["hgetall"], second
    taken = shared.metrics_taken_at
    assert taken is not None and taken.timestamp() == clock[0], "metrics re-read: the kept ones were 12 s old"
    clock[0] += 2
    _, shared = publish()
    assert shared.metrics_taken_at == taken and shared.metrics == _reader(conn, clock[0] - 2).read().metrics
    clock[0] += shared_snapshot.METRICS_EVERY_S
    _, shared = publish()
    assert shared.metrics_taken_at is not None and shared.metrics_taken_at > taken


def _direct_because(conn: redis.Redis, stored: bytes | None = None, *, key: str | None = None) -> str:
    """Plant ``stored`` under the dashboard's key; the reason its read gives (after checking it wrote nothing)."""
    reader = _reader(conn)
    if stored is not None:
        conn.set(key or reader.key, stored)
    before = command_calls(conn)
    snapshot = reader.read()
    after = command_calls(conn)
    assert {c for c in WRITE_COMMANDS if after.get(c, 0) != before.get(c, 0)} == set()
    assert snapshot.read_source is not None and snapshot.read_source.kind == "direct"
    assert _same(snapshot, DashboardReader(conn, settings(NOW)).read())
    return snapshot.read_source.reason or ""


@pytest.mark.parametrize(("mutate", "said"), [
    (lambda d: d.update(v=2), "schema version 2, this rqtop reads 1"),
    (lambda d: d.update(layout="0123"), "another rqtop version"),
    (lambda d: d.update(settings="elsewhere"), "other settings"),
    (lambda d: d["snapshot"].pop(), "Snapshot: expected"),
    (lambda d: d["snapshot"].__setitem__(0, "yesterday"), "Snapshot.taken_at: unexpected str"),
    (lambda d: d["snapshot"].__setitem__(0, 10 ** 30), "time out of range"),
    (lambda d: d["snapshot"][6].__setitem__(0, [True] * 2), "expected"),
    (lambda d: d.update(publisher=["x"]), "publisher: unexpected list"),
    (lambda d: d.update(interval_s=float("nan")), "not a number"),
    (lambda d: d.update(snapshot=[[[[[]]]]] * 3), "expected"),
])
def test_a_snapshot_not_exactly_as_written_is_read_directly(conn: redis.Redis, mutate: Any, said: str) -> None:
    base_state(conn, queued=3)
    publisher = _publisher(conn)
    assert publisher.publish_once()
    document = _document(conn, publisher.key)
    mutate(document)
    assert said in _direct_because(conn, _stored(document))


def test_garbage_huge_and_foreign_values_are_read_directly(conn: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    base_state(conn, queued=3)
    key = _reader(conn).key
    assert "not an rqtop snapshot" in _direct_because(conn, b"\x00\xff" * 100 + ESCAPES.encode())
    assert "format 9" in _direct_because(conn, snapshot_codec.MAGIC + b"\x09" + b"x")
    assert "not zlib data" in _direct_because(conn, snapshot_codec.MAGIC + b"\x01" + b"not zlib")
    assert "truncated" in _direct_because(conn, snapshot_codec.MAGIC + b"\x01" + zlib.compress(b"{}" * 999)[:-9])
    assert "not JSON" in _direct_because(conn, snapshot_codec.MAGIC + b"\x01" + zlib.compress(b"[" * 100_000))
    monkeypatch.setattr(snapshot_codec, "MAX_JSON_BYTES", 1_000_000)
    bomb = snapshot_codec.MAGIC + b"\x01" + zlib.compress(b" " * 2_000_000, 9)
    assert "inflates past" in _direct_because(conn, bomb)
    monkeypatch.setattr(snapshot_codec, "MAX_STORED_BYTES", 4096)
    assert "over 4,096 bytes" in _direct_because(conn, snapshot_codec.MAGIC + b"\x01" + b"x" * 5000)
    conn.delete(key)
    conn.rpush(key, "not a string")
    assert "WRONGTYPE" in _direct_because(conn)


def test_a_snapshot_too_big_to_share_is_not_published(conn: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    head = base_state(conn, queued=3)
    add_workers(conn, 0, 40, head)
    monkeypatch.setattr(snapshot_codec, "MAX_STORED_BYTES", 64)
    publisher = _publisher(conn)
    with pytest.raises(ValueError, match="over the 64 cap"):
        publisher.publish_once()
    assert conn.exists(publisher.key) == 0
