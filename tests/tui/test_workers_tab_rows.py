"""The Workers tab tells the truth at a glance: abandoned and unclassified counts, backlog colours, offline
workers, many queues, and a worker's own detail (issues 12 and 15)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rich.text import Text

from tests.tui.fakes import NOW, QUEUES, WORKERS, at, loaded, make_app, run, sample_snapshot, wait_until
from tui.data.models import QueueRow, QueueTotals
from tui.data.settings import Backlog, Settings, SettingsError
from tui.screens.worker_detail import WorkerDetailScreen, worker_fields
from tui.widgets.worker_rows import MANY_QUEUES, queue_order, queue_row, unattended_warning, where, worker_row


def styles(text: Text) -> str:
    """Every style used anywhere in a cell, as one string."""
    return " ".join([str(text.style), *(str(span.style) for span in text.spans)])


def cells(row: QueueRow, **kw: object) -> dict[str, Text]:
    """The queue row's cells by column key."""
    _, values = queue_row(row, **kw)  # type: ignore[arg-type]
    keys = ("queue", "pending", "active", "completed", "failed", "retry", "scheduled", "oldest")
    return dict(zip(keys, values, strict=True))  # type: ignore[arg-type]


def test_abandoned_executions_are_marked_beside_active_and_unclassified_retries_read_plus_question() -> None:
    row = QueueRow("default", pending=0, active=1, completed=0, failed=0, retry=3, scheduled=2, abandoned=2,
                   retry_unknown=4)
    shown = cells(row)
    assert shown["active"].plain == "1 +2 abandoned" and "red" in styles(shown["active"])
    assert shown["retry"].plain == "3 +4?" and shown["scheduled"].plain == "2 +4?"
    plain = cells(replace(row, abandoned=0, retry_unknown=0))
    assert (plain["active"].plain, plain["retry"].plain, plain["scheduled"].plain) == ("1", "3", "2")


def test_pending_and_oldest_pending_turn_amber_then_red_at_the_thresholds() -> None:
    row = QueueRow("q", pending=99, active=0, completed=0, failed=0, retry=0, scheduled=0, oldest_pending_age_s=59)
    calm = cells(row)
    assert "yellow" not in styles(calm["pending"]) + styles(calm["oldest"])
    amber = cells(replace(row, pending=100, oldest_pending_age_s=60))
    assert "bold yellow" in styles(amber["pending"]) and "bold yellow" in styles(amber["oldest"])
    red = cells(replace(row, pending=1_000, oldest_pending_age_s=300))
    assert "bold red" in styles(red["pending"]) and "bold red" in styles(red["oldest"])
    tight = cells(row, backlog=Backlog(pending_amber=5, pending_red=50, oldest_amber_s=10, oldest_red_s=30))
    assert "bold red" in styles(tight["pending"]) and "bold red" in styles(tight["oldest"])


def test_an_unattended_queue_is_flagged_on_its_row() -> None:
    shown = cells(QUEUES[2], unattended=True)
    assert shown["queue"].plain == "⚠ low no worker" and "red" in styles(shown["queue"])
    assert cells(QUEUES[2])["queue"].plain == "low"


def test_thresholds_come_from_the_environment_and_a_bad_value_names_the_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().backlog == Backlog(100, 1_000, 60.0, 300.0)
    monkeypatch.setenv("RQTOP_PENDING_RED", "5000")
    monkeypatch.setenv("RQTOP_OLDEST_PENDING_AMBER_S", "30")
    assert Settings.from_env().backlog == Backlog(100, 5_000, 30.0, 300.0)
    monkeypatch.setenv("RQTOP_PENDING_AMBER", "lots")
    with pytest.raises(SettingsError, match="RQTOP_PENDING_AMBER='lots'"):
        Settings.from_env()


def test_an_offline_worker_reads_last_seen_running_without_an_elapsed_time() -> None:
    offline = replace(WORKERS[0], status="offline", last_seen=at(-75))
    _, shown = worker_row(offline, NOW)
    assert shown[7].plain == "last seen running catalog_sync"
    assert shown[3].plain == "Offline" and "bold red" in styles(shown[3])
    assert worker_row(WORKERS[0], NOW)[1][7].plain == "catalog_sync  12 s"


def test_the_worker_cell_leaves_out_host_and_pid_its_name_already_says() -> None:
    assert where(replace(WORKERS[0], name="host-a.1201")) == ""
    assert where(WORKERS[0]) == "host-a:1201"
    assert where(replace(WORKERS[0], name="host-a-worker")) == "pid 1201"
    assert where(replace(WORKERS[0], name="w-1201")) == "host-a"
    assert worker_row(replace(WORKERS[0], name="host-a.1201"), NOW)[1][0].plain == "host-a.1201"


def test_queues_list_the_backlog_first_and_idle_queues_keep_rqs_order() -> None:
    assert [q.name for q in queue_order(QUEUES)] == ["low", "default", "high"]  # 14, 5, 2 pending
    idle = [replace(q, pending=0, oldest_pending_age_s=None) for q in QUEUES]
    assert [q.name for q in queue_order(idle)] == ["high", "default", "low"]
    many = [QueueRow(f"tenant-{i:02}", pending=i % 7, active=0, completed=0, failed=0, retry=0, scheduled=0,
                     oldest_pending_age_s=float(i) if i % 7 else None) for i in range(MANY_QUEUES + 6)]
    ordered = queue_order(many)
    assert [q.pending for q in ordered] == sorted((q.pending for q in many), reverse=True)
    assert ordered[0].name == "tenant-34" and ordered[1].name == "tenant-27"


