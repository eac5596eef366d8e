"""The schedule form (issue 19): cron or interval, timezone, priority, timeout, expiry, kwargs, notify.

It checks the edited table with the schedules file's own parser before it closes (the file's one-line message
under the fields), and dismisses with the fields that changed, Reset to file, Delete (a run-time schedule, after
a confirmation), or None (nothing changed). The action runs after it closes, on the schedule captured when it
opened. Without a schedule it adds a run-time one: a name and a task picked from the file's tasks on screen
(the worker imported them), never a typed code path.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from tui.action_table import ScheduleEdit
from tui.data.models import ScheduleRow
from tui.screens.confirm import ConfirmScreen
from worker import overrides
from worker.schedules import PRIORITY_QUEUES, ScheduleError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

NOTIFY_CHOICES = (("default", ""), ("failures", "failures"), ("all", "all"), ("never", "never"))
INT_FIELDS = (("interval", "interval"), ("timeout", "timeout"), ("expires", "expires_after_min"))
"""Input id -> table field of the whole-number inputs."""


def parse_kwargs(text: str) -> dict[str, Any]:
    """A JSON object or a TOML inline table (``{ a = 1 }``); ValueError with one line otherwise."""
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = tomllib.loads(f"kwargs = {text}")["kwargs"]
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"field 'kwargs': neither a JSON object nor a TOML inline table ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(f"field 'kwargs': must be an object or table, got {type(value).__name__}")
    return value


def current_table(row: ScheduleRow) -> dict[str, Any]:
    """What the row says about its schedule, as a [[schedule]] table (kwargs are not shown: they may be secret)."""
    table: dict[str, Any] = {"name": row.name, "task": row.task, "timezone": row.timezone, "priority": row.priority,
                             "cron": row.cron, "interval": row.interval_s, "timeout": row.timeout_s,
                             "expires_after_min": row.expires_after_s // 60 if row.expires_after_s else None,
                             "notify": row.notify}
    return {key: value for key, value in table.items() if value is not None}


def file_tasks(rows: Any) -> tuple[str, ...]:
    """The tasks of the file's schedules on screen: what a run-time schedule may run."""
    return tuple(sorted({row.task for row in rows if row.source == "rqtop" and row.override != "run-time"
                         and not row.unreadable}))


NEW_ROW = ScheduleRow(name="", task="", description="", cron=None, interval_s=None, schedule_text="",
                      timezone="UTC", priority="normal", queue="default", next_run=None, pending=0, last_run=None,
                      last_status=None, paused=False, override="new")
"""The empty row the form starts from when it adds a run-time schedule."""


