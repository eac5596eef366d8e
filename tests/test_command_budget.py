"""Pins the Redis commands and round trips of one dashboard refresh, so a command per job or per worker fails CI.

Counts come from the server (INFO commandstats deltas) and round trips from the client (one per send).
The budget of one refresh, by what Redis holds (Q queues, W workers, S schedules, H history items, T
metric tasks, R rq-scheduler jobs, C ``rq cron`` processes):

- round 1: 18 index reads (8 of rqtop's and RQ's, 4 of rq-scheduler's zset and lock, 1 of ``rq cron``'s
  registry, 2 of the notification outbox: XLEN and the senders' counters, 1 HMGET of the collector's heartbeat,
  2 HGETALL of the run-time schedule edits and the scheduler's notes on them: one field per edited schedule);
- round 2: 10 per queue (LLEN, ZCARD + ZCOUNT of the started registry (abandoned), ZCOUNT of finished and
  failed (alive entries only), 3 ZCARD, ZRANGE of at most 100 scheduled entries, LINDEX), 4 per worker
  (two HGETALL, SMEMBERS, PTTL of RQ's hash: late), 3 per schedule plus 1 per queue the schedules enqueue to
  (ZREVRANGE of the newest ``ATTENTION_SCAN`` (50) ids of its failed registry: "Needs attention", bounded by
  the schedules' queues and 50 ids each, whatever the registry holds), 1 per history item, and per task
  24 HGETALL on a cold read or, warm, 3 HGETALL (unsettled hours) plus 1 EXISTS over its cached hours, and
  1 HGETALL of its recent window (one hash per task: a ring of 24 five-minute buckets); 1 HMGET
  of the file's definitions of the overridden schedules when one is (for the diff and "file changed"); 1 HMGET
  per rq-scheduler job among the zset's ``RQ_SCHEDULER_LIMIT`` (50) soonest entries
  (rqtop's own templates there are skipped; the rest are counted by ZCARD), and 1 HGETALL per ``rq cron``
  process, bounded by ``CRON_SCHEDULER_LIMIT`` (10, newest heartbeat first);
- round 3: 1 HGET per queue with a pending head, 1 HMGET per scheduled entry not classified before as
  retry or scheduled (at most ``retry_kinds.CLASSIFY_PER_REFRESH`` = 100 per refresh; each entry is
  classified once and cached by id and score), 1 per schedule with an active run (HMGET of its status and
  started_at: "Running now" and its elapsed time), and per worker that runs
  a job rqtop's record does not name (a plain ``rq worker``) 1 HMGET of the job and, on RQ 3, 1 HGET of its
  execution's created_at (an RQ 2 worker names its job in its hash's ``current_job``; it has no execution);
  per busy worker (rqtop's or plain) 1 GET of its job's progress key and 1 HGET of its ``meta`` (the job's
  progress): bounded by the workers, whatever the progress keys or job hashes Redis holds.

When rqtop's history is empty (plain ``rq worker`` deployments) History reads RQ's registries instead: round 2
adds 3 per queue (one ZREVRANGEBYSCORE per ended registry, at most ``history_limit`` ids each) and round 3 one
HMGET per picked job plus one XREVRANGE per picked failed job; at most ``history_limit`` are picked per registry,
so round 3 holds at most 4 x ``history_limit`` of them, whatever the registries hold.

``read(include_metrics=False)`` (the Jobs and Workers tabs) sends the same minus every metrics read: 16 index
reads in round 1 and nothing per task.

``read(workers=WorkerReads(...))`` (the open dashboard, ``tui.data.worker_reads``) counts in W, and in the busy
workers of round 3, only the workers re-read this refresh: those on screen, those never read, and at most
ceil(W' x refresh_s / cadence_s) of the others whose last read is a heartbeat cadence (10 s) old (W' the workers
not on screen); the rest cost nothing beyond round 1's index reads.

``read(queues=QueueReads(...))`` (``tui.data.queue_reads``) likewise counts in Q, in the heads of round 3 and in
the scheduled entries classified only the queues re-read this refresh: those in the queue table's viewport, those
never read, and at most ceil(Q' x refresh_s / cadence_s) of the others whose last read is ``QUEUE_CADENCE_S``
(10 s) old (Q' the queues not on screen); the rest cost nothing beyond round 1's SMEMBERS of the queue set.

Both slices are capped (``most``: ``MOST_WORKERS`` = 100 workers, ``MOST_QUEUES`` = 40 queues a refresh). On a tab
that shows no worker or queue (``WorkerReads.off_screen``, ``QueueReads.off_screen``) nothing of the workers is read,
not even round 1's 2 index reads (the last rows come back whole), and only the queues never read are read. Then
History reads, in round 3, the progress of each running history
item whose job no re-read worker runs (GET of its progress key, HGET of its job's meta: 2 each, at most
2 x ``history_limit``).

Through ``SharedSnapshotReader`` (every open dashboard, ``tui.data.shared_snapshot``): a fresh shared snapshot costs
exactly 1 command (GETRANGE) in 1 round trip, whatever Redis holds; without a usable one, that GETRANGE plus the
direct read above; on the Workers tab (workers on screen) the direct read alone.

Nothing in it grows with the number of queued jobs. INFO counts are server-wide: the test needs a server no
other process uses meanwhile (the default embedded one per pytest-xdist worker; not a shared ``REDIS_URL``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import redis
from rq import Queue, Worker

from tests import jobs
from tests.data.reader_support import NOW, CountingClient, put_history, put_run, put_worker_record
from tests.data.reader_support import settings as frozen_settings
from tests.redis_commands import command_calls
from tui.data.models import Snapshot
from tui.data.reader import DashboardReader
from tui.data.sections import retry_kinds
from tui.data.sections.rq_cron import CRON_SCHEDULER_LIMIT
from tui.data.sections.rq_scheduler import RQ_SCHEDULER_LIMIT
from tui.data.shared_snapshot import SharedSnapshotReader, SnapshotPublisher
from tui.data.worker_reads import WorkerReads
from worker import keys
from worker.progress import progress_document
from worker.schedules import ScheduleEntry

ROUND_TRIPS = 3
PER_WORKER_MAX = 8
"""The most one worker costs: 4 reads in round 2 and, when it is a busy plain RQ 3 worker, 4 in round 3 (its job,
its execution, its job's progress key and meta)."""
TASKS = ("app.tasks.alpha", "app.tasks.beta")
WRITES = {"hset", "hsetnx", "hdel", "hincrby", "set", "del", "unlink", "expire", "expireat", "zadd", "zrem",
          "zremrangebyscore", "zremrangebyrank", "sadd", "srem", "lpush", "rpush", "lpop", "rpop", "lrem",
          "eval", "evalsha", "multi", "exec", "xadd", "publish", "rename", "incr", "incrby", "copy", "restore"}


def base_state(conn: redis.Redis, queued: int) -> str:
    """Two queues with pending jobs, one schedule with a run in flight, 3 history items, 2 metric tasks."""
    default = Queue("default", connection=conn)
    default.enqueue_many([Queue.prepare_data(jobs.say_hello, args=(str(i),)) for i in range(queued)])
    Queue("low", connection=conn).enqueue(jobs.say_hello)
    head = conn.lindex(keys.rq_queue("default"), 0).decode()
    entry = ScheduleEntry(name="nightly", task="tests.jobs.say_hello", cron="0 6 * * *")
    conn.hset(keys.SCHEDULES, "nightly", entry.to_json())
    conn.set(keys.active("nightly"), head)
    conn.zadd(keys.RQ_SCHEDULED_JOBS, {keys.template_id("nightly"): NOW + 60})
    for i in range(3):
        put_history(conn, f"h{i}", NOW - i)
    for task in TASKS:
        put_run(conn, task, NOW - 60, 0.25)  # the current hour: re-read every refresh
        put_run(conn, task, NOW - 5 * 3600, 1.5)  # a settled hour: cached after the first read
    return head


def add_workers(conn: redis.Redis, start: int, stop: int, job_id: str) -> int:
    """Workers ``start``..``stop-1`` cycling plain-busy, plain-idle, rqtop-busy, rqtop-idle; returns how many
    are plain and busy (the ones whose job round 3 must read)."""
    queue = Queue("default", connection=conn)
    plain_busy = 0
    for i in range(start, stop):
        kind = i % 4
        if kind < 2:
            Worker([queue], connection=conn, name=f"plain-{i}").register_birth()
            if kind == 0:
                conn.sadd(keys.rq_worker_executions(f"plain-{i}"), f"{job_id}:exec{i}")
                plain_busy += 1
        else:
            current = {"current_job_id": job_id, "current_task": "tests.jobs.say_hello",
                       "current_started": f"{NOW - 5:.6f}"} if kind == 2 else {}
            put_worker_record(conn, f"rqtop-{i}", NOW, **current)
    return plain_busy


def budget(queues: int, workers: int, schedules: int, history: int, tasks: int, heads: int, tokens: int,
           plain_busy: int, warm: bool, metrics: bool = True, classified: int = 0, rq_jobs: int = 0,
           cron_schedulers: int = 0, rqtop_busy: int = 0, overridden: bool = False,
           schedule_queues: int | None = None, workers_listed: bool = True) -> int:
    """The commands one refresh may send, from the module docstring's table (``schedule_queues``: the distinct
    queues rqtop's schedules enqueue to; by default 1 when there are schedules, as in ``base_state``;
    ``workers_listed`` False: a tab showing no worker, whose refresh leaves out round 1's 2 worker index reads)."""
    foreign = min(rq_jobs, RQ_SCHEDULER_LIMIT) + min(cron_schedulers, CRON_SCHEDULER_LIMIT)
    foreign += 2 + int(overridden)  # the run-time edits: 2 HGETALL in round 1, 1 HMGET of the file's definitions
    foreign += (1 if schedules else 0) if schedule_queues is None else schedule_queues
    foreign += 2 * (plain_busy + rqtop_busy)  # not foreign: every busy worker's progress key and job meta, round 3
    foreign -= 0 if workers_listed else 2
    if not metrics:
        return (15 + 10 * queues + 4 * workers + 3 * schedules + history + heads + tokens + 2 * plain_busy
                + classified + foreign)
    per_task = (4 if warm else 24) + 1  # + the recent window's one HGETALL
    return (16 + 10 * queues + 4 * workers + 3 * schedules + history + per_task * tasks
            + heads + tokens + 2 * plain_busy + classified + foreign)


def counted_read(admin: redis.Redis, counting: CountingClient,
                 read: Callable[[], Snapshot]) -> tuple[tuple[int, int, int], Snapshot]:
    """Commands (server side), round trips (client side) and write commands of one ``read``, and its Snapshot."""
    before = command_calls(admin)
    snapshot, trips = counting.count(read)
    after = command_calls(admin)
    diff = {name: after.get(name, 0) - before.get(name, 0) for name in after if name != "info"}
    return (sum(diff.values()), trips, sum(count for name, count in diff.items() if name in WRITES)), snapshot


def refresh_cost(admin: redis.Redis, counting: CountingClient, reader: DashboardReader,
                 include_metrics: bool = True) -> tuple[int, int, int]:
    """Commands (server side), round trips (client side) and write commands of one refresh."""
    cost, snapshot = counted_read(admin, counting, lambda: reader.read(include_metrics=include_metrics))
    assert snapshot.round_trips == cost[1]
    return cost


def test_commands_do_not_grow_with_queued_jobs(conn: redis.Redis, redis_url: str) -> None:
    head = base_state(conn, queued=10)
    plain_busy = add_workers(conn, 0, 2, head)
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, frozen_settings(now=NOW))
    cold = refresh_cost(conn, counting, reader)
    small = refresh_cost(conn, counting, reader)
    Queue("default", connection=conn).enqueue_many(
        [Queue.prepare_data(jobs.say_hello, args=(str(i),)) for i in range(490)])
    big = refresh_cost(conn, counting, reader)
    assert reader.read().totals.pending == 501
    shape = dict(queues=2, workers=2, schedules=1, history=3, tasks=len(TASKS), heads=2, tokens=1,
                 plain_busy=plain_busy)
    assert cold == (budget(**shape, warm=False), ROUND_TRIPS, 0)
    assert small == big == (budget(**shape, warm=True), ROUND_TRIPS, 0)