def test_the_warning_names_whole_queues_and_counts_the_rest() -> None:
    names = [f"tenant-{i}" for i in range(10, 30)]
    assert unattended_warning(["low"], 200) == "⚠ Jobs are pending in low but no online worker listens to it."
    line = unattended_warning(names, 80)
    assert len(line) <= 80 and line.startswith("⚠ 20 queues have pending jobs and no online worker: tenant-10, ")
    listed = line.split(": ", 1)[1].rsplit(", … (+", 1)
    shown = listed[0].split(", ")
    assert shown == names[:len(shown)] and listed[1] == f"{20 - len(shown)})"
    assert unattended_warning(names, 30) == "⚠ 20 queues have pending jobs and no online worker (+20)"


def test_worker_detail_fields_are_safe_text() -> None:
    row = replace(WORKERS[0], name="evil\x1b[2J", queues=("high", "bad\x07q"), current_job_id="job-\x1b]0;x",
                  birth=at(-7_500), state="busy")
    fields = dict(worker_fields(row, NOW))
    assert "\x1b" not in str(fields) and "\x07" not in str(fields)
    assert fields["RQ state"] == "busy" and fields["Queues"].startswith("high, bad")
    assert fields["Current job"] == "worker.demo_tasks.catalog_sync" and fields["Born"].endswith("ago)")


def test_pilot_workers_tab_shows_abandoned_retry_unknown_the_red_pending_card_and_opens_a_worker() -> None:
    queues = (replace(QUEUES[0], abandoned=2, retry_unknown=1), *QUEUES[1:])
    snapshot = sample_snapshot(queues=queues, totals=QueueTotals(active=3, pending=1_500, abandoned=2))

    async def body() -> None:
        from tests.tui.fakes import FakeReader

        app = make_app(FakeReader([snapshot]))
        async with app.run_test(size=(160, 40)) as pilot:
            await loaded(app, pilot)
            await pilot.press("2")
            await pilot.pause()
            table = app.workers_pane.queues_table
            high = table.get_row("high")
            assert "abandoned" in high[2].plain and high[5].plain.endswith("?")
            assert table.get_row("low")[0].plain.startswith("⚠ low")
            assert app.workers_pane.query_one("#card-pending").has_class("-red")
            app.workers_pane.workers_table.focus()
            await pilot.press("enter")
            await wait_until(lambda: isinstance(app.screen, WorkerDetailScreen), pilot)
            assert app.screen.row.name == "alpha"
            await pilot.press("escape")
            await wait_until(lambda: not isinstance(app.screen, WorkerDetailScreen), pilot)

    run(body)


def test_pilot_36_queues_fill_the_height_backlog_first_and_the_warning_is_never_cut_mid_name() -> None:
    queues = tuple(QueueRow(f"tenant-{i:02}", pending=i % 4, active=0, completed=0, failed=0, retry=0, scheduled=0,
                            oldest_pending_age_s=float(i) if i % 4 else None) for i in range(36))
    snapshot = sample_snapshot(queues=queues, totals=QueueTotals(pending=sum(q.pending for q in queues)))

    async def body() -> None:
        from tests.tui.fakes import FakeReader

        app = make_app(FakeReader([snapshot]))
        async with app.run_test(size=(200, 60)) as pilot:
            await loaded(app, pilot)
            await pilot.press("2")
            await pilot.pause()
            pane = app.workers_pane
            assert pane.has_class("-many-queues") and pane.queues_table.size.height >= 20
            first = pane.queues_table.get_row_at(0)[0].plain
            assert first == "⚠ tenant-35 no worker"
            line = str(pane.query_one("#unattended-warning").render())
            assert line.startswith("⚠ 27 queues have pending jobs and no online worker: tenant-35, tenant-31")
            assert len(line) <= 198 and line.endswith(")")
            assert all(part.strip().startswith("tenant-") for part in line.split(": ", 1)[1].split(", … ")[0]
                       .split(", "))

    run(body)


def test_pilot_the_workers_tab_says_it_reads_workers_another_tab_did_not_and_warns_of_no_queue_meanwhile() -> None:
    """A tab showing no worker reads none (``Snapshot.workers_as_of``): opening the Workers tab shows "reading",
    flags no queue as unattended (with no worker read, every queue with pending jobs would look so), and reads the
    workers at once rather than at the next refresh."""
    from tests.tui.fakes import FakeReader
    from tui.data.worker_reads import WorkerReads

    unread = sample_snapshot(workers=(), workers_as_of=at(-3600))

    class TabReader(FakeReader):
        """What the real reader returns: no worker for a tab that shows none."""

        def read(self, include_metrics: bool = True, workers: WorkerReads | None = None,
                 queues: object = None) -> object:
            super().read(include_metrics, workers)
            return unread if workers is not None and workers.hidden else sample_snapshot()

    reader = TabReader(delay_s=1.5)

    async def body() -> None:
        app = make_app(reader, refresh_s=60.0)
        async with app.run_test(size=(160, 40)) as pilot:
            await loaded(app, pilot)
            calls = reader.calls
            await pilot.press("2")
            await pilot.pause(0.05)
            pane = app.workers_pane
            assert str(pane.query_one("#workers-title").render()) == "Worker Status (reading…)"
            assert str(pane.query_one("#workers-empty").render()) == "Reading workers…"
            assert not pane.query_one("#unattended-warning").display
            assert not any("no worker" in pane.queues_table.get_row_at(i)[0].plain
                           for i in range(pane.queues_table.row_count))
            await wait_until(lambda: reader.calls > calls and app.snapshot.workers, pilot)
            await pilot.pause(0.05)
            assert str(pane.query_one("#workers-title").render()).startswith("Worker Status (2 online of 4)")
            assert pane.query_one("#unattended-warning").display, "read now: the real warning is back"

    run(body)
