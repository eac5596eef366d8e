"""The rqtop App: bindings, the non-overlapping poll loop, and the handlers that own all dashboard state."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import Label, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from tui import formatting as fmt
from tui.action_flow import OperatorFlow
from tui.commands import DashboardCommands, NamedTargetCommands
from tui.data.config_file import remember_theme
from tui.data.models import ScheduleRow, Snapshot
from tui.data.queue_reads import QueueReads
from tui.data.settings import Settings, step_interval
from tui.data.worker_reads import WorkerReads
from tui.messages import ReadFailed, SnapshotReady
from tui.profile_flow import ProfileFlow
from tui.protocols import DashboardData, ExplorerData, OperatorActions, ProfileOpener, Session
from tui.run_followups import RunFollowups
from tui.screens.dashboard import DashboardScreen
from tui.screens.job_detail import JobDetailScreen
from tui.screens.keys import KeysScreen
from tui.target_flow import TARGET_NAMES, TargetFlow
from tui.widgets.explorer_pane import ExplorerPane, queue_query, task_query
from tui.widgets.footer import PinnedFooter
from tui.widgets.jobs_pane import ROW_HINT_IDS, JobsPane
from tui.widgets.keyed_table import KeyedTable
from tui.widgets.metrics_pane import MetricsPane
from tui.widgets.status_bar import CONNECTED, CONNECTING, FAILING, StaleBanner, StatusBar
from tui.widgets.workers_pane import WorkersPane

NAVIGATION_KEYS: tuple[tuple[str, str, str], ...] = (
    ("Tab / Shift+Tab", "Focus", "Move to the next / previous table or button"),
    ("↑ ↓ PgUp PgDn", "Move", "Move the cursor in the focused table"),
    ("Enter", "Open", "Open the highlighted row (job detail, a queue's job lists) or press the button"),
    ("Esc", "Close", "Close the dialog or screen on top (q too)"),
    ("ctrl+p", "Palette", "Search every command by name"),
)
"""Keys every table and dialog shares, listed by `?` after the screen's own."""

SORT_ACTIONS = frozenset({"cycle_sort", "reverse_sort"})
"""The sort keys: on Background Jobs they act on Recent Job History only, so only while it has focus."""

DUPLICATED_SYSTEM_COMMANDS = frozenset({"Quit"})
"""Textual's palette commands left out because the dashboard's palette has its own ("app: Quit")."""

RETRY_S = 0.5
"""Delay between polls while Redis is unreachable, so the dashboard recovers within a second or two."""

METRICS_MAX_AGE_S = 30.0
"""While the Metrics tab is hidden, a refresh re-reads the metrics only once the kept ones are this old."""


