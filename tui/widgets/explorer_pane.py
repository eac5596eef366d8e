"""The Jobs tab: a query bar, one page of matching jobs across every queue, marks, and the detail drawer.

Every read goes through an ``ExplorerData`` on a thread and never writes. The filter, the page, the marks and
the cursor live here, so they survive refreshes and tab switches; rows are keyed by job id and updated in place.
The list stays pinned to the newest row unless the cursor moved (then "↑ N newer" counts what arrived above).
The job action keys (R P C S T D X, ``JobActionKeys``) act on the marked jobs, else the highlighted one; ``M``
marks every job matching the filter (read when pressed), so the next action key acts on all of them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label

from tui import formatting as fmt
from tui.data.explorer.query import Filter, parse_query
from tui.data.settings import Settings
from tui.screens.job_action_keys import JOB_BINDINGS, KEYS_HINT, JobActionKeys
from tui.widgets.explorer_rows import (
    EXPLORER_COLUMNS,
    FULL_WIDTH,
    OPTIONAL_COLUMNS,
    explorer_row,
    header_line,
    marked_query,
)
from tui.widgets.keyed_table import KeyedTable

if TYPE_CHECKING:  # the page types live beside their Redis reads; the UI never imports redis
    from tui.data.explorer.attempts import AttemptHistory
    from tui.data.explorer.pages import ExplorerPage
    from tui.data.explorer.rows import ExplorerRow
    from tui.data.job_meta import JobDetail
    from tui.data.models import Snapshot
    from tui.protocols import ExplorerData

HINT = "/ filter · c completed · space mark · A mark page · M mark all matching · u unmark · n/p page · enter detail"
ACTION_HINT = f"{KEYS_HINT} · each asks first · on the marked jobs, else the highlighted one"


class ExplorerPane(JobActionKeys, Vertical):
    """Finds any job: a filter typed in the bar, read one page at a time, rows marked for the job actions."""

    DEFAULT_CSS = """
    ExplorerPane { height: 1fr; }
    ExplorerPane #explorer-header, ExplorerPane #explorer-hint, ExplorerPane #explorer-action-hint {
        color: $text-muted;
    }
    ExplorerPane #explorer-hint, ExplorerPane #explorer-action-hint { width: 1fr; }
    ExplorerPane #explorer-newer { color: $warning; text-style: bold; }
    """
    BINDINGS = [
        Binding("slash", "open_query", "Filter", id="explorer.filter", tooltip="Type a filter (state:failed …)"),
        Binding("escape", "close_query", "Close filter", id="explorer.close_filter", show=False),
        Binding("c", "toggle_completed", "Completed", id="explorer.completed",
                tooltip="Show or hide completed jobs (hidden by default)"),
        Binding("space", "toggle_mark", "Mark", id="explorer.mark", tooltip="Mark or unmark the highlighted job"),
        Binding("A", "mark_page", "Mark page", id="explorer.mark_page", tooltip="Mark every job on the page"),
        Binding("M", "mark_matching", "Mark matching", id="explorer.mark_matching",
                tooltip="Mark every job matching the filter, so an action key acts on all of them"),
        Binding("u", "clear_marks", "Unmark all", id="explorer.clear_marks", show=False,
                tooltip="Clear every mark"),
        Binding("n", "page('next')", "Next page", id="explorer.next_page", tooltip="Show the next page"),
        Binding("p", "page('previous')", "Previous page", id="explorer.previous_page",
                tooltip="Show the previous page"),
        Binding("g", "page('first')", "First page", id="explorer.first_page", show=False,
                tooltip="Show the first page"),
        Binding("G", "page('last')", "Last page", id="explorer.last_page", show=False, tooltip="Show the last page"),
        # The same with the paging keys, before the table's own (which would move its cursor instead); check_action
        # gives them back to the query bar while it is typed in.
        Binding("pagedown", "page('next')", "Next page", id="explorer.next_page_key", show=False,
                tooltip="Show the next page", priority=True),
        Binding("pageup", "page('previous')", "Previous page", id="explorer.previous_page_key", show=False,
                tooltip="Show the previous page", priority=True),
        Binding("home", "page('first')", "First page", id="explorer.first_page_key", show=False,
                tooltip="Show the first page", priority=True),
        Binding("end", "page('last')", "Last page", id="explorer.last_page_key", show=False,
                tooltip="Show the last page", priority=True),
        Binding("enter", "show_detail", "Detail", id="explorer.detail", tooltip="Open the highlighted job"),
        *JOB_BINDINGS,
    ]

    @dataclass
    class PageRead(Message):
        """A page was read for request ``request`` (``error`` set when the read failed)."""

        request: int
        page: ExplorerPage | None
        error: str = ""

    @dataclass
    class MatchesRead(Message):
        """Every id matching ``filter`` was read for "mark all matching" (``error`` set when refused/failed)."""

        filter: Filter
        ids: tuple[str, ...]
        error: str = ""

    @dataclass
    class DetailRead(Message):
        """One job's detail and attempts were read (``error`` set when the read failed)."""

        job_id: str
        detail: JobDetail | None
        history: AttemptHistory | None
        error: str = ""

    def __init__(self, source: ExplorerData | None, settings: Settings, id: str | None = None) -> None:
        super().__init__(id=id)
        self._source = source
        self._settings = settings
        self.filter = Filter()
        """The filter shown (the query bar's)."""
        self.query_text = ""
        self.page: ExplorerPage | None = None
        self.page_offset = 0
        self.marks: dict[str, None] = {}
        """Marked job ids (as Redis holds them), in the order marked."""
        self.newer: set[str] = set()
        """Ids that arrived above the cursor since it left the top row."""
        self.error = ""
        self._request = 0
        self._reading = False
        self._rows: dict[str, ExplorerRow] = {}
        self.marks_from: str = ""
        """Where the marks came from when ``M`` set them: the filter's query ("" for marks set by hand)."""

    def compose(self) -> ComposeResult:
        """Query bar (hidden until /), the marked query, header, "newer" marker, table, empty line, error, hint."""
        yield Input(placeholder="state:failed task:import* queue:high worker:w1 since:2h id:… text",
                    id="explorer-query")
        yield Label("", id="explorer-warnings", markup=False)
        yield Label(header_line(None, 0, 0.0), id="explorer-header", markup=False)
        yield Label("", id="explorer-newer", markup=False)
        yield KeyedTable(EXPLORER_COLUMNS, id="explorer-table", optional=OPTIONAL_COLUMNS, full_width=FULL_WIDTH)
        yield Label("", id="explorer-failure", markup=False)
        yield Label("No matching jobs.", id="explorer-empty", classes="empty-state")
        yield Label("", id="explorer-error", classes="warning-line", markup=False)
        yield Label(HINT, id="explorer-hint", markup=False)
        yield Label(ACTION_HINT, id="explorer-action-hint", markup=False)

    def on_mount(self) -> None:
        """Hide what is empty; nothing is read until the tab is shown."""
        for selector in ("#explorer-query", "#explorer-warnings", "#explorer-newer", "#explorer-failure",
                         "#explorer-empty", "#explorer-error"):
            self.query_one(selector).display = False
        self.query_one("#explorer-action-hint").display = not self.job_actions_hidden()
        if self._source is None:
            self._show_error("The Jobs explorer needs a reader that can page jobs (not this one).")

    @property
    def table(self) -> KeyedTable:
        """The page's table."""
        return self.query_one("#explorer-table", KeyedTable)

    def focus_table(self) -> None:
        """Give the table the keyboard, or the pane itself while the table is hidden (an empty page): the pane's
        keys (the action keys on the marked jobs, paging, the filter) must work whatever the page holds."""
        if self.table.display:
            self.table.focus()
        else:
            self.focus()

    def show(self, snapshot: Snapshot, now: float) -> None:
        """A refresh while the tab is visible: read the shown page again (the filter and cursor stay)."""
        if not self._reading:
            self._load(self.page_offset)

    # Reading.

    def _load(self, offset: int, rescan: bool = False) -> None:
        """Ask for one page; only the newest request's answer is shown."""
        if self._source is None:
            return
        self.page_offset = offset
        self._request += 1
        self._reading = True
        self._read_page(self._request, self.filter, offset, rescan)

    @work(thread=True, exclusive=True, exit_on_error=False, group="explorer-page")
    def _read_page(self, request: int, flt: Filter, offset: int, rescan: bool) -> None:
        """Read one page off the UI thread and post it, or the one-line reason it failed."""
        assert self._source is not None
        try:
            page = self._source.explorer_page(flt, offset, self._settings.page_size, rescan)
        except Exception as exc:  # every failure keeps the tab alive and the last page on it
            self.post_message(self.PageRead(request, None, fmt.one_line(exc)))
        else:
            self.post_message(self.PageRead(request, page))

    def on_explorer_pane_page_read(self, message: PageRead) -> None:
        """Show the page in place; a page past the end of a shrunk list reads the last one."""
        if message.request != self._request:
            return
        self._reading = False
        page = message.page
        if page is None:
            self._show_error(f"⚠ Could not read jobs: {message.error} (r to retry)")
            return
        if not page.rows and page.offset > 0 and page.complete and page.total > 0:
            self._load(-1)
            return
        moved = self.page is None or self.page.offset != page.offset or self.page.filter != page.filter
        self.page, self.page_offset = page, page.offset
        self._show_error("")
        self._show_page(moved)

    def _show_page(self, moved: bool = False) -> None:
        """Sync the table with the page, keep the cursor on its job (or on top when pinned), count newer rows."""
        page = self.page
        if page is None:
            return
        now = self._settings.clock()
        table = self.table
        before = {key.value for key in table.rows}
        pinned = table.cursor_row == 0
        self._rows = {}
        for row in page.rows:  # an id RQ left in two registries is listed once, where it was met first
            self._rows.setdefault(row.redis_id, row)
        rows = [explorer_row(row, now, key in self.marks) for key, row in self._rows.items()]
        if moved:
            table.reset()
            self.newer.clear()
        table.sync(rows)
        if pinned or moved:
            if table.row_count:
                table.move_cursor(row=0, scroll=True)
            self.newer.clear()
        else:
            cursor = table.highlighted_key
            above = [key for key, _ in rows[: table.cursor_row]] if cursor is not None else []
            self.newer |= {key for key in above if key not in before}
            self.newer &= set(above)
        newer = self.query_one("#explorer-newer", Label)
        newer.update(f"↑ {len(self.newer):,} newer" if self.newer else "")
        newer.display = bool(self.newer)
        self.query_one("#explorer-header", Label).update(header_line(page, len(self.marks), now))
        self.query_one("#explorer-empty").display = not page.rows
        self._show_failure()
        keyboard_here = table.has_focus or self.has_focus
        table.display = bool(page.rows)
        self.can_focus = not page.rows  # an empty page: the pane takes the keys the hidden table cannot
        if keyboard_here:
            self.focus_table()

    @on(DataTable.RowHighlighted, "#explorer-table")
    def _cursor_moved(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted job's failure in full; back on the top row, nothing above is unseen any more."""
        self._show_failure()
        if event.cursor_row == 0 and self.newer:
            self.newer.clear()
            self.query_one("#explorer-newer").display = False

    def _show_failure(self) -> None:
        """Under the table, the highlighted job's whole failure line (the column cuts it: to ~14 characters at 80
        columns), or nothing when it has none."""
        key = self.table.highlighted_key if self.table.row_count else None
        row = self._rows.get(key) if key is not None else None
        line = self.query_one("#explorer-failure", Label)
        line.update(f"Failure of {fmt.short_id(row.job.id)}: {row.error}" if row is not None and row.error else "")
        line.display = row is not None and bool(row.error)

    def _show_error(self, error: str) -> None:
        """Show one line of error, or hide the line."""
        self.error = error
        line = self.query_one("#explorer-error", Label)
        line.update(error)
        line.display = bool(error)

    # The query bar.

    def action_open_query(self) -> None:
        """Show the query bar with the current query and give it the keyboard."""
        bar = self.query_one("#explorer-query", Input)
        bar.display = True
        bar.value = self.query_text
        bar.focus()

    def action_close_query(self) -> None:
        """Hide the query bar (the filter stays) and give the table the keyboard."""
        bar = self.query_one("#explorer-query", Input)
        if bar.display:
            bar.display = False
            self.table.focus()

    @on(Input.Submitted, "#explorer-query")
    def _query_submitted(self, event: Input.Submitted) -> None:
        """Apply the typed query; ignored terms are a toast and marked in the line under the bar."""
        event.stop()
        self.apply_query(event.value)
        self.action_close_query()

    def apply_query(self, query: str) -> None:
        """Use ``query`` from its first page; bad terms warn, never fail."""
        self.query_text = query
        parsed = parse_query(query, include_completed=self.filter.include_completed)
        self.filter = parsed
        warnings = self.query_one("#explorer-warnings", Label)
        warnings.update(marked_query(query, parsed))
        warnings.display = bool(parsed.warnings)
        if parsed.warnings:
            self.app.notify("; ".join(str(w) for w in parsed.warnings), title="Filter terms ignored",
                            severity="warning", markup=False)
        self._load(0)

    def action_toggle_completed(self) -> None:
        """Show or hide completed jobs, from the first page."""
        self.filter = self.filter.with_completed(not self.filter.include_completed)
        self.app.notify("Completed jobs shown." if self.filter.include_completed else "Completed jobs hidden.",
                        timeout=2)
        self._load(0)

    # Paging.

    def action_page(self, where: str) -> None:
        """Read the first, previous, next or last page; nothing happens past either end."""
        page = self.page
        limit = page.limit if page is not None else self._settings.page_size
        if where == "first":
            self._load(0)
        elif where == "last":
            self._load(-1)
        elif where == "next" and page is not None and page.has_next:
            self._load(self.page_offset + limit)
        elif where == "previous" and self.page_offset > 0:
            self._load(max(0, self.page_offset - limit))

    # Marks: the selection the job actions act on.

    def selected_ids(self) -> tuple[str, ...]:
        """The marked job ids, else the highlighted row's, else none."""
        if self.marks:
            return tuple(self.marks)
        key = self.table.highlighted_key
        return (key,) if key is not None else ()

    def _marks_changed(self, source: str = "") -> None:
        """Redraw the page's marks and the header's count (``source``: the filter M marked); the action keys read
        the marks when pressed (``job_action_ids``), so nothing else needs telling."""
        self.marks_from = source
        self._show_page()

    def action_clear_marks(self) -> None:
        """Unmark every job."""
        if self.marks:
            self.marks.clear()
            self._marks_changed()
            self.app.notify("Marks cleared.", timeout=2)

    def action_mark_matching(self) -> None:
        """Read every id matching the filter (off the UI thread) and mark them all."""
        if self._source is None:
            return
        self.app.notify("Reading every job matching the filter…", timeout=2)
        self._read_matches(self.filter)

    @work(thread=True, exclusive=True, exit_on_error=False, group="explorer-matches")
    def _read_matches(self, flt: Filter) -> None:
        """Collect the matching ids (reads only) and post them, or why not."""
        assert self._source is not None
        try:
            ids = self._source.matching_ids(flt)
        except Exception as exc:  # too many, or Redis went away: nothing is marked
            self.post_message(self.MatchesRead(flt, (), fmt.one_line(exc)))
        else:
            self.post_message(self.MatchesRead(flt, tuple(ids)))

    def on_explorer_pane_matches_read(self, message: MatchesRead) -> None:
        """Mark exactly the ids read (replacing the marks), and say how many."""
        if message.error:
            self.app.notify(f"Nothing marked: {message.error}", severity="warning")
            return
        if message.filter != self.filter:
            self.app.notify("The filter changed while matching: nothing marked; press M again.", severity="warning")
            return
        self.marks = dict.fromkeys(message.ids)
        query = message.filter.to_query() or "every job but completed"
        self._marks_changed(query)
        self.app.notify(f"Marked {len(message.ids):,} job(s) matching {query}. An action key acts on all of them "
                        "(each asks first); u clears the marks.", timeout=6)

    # The job actions (JobActionKeys): on the marks, else the highlighted row.

    def job_action_ids(self) -> tuple[str, ...]:
        """The marked jobs, else the highlighted one."""
        return self.selected_ids()

    def job_action_scope(self, ids: tuple[str, ...]) -> str:
        """Where the ids came from: every job matching a filter (M), the marked rows, or the highlighted row."""
        if not self.marks:
            return "The highlighted job:"
        if self.marks_from:
            return f"Every job matching {self.marks_from} when M was pressed ({len(ids):,} read):"
        return f"The {len(ids):,} marked job(s):"

    def job_action_confirmed(self, plan: object) -> None:
        """The marks are used up: the action acts on them now."""
        if self.marks:
            self.marks.clear()
            self._marks_changed()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only hides the job action keys; the paging keys belong to the query bar while it is typed in."""
        if action == "page" and self.query_one("#explorer-query", Input).has_focus:
            return False
        return not (action == "job_action" and self.job_actions_hidden())

    def action_toggle_mark(self) -> None:
        """Mark or unmark the highlighted job and move down."""
        key = self.table.highlighted_key
        if key is None:
            return
        if key in self.marks:
            del self.marks[key]
        else:
            self.marks[key] = None
        self._marks_changed()
        self.table.action_cursor_down()

    def action_mark_page(self) -> None:
        """Mark every job on the page (or unmark them when all are marked already)."""
        keys = list(self._rows)
        if keys and all(key in self.marks for key in keys):
            for key in keys:
                self.marks.pop(key, None)
        else:
            self.marks.update(dict.fromkeys(keys))
        self._marks_changed()

    # The detail drawer.

    def action_show_detail(self) -> None:
        """Read the highlighted job's detail and attempts; the drawer opens when the read ends."""
        key = self.table.highlighted_key
        if key is not None and self._source is not None:
            self._read_detail(key)

    def open_job(self, job_id: str) -> None:
        """Open the drawer of ``job_id`` (as Redis holds it) whether or not it is on the page (a schedule row's
        newest failure)."""
        if self._source is not None:
            self._read_detail(job_id)

    @on(DataTable.RowSelected, "#explorer-table")
    def _row_clicked(self, event: DataTable.RowSelected) -> None:
        """A click (or Enter) on the highlighted row opens its detail."""
        event.stop()
        self.action_show_detail()

    @work(thread=True, exclusive=True, exit_on_error=False, group="explorer-detail")
    def _read_detail(self, job_id: str) -> None:
        """Read one job's detail and attempt history off the UI thread and post them."""
        assert self._source is not None
        try:
            detail = self._source.job_detail(job_id)
            history = self._source.job_attempts(job_id, detail.task)
        except Exception as exc:  # the list stays usable
            self.post_message(self.DetailRead(job_id, None, None, fmt.one_line(exc)))
        else:
            self.post_message(self.DetailRead(job_id, detail, history))

    def on_explorer_pane_detail_read(self, message: DetailRead) -> None:
        """Open the drawer, unless a modal covers the tab now."""
        from tui.screens.explorer_detail import ExplorerDetailScreen

        if message.detail is None or message.history is None:
            self._show_error(f"⚠ Could not read job {message.job_id}: {message.error}")
            return
        if self.screen is self.app.screen:
            self.app.push_screen(ExplorerDetailScreen(message.detail, message.history, self._settings.clock()))


def task_query(task: str) -> str:
    """The explorer query for one job type's recent runs, completed ones included (quoted when it must be)."""
    return f"{shlex.quote(f'task:{task}')} completed:yes"


def queue_query(queue: str) -> str:
    """The explorer query for one queue's jobs (quoted when it must be): what opening a queue shows."""
    return shlex.quote(f"queue:{queue}")