def test_commands_grow_by_a_constant_per_worker(conn: redis.Redis, redis_url: str) -> None:
    head = base_state(conn, queued=10)
    few_busy = add_workers(conn, 0, 2, head)
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, frozen_settings(now=NOW))
    reader.read()  # cold: fills the metrics cache
    few = refresh_cost(conn, counting, reader)
    many_busy = few_busy + add_workers(conn, 2, 50, head)
    many = refresh_cost(conn, counting, reader)
    snapshot = reader.read()
    assert len(snapshot.workers) == 50
    assert sum(1 for w in snapshot.workers if w.current_job == "tests.jobs.say_hello") == 25
    shape = dict(queues=2, schedules=1, history=3, tasks=len(TASKS), heads=2, tokens=1, warm=True)
    assert few == (budget(workers=2, plain_busy=few_busy, **shape), ROUND_TRIPS, 0)
    rqtop_busy = sum(1 for i in range(2, 50) if i % 4 == 2)
    assert many == (budget(workers=50, plain_busy=many_busy, rqtop_busy=rqtop_busy, **shape), ROUND_TRIPS, 0)
    assert (many[0] - few[0]) / 48 <= PER_WORKER_MAX - 1.5, "a quarter of them busy plain workers"


def test_run_time_edits_cost_a_constant(conn: redis.Redis, redis_url: str) -> None:
    """Overrides and run-time schedules add one HMGET (the file's definitions of the overridden ones), not one per
    edit; a refresh writes nothing."""
    from worker.overrides import Override
    from worker.schedules import ScheduleEntry as Entry

    head = base_state(conn, queued=10)
    plain_busy = add_workers(conn, 0, 2, head)
    for i in range(5):
        entry = Entry(name=f"edited{i}", task="tests.jobs.say_hello", interval=60 + i)
        conn.hset(keys.SCHEDULES, entry.name, entry.to_json())
        conn.hset(keys.FILE_SCHEDULES, entry.name, entry.to_json())
        conn.hset(keys.SCHEDULE_OVERRIDES, entry.name, Override(entry.name, "override", {"timeout": 9}).to_json())
    conn.hset(keys.OVERRIDE_ERRORS, "edited0", "run-time override: schedule 'edited0': field 'kwargs': …")
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, frozen_settings(now=NOW))
    reader.read()
    cost = refresh_cost(conn, counting, reader)
    shape = dict(queues=2, workers=2, schedules=6, history=3, tasks=len(TASKS), heads=2, tokens=1,
                 plain_busy=plain_busy)
    assert cost == (budget(**shape, warm=True, overridden=True), ROUND_TRIPS, 0)
    rows = {row.name: row for row in reader.read().schedules}
    assert rows["edited1"].override == "overridden" and rows["edited1"].override_diff == ("timeout: unset -> 9",)
    assert rows["edited0"].override_error.startswith("run-time override: schedule 'edited0'")
    assert rows["nightly"].override == ""


