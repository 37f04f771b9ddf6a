"""`backupshare demo` (issue #24 point 9): the tour against an emulator of its own, each command
printed as typed with its real output; the emulator stops whatever happens."""

from __future__ import annotations

import io
import os
import re
import subprocess
from typing import Any

import pytest
import requests

from backupshare.demo import DemoStepFailed, run
from backupshare.emulator import RunningEmulator

from .helpers import BACKUP, BIN, OWN, P1

pytestmark = pytest.mark.e2e
URL_RE = re.compile(r"^demo: a (?:VBS|CBR) emulator on (http://127\.0\.0\.1:\d+),", re.M)


def assert_stopped(stdout: str) -> None:
    found = URL_RE.search(stdout)
    assert found, stdout
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{found[1]}/_emulator/backups", timeout=5)


def demo(decoy: RunningEmulator, *argv: str) -> subprocess.CompletedProcess[str]:
    """The demo as a user runs it, with a decoy endpoint and credentials in the environment:
    what it must never use."""
    env = dict(os.environ, BACKUPSHARE_ENDPOINT=decoy.url, BACKUPSHARE_PROJECT_ID=OWN,
               BACKUPSHARE_TOKEN="emulator-token")  # fmt: skip
    return subprocess.run([str(BIN), "demo", *argv], env=env, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip


def commands_shown(stdout: str) -> list[str]:
    return re.findall(r"^\$ (backupshare .*)$", stdout, re.M)


def test_demo_tours_vbs_with_its_own_emulator(emulator: RunningEmulator) -> None:
    done = demo(emulator)
    assert done.returncode == 0, done.stdout + done.stderr
    assert commands_shown(done.stdout) == [
        "backupshare backups",
        f"backupshare share db-nightly {P1} 0123456789abcdef0123456789abcdef",
        "backupshare list-shares",
        f"backupshare cancel --backup-id {BACKUP} --yes",
    ]
    assert len(re.findall(rf"^created\s+\S+\s+\S+\s+{BACKUP}$", done.stdout, re.M)) == 2
    assert len(re.findall(rf"^canceled\s+\S+\s+\S+\s+{BACKUP}$", done.stdout, re.M)) == 2
    assert re.fullmatch(
        rf"sharing backup {BACKUP} \(db-nightly, created [^)]+ UTC\)\n", done.stderr
    )
    assert emulator.logged() == []  # the environment's endpoint went untouched
    assert_stopped(done.stdout)


def test_demo_on_cbr_also_accepts_as_the_receiving_project(emulator: RunningEmulator) -> None:
    done = demo(emulator, "--service", "cbr")
    assert done.returncode == 0, done.stdout + done.stderr
    shown = commands_shown(done.stdout)
    assert f"backupshare -p partner accept {BACKUP}" in shown
    # the answer's report: RESULT STATUS PROJECT SHARE-ID BACKUP-ID FROM-PROJECT VAULT
    assert re.search(
        rf"^accepted\s+accepted\s+{P1}\s+\S+\s+{BACKUP}\s+\S+\s+\S+$", done.stdout, re.M
    )
    assert emulator.logged() == []
    assert_stopped(done.stdout)


def test_demo_refuses_an_unknown_service(emulator: RunningEmulator) -> None:
    done = demo(emulator, "--service", "ebs")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("error: invalid --service 'ebs': choose one of vbs, cbr")


def test_ctrl_c_during_a_step_stops_the_emulator() -> None:
    out = io.StringIO()

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt  # what Ctrl-C raises in the demo while a step runs

    with pytest.raises(KeyboardInterrupt):
        run("vbs", stdout=out, execute=interrupted)
    assert_stopped(out.getvalue())


def test_a_failed_step_stops_the_demo_with_its_exit_code() -> None:
    out = io.StringIO()

    def refused(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(argv, 5)

    with pytest.raises(DemoStepFailed) as failed:
        run("vbs", stdout=out, execute=refused)
    assert failed.value.exit_code == 5
    assert failed.value.message == "the demo stopped: `backupshare backups` exited with 5"
    assert_stopped(out.getvalue())
