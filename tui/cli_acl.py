"""``rqtop acl print``: the ``ACL SETUSER`` line that makes a Redis user able to do exactly one role's actions."""

from __future__ import annotations

import shlex

import click

from tui.data.acl import REDIS_VERSIONS
from tui.data.roles import ROLES


@click.group("acl")
def acl() -> None:
    """Redis ACL users for rqtop's roles (viewer, operator, admin)."""


@acl.command("print")
@click.option("--role", type=click.Choice(ROLES), required=True, help="The role the user gets.")
@click.option("--prefix", default=None, metavar="PREFIX",
              help="RQ's key prefix the user may touch (default: --key-prefix, $RQ_KEY_PREFIX, then rq).")
@click.option("--user", default=None, metavar="NAME", help="The ACL user's name (default: rqtop-<role>).")
@click.option("--password", default=None, metavar="TEXT",
              help="The user's password (default: a fresh random one, printed in the line).")
@click.option("--redis-version", type=click.Choice(REDIS_VERSIONS), default="7", show_default=True,
              help="The server's ACL syntax: 7 (Redis or Valkey 7+, selectors keep the audit log append-only) or 6.2.")
def acl_print(role: str, prefix: str | None, user: str | None, password: str | None, redis_version: str) -> None:
    """Print the ACL SETUSER line (key patterns, RQ's worker command channels, commands) for ROLE; paste it into
    redis-cli (``rqtop acl print --role operator | redis-cli``), or put it in your ACL file as "user ..." (without
    the leading "ACL SETUSER"); what the role may do, and what the line cannot enforce, go to stderr."""
    from tui import cli
    from tui.data.acl import caveat, only_rqtop_refuses, setuser_line
    from worker import keys

    if prefix is not None and not keys.valid_key_prefix(prefix):
        cli.fail(f"--prefix: {prefix!r} is not a key prefix RQ accepts (letters, digits and _.:{{}}-)")
    if prefix is None:
        cli.use_key_prefix(cli._root_option("key_prefix", None))
        prefix = keys.RQ_PREFIX.rstrip(":")
    if user is not None and (not user or any(c.isspace() for c in user)):
        cli.fail(f"--user: {user!r}: an ACL user name has no spaces")
    if password is not None and (not password or any(c.isspace() for c in password)):
        cli.fail("--password: give a password without spaces")
    role_map = cli._settings().role_map
    words = setuser_line(role, user, password, prefix, role_map, redis_version)
    click.echo(f"# rqtop role {role}: {_summary(role, role_map)}", err=True)  # stdout is only the line (pipe it)
    note = caveat(role, role_map, redis_version)
    if note:
        click.echo(f"# note: {note}", err=True)
    alike = only_rqtop_refuses(role, role_map, redis_version)
    if alike:
        click.echo(f"# note: Redis cannot tell {', '.join(alike)} from this role's own actions (the same commands on "
                   "the same keys): rqtop refuses them, Redis does not", err=True)
    click.echo(" ".join(shlex.quote(word) for word in words))


def _summary(role: str, role_map: object) -> str:
    """The role's actions in one line, for the comment above its ACL line."""
    from tui.data.roles import RoleMap

    assert isinstance(role_map, RoleMap)
    actions = sorted(role_map.actions(role))
    return ("reads only" if not actions else "reads and " + ", ".join(actions))
