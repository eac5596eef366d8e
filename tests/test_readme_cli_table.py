"""The README's command-line table lists each command form once (it once had two `status` and two `audit` rows)."""

from __future__ import annotations

import re
from pathlib import Path


def test_each_cli_command_has_one_row() -> None:
    readme = Path(__file__).resolve().parents[1].joinpath("README.md").read_text()
    table = readme.split("## Command line", 1)[1].split("\n\n", 2)[1]
    cells = [line.split(" | ", 1)[0].strip("| `") for line in table.splitlines() if line.startswith("| `rqtop")]
    forms = [re.sub(r"\s*\[[^\]]*\]", "", cell).strip("` ") for cell in cells]  # optional flags left out
    assert len(forms) > 15
    assert sorted({form for form in forms if forms.count(form) > 1}) == []
    assert "rqtop status" in forms and "rqtop audit" in forms
