"""The README's nightly pair on CBR runs as written, with the installed executable against the
bundled emulator: the receiving project accepts every pending offer from the owner project, and
the owner shares and waits until the receiver has answered (the emulator answering for it)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.emulator.schema import AutoAnswer

from .helpers import BACKUP, BACKUP2, BIN, OWN, P1, readme_block
from .test_emulator_cbr import add, ok
from .test_readme_cbr import README_URL


def run_blocks(
    emulator: RunningEmulator, cwd: Path, *markers: str
) -> subprocess.CompletedProcess[str]:
    """The profiles of the README's CBR example (its lines up to the export), then the blocks."""
    demo = readme_block("cbr:demo")
    profiles = demo[: demo.index("export BACKUPSHARE_CONFIG=")]
    profiles += 'export BACKUPSHARE_CONFIG="$PWD/cbr-demo.yaml"\n'
    script = "set -euo pipefail\n" + profiles + "".join(readme_block(m) for m in markers)
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN.parent), os.environ["PATH"]])}
    return subprocess.run(
        ["bash", "-c", script.replace(README_URL, emulator.url)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.e2e
def test_the_receivers_nightly_job_accepts_every_offer_from_the_owner(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    ok(add(emulator, BACKUP, [P1]))
    ok(add(emulator, BACKUP2, [P1]))
    done = run_blocks(emulator, tmp_path, "cbr:nightly")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "accepted.json").read_text())
    vault = emulator.store.vault(P1)["id"]
    assert report["changed"] is True
    assert sorted((r["backup_id"], r["result"], r["from_project_id"], r["vault_id"])
                  for r in report["results"]) == sorted(
        [(BACKUP, "accepted", OWN, vault), (BACKUP2, "accepted", OWN, vault)]
    )  # fmt: skip
    again = run_blocks(emulator, tmp_path, "cbr:nightly")  # the next night: nothing pending
    assert again.returncode == 0
    assert json.loads((tmp_path / "accepted.json").read_text())["results"] == []


@pytest.mark.e2e
def test_the_owners_step_shares_and_waits_for_the_answer(
    make_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    running = make_emulator(auto_answers=[(P1, AutoAnswer("accepted", 1))])
    done = run_blocks(running, tmp_path, "cbr:share-and-wait")
    assert done.returncode == 0, done.stdout + done.stderr
    [result] = json.loads((tmp_path / "shared.json").read_text())["results"]
    assert (result["to_project_id"], result["result"], result["status"]) == (
        P1, "created", "accepted"
    )  # fmt: skip
    lines = done.stderr.splitlines()  # stderr is a pipe: the CI log's lines
    subject = f"waiting for project {P1} to accept backup {BACKUP}"
    assert lines[0].endswith(f"Z {subject}: pending, 0 s of 3600 s")
    assert lines[-1].split(" ", 1)[1].startswith(f"{subject}: accepted, ")
