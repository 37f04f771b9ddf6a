"""The README's quick start and demo, run as written by the installed executable in subprocesses:
from a fresh copy, with its own emulator (an endpoint in the environment untouched), stopped after."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import requests

from backupshare.emulator import RunningEmulator

from .helpers import (
    BACKUP,
    BIN,
    P1,
    ROOT,
    copy_checkout,
    readme_block,
    spawn,  # noqa: F401 (test_project.py imports it from here until the merge)
)

pytestmark = pytest.mark.e2e


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_block("quickstart:test").strip() in ci


@pytest.mark.skipif(
    os.environ.get("BACKUPSHARE_SKIP_QUICKSTART") == "1", reason="asked to skip the slow check"
)
def test_readme_quick_start_from_a_fresh_copy(tmp_path: Path) -> None:
    clone = copy_checkout(tmp_path / "clone")
    clean_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BACKUPSHARE_", "VIRTUAL_ENV"))
    }
    done = subprocess.run(
        ["bash", "-c", readme_block("quickstart:demo")],
        cwd=clone, capture_output=True, text=True, env=clean_env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"^created\s+{P1}", done.stdout, re.M)
    assert re.search(rf"^\S+\s+{BACKUP}\s+db-nightly\s+{P1}", done.stdout, re.M)
    assert re.search(rf"^canceled\s+{P1}", done.stdout, re.M)
    found = re.search(r"^demo: a VBS emulator on (http://127\.0\.0\.1:\d+),", done.stdout, re.M)
    assert found, done.stdout
    assert_stopped(f"demo emulator on {found[1]}")


def test_readme_quick_start_is_one_line_ending_in_the_demo() -> None:
    block = readme_block("quickstart:demo").strip()
    assert block == (
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/backupshare demo"
    )


# The demo without its setup line, run with this checkout's venv: fast enough to check how it
# treats its emulator on every run, and an endpoint already in the environment (another
# emulator, or a real cloud) is what it must never fall back to.
def run_demo(cwd: Path, decoy: RunningEmulator, **extra: str) -> subprocess.CompletedProcess[str]:
    setup, sep, rest = readme_block("emulator:explore", "docs/emulator.md").partition(" && (\n")
    assert sep and setup.endswith("pip install -q -e .")
    (cwd / ".venv").symlink_to(BIN.parent.parent)
    (cwd / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    env.update(BACKUPSHARE_ENDPOINT=decoy.url, TMPDIR=str(cwd / "tmp"), **extra)
    return subprocess.run(
        ["bash", "-c", "(\n" + rest],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def assert_stopped(demo_stdout: str) -> None:
    found = re.search(r"^demo emulator on (http://127\.0\.0\.1:\d+)$", demo_stdout, re.M)
    assert found, demo_stdout
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{found[1]}/_emulator/backups", timeout=5)


def test_readme_demo_uses_its_own_emulator_and_stops_it(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    done = run_demo(tmp_path, emulator)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"^created\s+{P1}", done.stdout, re.M)
    assert re.search(rf"^canceled\s+{P1}", done.stdout, re.M)
    assert emulator.logged() == []  # the endpoint it was given went untouched
    assert_stopped(done.stdout)
    assert list((tmp_path / "tmp").iterdir()) == []  # its ready file and log are gone


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("BACKUPSHARE_EMULATOR_HOST", "0.0.0.0", "error: refusing to listen on 0.0.0.0"),
        ("BACKUPSHARE_EMULATOR_DB", ".", "error: cannot start the emulator: "),
    ],
)
def test_readme_demo_stops_when_its_emulator_cannot_start(
    tmp_path: Path, emulator: RunningEmulator, variable: str, value: str, says: str
) -> None:
    done = run_demo(tmp_path, emulator, **{variable: value})
    assert (done.returncode, done.stdout) == (1, "")
    first, second, *_ = done.stderr.splitlines()
    assert first == "error: the demo's emulator did not start:"
    assert second.startswith(says)  # the emulator's own reason follows
    assert emulator.logged() == []  # nothing shared, listed or cancelled elsewhere
    assert list((tmp_path / "tmp").iterdir()) == []
