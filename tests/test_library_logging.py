"""The library logs, never prints (docs/library.md "Logging and progress"), review of #20: in a
plain script its warnings go nowhere unless the script configures logging."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import logging, sys
if sys.argv[1] == "configured":
    logging.basicConfig(format="logged: %(name)s %(levelname)s %(message)s")
from backupshare.testing import BACKUP_IDS, emulator
with emulator(service="cbr") as emu:  # sharing an encrypted backup warns (a dry run: nothing sent)
    emu.client.share(BACKUP_IDS["vault-encrypted"], [emu.partner_project_id], dry_run=True)
print("done")
"""


@pytest.mark.parametrize("logging_setup", ["none", "configured"])
def test_a_plain_script_sees_the_warnings_only_when_it_configures_logging(
    isolated: Path, logging_setup: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, logging_setup],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "done\n"), done.stderr
    if logging_setup == "none":
        assert done.stderr == ""  # not logging's last-resort handler
    else:
        assert done.stderr.startswith("logged: backupshare WARNING backup ")
        assert "is encrypted" in done.stderr
