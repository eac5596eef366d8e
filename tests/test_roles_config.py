"""The capability map as data: it names every action of the action table, a config file may change it, and a bad
entry (role, action, --role, RQTOP_ROLE) is one line and exit 2."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.cli_support import one_error_line, rqtop
from tui.action_table import ACTIONS, JOB_ACTIONS, TARGET_ACTIONS
from tui.data.config_file import ConfigError, parse_config
from tui.data.roles import ACTION_NAMES, DEFAULT_GRANTS


def test_the_map_names_every_action_of_the_action_table_and_the_issues_defaults() -> None:
    table = {row.name for row in ACTIONS} | {row.name for row in JOB_ACTIONS} | {row.name for row in TARGET_ACTIONS}
    assert table <= set(ACTION_NAMES)
    assert DEFAULT_GRANTS["viewer"] == frozenset()
    assert DEFAULT_GRANTS["operator"] == {"rerun", "cancel", "cancel_running", "run_now", "run_now_notify",
                                          "toggle_pause", "cancel_queue", "requeue_failed"}, (
        "re-run and cancel, also a whole queue's (Workers tab C and R)")
    assert DEFAULT_GRANTS["admin"] == set(ACTION_NAMES)


def test_a_config_file_changes_a_role_and_acl_print_follows(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('role = "operator"\n[roles]\noperator = ["rerun", "dismiss"]\n')
    printed = rqtop("acl", "print", "--role", "operator", "--password", "pw", env={"RQTOP_CONFIG": str(config)})
    assert printed.returncode == 0, printed.stderr
    words = shlex.split(printed.stdout.splitlines()[-1])
    assert "+del" in words and "+set" not in words  # dismiss now, run now no more
    assert "reads and dismiss, rerun" in printed.stderr and len(printed.stdout.splitlines()) == 1
    default = rqtop("acl", "print", "--role", "operator", "--password", "pw")
    assert "+del" not in shlex.split(default.stdout.splitlines()[-1])


@pytest.mark.parametrize(("text", "named"), [
    ('[roles]\noperator = ["rerun", "nuke"]\n', "field 'roles.operator': unknown action 'nuke'"),
    ('[roles]\nboss = ["rerun"]\n', "field 'roles.boss': unknown role 'boss'"),
    ('[roles]\noperator = "rerun"\n', "field 'roles.operator': expected a list of action names"),
    ('roles = 3\n', "field 'roles': expected a table"),
    ('role = "root"\n', "field 'role': unknown role 'root'"),
])
def test_a_bad_roles_entry_is_one_line_naming_it(tmp_path: Path, text: str, named: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match="roles|role"):
        import tomllib

        parse_config(config, tomllib.loads(text))
    line = one_error_line(rqtop("acl", "print", "--role", "viewer", env={"RQTOP_CONFIG": str(config)}))
    assert str(config) in line and named in line


def test_a_bad_role_flag_or_variable_is_one_line() -> None:
    assert "RQTOP_ROLE: unknown role 'boss'" in one_error_line(
        rqtop("jobs", "retry", "x", "--yes", env={"RQTOP_ROLE": "boss"}))
    assert "--role" in one_error_line(rqtop("--role", "boss", "status"))
    assert "--prefix" in one_error_line(rqtop("acl", "print", "--role", "viewer", "--prefix", "a b"))