def test_a_refresh_without_metrics_sends_no_metrics_read(conn: redis.Redis, redis_url: str) -> None:
    head = base_state(conn, queued=10)
    plain_busy = add_workers(conn, 0, 2, head)
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, frozen_settings(now=NOW))
    lean_first = refresh_cost(conn, counting, reader, include_metrics=False)
    cold = refresh_cost(conn, counting, reader)
    lean = refresh_cost(conn, counting, reader, include_metrics=False)
    warm = refresh_cost(conn, counting, reader)
    shape = dict(queues=2, workers=2, schedules=1, history=3, tasks=len(TASKS), heads=2, tokens=1,
                 plain_busy=plain_busy)
    assert lean_first == lean == (budget(**shape, warm=True, metrics=False), ROUND_TRIPS, 0)
    assert cold == (budget(**shape, warm=False), ROUND_TRIPS, 0)
    assert warm == (budget(**shape, warm=True), ROUND_TRIPS, 0), "a lean refresh keeps the metrics cache warm"
    assert lean[0] == warm[0] - 1 - 5 * len(TASKS)


def test_other_schedulers_cost_a_bounded_read_each(conn: redis.Redis, redis_url: str) -> None:
    head = base_state(conn, queued=10)
    plain_busy = add_workers(conn, 0, 2, head)
    for i in range(RQ_SCHEDULER_LIMIT + 30):  # more rq-scheduler jobs than one refresh reads
        conn.hset(keys.rq_job(f"rqs-{i}"), mapping={"origin": "default", "status": "scheduled"})
        conn.zadd(keys.RQ_SCHEDULED_JOBS, {f"rqs-{i}": NOW + 100 + i})
    for i in range(CRON_SCHEDULER_LIMIT + 3):
        conn.zadd(keys.RQ_CRON_SCHEDULERS, {f"cron-{i}": NOW - i})
        conn.hset(keys.rq_cron_scheduler(f"cron-{i}"), mapping={"hostname": "h", "pid": "1", "cron_jobs": "[]"})
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, frozen_settings(now=NOW))
    reader.read()
    cost = refresh_cost(conn, counting, reader)
    snapshot = reader.read()
    shape = dict(queues=2, workers=2, schedules=1, history=3, tasks=len(TASKS), heads=2, tokens=1,
                 plain_busy=plain_busy)
    assert cost == (budget(**shape, warm=True, rq_jobs=RQ_SCHEDULER_LIMIT - 1,  # the template takes one place
                           cron_schedulers=CRON_SCHEDULER_LIMIT + 3), ROUND_TRIPS, 0)
    rq_rows = [row for row in snapshot.schedules if row.source == "rq-scheduler"]
    assert len(rq_rows) == RQ_SCHEDULER_LIMIT - 1, "the rqtop template in the window is left to its own section"
    assert snapshot.schedules_more == 31
    assert [s.name for s in snapshot.schedulers if s.source == "rq cron"] == [
        f"cron-{i}" for i in range(CRON_SCHEDULER_LIMIT)]


