"""The follower on a terminal: a rich progress bar driven by the job's progress, then the outcome and its exit code."""

from __future__ import annotations

import json

import pytest
import redis

from tui.cli_wait import follow
from tui.data.settings import Settings
from worker import keys
from worker.progress import progress_document


def test_the_bar_follows_the_progress_and_exits_by_outcome(conn: redis.Redis, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    conn.hset(keys.rq_job("bar1"), "status", "started")
    steps = iter([(1, "started"), (2, "started"), (4, "finished")])

    def sleep(_: float) -> None:
        done, status = next(steps)
        conn.set(keys.progress("bar1"), json.dumps(progress_document(done, 4, f"step {done}", 0.0, 0, float(done))))
        conn.hset(keys.rq_job("bar1"), "status", status)

    assert follow(conn, "bar1", Settings(), tty=True, sleep=sleep) == 0
    out = capsys.readouterr().out
    assert "bar1 ━━━" in out and "4/4 · 100 % · step 4" in out, "the bar, filled, with the summary"
    assert out.splitlines()[-1].startswith("bar1 finished after ")

    conn.hset(keys.rq_job("bar2"), "status", "started")
    fails = iter(["canceled"])
    assert follow(conn, "bar2", Settings(), tty=True,
                  sleep=lambda _: conn.hset(keys.rq_job("bar2"), "status", next(fails))) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("bar2 canceled after ")


def test_a_timeout_gives_up_with_exit_1(conn: redis.Redis, capsys: pytest.CaptureFixture[str]) -> None:
    conn.hset(keys.rq_job("slow"), "status", "started")
    ticks = iter(range(100))
    assert follow(conn, "slow", Settings(), tty=False, clock=lambda: float(next(ticks)), sleep=lambda _: None,
                  timeout_s=3) == 1
    assert "gave up waiting" in capsys.readouterr().out.splitlines()[-1]
