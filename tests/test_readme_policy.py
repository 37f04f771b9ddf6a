"""The README's "Sharing policy as code" runs as written, with the installed executable against
the bundled emulator, on both services: the nightly DR sharings file, the review-then-apply
flow with a saved plan, the scheduled drift check (exit 10 after a change by hand, 0 once
converged) and the CI job's shell lines."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_TOKEN

from .helpers import BACKUP, BIN, OWN, P1, P2, P3, readme_block

WEB_WEEKLY = "3a9e46f5-2b47-4c0e-9a1d-5f2f8c4e7b10"  # the demo's web- backup


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


def ci_lines() -> str:
    """The CI step's `run:` lines, but the install (the executable is installed already)."""
    block = readme_block("policy:ci")
    script = block[block.index("run: |") + len("run: |") :]
    lines = [line.strip() for line in script.splitlines() if line.strip()]
    return "\n".join(line for line in lines if not line.startswith("pip install")) + "\n"


def sharings(url: str, work: Path, service: str) -> set[tuple[str, str]]:
    done = run("backupshare list-shares -o jsonl", url, work, service)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    return {(r["backup_id"], r.get("to_project_id") or r["dest_project_id"]) for r in records}


@pytest.mark.e2e
@pytest.mark.parametrize("service", ["vbs", "cbr"])
def test_the_policy_section_runs_as_written(
    emulator: RunningEmulator, tmp_path: Path, service: str
) -> None:
    (tmp_path / "sharings.yaml").write_text(readme_block("policy:file"))
    url = emulator.url
    assert run(f"backupshare share {BACKUP} {P2}", url, tmp_path, service).returncode == 0
    drift = run(readme_block("policy:drift"), url, tmp_path, service)
    assert drift.returncode == 10, drift.stderr
    pending = [json.loads(line) for line in (tmp_path / "drift.jsonl").read_text().splitlines()]
    assert {(r["backup_id"], r["to_project_id"], r["action"]) for r in pending} == {
        (BACKUP, P1, "share"),
        (BACKUP, P3, "share"),
        (BACKUP, P2, "cancel"),
        (WEB_WEEKLY, P1, "share"),
    }
    reviewed = run(readme_block("policy:review"), url, tmp_path, service)
    assert reviewed.returncode == 0, reviewed.stderr
    assert json.loads((tmp_path / "applied.json").read_text())["changed"] is True
    wanted = {(BACKUP, P1), (BACKUP, P3), (WEB_WEEKLY, P1)}
    assert sharings(url, tmp_path, service) == wanted
    assert run(readme_block("policy:drift"), url, tmp_path, service).returncode == 0
    # By hand: another project added; the nightly job takes it away again.
    assert run(f"backupshare share {BACKUP} {P2}", url, tmp_path, service).returncode == 0
    assert run(readme_block("policy:drift"), url, tmp_path, service).returncode == 10
    nightly = run(ci_lines(), url, tmp_path, service)
    assert nightly.returncode == 0, nightly.stderr
    applied = json.loads((tmp_path / "applied.json").read_text())
    assert [
        (r["to_project_id"], r["result"]) for r in applied["results"] if r["action"] != "ok"
    ] == [(P2, "canceled")]
    assert sharings(url, tmp_path, service) == wanted
    # The saved plan is stale now: refused, naming the pair, nothing sent.
    stale = run("backupshare apply --plan plan.json --yes", url, tmp_path, service)
    assert stale.returncode == 6 and f"backup {BACKUP} to {P1}" in stale.stderr