def test_history_from_rq_registries_costs_three_per_queue_and_one_per_picked_job(conn: redis.Redis,
                                                                                 redis_url: str) -> None:
    """No rqtop records: 3 finished and 2 failed plain runs over two queues, then 30 more that the limit leaves out."""
    from rq import SimpleWorker

    for name, count, fail in (("default", 3, False), ("low", 2, True)):
        queue = Queue(name, connection=conn)
        for _ in range(count):
            queue.enqueue(jobs.boom if fail else jobs.ok)
        SimpleWorker([queue], connection=conn).work(burst=True)
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, frozen_settings(now=time.time()))
    base = budget(queues=2, workers=0, schedules=0, history=0, tasks=0, heads=0, tokens=0, plain_busy=0, warm=True)
    assert refresh_cost(conn, counting, reader) == (base + 3 * 2 + 5 + 2, ROUND_TRIPS, 0)
    reader.settings = frozen_settings(now=time.time(), history_limit=2)
    assert refresh_cost(conn, counting, reader) == (base + 3 * 2 + 2 + 2 + 2, ROUND_TRIPS, 0)


def test_scheduled_entries_are_classified_once_at_most_k_per_refresh(conn: redis.Redis, redis_url: str) -> None:
    """150 enqueue_in jobs: the first refresh reads K = 100 job hashes, the next none; the 50 beyond the per-queue
    scan stay counted as not classified, never guessed."""
    later = Queue("later", connection=conn)
    for i in range(150):
        later.enqueue_in(timedelta(hours=1, seconds=i), jobs.say_hello)
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, frozen_settings(now=NOW))
    first, second = refresh_cost(conn, counting, reader), refresh_cost(conn, counting, reader)
    shape = dict(queues=1, workers=0, schedules=0, history=0, tasks=0, heads=0, tokens=0, plain_busy=0, warm=True)
    registry_history = 3  # no rqtop history: History reads RQ's three ended registries of the one queue
    assert first == (budget(**shape, classified=retry_kinds.CLASSIFY_PER_REFRESH) + registry_history, ROUND_TRIPS, 0)
    assert second == (budget(**shape) + registry_history, 2, 0), "nothing left to classify: round 3 is not sent"
    row = reader.read().queues[0]
    assert (row.retry, row.scheduled, row.retry_unknown) == (0, retry_kinds.SCAN_PER_QUEUE, 50)


