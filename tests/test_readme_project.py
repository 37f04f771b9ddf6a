"""The README's "The whole project" section runs as written against the emulator, on both
services: what have we shared, revoke a partner everywhere, an audit; and its nightly CI audit
step's shell lines."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_TOKEN

from .helpers import BACKUP, BACKUP2, BIN, OWN, P1, P2, readme_block


def run(block: str, url: str, work: Path, service: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(BIN.parent), os.environ["PATH"]]),
        "BACKUPSHARE_ENDPOINT": url,
        "BACKUPSHARE_PROJECT_ID": OWN,
        "BACKUPSHARE_TOKEN": DEFAULT_TOKEN,
        "BACKUPSHARE_SERVICE": service,
    }
    return subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + block],
        cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def share_some(url: str, work: Path, service: str) -> None:
    for backup, projects in ((BACKUP, [P1, P2]), (BACKUP2, [P1])):
        done = run(f"backupshare share {backup} {' '.join(projects)}", url, work, service)
        assert done.returncode == 0, done.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("service", ["vbs", "cbr"])
def test_the_whole_project_tour_runs_as_written(
    emulator: RunningEmulator, tmp_path: Path, service: str
) -> None:
    share_some(emulator.url, tmp_path, service)
    done = run(readme_block("project:tour"), emulator.url, tmp_path, service)
    assert done.returncode == 0, done.stdout + done.stderr
    with (tmp_path / "sharings.csv").open() as listed:
        rows = list(csv.DictReader(listed))
    assert sorted((r["backup_id"], r["to_project_id"]) for r in rows) == sorted(
        [(BACKUP, P1), (BACKUP, P2), (BACKUP2, P1)]
    )
    # the partner is revoked everywhere, the other sharing stays
    after = run("backupshare list-shares -o jsonl", emulator.url, tmp_path, service)
    left = [json.loads(line) for line in after.stdout.splitlines()]
    assert [(r["backup_id"], r.get("to_project_id") or r["dest_project_id"]) for r in left] == [
        (BACKUP, P2)
    ]
    findings = [json.loads(line) for line in (tmp_path / "findings.jsonl").read_text().splitlines()]
    assert ("not-allowed", BACKUP, P2) in [
        (f["finding"], f["backup_id"], f["to_project_id"]) for f in findings
    ]


@pytest.mark.e2e
def test_the_nightly_audit_step_fails_on_findings_and_keeps_them(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    block = readme_block("ci:audit")
    lines = block.split("run: |\n", 1)[1].splitlines()
    commands = [line.strip() for line in lines if line.strip() and "pip install" not in line]
    assert commands == [
        "backupshare audit --allowed allowed-projects.txt --incoming -o jsonl > findings.jsonl"
    ]
    assert re.search(r"BACKUPSHARE_SERVICE: cbr", block)
    (tmp_path / "allowed-projects.txt").write_text(f"# DR\n{P2}\n")
    clean = run(commands[0], emulator.url, tmp_path, "cbr")
    assert clean.returncode == 10  # the emulator's partner offers this project a backup
    share_some(emulator.url, tmp_path, "cbr")
    done = run(commands[0], emulator.url, tmp_path, "cbr")
    assert done.returncode == 10, done.stderr
    kinds = sorted(
        json.loads(line)["finding"]
        for line in (tmp_path / "findings.jsonl").read_text().splitlines()
    )
    assert kinds == ["not-allowed", "not-allowed", "offer-from-unknown"]
