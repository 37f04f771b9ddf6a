"""Start-up stays light: what --version, --help and completion import (a test of imports, not time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("requests", "urllib3", "rich", "yaml", "pydantic", "backupshare.emulator", "csv", "http")

PROBE = """
import io, json, sys, contextlib
argv = json.loads(sys.argv[1])
from backupshare.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(argv)
    except SystemExit:
        pass
heavy = json.loads(sys.argv[2])
print(json.dumps(sorted(m for m in sys.modules if m in heavy or m.startswith(tuple(h + "." for h in heavy)))))
"""


def imported(argv: list[str], **env: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=True,
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.e2e
@pytest.mark.parametrize(
    "argv",
    [
        ["--version"],
        ["--help"],
        ["share", "--help"],
        ["list-shares", "--help"],
        ["cancel", "--help"],
        ["config", "--help"],
        ["completion", "bash"],
    ],
)
def test_help_and_version_import_nothing_heavy(argv: list[str]) -> None:
    assert imported(argv) == []


@pytest.mark.e2e
def test_version_details_come_from_metadata_not_from_importing_the_libraries() -> None:
    loaded = imported(["--version", "--verbose"])
    assert not [name for name in loaded if name.split(".")[0] in ("requests", "rich", "yaml")]


@pytest.mark.e2e
def test_completion_imports_nothing_heavy() -> None:
    env = {
        "_BACKUPSHARE_COMPLETE": "complete_bash",
        "COMP_WORDS": "backupshare li",
        "COMP_CWORD": "1",
    }
    assert imported([], **env) == []


@pytest.mark.e2e
def test_version_does_not_even_load_typer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from backupshare.cli import main\n"
         "try: main(['--version'])\nexcept SystemExit: print('typer' in sys.modules)"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout.splitlines()[-1] == "False"


@pytest.mark.e2e
def test_a_real_command_loads_what_it_needs(refused_port: int) -> None:
    # the probe is not vacuous: a command that talks to the service does import requests
    env = {"BACKUPSHARE_ENDPOINT": f"http://127.0.0.1:{refused_port}", "BACKUPSHARE_PROJECT_ID": "0" * 32,
           "BACKUPSHARE_TOKEN": "t"}  # fmt: skip
    assert "requests" in imported(["--retries", "0", "list-shares", "--count"], **env)
