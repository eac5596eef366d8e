"""SVG snapshots of the profile name in its colour, the TLS NOT VERIFIED badge and the profile switcher (ctrl+o),
at the smallest supported terminal and a wide one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tui.fakes import FakeActions, FakeReader, frozen_settings
from tests.tui.test_snapshots import SMALL, WIDE, show
from tui.app import RqtopApp
from tui.protocols import Session


class FakeProfiles:
    """Three profiles; opening one is never reached in these snapshots."""

    def names(self) -> tuple[str, ...]:
        return ("staging", "prod", "prod-sentinel")

    def open(self, name: str) -> Session:
        raise ValueError(f"not in a snapshot: {name}")


def prod_app() -> RqtopApp:
    """The dashboard as `rqtop --profile prod --tls-insecure` builds it (a red, read-only prod profile)."""
    settings = frozen_settings(profile="prod", profile_color="red", read_only=True, tls_unverified=True,
                               role="viewer")
    return RqtopApp(FakeReader(), FakeActions(), settings, "rediss://rq:***@redis.prod:6380/0 · TLS NOT VERIFIED",
                    profiles=FakeProfiles())


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=lambda size: f"{size[0]}x{size[1]}")
def test_profile_name_in_its_colour_and_tls_badge(snap_compare: Any, size: tuple[int, int]) -> None:
    """"prod" on red, TLS NOT VERIFIED on the error colour, READ-ONLY from the profile, the URL masked."""
    assert snap_compare(prod_app(), terminal_size=size, run_before=show())


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=lambda size: f"{size[0]}x{size[1]}")
def test_profile_switcher(snap_compare: Any, size: tuple[int, int]) -> None:
    """ctrl+o lists the profiles with the current one marked and highlighted."""
    assert snap_compare(prod_app(), terminal_size=size, run_before=show("ctrl+o"))
