"""doctor's steps without the CLI."""

from __future__ import annotations

import pytest

from backupshare.doctor import _clock

from .helpers import token_settings


@pytest.mark.parametrize("zone", ["GMT", "+0000", "-0000"])
def test_clock_reads_every_utc_spelling_of_a_date(zone: str) -> None:
    step = _clock(token_settings("http://127.0.0.1:9"), f"Sat, 01 Jan 2000 00:00:00 {zone}")
    assert (step.check, step.status) == ("clock", "warn")
    assert "ahead of the server" in step.detail