def test_the_dashboard_rereads_workers_on_screen_and_the_rest_at_the_heartbeat_cadence(conn: redis.Redis,
                                                                                       redis_url: str) -> None:
    """``read(workers=WorkerReads(...))``: the first refresh reads all 40 workers; 2 s later only the 3 on screen;
    from the cadence on, the stalest others, ceil(37 x 2 / 10) = 8 a refresh (ties by name), so each is re-read
    within two cadences; a row not re-read says how old it is, and a change to it shows once it is re-read."""
    from tui.data.settings import Settings
    from tui.data.worker_reads import HEARTBEAT_CADENCE_S, WorkerReads

    head = base_state(conn, queued=10)
    add_workers(conn, 0, 40, head)
    names = sorted([f"plain-{i}" for i in range(40) if i % 4 < 2] + [f"rqtop-{i}" for i in range(40) if i % 4 >= 2])
    kind = {n: int(n.split("-")[1]) % 4 for n in names}
    on_screen = frozenset({"plain-1", "rqtop-3", "plain-5"})
    reads = WorkerReads(visible=on_screen, refresh_s=2.0)
    clock = [NOW]
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, Settings(clock=lambda: clock[0]))

    def cost_of(read_names: list[str]) -> int:
        return budget(queues=2, workers=len(read_names), schedules=1, history=3, tasks=0, heads=2, tokens=1,
                      plain_busy=sum(1 for n in read_names if kind[n] == 0), metrics=False, warm=True,
                      rqtop_busy=sum(1 for n in read_names if kind[n] == 2))

    last: list[Any] = []
    """The snapshot of the latest refresh."""

    def refresh() -> tuple[int, int, int]:
        cost, snapshot = counted_read(conn, counting, lambda: reader.read(include_metrics=False, workers=reads))
        last[:] = [snapshot]
        return cost

    assert refresh() == (cost_of(names), ROUND_TRIPS, 0)
    clock[0] = NOW + 2
    assert refresh() == (cost_of(sorted(on_screen)), ROUND_TRIPS, 0)
    rows = {w.name: w for w in last[0].workers}
    assert {n for n, w in rows.items() if w.age_at(NOW + 2) is None} == on_screen
    assert {w.age_at(NOW + 2) for n, w in rows.items() if n not in on_screen} == {2.0}
    assert rows["rqtop-2"].current_job == "tests.jobs.say_hello", "a kept row keeps its running job"

    put_worker_record(conn, "rqtop-39", NOW + 9, processed=99)  # beats: its new count shows once re-read
    clock[0] = NOW + HEARTBEAT_CADENCE_S
    first_slice = [n for n in names if n not in on_screen][:8]
    assert refresh() == (cost_of(sorted(on_screen | set(first_slice))), ROUND_TRIPS, 0)
    worst = 0.0
    seen_99 = None
    for step in range(1, 21):
        clock[0] = NOW + HEARTBEAT_CADENCE_S + 2 * step
        refresh()
        workers = last[0].workers
        assert len(workers) == 40
        worst = max([worst, *(w.age_at(clock[0]) or 0.0 for w in workers)])
        row = next(w for w in workers if w.name == "rqtop-39")
        if seen_99 is None and row.age_at(clock[0]) is None:
            seen_99 = row.attempts
    assert worst <= 2 * HEARTBEAT_CADENCE_S, worst
    assert seen_99 == 99
    assert (full := reader.read()).workers and all(w.age_at(clock[0]) is None for w in full.workers), (
        "read() without WorkerReads (status, exporter) reads every worker")