class RqtopApp(OperatorFlow, ProfileFlow, TargetFlow):
    """Polls a reader into frozen Snapshots and shows the visible tab; operator actions go through actions."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    """Absolute, so a subclass defined elsewhere (a test's extra row) finds it too."""
    TITLE = "rqtop"
    COMMANDS = App.COMMANDS | {DashboardCommands, NamedTargetCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-too-narrow"), (80, "-wide-enough"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-too-short"), (24, "-tall-enough"), (40, "-tall")]

    # BINDINGS, KEY_SPECS and one action_<name> per operator action come from the action table (OperatorFlow).

    def __init__(self, reader: DashboardData, actions: OperatorActions, settings: Settings, url_label: str,
                 profiles: ProfileOpener | None = None) -> None:
        super().__init__()
        fmt.use_zone(settings.timezone)  # every time on screen is in the settings' zone (--tz, config timezone)
        self.profiles = profiles
        self.reader = reader
        self.actions = actions
        self.settings = settings
        self.url_label = url_label
        self.snapshot: Snapshot | None = None
        """The last snapshot read; stays on screen (marked stale) while reads fail."""
        self.connection = CONNECTING
        """CONNECTING until the first read ends, then CONNECTED or FAILING after each read."""
        self.last_ok: float | None = None
        """Clock time of the last successful read."""
        self.last_error = ""
        self._polling = False
        self._poll_again = False
        self._poll_timer: Timer | None = None
        self._flow_busy = False
        self.run_followups = RunFollowups()
        """Run-now jobs whose outcome is toasted once the worker has finished them."""
        self._shown: dict[str, Snapshot] = {}
        self._action_tabs = {spec.name: spec.tabs for spec in self.KEY_SPECS if spec.tabs}
        """Actions offered only on some tabs."""
        self.first_notice: str | None = None
        """A toast shown once the dashboard is up (the demo's attach command)."""
        self.watch_problem: Callable[[], str | None] | None = None
        """Names a helper process that died (the demo's own Redis or worker); toasted once when it does."""
        self._problem_said = False
        self._dashboard_actions = frozenset(spec.name for spec in self.KEY_SPECS) - {"help"}
        """The dashboard's keys, hidden while a modal is open (its footer shows its own keys)."""
        self._quit_asked = False
        self.refresh_s = settings.refresh_s
        """Seconds between polls; `+` and `-` step it."""
        self.frozen = False
        """True while `f` has paused polling (`r` still reads once)."""
        moved = dict(settings.keymap)
        self._write_keys = {key.strip(): (spec.title, spec.name) for spec in self.KEY_SPECS
                            if spec.name in self.WRITE_ACTIONS for key in moved.get(spec.id, spec.key).split(",")}
        """Keys of the write actions (title, action), so read-only mode or the role can say why a press does
        nothing."""
        self._schedule_actions = frozenset(row.name for row in self.ACTION_TABLE if row.plan is None)
        """Row actions (n, p): they act on the Scheduled Jobs table's row, so only while that table has focus."""

    def get_default_screen(self) -> Screen[None]:
        """The main screen: it re-renders the visible tab whenever a modal closes."""
        return DashboardScreen(id="_default")

    def compose(self) -> ComposeResult:
        """Status line, stale banner, three tabs, footer; a notice replaces them when the terminal is too small."""
        self.status_bar = StatusBar(self.url_label, self.settings.read_only, role=self.settings.role,
                                    profile=self.settings.profile, profile_color=self.settings.profile_color,
                                    tls_unverified=self.settings.tls_unverified, id="status-bar")
        self.stale_banner = StaleBanner("", id="stale-banner", markup=False)
        buttons = tuple(spec for spec in self.KEY_SPECS if spec.button)
        row_keys = tuple(spec for spec in self.KEY_SPECS if spec.id in ROW_HINT_IDS)
        self.jobs_pane = JobsPane(self.settings, buttons, row_keys, id="jobs-pane")
        self.workers_pane = WorkersPane(self.settings.backlog, id="workers-pane")
        self.metrics_pane = MetricsPane(id="metrics-pane")
        source = self.reader if isinstance(self.reader, ExplorerData) else None
        self.explorer_pane = ExplorerPane(source, self.settings, id="explorer-pane")
        yield self.status_bar
        yield self.stale_banner
        with TabbedContent(initial="jobs", id="tabs") as tabs:
            self.tabs = tabs
            with TabPane("Background Jobs", id="jobs"):
                yield self.jobs_pane
            with TabPane("Workers", id="workers"):
                yield self.workers_pane
            with TabPane("Metrics", id="metrics"):
                yield self.metrics_pane
            with TabPane("Jobs", id="explorer"):
                yield self.explorer_pane
        yield Label("The terminal is too small for rqtop: it needs at least 80 columns by 24 rows.", id="too-small")
        yield PinnedFooter(compact=True)

    def on_mount(self) -> None:
        """Show the empty frame, apply the keymap setting, start polling and tick the status line's relative times."""
        self.stale_banner.display = False
        if self.settings.keymap:
            self.set_keymap(dict(self.settings.keymap))
        if self.settings.theme and self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self.first_notice:
            title = "rqtop demo" if self.watch_problem is not None else "rqtop"
            self.notify(self.first_notice, title=title, timeout=20)
        if self.watch_problem is not None:
            self.set_interval(1.0, self._check_problem)
        self._render_status()
        self.set_interval(1.0, self._render_status)
        self.jobs_pane.focus_table()
        self._start_poll()

    # Polling: one read at a time; the next is scheduled only when the last one has ended.

    def _start_poll(self) -> None:
        """Read now, unless a read is in flight (then read again as soon as it ends)."""
        if self._polling:
            self._poll_again = True
            return
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self._polling = True
        self._read_snapshot(self._wants_metrics(), self._worker_reads(), self._queue_reads())

    def _wants_metrics(self) -> bool:
        """Cost follows the screen: read the metrics when their tab is visible, when none have been read yet,
        or when the kept ones are ``METRICS_MAX_AGE_S`` old."""
        kept = self.snapshot.metrics_taken_at if self.snapshot is not None else None
        return (self.tabs.active == "metrics" or kept is None
                or self.settings.clock() - kept.timestamp() >= METRICS_MAX_AGE_S)

    def _worker_reads(self) -> WorkerReads:
        """Cost follows the screen: the workers on the visible Workers tab are re-read every refresh, the rest
        about once per heartbeat cadence; on the other tabs only workers never read (``tui.data.worker_reads``)."""
        if self.tabs.active != "workers":
            return WorkerReads.off_screen(self.refresh_s)
        return WorkerReads(visible=self.workers_pane.visible_workers(), refresh_s=self.refresh_s)

    def _queue_reads(self) -> QueueReads:
        """Cost follows the screen: the queue rows in view on the Workers tab are re-read every refresh, the rest
        about once per ``QUEUE_CADENCE_S``; on the other tabs only queues never read (``tui.data.queue_reads``)."""
        if self.tabs.active != "workers":
            return QueueReads.off_screen(self.refresh_s)
        return QueueReads(visible=self.workers_pane.visible_queues(), refresh_s=self.refresh_s)

    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def _read_snapshot(self, include_metrics: bool = True, workers: WorkerReads | None = None,
                       queues: QueueReads | None = None) -> None:
        """Read one snapshot off the UI thread (without the metrics when they are not wanted, re-reading the
        workers ``workers`` and the queues ``queues`` pick) and post it."""
        reader = self.reader
        try:
            snapshot = reader.read(include_metrics=include_metrics, workers=workers, queues=queues)
        except Exception as exc:  # every failure keeps the UI alive and is retried
            self.post_message(ReadFailed(fmt.one_line(exc), source=reader))
        else:
            self.post_message(SnapshotReady(snapshot, source=reader))

    def _schedule_next(self, delay: float) -> None:
        """Arm the timer for the next read; a refresh asked for during the last read goes at once."""
        self._polling = False
        if self._poll_again:
            self._poll_again = False
            self.call_later(self._start_poll)
            return
        if self.frozen:
            return
        self._poll_timer = self.set_timer(delay, self._start_poll)

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        """Keep the new snapshot (with the last metrics read when it skipped them), show it on the visible tab,
        poll again after refresh_s. A read by the reader of a profile switched away from is dropped."""
        if message.source is not None and message.source is not self.reader:
            return
        recovered = self.connection == FAILING
        last = self.snapshot
        snapshot = message.snapshot
        if snapshot.metrics_taken_at is None and last is not None and last.metrics_taken_at is not None:
            snapshot = snapshot.with_metrics_of(last)
        self.snapshot = snapshot
        self.last_ok = self.settings.clock()
        self.connection = CONNECTED
        self.last_error = ""
        self._render_status()
        self.render_active()
        for text, severity in self.run_followups.outcomes(message.snapshot.history):
            self.notify(text, severity=severity, timeout=8)
        if recovered:
            self.notify("Redis answers again; data is live.", title="Reconnected")
        self._schedule_next(self.refresh_s)

    def on_read_failed(self, message: ReadFailed) -> None:
        """Keep the last data on screen, marked stale; retry soon."""
        if message.source is not None and message.source is not self.reader:
            return
        self.connection = FAILING
        self.last_error = message.error
        self._render_status()
        self._schedule_next(min(RETRY_S, self.refresh_s))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's unexpected error lands: a poll becomes a failed read, others a toast."""
        if event.state != WorkerState.ERROR:
            return
        error = fmt.one_line(event.worker.error)
        if event.worker.group == "poll":
            self.post_message(ReadFailed(error))
        else:
            self._flow_busy = False
            self.notify(f"{event.worker.name} failed: {error}", severity="error")

    # Rendering: only the visible tab, never under a modal.

    def _render_status(self) -> None:
        """Status line and stale banner, relative to the clock now (nothing once the App is shutting down)."""
        if not self.is_running:
            return
        now = self.settings.clock()
        self.status_bar.show(self.connection, self.last_ok, now)
        self.status_bar.show_source(self.snapshot.read_source if self.snapshot is not None else None, now)
        self.stale_banner.show(self.connection == FAILING, self.last_ok, now, self.last_error)
        self.tabs.set_class(self.connection == FAILING and self.snapshot is not None, "-stale")

    def _active_pane(self) -> JobsPane | WorkersPane | MetricsPane | ExplorerPane:
        """The pane of the visible tab."""
        panes: dict[str, JobsPane | WorkersPane | MetricsPane | ExplorerPane] = {
            "workers": self.workers_pane, "metrics": self.metrics_pane, "explorer": self.explorer_pane}
        return panes.get(self.tabs.active, self.jobs_pane)

    def render_active(self, force: bool = False) -> None:
        """Show the current snapshot on the visible tab, unless it already shows it or a modal is open."""
        if self.snapshot is None or len(self.screen_stack) > 1 or not self.is_running:
            return
        pane = self._active_pane()
        if not force and self._shown.get(pane.id or "") is self.snapshot:
            return
        with self.batch_update():
            pane.show(self.snapshot, self.settings.clock())
        self._shown[pane.id or ""] = self.snapshot

    @on(TabbedContent.TabActivated)
    def _tab_activated(self) -> None:
        """A newly visible tab catches up with the current snapshot; bindings follow the tab. The Metrics tab
        shows kept metrics at once and reads fresh ones now if they are older than the snapshot; the Workers tab
        likewise its kept workers and queues."""
        self.render_active()
        self._active_pane().focus_table()
        self.refresh_bindings()
        shown = self.snapshot
        if (self.tabs.active == "metrics" and shown is not None and shown.metrics_taken_at is not None
                and shown.metrics_taken_at < shown.taken_at):
            self._start_poll()
        elif self.tabs.active == "workers" and shown is not None and shown.workers_as_of is not None:
            self._start_poll()  # the other tabs read no worker: read them now rather than at the next refresh

    # Keys and palette.

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only hides every write; an action offered on some tabs only (row actions on Background Jobs,
        sort on Workers and Metrics and on a focused history table, opening a queue on Workers) is hidden on the
        others."""
        if action in self.WRITE_ACTIONS and (self.settings.read_only or self.settings.refusal(action)):
            return False  # read-only, or the role (configured, or what Redis lets this user do) may not
        if action == "switch_profile" and self.profiles is None:
            return False
        if action in self._dashboard_actions and self.modal_open():
            return False  # a modal (detail, keys, a confirmation) shows and takes its own keys only, and ?
        tabs = self._action_tabs.get(action)
        if tabs and self.tabs.active not in tabs:
            return False
        if action in TARGET_NAMES and not self.target_applies(action):
            return False
        pane: JobsPane | None = getattr(self, "jobs_pane", None)
        if action in SORT_ACTIONS and self.tabs.active == "jobs":
            return pane is not None and pane.sort_table() is not None  # Background Jobs: only history sorts
        return not (action in self._schedule_actions and pane is not None and not pane.schedules_focused())

    def modal_open(self) -> bool:
        """True while a screen of ours covers the dashboard (the command palette does not count: it offers the
        dashboard's commands)."""
        return any(not isinstance(screen, CommandPalette) for screen in self.screen_stack[1:])

    async def use_session(self, session: Session) -> None:
        """Read and write through another profile's session from now on: the frame is rebuilt with its settings
        (read-only, profile name and colour, theme), the visible tab is kept, and polling starts afresh."""
        tab = self.tabs.active
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self.workers.cancel_group(self, "poll")
        self.reader, self.actions, self.settings = session.reader, session.actions, session.settings
        self.url_label = session.url_label
        self.snapshot, self.connection, self.last_ok, self.last_error = None, CONNECTING, None, ""
        self._polling = self._poll_again = self.frozen = False
        self._shown = {}
        self.refresh_s = session.settings.refresh_s
        await self.recompose()
        self.stale_banner.display = False
        self.tabs.active = tab
        if self.settings.theme and self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self._render_status()
        self.refresh_bindings()
        self._active_pane().focus_table()
        self._start_poll()

    def action_show_tab(self, tab: str) -> None:
        """Switch to a tab by id."""
        self.tabs.active = tab

    def action_refresh(self) -> None:
        """Read now (or right after the read in flight)."""
        self._start_poll()

    def _change_interval(self, slower: bool) -> None:
        """Step the refresh interval and say what it is now; the next poll uses it."""
        self.refresh_s = step_interval(self.refresh_s, slower)
        self.notify(f"Refreshing every {self.refresh_s:g} s.", timeout=3)
        if not self._polling and not self.frozen:
            if self._poll_timer is not None:
                self._poll_timer.stop()
            self._poll_timer = self.set_timer(self.refresh_s, self._start_poll)

    def action_refresh_slower(self) -> None:
        """Refresh less often (+)."""
        self._change_interval(slower=True)

    def action_refresh_faster(self) -> None:
        """Refresh more often (-)."""
        self._change_interval(slower=False)

    def action_toggle_freeze(self) -> None:
        """Freeze polling (a PAUSED badge shows) or resume it with a read now."""
        self.frozen = not self.frozen
        self.status_bar.show_paused(self.frozen)
        if self.frozen:
            if self._poll_timer is not None:
                self._poll_timer.stop()
                self._poll_timer = None
            self.notify("Polling paused: the data on screen is not refreshed. f resumes, r reads once.", timeout=4)
        else:
            self.notify(f"Polling resumed, every {self.refresh_s:g} s.", timeout=3)
            self._start_poll()

    def on_key(self, event: events.Key) -> None:
        """Esc closes Textual's keys panel; read-only mode hides the action keys, and pressing one says why
        nothing happens."""
        if event.key == "escape" and self.screen.query("HelpPanel"):
            event.stop()
            self.action_hide_help_panel()
            return
        if len(self.screen_stack) > 1:
            return
        pressed = next((key for key in (event.key, *event.aliases) if key in self._write_keys), None)
        if pressed is None:
            return
        if self.settings.read_only:
            event.stop()
            self.notify("Read-only: actions are disabled.", severity="warning")
            return
        refusal = self.settings.refusal(self._write_keys[pressed][1])
        if refusal:
            event.stop()
            self.notify(refusal, severity="warning")

    def _check_problem(self) -> None:
        """Toast once when a helper process (the demo's Redis or worker) has died."""
        problem = self.watch_problem() if self.watch_problem is not None else None
        if problem and not self._problem_said:
            self._problem_said = True
            self.notify(problem, title="rqtop demo", severity="error", timeout=30)

    def _remember_theme(self, theme: Theme) -> None:
        """Keep the picked theme in the state file beside the config (never in Redis) for the next start."""
        if self.settings.state_path is not None and theme.name != self.settings.theme:
            remember_theme(self.settings.state_path, theme.name)

    def _sort_table(self) -> KeyedTable | None:
        """The table `s` and `S` act on: the visible tab's focused sortable table (its main one on Workers)."""
        pane = self._active_pane()
        return pane.sort_table() if isinstance(pane, (JobsPane, WorkersPane, MetricsPane)) else None

    def action_cycle_sort(self) -> None:
        """Sort the visible table by its next order (the sort hint and the header arrow follow)."""
        table = self._sort_table()
        if table is not None and table.sorting is not None:
            table.sorting.cycle()
            self.render_active(force=True)

    def action_reverse_sort(self) -> None:
        """Reverse the visible table's sort order."""
        table = self._sort_table()
        if table is not None and table.sorting is not None:
            table.sorting.reverse()
            self.render_active(force=True)

    @on(KeyedTable.SortChanged)
    def _header_sorted(self) -> None:
        """A header click sorted a table: show the rows in the new order now."""
        self.render_active(force=True)

    def action_help(self) -> None:
        """List the keys that work right now: the open screen's own (the dashboard's, or a modal's such as the
        job drawer), then the keys every table and dialog shares."""
        modal = self.modal_open()
        owner = type(self.screen) if modal else type(self)
        rows = [
            (self.get_key_display(binding), binding.description, binding.tooltip)
            for binding in owner.BINDINGS
            if isinstance(binding, Binding)
            and (modal or self.check_action(binding.action.split("(")[0], ()) is not False)
        ]
        rows += NAVIGATION_KEYS
        self.push_screen(KeysScreen(rows))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's palette commands, less those the dashboard's own entries duplicate ("Quit": ours asks once
        while an action runs)."""
        for command in super().get_system_commands(screen):
            if command.title not in DUPLICATED_SYSTEM_COMMANDS:
                yield command

    async def action_quit(self) -> None:
        """Quit; while an action is running or awaiting its confirmation, ask once (q again quits)."""
        busy = self._flow_busy or any(worker.group == "action" and worker.is_running for worker in self.workers)
        if busy and not self._quit_asked:
            self._quit_asked = True
            self.notify("An action is still running: press q again to quit anyway.", severity="warning")
            return
        self.exit()

    @on(JobsPane.ActionRequested)
    async def _button_action(self, message: JobsPane.ActionRequested) -> None:
        """A Job Management button runs the same action as its key, through the same checks."""
        await self.run_action(message.action)

    @on(JobsPane.HistorySelected)
    def _open_detail(self, message: JobsPane.HistorySelected) -> None:
        """Enter on a history row opens its detail."""
        self.push_screen(JobDetailScreen(message.row, self.settings.clock()))

    @on(MetricsPane.TaskSelected)
    def _explore_task(self, message: MetricsPane.TaskSelected) -> None:
        """Enter on a job type: the Jobs tab, filtered to that task's recent runs and failures (completed too)."""
        self.action_show_tab("explorer")
        self.explorer_pane.apply_query(task_query(message.task))

    @on(JobsPane.ScheduleOpened)
    def _open_schedule_jobs(self, message: JobsPane.ScheduleOpened) -> None:
        """Enter on a schedule that needs attention: the Jobs tab filtered to its task's unresolved failures (the
        failed registry) with the newest one's detail open; on one that is only running, its running jobs and the
        active run's detail."""
        row = message.row
        failures = row.needs_attention
        self.tabs.active = "explorer"
        self.explorer_pane.apply_query(shlex.join([f"state:{'failed' if failures else 'running'}",
                                                   f"task:{row.task}"]))
        job_id = row.latest_failure_key if failures else row.active_job_id
        if job_id:
            self.explorer_pane.open_job(job_id)

    @on(WorkersPane.QueueSelected)
    def _open_queue(self, message: WorkersPane.QueueSelected) -> None:
        """Enter on a queue row opens its jobs."""
        self.open_queue(message.queue)

    def open_queue(self, queue: str) -> None:
        """Open the jobs of ``queue`` (Enter on its row, `o`, or the palette naming it): the Jobs tab filtered to
        ``queue:NAME``, so a queue is browsed, paged and acted on by the one explorer (2 goes back)."""
        self.action_show_tab("explorer")
        self.explorer_pane.apply_query(queue_query(queue))
        self.explorer_pane.focus_table()

    def run_on_schedule(self, action: str, schedule: ScheduleRow) -> None:
        """A palette entry naming a schedule: the row action ``action`` on it, with the key's refusals (read-only,
        Redis unreachable, a confirmation open, a schedule that cannot take it) and toasts."""
        self.start_action(self.action_row(action), schedule)

    def action_browse_queue(self) -> None:
        """Open the job lists of the highlighted queue on the Workers tab, else of the first queue."""
        queues = self.snapshot.queues if self.snapshot is not None else ()
        queue = self.workers_pane.selected_queue() or (queues[0].name if queues else None)
        if queue is None:
            self.notify("No queue to browse yet.", severity="warning")
            return
        self.open_queue(queue)