class ScheduleEditScreen(ModalScreen[ScheduleEdit | None]):
    """Edit one schedule (or add a run-time one); Save checks the fields as the file would, Reset to file removes
    the override, Delete removes a run-time schedule."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="edit.save", tooltip="Check the fields and save them as an override"),
        Binding("escape", "cancel", "Back out", id="edit.cancel", tooltip="Close without changing anything"),
    ]

    def __init__(self, row: ScheduleRow | None, tasks: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.creating = row is None
        self.row = NEW_ROW if row is None else row
        self.tasks = tasks
        self.table = {} if row is None else current_table(row)
        self.label = overrides.RUNTIME_LABEL if self.row.override in ("run-time", "new") else overrides.OVERRIDE_LABEL

    def compose(self) -> ComposeResult:
        """The fields, prefilled from the schedule; its run-time state and diff; the file's message; buttons."""
        row = self.row
        with Vertical(id="edit-dialog") as dialog:
            dialog.border_title = "Add run-time schedule" if self.creating else f"Edit schedule {row.name}"
            yield Static(self._state_line(), id="edit-state", markup=False)
            with Grid(id="edit-fields"):
                if self.creating:
                    yield Label("Name")
                    yield Input("", id="name", placeholder="a-z, 0-9, _", compact=True)
                    yield Label("Task")
                    yield Select([(Text(task), task) for task in self.tasks], id="task", compact=True,
                                 prompt="one of the file's tasks")
                yield Label("Cron")
                yield Input(row.cron or "", id="cron", placeholder="5 fields, e.g. */15 * * * *", compact=True)
                yield Label("Interval (s)")
                yield Input(_text(row.interval_s), id="interval", placeholder="or seconds", compact=True)
                yield Label("Timezone")
                yield Input(row.timezone, id="timezone", compact=True)
                yield Label("Priority")
                yield Select([(f"{p} (queue {q})", p) for p, q in PRIORITY_QUEUES.items()], value=row.priority
                             if row.priority in PRIORITY_QUEUES else Select.NULL, id="priority", compact=True,
                             allow_blank=False)
                yield Label("Timeout (s)")
                yield Input(_text(row.timeout_s), id="timeout", placeholder="none", compact=True)
                yield Label("Expires (min)")
                yield Input(_text(row.expires_after_s // 60 if row.expires_after_s else None), id="expires",
                            placeholder="never", compact=True)
                yield Label("Kwargs")
                yield Input("", id="kwargs", compact=True, placeholder="none; JSON or TOML {…}" if self.creating
                            else "unchanged; JSON or TOML {…} replaces")
                yield Label("Notify")
                yield Select([(label, value) for label, value in NOTIFY_CHOICES], value=row.notify or "",
                             id="notify", compact=True, allow_blank=False)
            yield Static("", id="edit-error", markup=False)
            yield Label("ctrl+s save · Esc back out · applied from the scheduler's next tick", id="edit-keys")
            with Horizontal(id="edit-buttons"):
                yield Button("Add" if self.creating else "Save", id="save", variant="primary", compact=True)
                if row.override == "run-time":
                    yield Button("Delete schedule", id="delete", variant="error", compact=True)
                elif not self.creating:
                    yield Button("Reset to file", id="reset", variant="warning", compact=True,
                                 disabled=row.override != "overridden")
                yield Button("Cancel", id="cancel", compact=True)

    def _state_line(self) -> str:
        """Overridden (with its diff and whether the file changed), run-time, or as the file says."""
        row = self.row
        if self.creating:
            lines = ["A run-time schedule: not in the file ('rqtop schedules export' writes it into one)."]
        elif row.override == "run-time":
            lines = ["Run-time schedule (not in the file)."]
        elif row.override == "overridden":
            lines = ["Overridden at run time" + (" — the FILE CHANGED since" if row.file_changed else "") + ":"]
            lines += [f"  {line}" for line in row.override_diff[:4]]
        else:
            lines = ["As the schedules file says; a save makes a run-time override."]
        if row.override_error:
            lines.append(f"Not applied: {row.override_error}")
        return "\n".join(lines)

    def on_mount(self) -> None:
        """Start in the first field."""
        self.query_one("#name" if self.creating else "#cron", Input).focus()

    def fields(self) -> dict[str, Any]:
        """The fields whose value differs from the schedule's; ValueError (one line) for a value that is not one."""
        values: dict[str, Any] = {}
        cron = self.query_one("#cron", Input).value.strip()
        for input_id, field in INT_FIELDS:
            text = self.query_one(f"#{input_id}", Input).value.strip()
            if text and not text.lstrip("-").isdigit():
                raise ValueError(f"field '{field}': must be a whole number, got {text!r}")
            values[field] = int(text) if text else None
        if cron and values["interval"] is not None:
            raise ValueError("field 'cron': give either 'cron' or 'interval', not both (clear one)")
        values["cron"] = cron or None
        values["timezone"] = self.query_one("#timezone", Input).value.strip() or None
        values["priority"] = self.query_one("#priority", Select).value
        values["notify"] = self.query_one("#notify", Select).value or None
        kwargs = self.query_one("#kwargs", Input).value.strip()
        changed = {key: value for key, value in values.items() if value != self.table.get(key)}
        if kwargs:
            changed["kwargs"] = parse_kwargs(kwargs)
        return changed

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Check the edited table with the file's parser; close with the changed fields, or say why not."""
        error = self.query_one("#edit-error", Static)
        name = self.query_one("#name", Input).value.strip() if self.creating else self.row.name
        try:
            changed = self.fields()
            if self.creating:
                task = self.query_one("#task", Select).value
                changed = {"name": name, **({"task": task} if isinstance(task, str) else {}),
                           **{key: value for key, value in changed.items() if value is not None}}
            overrides.validate(overrides.merge(self.table, changed), self.label)
        except ScheduleError as exc:
            error.update(exc.messages[0])
            return
        except ValueError as exc:
            error.update(f"{self.label}: schedule '{name}': {exc}")
            return
        if not changed:
            error.update("Nothing changed: edit a field, or Esc to back out.")
            return
        self.dismiss(ScheduleEdit(name, changed, create=self.creating))

    @on(Button.Pressed, "#delete")
    def action_delete(self) -> None:
        """Ask, then remove this run-time schedule."""
        name = self.row.name

        def decided(confirmed: bool | None) -> None:
            if confirmed:
                self.dismiss(ScheduleEdit(name, {}, delete=True))

        self.app.push_screen(ConfirmScreen(
            "Delete run-time schedule", f"{name} is not in the schedules file: deleting it stops its runs for good "
            "(the scheduler unregisters it on its next tick).", f"Delete {name}"), decided)

    @on(Button.Pressed, "#reset")
    def action_reset(self) -> None:
        """Remove the override: the file's definition applies again."""
        self.dismiss(ScheduleEdit(self.row.name, {}, reset=True))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close; nothing changes."""
        self.dismiss(None)


def _text(value: int | None) -> str:
    """An optional number as the input's text."""
    return "" if value is None else str(value)