def test_needs_attention_costs_one_read_per_schedule_queue_whatever_the_failed_registry_holds(
        conn: redis.Redis, redis_url: str) -> None:
    """Three schedules on three queues (one per priority) and a fourth on one of them: 3 reads of 50 ids at most,
    with 5 or 500 failed runs in the registries."""
    for name, priority in (("a", "high"), ("b", "normal"), ("c", "low"), ("d", "low")):
        conn.hset(keys.SCHEDULES, name, ScheduleEntry(name=name, task="tests.jobs.boom", interval=60,
                                                      priority=priority).to_json())
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, frozen_settings(now=NOW))
    shape = dict(queues=0, workers=0, schedules=4, history=0, tasks=0, heads=0, tokens=0, plain_busy=0, warm=True)
    failed = keys.rq_registry("failed", ScheduleEntry(name="c", task="x", priority="low").queue)
    conn.zadd(failed, {f"{keys.SCHEDULE_RUN_PREFIX}c--{i:04x}": NOW + i for i in range(5)})
    few = refresh_cost(conn, counting, reader)
    conn.zadd(failed, {f"{keys.SCHEDULE_RUN_PREFIX}d--{i:04x}": NOW + 10 + i for i in range(500)})
    many = refresh_cost(conn, counting, reader)
    empty_hint = 1  # no RQ queue or worker under the prefix: the empty-Redis hint's one SCAN (prefix_hint.py)
    assert few == many == (budget(**shape, schedule_queues=3) + empty_hint, ROUND_TRIPS - 1, 0)
    rows = {row.name: row for row in reader.read().schedules}
    assert rows["d"].failures == 50 and rows["c"].failures == 0, "only the newest 50 ids of a registry are read"


def test_a_fresh_shared_snapshot_costs_one_command(conn: redis.Redis, redis_url: str) -> None:
    head = base_state(conn, queued=10)
    plain_busy = add_workers(conn, 0, 50, head)
    assert SnapshotPublisher(conn, frozen_settings(now=NOW), "pub-1", "host-a").publish_once()
    counting = CountingClient(redis_url)
    reader = SharedSnapshotReader(DashboardReader(counting.client, frozen_settings(now=NOW)))
    assert refresh_cost(conn, counting, reader) == (1, 1, 0)  # type: ignore[arg-type]
    assert refresh_cost(conn, counting, reader, include_metrics=False) == (1, 1, 0)  # type: ignore[arg-type]
    conn.delete(reader.key)
    shape = dict(queues=2, workers=50, schedules=1, history=3, tasks=len(TASKS), heads=2, tokens=1,
                 plain_busy=plain_busy, rqtop_busy=sum(1 for i in range(50) if i % 4 == 2))
    absent = refresh_cost(conn, counting, reader)  # type: ignore[arg-type]
    assert absent == (budget(**shape, warm=False) + 1, ROUND_TRIPS + 1, 0)
    on_screen = WorkerReads(visible=frozenset({"plain-0"}))
    before = command_calls(conn)
    _, trips = counting.count(lambda: reader.read(include_metrics=False, workers=on_screen))
    sent = sum(n - before.get(name, 0) for name, n in command_calls(conn).items() if name != "info")
    visible = {**shape, "workers": 1, "plain_busy": 1, "rqtop_busy": 0}  # plain-0, busy; the rest read just now
    assert (sent, trips) == (budget(**visible, warm=True, metrics=False), ROUND_TRIPS), "Workers tab: no GETRANGE"

