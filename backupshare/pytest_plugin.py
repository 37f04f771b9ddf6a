"""The pytest plugin of backupshare.testing (entry point `pytest11`): the `backupshare_emulator`
fixture, a running emulator for one test. Loaded by pytest in every project where backupshare
is installed, so it imports nothing of backupshare's until a test asks for the fixture.

    @pytest.mark.backupshare_emulator(service="cbr", max_targets=3)  # optional: its options
    def test_my_job(backupshare_emulator):
        my_job(backupshare_emulator.client)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .testing import TestEmulator

MARKER = "backupshare_emulator"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(service='vbs', **options): options of the backupshare_emulator fixture",
    )


@pytest.fixture
def backupshare_emulator(request: pytest.FixtureRequest) -> Iterator[TestEmulator]:
    """A running emulator of VBS and CBR (backupshare.testing.emulator) with a ready Client;
    the test's `backupshare_emulator` marker, if any, gives its options."""
    from .testing import emulator

    marker = request.node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker is not None else {}
    with emulator(**options) as emu:
        yield emu
