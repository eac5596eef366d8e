"""The Metrics pane's recent window: one cell per 5-minute bucket on one scale, failed buckets red, max labelled;
and the ring hash it is read from (a slot holding an older bucket reads as empty)."""

from __future__ import annotations

from tui import formatting as fmt
from tui.data.metrics import parse_recent
from tui.widgets.metric_rows import recent_bars


def test_one_cell_per_bucket_on_one_scale_with_failed_buckets_red_and_the_max_labelled() -> None:
    runs = (0,) * 20 + (1, 2, 4, 8)
    failures = (0,) * 22 + (1, 0)
    bars, label = recent_bars(runs, failures)
    assert len(bars.plain) == 24, "one cell per bucket"
    assert bars.plain[:20] == " " * 20, "an empty bucket is blank"
    assert bars.plain[20:] == fmt.bars([1, 2, 4, 8], 8), "every cell on the window's one scale (its max, 8)"
    assert bars.plain[-1] == fmt.BARS[-1] and bars.plain[20] != fmt.BARS[-1]
    styles = {span.start: str(span.style) for span in bars.spans}
    assert styles[22] == "red" and styles[23] == "green" and styles[21] == "green"
    assert label == "max 8/5m · 1 failed"
    assert recent_bars((0,) * 24, (0,) * 24) == (recent_bars((0,) * 24, (0,) * 24)[0], "max 0/5m")
    assert recent_bars((0,) * 24, (0,) * 24)[0].plain == " " * 24


def test_the_ring_reads_each_bucket_only_from_the_slot_that_names_it() -> None:
    slots = list(range(1000, 1024))  # the window: 24 buckets, oldest first
    index = 1000 % 24
    raw = {f"s{index}".encode(): b"1000", f"n{index}".encode(): b"5", f"f{index}".encode(): b"9",
           f"c{index}".encode(): b"1",
           f"s{1023 % 24}".encode(): b"999", f"n{1023 % 24}".encode(): b"7"}  # stale: bucket 999 left the window
    recent = parse_recent(raw, slots)
    assert recent.runs[0] == 5 and recent.failures[0] == 5, "failures never exceed runs"
    assert recent.canceled[0] == 1
    assert recent.runs[-1] == 0, "a slot still holding an older bucket reads as empty"
    assert sum(recent.runs) == 5 and len(recent.runs) == 24
    assert parse_recent(ValueError("WRONGTYPE"), slots).runs == (0,) * 24
    assert parse_recent({b"s0": b"x", b"n0": b"\xff"}, slots).runs == (0,) * 24
