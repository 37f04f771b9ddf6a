"""The README's CBR example runs as written (owner shares, partner accepts, owner ends it) with
the installed executable against the bundled emulator; config.example.yaml's CBR profile is a
valid profile that derives the CBR host."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from backupshare.config import Flags
from backupshare.config_file import read_config_file, validate_file
from backupshare.emulator import RunningEmulator
from backupshare.resolution import load_settings

from .helpers import BACKUP, BIN, OWN, P1, ROOT, UUID_RE, readme_block

# Where the README tells the reader to run `backupshare emulator`; a test's emulator has a port
# of its own, so this one URL is all that the test changes in the block.
README_URL = "http://127.0.0.1:8776"
PARTNER_TOKEN = "partner-token"
UUID = UUID_RE.pattern


def run_demo(block: str, emulator: RunningEmulator, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert block.count(README_URL) == 2, "one endpoint per profile"
    script = "set -euo pipefail\n" + block.replace(README_URL, emulator.url)
    # the isolated fixture has removed every BACKUPSHARE_* variable, as the README asks
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN.parent), os.environ["PATH"]])}
    return subprocess.run(
        ["bash", "-c", script],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def lines_in_order(stdout: str, *patterns: str) -> list[re.Match[str]]:
    """Each pattern matched by a whole line of stdout, each after the one before."""
    found, at = [], 0
    for pattern in patterns:
        match = re.compile(pattern, re.M).search(stdout, at)
        assert match, f"no line {pattern!r} after offset {at} in:\n{stdout}"
        found.append(match)
        at = match.end()
    return found


@pytest.mark.e2e
def test_the_readmes_cbr_example_runs_as_written(emulator: RunningEmulator, tmp_path: Path) -> None:
    done = run_demo(readme_block("cbr:demo"), emulator, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""  # no warning: the file is private, the backup not encrypted

    vault = emulator.store.vault(P1)["id"]
    shared, _, _, listed, canceled = lines_in_order(
        done.stdout,
        rf"^created\s+pending\s+{P1}\s+({UUID})\s+{BACKUP}$",  # the owner shares
        rf"^{BACKUP}\s+db-nightly\s+{OWN}\s+pending\s",  # the partner sees the offer
        rf"^accepted\s+accepted\s+{P1}\s+{UUID}\s+{BACKUP}\s+{OWN}\s+{vault}$",  # into its vault
        rf"^({UUID})\s+{BACKUP}\s+db-nightly\s+{P1}\s+accepted\s",  # the owner sees it accepted
        rf"^canceled\s+{P1}\s+({UUID})\s+{BACKUP}$",  # and ends it
    )
    assert shared[1] == listed[1] == canceled[1]  # one member all along

    # the partner answered for itself, with its own token, and the sharing is gone again
    [answer] = emulator.logged("PUT")
    assert answer["path"] == f"/v3/{P1}/backups/{BACKUP}/members/{P1}"
    assert answer["headers"]["X-Auth-Token"] == PARTNER_TOKEN
    assert emulator.store.members(BACKUP) == []


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("right", "wrong", "says"),
    [
        # the partner's commands with the owner's token: the gateway refuses the partner's paths
        (f"token: {PARTNER_TOKEN}", "token: emulator-token", "APIG.0302"),
        # without `service: cbr` the commands speak VBS, whose statuses are the backup's
        ("    service: cbr\n", "", "invalid --status 'pending'"),
    ],
)
def test_a_wrong_cbr_example_fails(
    right: str, wrong: str, says: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    block = readme_block("cbr:demo")
    assert right in block
    done = run_demo(block.replace(right, wrong), emulator, tmp_path)
    assert done.returncode != 0 and says in done.stderr
    assert emulator.logged("PUT") == []


# -- config.example.yaml -----------------------------------------------------------------------
def example_copy(tmp_path: Path) -> Path:
    """The example as a user installs it: a private copy (the checkout's mode is not ours)."""
    copy = tmp_path / "config.yaml"
    shutil.copyfile(ROOT / "config.example.yaml", copy)
    copy.chmod(0o600)
    return copy


def test_the_example_config_is_valid(tmp_path: Path) -> None:
    path = example_copy(tmp_path)
    assert validate_file(read_config_file(path), path) == []


@pytest.mark.parametrize(
    ("profile", "service", "endpoint"),
    [
        ("otc-cbr", "cbr", "https://cbr.eu-de.otc.t-systems.com"),
        ("prod", "vbs", "https://vbs.eu-de.otc.t-systems.com"),
    ],
)
def test_the_example_profiles_derive_their_services_host(
    tmp_path: Path, profile: str, service: str, endpoint: str
) -> None:
    flags = Flags(profile=profile, config=str(example_copy(tmp_path)))
    settings = load_settings(flags, {"PROD_SK": "example-secret"})
    assert (settings.service, settings.endpoint) == (service, endpoint)
    assert settings.sources["endpoint"] == "derived from cloud and region"
