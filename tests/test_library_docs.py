"""docs/library.md's examples, run as written: the tour against the emulator (the CLI's
environment variables name it), and its pytest example as a foreign test file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from backupshare.testing import TestEmulator, emulator

from .helpers import BACKUP, OWN, P1, ROOT

BLOCK_RE = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def examples() -> list[str]:
    return BLOCK_RE.findall((ROOT / "docs" / "library.md").read_text())


@pytest.fixture
def described(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestEmulator]:
    """The emulator, named by the environment as a CI job would name its service."""
    with emulator() as running:
        monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
        monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", running.project_id)
        monkeypatch.setenv("BACKUPSHARE_TOKEN", running.token)
        yield running


def test_the_page_has_the_five_examples_of_its_tour() -> None:
    tour, test = examples()[:4], examples()[4:]
    assert len(tour) == 4 and len(test) == 1
    assert all("def test_" not in block for block in tour) and "def test_" in test[0]


def test_the_tour_runs_as_written(
    described: TestEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    for block in examples()[:4]:
        exec(compile(block, "docs/library.md", "exec"), {"__name__": "tour"})
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["722513ed0a324dadaabe5b2d0fe848c9 created", "changed"]
    assert re.fullmatch(r"\S{36} 722513ed0a324dadaabe5b2d0fe848c9 \S+", out[2])
    assert out[3] == "1"
    assert out[4:6] == ["['db-nightly', 'vault-encrypted']", "['web-weekly']"]
    assert out[6].startswith("not yet: ") and out[6].endswith("VolumeBackup.0104")
    assert out[7] == "still creating"
    # the PartialFailure branch ran: one sharing ended, the one made to this project failed
    assert out[8] == "False canceled None"
    assert out[9].startswith("True failed sharing ")
    assert out[9].endswith(
        f"was made to this project by project {P1}; only that project can end it"
    )
    assert len(described.requests("DELETE")) == 2  # both sent: the service refused theirs
    status, code, request_id, hint = out[10].split(" ", 3)  # the fields callers branch on
    assert (status, code, hint) == (
        "404",
        "VolumeBackup.0205",
        "check the id and the profile's project",
    )
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    # the receiving side and the whole project, on CBR
    assert out[11:13] == [f"{BACKUP} accepted True", "accepted"]
    assert out[13:] == [f"{BACKUP} {P1} accepted", f"{P1} []"]
    assert {e["path"] for e in described.requests("POST")} == {
        f"/v2/{OWN}/os-vendor-backup-sharing",
        f"/v3/{OWN}/backups/{BACKUP}/members",
    }
    assert len(described.requests("PUT")) == 1  # accepting again sent nothing


def test_the_pytest_example_passes_as_a_foreign_test_file(tmp_path: Path) -> None:
    (tmp_path / "test_example.py").write_text(examples()[4])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-p", "no:cov", "test_example.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