def test_the_dashboard_rereads_queues_on_screen_and_the_rest_at_their_cadence(conn: redis.Redis,
                                                                            redis_url: str) -> None:
    """``read(queues=QueueReads(...))`` at 30 queues: the first refresh reads all; 2 s later only the 2 on screen;
    from the cadence on, the stalest others, ceil(28 x 2 / 10) = 6 a refresh (ties by name), each re-read within
    two cadences; a kept row and the totals say how old they are, and a new job shows once its queue is re-read."""
    from tui.data.queue_reads import QUEUE_CADENCE_S, QueueReads
    from tui.data.settings import Settings

    base_state(conn, queued=10)
    extra = [f"t{i:02d}" for i in range(28)]
    for name in extra:
        Queue(name, connection=conn).enqueue(jobs.say_hello)
    names = sorted(["default", "low", *extra])
    on_screen = frozenset({"t03", "t07"})
    reads = QueueReads(visible=on_screen, refresh_s=2.0)
    clock = [NOW]
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, Settings(clock=lambda: clock[0]))

    def cost_of(read: int) -> int:
        return budget(queues=read, workers=0, schedules=1, history=3, tasks=0, heads=read, tokens=1, plain_busy=0,
                      metrics=False, warm=True)

    last: list[Any] = []

    def refresh() -> tuple[int, int, int]:
        cost, snapshot = counted_read(conn, counting, lambda: reader.read(include_metrics=False, queues=reads))
        last[:] = [snapshot]
        return cost

    assert refresh() == (cost_of(30), ROUND_TRIPS, 0)
    assert last[0].totals.as_of_s is None and last[0].totals.pending == 10 + 1 + 28
    clock[0] = NOW + 2
    assert refresh() == (cost_of(2), ROUND_TRIPS, 0)
    rows = {q.name: q for q in last[0].queues}
    assert {n for n, q in rows.items() if q.age_at(NOW + 2) is None} == on_screen
    assert {q.age_at(NOW + 2) for n, q in rows.items() if n not in on_screen} == {2.0}
    assert rows["default"].pending == 10 and rows["default"].oldest_pending_age_s is not None, "kept as read"
    assert last[0].totals.as_of_s == 2.0 and last[0].totals.pending == 39, "the totals sum the kept rows"

    Queue("t27", connection=conn).enqueue(jobs.say_hello)  # off screen: shows once its queue is re-read
    clock[0] = NOW + QUEUE_CADENCE_S
    assert refresh() == (cost_of(2 + 6), ROUND_TRIPS, 0)
    fresh = {q.name for q in last[0].queues if q.age_at(clock[0]) is None}
    assert fresh == on_screen | set([n for n in names if n not in on_screen][:6])
    worst, seen_at = 0.0, None
    for step in range(1, 21):
        clock[0] = NOW + QUEUE_CADENCE_S + 2 * step
        refresh()
        queues = {q.name: q for q in last[0].queues}
        assert len(queues) == 30
        worst = max([worst, *(q.age_at(clock[0]) or 0.0 for q in queues.values())])
        assert last[0].totals.as_of_s == max(q.age_at(clock[0]) or 0.0 for q in queues.values()) or (
            last[0].totals.as_of_s is None and all(q.age_at(clock[0]) is None for q in queues.values()))
        if seen_at is None and queues["t27"].pending == 2:
            seen_at = step
            assert queues["t27"].age_at(clock[0]) is None
    assert worst <= 2 * QUEUE_CADENCE_S, worst
    assert seen_at is not None
    full = reader.read()
    assert all(q.age_at(clock[0]) is None for q in full.queues) and full.totals.as_of_s is None, (
        "read() without QueueReads (status, exporter) reads every queue")
    assert full.totals.pending == 40


