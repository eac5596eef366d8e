"""The queue browser: one page at a time of any job list of one queue, read off the UI thread and again at the
app's refresh interval (rows updated in place, cursor kept), and a job's detail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import DataTable, Label

from tui import formatting as fmt
from tui.data.settings import Settings
from tui.messages import DetailFailed, DetailReady, PageFailed, PageReady
from tui.protocols import JobListReader
from tui.screens.job_detail import JobFieldsScreen
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.list_tabs import ListTabs
from tui.widgets.page_rows import (
    NARROW_OUT,
    NARROW_WIDTH,
    PAGE_SOURCES,
    columns_for,
    detail_fields,
    page_header,
    page_rows,
    read_at_text,
)

if TYPE_CHECKING:
    from tui.data.job_meta import JobDetail, JobSummary
    from tui.data.jobs_page import JobsPage

HINT = "tab list · n/p page · g/G first/last · enter job · r reread · esc close"


class QueueJobDetailScreen(JobFieldsScreen):
    """Detail of one job of a queue's list, as read when Enter was pressed, with the job action keys."""

    def __init__(self, detail: JobDetail, now: float) -> None:
        super().__init__(f"Job {fmt.short_task(detail.task)}", detail_fields(detail, now), bool(detail.error),
                         detail.redis_id or detail.id, running=detail.status == "started")
        self.detail = detail


