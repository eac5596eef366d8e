"""Sentinel against a real master, replica and sentinel: the dashboard finds the master through the sentinel and
follows a failover (SENTINEL FAILOVER, then the old master killed) within 10 s, keeping its data, with no
traceback; a master name the sentinel does not know is one line naming --sentinel-master."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.cli_support import one_error_line, rqtop
from tests.redis_servers import SentinelSet, sentinel_set
from tests.tui.fakes import run, wait_until
from tui.app import RqtopApp
from tui.data.actions import DashboardActions
from tui.data.reader import DashboardReader
from tui.data.redis_client import client
from tui.data.settings import Settings
from tui.data.target import Target
from tui.widgets.status_bar import CONNECTED

FOLLOW_WITHIN_S = 10.0


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelSet]:
    """A master, a replica in sync and a sentinel that knows both."""
    with sentinel_set(tmp_path) as found:
        yield found


def _target(found: SentinelSet) -> Target:
    return Target(sentinel=(f"127.0.0.1:{found.sentinel_port}",), sentinel_master=found.MASTER_NAME)


def _plant(port: int, queue: str, jobs: int, replicated: bool = True) -> None:
    """``jobs`` pending ids on ``queue``, written to the server on ``port`` (and replicated before returning)."""
    conn = redis.Redis(port=port, socket_timeout=2)
    conn.sadd("rq:queues", f"rq:queue:{queue}")
    conn.rpush(f"rq:queue:{queue}", *(f"{queue}-{n}" for n in range(jobs)))
    if replicated:
        assert conn.execute_command("WAIT", 1, 1000) == 1
    conn.close()


def test_reader_follows_a_failover(sentinels: SentinelSet) -> None:
    """The reader's client asks the sentinel for the master on each new connection: after the failover it reads
    the new master (the data written before it is still there) within 10 s; the only errors in between are
    connection errors the dashboard shows as "retrying"."""
    _plant(sentinels.master_port, "before", 3)
    conn = client(_target(sentinels), timeout=1.0)
    reader = DashboardReader(conn, Settings())
    assert {q.name: q.pending for q in reader.read().queues} == {"before": 3}
    old = sentinels.master_port
    new = sentinels.fail_over()
    assert new == sentinels.replica_port
    sentinels.kill(old)
    _plant(new, "after", 2, replicated=False)
    started, errors = time.monotonic(), []
    while True:
        try:
            pending = {q.name: q.pending for q in reader.read().queues}
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            errors.append(exc)
            pending = {}
        if pending == {"before": 3, "after": 2}:
            break
        assert time.monotonic() - started < FOLLOW_WITHIN_S, (pending, errors)
        time.sleep(0.2)
    assert conn.connection_pool.get_master_address() == ("127.0.0.1", new)  # type: ignore[attr-defined]


def test_open_dashboard_follows_a_failover(sentinels: SentinelSet) -> None:
    """An open App on a Sentinel target shows the new master's data within 10 s of the failover, without a
    restart, keeps the old data on screen meanwhile, and ends connected with no error toast."""
    _plant(sentinels.master_port, "before", 4)
    settings = Settings(refresh_s=0.5)
    conn = client(_target(sentinels), timeout=1.0)
    app = RqtopApp(reader=DashboardReader(conn, settings), actions=DashboardActions(conn, settings),
                   settings=settings, url_label=_target(sentinels).label())
    toasts: list[tuple[str, str]] = []

    async def body() -> None:
        async with app.run_test(size=(120, 36)) as pilot:
            app.notify = lambda message, severity="information", **_: toasts.append((message, severity))  # type: ignore[method-assign,assignment]
            await wait_until(lambda: app.connection == CONNECTED and app.snapshot is not None, pilot)
            assert app.snapshot is not None and app.snapshot.totals.pending == 4
            old = sentinels.master_port
            new = sentinels.fail_over()
            sentinels.kill(old)
            _plant(new, "after", 1, replicated=False)
            moved = time.monotonic()
            await wait_until(lambda: app.snapshot is not None and app.snapshot.totals.pending == 5, pilot,
                             timeout_s=FOLLOW_WITHIN_S)
            assert time.monotonic() - moved < FOLLOW_WITHIN_S
            assert app.connection == CONNECTED and app.is_running
            assert "sentinel mymaster via 127.0.0.1:" in str(app.query_one("#status-url").render())

    run(body)
    assert not [text for text, severity in toasts if severity == "error"], toasts


def test_unknown_master_name_is_one_line(sentinels: SentinelSet, tmp_path: Path) -> None:
    """--sentinel-master naming no monitored master: exit 2, one line naming the flag and the sentinels."""
    sentinel = f"127.0.0.1:{sentinels.sentinel_port}"
    line = one_error_line(rqtop("--sentinel", sentinel, "--sentinel-master", "nosuchmaster", "status",
                                env={"RQTOP_CONFIG": str(tmp_path / "none.toml")}))
    assert line.startswith(f"rqtop: error: --sentinel-master: the sentinels at {sentinel} know no master named "
                           "'nosuchmaster'"), line
    ok = rqtop("--sentinel", sentinel, "--sentinel-master", sentinels.MASTER_NAME, "status",
               env={"RQTOP_CONFIG": str(tmp_path / "none.toml")})
    assert ok.returncode == 0 and ok.stdout.startswith(f"sentinel mymaster via {sentinel} db 0: "), ok
    line = one_error_line(rqtop("--sentinel", sentinel, "status", env={"RQTOP_CONFIG": str(tmp_path / "n.toml")}))
    assert line.startswith("rqtop: error: --sentinel-master: needed with --sentinel"), line


def test_sentinel_with_tls_finds_the_master_with_the_ca(tmp_path: Path) -> None:
    """A TLS-only master, replica and sentinel (replicating and monitoring over TLS): rqtop asks the sentinel over
    TLS and reads the master with --tls-ca; without the CA the certificate check fails, in one line."""
    from tests.redis_servers import make_certificates

    certs = make_certificates(tmp_path)
    with sentinel_set(tmp_path, certs) as found:
        master = found.client(found.master_port)
        master.sadd("rq:queues", "rq:queue:tls")
        master.rpush("rq:queue:tls", "a", "b")
        sentinel = f"127.0.0.1:{found.sentinel_port}"
        flags = ("--sentinel", sentinel, "--sentinel-master", found.MASTER_NAME, "--url", "rediss://ignored/0")
        env = {"RQTOP_CONFIG": str(tmp_path / "none.toml")}
        ok = rqtop(*flags, "--tls-ca", str(certs.ca), "status", "--json", env=env)
        assert ok.returncode == 0, ok.stderr
        assert '"name": "tls"' in ok.stdout and '"pending": 2' in ok.stdout
        target = Target(url="rediss://ignored/0", tls_ca=str(certs.ca), sentinel=(sentinel,),
                        sentinel_master=found.MASTER_NAME)
        assert client(target).connection_pool.get_master_address() == (  # type: ignore[attr-defined]
            "127.0.0.1", found.master_port)
        line = one_error_line(rqtop(*flags, "--tls-ca", str(certs.other_ca), "status", env=env))
        assert "--tls-ca" in line, line


def test_rqtop_worker_through_sentinel_keeps_working_after_a_failover(sentinels: SentinelSet, tmp_path: Path) -> None:
    """A real `rqtop worker` process given only --sentinel and --sentinel-master runs jobs, then, after SENTINEL
    FAILOVER and the old master killed, runs the jobs enqueued on the new master (its reconnects ask the sentinel)."""
    import subprocess
    import sys

    from rq import Queue

    from tests import jobs
    from tests.cli_support import ROOT, rqtop_env

    target = _target(sentinels)
    conn = client(target, timeout=2.0)
    queue = Queue("failover", connection=conn)
    before = [queue.enqueue(jobs.ok, n) for n in range(3)]
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "tui", "worker", "--sentinel", f"127.0.0.1:{sentinels.sentinel_port}",
         "--sentinel-master", sentinels.MASTER_NAME, "--mode", "worker", "--queues", "failover"],
        cwd=ROOT, env=rqtop_env(None, {"RQTOP_CONFIG": str(tmp_path / "none.toml")}), stdout=log, stderr=log)

    def finished(ids: list[str], within: float) -> None:
        deadline = time.monotonic() + within
        while True:
            try:
                states = [conn.hget(f"rq:job:{job_id}", "status") for job_id in ids]
            except (redis.ConnectionError, redis.TimeoutError):
                states = []
            if states and all(state == b"finished" for state in states):
                return
            assert worker.poll() is None and time.monotonic() < deadline, (
                states, (tmp_path / "worker.log").read_text())
            time.sleep(0.2)

    try:
        finished([job.id for job in before], 30)
        old = sentinels.master_port
        new = sentinels.fail_over()
        sentinels.kill(old)
        after: list[str] = []
        deadline = time.monotonic() + FOLLOW_WITHIN_S
        while not after:  # the client's next connection asks the sentinel, which now names the new master
            try:
                after = [queue.enqueue(jobs.ok, n).id for n in range(3)]
            except (redis.ConnectionError, redis.TimeoutError):
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert conn.connection_pool.get_master_address() == ("127.0.0.1", new)  # type: ignore[attr-defined]
        finished(after, 40)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
        log.close()
    text = (tmp_path / "worker.log").read_text()
    assert "Traceback" not in text, text


def test_rqtop_notify_delivers_through_sentinel_before_and_after_a_failover(sentinels: SentinelSet,
                                                                            tmp_path: Path) -> None:
    """`rqtop notify --once` given only --sentinel and --sentinel-master delivers a run's notification by real
    SMTP; after SENTINEL FAILOVER and the old master killed, it delivers the one written on the new master (each
    new connection asks the sentinel), once each."""
    from tests.notify.servers import SmtpServer
    from worker.dispatch import enqueue_run
    from worker.rqtop_worker import RqtopSimpleWorker
    from worker.schedules import ScheduleEntry

    conn = client(_target(sentinels), timeout=2.0)
    entry = ScheduleEntry(name="nightly", task="tests.jobs.boom", interval=3600)
    flags = ("--sentinel", f"127.0.0.1:{sentinels.sentinel_port}", "--sentinel-master", sentinels.MASTER_NAME)

    def failed_run(worker: str) -> str:
        """One run of ``entry`` with a --notify address, failed by a real rqtop worker (it writes the outbox)."""
        job_id = enqueue_run(conn, entry, notify="ops@example.com").job_id
        RqtopSimpleWorker(["default"], connection=conn, name=worker).work(burst=True)
        assert job_id and conn.hget(f"rq:job:{job_id}", "status") == b"failed"
        return job_id

    smtp = SmtpServer().start()
    env = {"RQTOP_SMTP_URL": smtp.url, "RQTOP_CONFIG": str(tmp_path / "none.toml")}
    try:
        first = failed_run("w-before")
        sent = rqtop(*flags, "notify", "--once", env=env)
        assert sent.returncode == 0 and sent.stdout.strip() == "delivered 1 notification(s)", sent
        assert [m["Subject"] for m in smtp.inbox.to("ops@example.com")] == ["[rqtop] nightly: failed"]
        assert first in smtp.inbox.to("ops@example.com")[0].get_payload()

        old = sentinels.master_port
        new = sentinels.fail_over()
        sentinels.kill(old)
        deadline = time.monotonic() + FOLLOW_WITHIN_S
        while True:  # the client's next connection asks the sentinel, which now names the new master
            try:
                second = failed_run("w-after")
                break
            except (redis.ConnectionError, redis.TimeoutError):
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert conn.connection_pool.get_master_address() == ("127.0.0.1", new)  # type: ignore[attr-defined]
        sent = rqtop(*flags, "notify", "--once", env=env)
        assert sent.returncode == 0 and sent.stdout.strip() == "delivered 1 notification(s)", sent
        bodies = [m.get_payload() for m in smtp.inbox.to("ops@example.com")]
        assert len(bodies) == 2 and second in bodies[1] and first not in bodies[1]
        status = rqtop(*flags, "notify", "status", env=env)
        assert status.returncode == 0 and status.stdout.startswith("pending 0 · sent 2 · failed attempts 0"), status
    finally:
        smtp.stop()
