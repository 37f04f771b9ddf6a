"""The README's way to share a volume's newest backup whatever its status, waiting for it, runs
as written against the emulator: it shares the backup still being made, not an older available
one (which is what `--most-recent` would take), and only once it has become available."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.emulator.schema import BackupSeed, utc_now
from backupshare.emulator.server import DEFAULT_TOKEN

from .helpers import BIN, OWN, P1, P2, readme_block

VOLUME = "0f1e2d3c-4b5a-4978-8a9b-aabbccddeeff"
OLDER = "aaaaaaaa-0000-4000-8000-000000000001"  # available, made a day ago
NEWEST = "aaaaaaaa-0000-4000-8000-000000000002"  # creating until it has been read once


def run_block(block: str, url: str, work: Path) -> subprocess.CompletedProcess[str]:
    (work / "staging-projects.txt").write_text(f"{P1}\n{P2}\n")
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(BIN.parent), os.environ["PATH"]]),
        "BACKUPSHARE_ENDPOINT": url,
        "BACKUPSHARE_PROJECT_ID": OWN,
        "BACKUPSHARE_TOKEN": DEFAULT_TOKEN,
        "VOLUME_ID": VOLUME,
    }
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + block],
        cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


class ReadOnceClock:
    """The emulator's clock, driven by what the CLI does rather than by how fast it does it: it
    stands still until the newest backup has been read once (the CLI saw it creating), then
    jumps an hour on (it has become available when the wait looks again)."""

    def __init__(self) -> None:
        self.start = utc_now()
        self.running: RunningEmulator | None = None

    def __call__(self) -> datetime:
        if self.running is None or len(self.running.logged("GET", f"/backups/{NEWEST}")) < 2:
            return self.start
        return self.start + timedelta(hours=1)


@pytest.mark.e2e
def test_the_readmes_wait_for_the_newest_backup_runs_as_written(
    make_emulator: Callable[..., RunningEmulator], tmp_path: Path
) -> None:
    clock = ReadOnceClock()
    day_ago = clock.start - timedelta(days=1)
    running = make_emulator(
        backups=[
            BackupSeed(OLDER, OWN, "db-1", volume_id=VOLUME, created_at=day_ago),
            BackupSeed(
                NEWEST, OWN, "db-2", status="creating", volume_id=VOLUME, available_after=60
            ),
        ],
        clock=clock,
    )
    clock.running = running
    done = run_block(readme_block("ci:newest"), running.url, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "share.json").read_text())["results"]
    assert [(r["backup_id"], r["to_project_id"], r["result"]) for r in results] == [
        (NEWEST, P1, "created"),
        (NEWEST, P2, "created"),
    ]
    polls = running.logged("GET", f"/backups/{NEWEST}")
    assert len(polls) >= 2  # it was read while still creating, and again once available
