"""What `share` and `list-shares` load: only the modules their run uses (a test of imports, not
of time; issue 26). Each case runs the real command against the emulator in a fresh process and
checks that it succeeded, so an empty module list cannot come from a command that did nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from backupshare.emulator import RunningEmulator

from .helpers import BACKUP, OWN, P1

PROBE = """
import io, json, sys, contextlib
from backupshare.cli import main
code = 0
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(json.loads(sys.argv[1]))
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

# Loaded by no sharing command on VBS unless it asks for them: the other verbs, the selectors
# (no selector given), the fan-out's threads, and rich (a machine format).
NOT_FOR_A_PLAIN_RUN = (
    "rich",
    "backupshare.selectors",
    "backupshare.verbs.cancel",
    "backupshare.verbs.receive",
    "backupshare.verbs.audit",
    "backupshare.emulator",
    "concurrent.futures",
)


def loaded(emulator: RunningEmulator, argv: list[str]) -> set[str]:
    env = {**os.environ, "BACKUPSHARE_ENDPOINT": emulator.url, "BACKUPSHARE_PROJECT_ID": OWN,
           "BACKUPSHARE_TOKEN": "emulator-token"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv)],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    return set(report["modules"])


def unwanted(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m in names or m.startswith(tuple(n + "." for n in names)))


@pytest.mark.parametrize(
    "argv",
    [
        ["list-shares", "-o", "json"],
        ["list-shares", "-o", "jsonl", "--backup-id", BACKUP],
        ["list-shares", "-o", "json", "--shared-with-me"],
        ["share", BACKUP, P1, "-o", "json"],
    ],
)
def test_a_plain_sharing_command_loads_only_what_it_uses(
    emulator: RunningEmulator, argv: list[str]
) -> None:
    modules = loaded(emulator, argv)
    assert unwanted(modules, NOT_FOR_A_PLAIN_RUN) == []
    assert "requests" in modules  # the probe sees what the run loaded


def test_list_shares_loads_no_verb_of_another_command(emulator: RunningEmulator) -> None:
    modules = loaded(emulator, ["list-shares", "-o", "json"])
    assert unwanted(modules, ("backupshare.verbs.share", "backupshare.verbs.wait")) == []
    assert "backupshare.verbs.project" in modules  # the listing across the project


def test_share_on_vbs_does_not_load_the_cbr_wire(emulator: RunningEmulator) -> None:
    # (list-shares does: its --sort-key help names every service's keys)
    modules = loaded(emulator, ["share", BACKUP, P1, "-o", "json"])
    assert unwanted(modules, ("backupshare.cbr", "backupshare.verbs.project")) == []
    assert "backupshare.verbs.share" in modules


def test_a_selector_given_loads_the_selectors(emulator: RunningEmulator) -> None:
    # the other side of the lazy import: when a selector is given, it is read and applied
    modules = loaded(emulator, ["list-shares", "-o", "json", "--name-prefix", "db-"])
    assert "backupshare.selectors" in modules
