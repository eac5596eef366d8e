"""Edit and replay (issue 13): a dead-letter job's arguments as JSON in a text area, checked on submit, confirmed,
then enqueued as a new job through ``OperatorActions.edit_replay`` (the original kept and linked, audited).

The document comes from ``actions.edit_form`` (read off the UI thread; a payload that is not plain data is refused
there with its reason, and no editor opens). Bad JSON is an error line under the text area, never a crash, and
nothing is sent; Esc (or Keep job) closes the editor and changes nothing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from tui import formatting as fmt
from tui.action_table import JobAction
from tui.data.edit_document import NotReplayable, parse_document
from tui.messages import ActionFinished
from tui.screens.confirm import ConfirmScreen
from worker.display_text import safe_text

if TYPE_CHECKING:
    from tui.data.edit_document import EditForm

Edited = tuple[str, str]
"""(args JSON, kwargs JSON) as the operator confirmed them."""


class EditReplayScreen(ModalScreen[Edited | None]):
    """Dismisses with the edited (args, kwargs) JSON once checked and confirmed; None on Esc or Keep job."""

    BINDINGS = [
        Binding("escape", "back_out", "Back out", id="edit_replay.escape", tooltip="Close without changing anything",
                priority=True),
        Binding("ctrl+s", "submit", "Replay", id="edit_replay.submit",
                tooltip="Check the JSON, then confirm enqueueing the new job"),
    ]

    def __init__(self, form: EditForm) -> None:
        super().__init__()
        self.form = form
        self.error = ""

    def compose(self) -> ComposeResult:
        """What will happen, the JSON, the error line, and two buttons."""
        form = self.form
        with Vertical(id="edit-replay-dialog") as dialog:
            dialog.border_title = Content(f"Edit and replay {fmt.short_task(form.func_name)}")
            masked = (f" {form.masked:,} masked value(s) show *** or masked text: left as shown, each keeps the "
                      "original's value.") if form.masked else ""
            yield Static(f"Job {safe_text(form.job_id)} on {safe_text(form.queue)} stays where it is; a new job runs "
                         f"{safe_text(form.func_name)} with these arguments.{masked}", id="edit-replay-about",
                         markup=False)
            yield TextArea(form.text, id="edit-replay-text", soft_wrap=False, show_line_numbers=True,
                           tab_behavior="indent")
            yield Label("", id="edit-replay-error", classes="warning-line", markup=False)
            yield Label("ctrl+s replay (asks first) · Esc backs out", id="edit-replay-keys")
            with Horizontal(id="edit-replay-buttons"):
                yield Button("Replay edited…", id="edit-replay-submit", variant="error")
                yield Button("Keep job", id="edit-replay-keep", variant="primary")

    def on_mount(self) -> None:
        """The error line starts hidden; the keyboard goes to the text."""
        self.query_one("#edit-replay-error").display = False
        self.query_one(TextArea).focus()

    def _show_error(self, error: str) -> None:
        """Say in one line what is wrong with the JSON (or hide the line)."""
        self.error = error
        line = self.query_one("#edit-replay-error", Label)
        line.update(error)
        line.display = bool(error)

    @on(Button.Pressed, "#edit-replay-submit")
    def action_submit(self) -> None:
        """Check the document; when it is good, confirm (backing out of that returns to the editor)."""
        try:
            args, kwargs = parse_document(self.query_one(TextArea).text)
        except NotReplayable as exc:
            self._show_error(f"⚠ {exc}: nothing was sent")
            return
        self._show_error("")
        edited = (json.dumps(args), json.dumps(kwargs))

        def decided(confirmed: bool | None) -> None:
            if confirmed:
                self.dismiss(edited)

        keys = ", ".join(safe_text(str(key)) for key in kwargs) or "none"
        body = (f"A new job will run {safe_text(self.form.func_name)} on {safe_text(self.form.queue)} with "
                f"{len(args):,} positional argument(s) and the keyword arguments: {keys}.\n"
                f"The original {safe_text(self.form.job_id)} stays in the dead letter, linked to the new job.")
        self.app.push_screen(ConfirmScreen("Edit and replay", body, "Enqueue new job"), decided)

    @on(Button.Pressed, "#edit-replay-keep")
    def action_back_out(self) -> None:
        """Close; nothing was sent."""
        self.dismiss(None)


def start_edit_flow(node: DOMNode, row: JobAction, job_id: str) -> None:
    """Read the editor's document off the UI thread (reads only), open the editor, and on a confirmed edit run
    ``actions.edit_replay`` through the App's action flow (one toast, then a refresh). The caller has checked
    ``app._refused()``; ``_flow_busy`` is held until the editor closes."""
    app: Any = node.app
    app._flow_busy = True

    def read() -> None:
        try:
            form = app.actions.edit_form(job_id)
        except Exception as exc:  # not plain data, not in the dead letter, Redis gone: say why, open nothing
            reason = str(exc) if isinstance(exc, ValueError) else fmt.one_line(exc)
            app.call_from_thread(_refused, app, row, reason)
            return
        app.call_from_thread(_open, app, row, form)

    node.run_worker(read, thread=True, group="job-plan", exit_on_error=False)


def _refused(app: Any, row: JobAction, error: str) -> None:
    """No editor opened; say why."""
    app._flow_busy = False
    app.notify(f"{row.title}: {error}", severity="warning")


def _open(app: Any, row: JobAction, form: EditForm) -> None:
    """Open the editor; act on what it returns."""

    def decided(edited: Edited | None) -> None:
        app._flow_busy = False
        if edited is None:
            app.notify("Nothing was changed.")
            return
        args_json, kwargs_json = edited
        app._act(lambda: _finished(app.actions.edit_replay(form.job_id, args_json, kwargs_json, keep_masked=True)),
                 row.title)

    app.push_screen(EditReplayScreen(form), decided)


def _finished(result: Any) -> ActionFinished:
    """The toast: the new job's id, or why nothing was enqueued."""
    return ActionFinished("edit_replay", result.ok, result.message, "information" if result.ok else "error")
