"""The keymap setting: RQTOP_KEYMAP="binding.id=key,..." parsed into Settings.keymap, malformed entries named."""

from __future__ import annotations

import re

import pytest

from tui.data.settings import Settings, SettingsError, parse_keymap


def test_keymap_pairs_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RQTOP_KEYMAP", " jobs.janitor = ctrl+j ,view.refresh=f5,")
    assert Settings.from_env().keymap == (("jobs.janitor", "ctrl+j"), ("view.refresh", "f5"))
    monkeypatch.delenv("RQTOP_KEYMAP")
    assert Settings.from_env().keymap == ()


@pytest.mark.parametrize("text", ["jobs.janitor", "=ctrl+j", "jobs.janitor="])
def test_a_malformed_entry_is_named(text: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(f"RQTOP_KEYMAP: entry '{text}'")):
        parse_keymap(f"view.refresh=f5,{text}")
