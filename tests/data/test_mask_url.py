"""mask_url: no password of a Redis URL is ever shown, however the URL is written; the rest stays as written."""

from __future__ import annotations

import pytest

from tests.cli_support import one_error_line, rqtop
from tui.data.connection import mask_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@cache.internal:6379/0", "redis://:***@cache.internal:6379/0"),
        ("rediss://app:hunter2@Cache.Internal:6380/1", "rediss://app:***@Cache.Internal:6380/1"),
        ("redis://app:hunter2@[::1]:6379/0", "redis://app:***@[::1]:6379/0"),  # IPv6 keeps its brackets
        ("redis://app:hun#ter2@db:6379/0", "redis://app:***@db:6379/0"),  # urlsplit cuts at the '#'
        ("redis://app:hu/n?t@er2@db:6379/0", "redis://app:***@db:6379/0"),  # '/', '?' and '@' in it
        ("redis://db:6379/0?password=hunter2&db=1", "redis://db:6379/0?password=***&db=1"),
        ("unix:///run/redis.sock?db=2&pwd=hunter2", "unix:///run/redis.sock?db=2&pwd=***"),
        ("redis://db/0?Auth_Token=x;secret=y&passwd=z", "redis://db/0?Auth_Token=***;secret=***&passwd=***"),
        ("redis://app@db:6379/0", "redis://app@db:6379/0"),  # a user name alone is not a secret
        ("redis://db:6379/0", "redis://db:6379/0"),
    ],
)
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown


@pytest.mark.parametrize(
    "url",
    ["redis://app:hun#ter2@127.0.0.1:1/0", "redis://app:hun/ter2@127.0.0.1:notaport/0",
     "redis://127.0.0.1:1/0?password=hunter2", "redis://app:hunter2@127.0.0.1:99999/0"],
)
def test_no_error_line_shows_the_password(url: str) -> None:
    line = one_error_line(rqtop("status", "--url", url))
    assert "hunter2" not in line and "ter2" not in line and "***" in line, line