def test_a_tab_showing_no_worker_or_queue_reads_only_new_ones_and_a_slice_is_capped(conn: redis.Redis,
                                                                                     redis_url: str) -> None:
    """``off_screen`` reads: no worker is read at all, not even listed, and the last rows come back whole (the very
    tuple, ``workers_as_of`` saying when it was built); of the queues only new ones are read, the kept rows saying
    how old they are. With ``most`` = 3 workers and 1 queue a refresh (and a refresh as long as the cadence), 3 of
    the 8 stale workers (and the new one) and 1 of the 2 stale queues are re-read (stalest, then by name). A running
    history item whose worker is not re-read has its progress read by History (2 commands)."""
    from tui.data.queue_reads import QueueReads
    from tui.data.settings import Settings
    from tui.data.worker_reads import WorkerReads

    head = base_state(conn, queued=10)
    add_workers(conn, 0, 8, head)
    clock = [NOW]
    counting = CountingClient(redis_url)
    reader = DashboardReader(counting.client, Settings(clock=lambda: clock[0]))
    last: list[Any] = []

    def refresh(workers: WorkerReads, queues: QueueReads) -> tuple[int, int, int]:
        cost, snapshot = counted_read(conn, counting,
                                      lambda: reader.read(include_metrics=False, workers=workers, queues=queues))
        last[:] = [snapshot]
        return cost

    def cost_of(queues: int, workers: int, plain_busy: int, rqtop_busy: int, listed: bool = True) -> int:
        return budget(queues=queues, workers=workers, schedules=1, history=3, tasks=0, heads=queues, tokens=1,
                      plain_busy=plain_busy, rqtop_busy=rqtop_busy, metrics=False, warm=True, workers_listed=listed)

    hidden = (WorkerReads.off_screen(2.0), QueueReads.off_screen(2.0))
    assert refresh(*hidden) == (cost_of(2, 0, 0, 0, listed=False), ROUND_TRIPS, 0)
    assert last[0].workers == () and last[0].workers_as_of == datetime.fromtimestamp(0, timezone.utc), "none read yet"
    clock[0] = NOW + 1
    assert refresh(WorkerReads(refresh_s=2.0), QueueReads(refresh_s=2.0)) == (
        cost_of(0, 8, plain_busy=2, rqtop_busy=2), ROUND_TRIPS, 0), "the Workers tab once: every worker is new"
    shown = last[0]
    assert len(shown.workers) == 8 and shown.workers_as_of is None
    clock[0] = NOW + 60
    assert refresh(*hidden) == (cost_of(0, 0, 0, 0, listed=False), ROUND_TRIPS, 0)
    assert last[0].workers is shown.workers and last[0].workers_as_of == datetime.fromtimestamp(NOW + 1, timezone.utc)
    assert {q.age_at(NOW + 60) for q in last[0].queues} == {60.0}
    assert last[0].totals.as_of_s == 60.0 and last[0].totals.pending == 11

    add_workers(conn, 8, 9, head)  # plain-8, busy: not read until a tab shows workers
    Queue("fresh", connection=conn).enqueue(jobs.say_hello)
    clock[0] = NOW + 62
    assert refresh(*hidden) == (cost_of(1, 0, 0, 0, listed=False), ROUND_TRIPS, 0)
    assert last[0].workers is shown.workers
    assert [q.name for q in last[0].queues if q.age_at(NOW + 62) is None] == ["fresh"]
    assert WorkerReads.off_screen().budget(10_000) == 0 and WorkerReads.off_screen().hidden

    # rqtop-2 runs ``head``; its history item says running: with rqtop-2 not re-read, History reads that job's
    # progress itself (GET of the progress key, HGET of its meta: 2 in round 3), so the tab's bar stays live.
    put_history(conn, head, NOW - 30, state="running", ended_at="")
    conn.set(keys.progress(head), json.dumps(progress_document(7, 10, "step 7", NOW - 20, 0, NOW - 1)))
    clock[0] = NOW + 63
    assert refresh(*hidden) == (cost_of(0, 0, 0, 0, listed=False) + 1 + 2, ROUND_TRIPS, 0)  # + HGETALL, + progress
    running = next(h for h in last[0].history if h.id == head)
    assert running.progress is not None and running.progress.processed == 7
    conn.set(keys.progress(head), json.dumps(progress_document(9, 10, "step 9", NOW - 20, 0, NOW + 63)))
    clock[0] = NOW + 63.5
    refresh(*hidden)
    assert next(h for h in last[0].history if h.id == head).progress.processed == 9, "live, not the kept row's"

    clock[0] = NOW + 64
    capped = (WorkerReads(refresh_s=10.0, most=3), QueueReads(refresh_s=10.0, most=1))  # the cadence: all 8 and 2
    # the new plain-8 (busy) and the stalest 3 of 8 by name: plain-0 (busy), plain-1, plain-4 (busy); of the queues:
    # default. The busy ones run ``head`` too (add_workers): its progress is read with them, not by History (+ 1: its
    # HGETALL).
    assert refresh(*capped) == (cost_of(1, 4, plain_busy=3, rqtop_busy=0) + 1, ROUND_TRIPS, 0)
    assert {w.name for w in last[0].workers if w.age_at(NOW + 64) is None} == {"plain-0", "plain-1", "plain-4",
                                                                                 "plain-8"}
    assert {q.name for q in last[0].queues if q.age_at(NOW + 64) is None} == {"default"}
    assert WorkerReads(refresh_s=2.0).budget(10_000) == 100 and QueueReads(refresh_s=2.0).budget(1_000) == 40