class QueueJobsScreen(ModalScreen[None]):
    """Pages through the job lists of one queue; every read goes through ``reader`` on a thread and never writes."""

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="queue.close", tooltip="Back to the dashboard"),
        Binding("tab,right_square_bracket", "cycle_source(1)", "Next list", id="queue.next_list",
                tooltip="Show the next list: pending, active, completed, failed, scheduled, deferred, canceled"),
        Binding("shift+tab,left_square_bracket", "cycle_source(-1)", "Previous list", id="queue.previous_list",
                tooltip="Show the previous list"),
        Binding("pagedown,n", "page('next')", "Next page", id="queue.next_page", tooltip="Show the next page",
                priority=True),
        Binding("pageup,p", "page('previous')", "Previous page", id="queue.previous_page",
                tooltip="Show the previous page", priority=True),
        Binding("home,g", "page('first')", "First page", id="queue.first_page", tooltip="Show the first page",
                priority=True),
        Binding("end,G", "page('last')", "Last page", id="queue.last_page", tooltip="Show the last page",
                priority=True),
        Binding("enter", "show_detail", "Detail", id="queue.detail", tooltip="Show the highlighted job's detail",
                priority=True),
        Binding("r", "reread", "Re-read", id="queue.reread", tooltip="Read the shown page again"),
        Binding("question_mark", "app.help", "Keys", id="queue.keys", key_display="?",
                tooltip="List this screen's keys"),
    ]

    def __init__(self, reader: JobListReader, queue: str, settings: Settings, source: str = "pending") -> None:
        super().__init__()
        self._reader = reader
        self.queue = queue
        self._settings = settings
        self.source = source
        """The list shown, or being read."""
        self.page_offset = 0
        """The offset shown, or being read (-1: the last page, until it arrives)."""
        self.page: JobsPage | None = None
        """The last page read; stays on screen while reads fail."""
        self.error = ""
        self._request = 0
        self._jobs: dict[str, JobSummary] = {}
        self._refresh_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        """Where the page sits, the lists, the page, and a line for errors."""
        with Vertical(id="queue-jobs-dialog") as dialog:
            dialog.border_title = Content(f"Queue {self.queue}")  # a queue name is never markup
            with Horizontal(id="queue-jobs-top"):
                yield Label(f"{self.queue} · {self.source} · reading…", id="queue-jobs-header", markup=False)
                yield Label("", id="queue-jobs-read-at", markup=False)
            yield ListTabs(PAGE_SOURCES, id="queue-jobs-sources")
            yield KeyedTable(columns_for(self.source), id="queue-jobs-table", optional=NARROW_OUT,
                             full_width=NARROW_WIDTH)
            yield Label("No jobs in this list.", id="queue-jobs-empty", classes="empty-state")
            yield Label("", id="queue-jobs-error", classes="warning-line", markup=False)
            yield Label(HINT, id="queue-jobs-hint", markup=False)

    def on_mount(self) -> None:
        """Read the first page of the first list."""
        self.query_one("#queue-jobs-empty").display = False
        self.query_one("#queue-jobs-error").display = False
        self.table.focus()
        self._show_tabs()
        self._load(self.source, 0)

    @property
    def table(self) -> KeyedTable:
        """The page's table."""
        return self.query_one("#queue-jobs-table", KeyedTable)

    def _load(self, source: str, offset: int) -> None:
        """Ask for one page; only the newest request's answer is shown (the next refresh is armed when it comes)."""
        self.source, self.page_offset = source, offset
        self._request += 1
        self._stop_refresh()
        self._show_tabs()
        self._read_page(self._request, source, offset)

    def _show_tabs(self) -> None:
        """Highlight the list asked for, with each list's count from the last page read."""
        counts = dict(self.page.counts) if self.page is not None else {}
        self.query_one(ListTabs).show(self.source, counts)

    @property
    def refresh_s(self) -> float:
        """Seconds between re-reads: the app's refresh interval, as `+` and `-` set it."""
        return float(getattr(self.app, "refresh_s", self._settings.refresh_s))

    def _arm_refresh(self) -> None:
        """Re-read the shown page after the app's interval; armed only once the last read has answered, so reads
        never overlap, and owned by this screen, so it stops when the screen closes."""
        self._stop_refresh()
        self._refresh_timer = self.set_timer(self.refresh_s, self._timed_reread)

    def _stop_refresh(self) -> None:
        """Disarm the next re-read."""
        if self._refresh_timer is not None:
            self._refresh_timer.stop()
            self._refresh_timer = None

    def _timed_reread(self) -> None:
        """Read the shown page again, unless a job's detail covers the list or polling is paused (`f`)."""
        self._refresh_timer = None
        if self.app.screen is not self or getattr(self.app, "frozen", False):
            self._arm_refresh()
            return
        self._load(self.source, self.page_offset)

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue-page")
    def _read_page(self, request: int, source: str, offset: int) -> None:
        """Read one page off the UI thread and post it, or the one-line reason it failed."""
        try:
            page = self._reader.jobs_page(self.queue, source, offset, self._settings.page_size)
        except Exception as exc:  # every failure keeps the screen alive and the last page on it
            self.post_message(PageFailed(request, fmt.one_line(exc)))
        else:
            self.post_message(PageReady(request, page))

    def on_page_ready(self, message: PageReady) -> None:
        """Show the page (from its top when the page moved); a page past a shrunk list's end reads the last one."""
        page = message.page
        if message.request != self._request:
            return
        if not page.jobs and page.total > 0 and page.offset > 0:
            self._load(page.source, -1)
            return
        moved = self.page is None or (self.page.source, self.page.offset) != (page.source, page.offset)
        other_list = self.page is None or self.page.source != page.source
        self.page, self.page_offset = page, page.offset
        self._show_error("")
        now = self._settings.clock()
        rows = page_rows(page, now)
        self._jobs = {key: job for (key, _), job in zip(rows, page.jobs, strict=True)}
        if other_list:  # each list has its own columns
            self.table.set_columns(columns_for(page.source))
        elif moved:  # a new page measures its columns afresh; a re-read updates cells in place
            self.table.reset()
        self.table.sync(rows)
        self.query_one("#queue-jobs-header", Label).update(page_header(page))
        self.query_one("#queue-jobs-read-at", Label).update(
            " · ".join(part for part in (read_at_text(page), f"every {self.refresh_s:g} s") if part))
        self._show_tabs()
        self._arm_refresh()
        self.query_one("#queue-jobs-empty").display = not page.jobs
        self.table.display = bool(page.jobs)
        if page.jobs and self.focused is None:
            self.table.focus()

    def on_page_failed(self, message: PageFailed) -> None:
        """Keep the last page on screen and say in one line why the asked one is missing."""
        if message.request != self._request:
            return
        wanted = self.source
        if self.page is not None:
            self.source, self.page_offset = self.page.source, self.page.offset
        self._show_tabs()
        self._show_error(f"⚠ Could not read {self.queue} · {wanted}: {message.error} (r to retry)")
        self._arm_refresh()

    def _show_error(self, error: str) -> None:
        """Show one line of error, or hide the line."""
        self.error = error
        line = self.query_one("#queue-jobs-error", Label)
        line.update(error)
        line.display = bool(error)

    def action_cycle_source(self, step: int) -> None:
        """The first page of the next (``step`` 1) or previous (-1) list."""
        index = PAGE_SOURCES.index(self.source) if self.source in PAGE_SOURCES else 0
        self._load(PAGE_SOURCES[(index + step) % len(PAGE_SOURCES)], 0)

    @on(ListTabs.Picked)
    def _list_clicked(self, message: ListTabs.Picked) -> None:
        """A click on a list's tab shows that list's first page."""
        message.stop()
        self._load(message.source, 0)
        self.table.focus()

    def action_page(self, where: str) -> None:
        """Read the first, previous, next or last page; nothing happens past either end."""
        limit = self.page.limit if self.page is not None else self._settings.page_size
        total = self.page.total if self.page is not None and self.page.source == self.source else 0
        if where == "first":
            self._load(self.source, 0)
        elif where == "last":
            self._load(self.source, -1)
        elif where == "next" and self.page_offset >= 0 and self.page_offset + limit < total:
            self._load(self.source, self.page_offset + limit)
        elif where == "previous" and self.page_offset > 0:
            self._load(self.source, max(0, self.page_offset - limit))

    def action_reread(self) -> None:
        """Read the shown page again."""
        self._load(self.source, self.page_offset)

    def action_show_detail(self) -> None:
        """Read the highlighted job's detail; it opens when the read ends."""
        key = self.table.highlighted_key
        job = self._jobs.get(key) if key is not None else None
        if job is not None:
            self._read_detail(job.redis_id or job.id, job.id, job.worker)

    @on(DataTable.RowSelected, "#queue-jobs-table")
    def _row_clicked(self, event: DataTable.RowSelected) -> None:
        """A click on the highlighted row opens its detail, like Enter."""
        event.stop()
        self.action_show_detail()

    @work(thread=True, exclusive=True, exit_on_error=False, group="queue-detail")
    def _read_detail(self, job_id: str, shown_id: str, worker: str | None = None) -> None:
        """Read one job's detail (by its id as Redis holds it, with the RQ state of the ``worker`` its row named)
        off the UI thread and post it, or the one-line reason it failed (naming the id as shown)."""
        try:
            detail = self._reader.job_detail(job_id, worker)
        except Exception as exc:  # the list stays usable
            self.post_message(DetailFailed(shown_id, fmt.one_line(exc)))
        else:
            self.post_message(DetailReady(detail))

    def on_detail_ready(self, message: DetailReady) -> None:
        """Open the detail, unless this screen is no longer the one on top."""
        if self.app.screen is self:
            self.app.push_screen(QueueJobDetailScreen(message.detail, self._settings.clock()))

    def on_detail_failed(self, message: DetailFailed) -> None:
        """Say in one line why the detail did not open."""
        self._show_error(f"⚠ Could not read job {message.job_id}: {message.error}")

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)
