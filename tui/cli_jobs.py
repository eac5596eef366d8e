"""The ``rqtop jobs`` command group: find, show and act on single jobs from the shell.

Listing verbs (``ls``, ``show``) and action verbs (``retry``, ``cancel``, ``stop``, ``dismiss`` …) attach here;
``tui.cli`` adds the group to the root command.
"""

from __future__ import annotations

import click


@click.group("jobs")
def jobs() -> None:
    """Find, show and act on single jobs (the Jobs tab's twin)."""
