"""A FIFO or process substitution as an ids file: read when written, never blocking for ever."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_TOKEN

from .helpers import BACKUP, BIN, GUARD, OWN, P1, CliResult


# == 7. a FIFO as an ids file ========================================================================
@pytest.mark.parametrize(
    "argv",
    [("cancel", "--ids-file", "{fifo}", "--yes"), ("share", BACKUP, "--projects-file", "{fifo}")],
    ids=["ids-file", "projects-file"],
)
def test_a_fifo_nobody_writes_to_does_not_block_for_ever(
    cli: Callable[..., CliResult],
    emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    from backupshare.cli import arguments

    monkeypatch.setattr(arguments, "IDS_FILE_SECONDS", 0.2)
    fifo = tmp_path / "ids"
    os.mkfifo(fifo)
    option = argv[2] if argv[0] == "share" else argv[1]
    result = cli(*(arg.format(fifo=fifo) for arg in argv))
    assert result.code == 2, result.err
    assert result.err.startswith(f"error: {option} {fifo}: not all of it arrived within 0.2 s"), (
        result.err
    )
    assert "hint: is something writing to it?" in result.err
    assert [e for e in emulator.emulator.logged() if e["method"] != "GET"] == []


def test_a_fifo_with_a_writer_is_read(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    fifo = tmp_path / "projects"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "w") as handle:  # blocks until the CLI opens it: a late writer
            handle.write(f"{P1}\n")

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    result = cli("share", BACKUP, "--projects-file", str(fifo), "-o", "json")
    writer.join(GUARD)
    assert result.code == 0, result.err
    assert json.loads(result.out)["results"][0]["to_project_id"] == P1


def test_process_substitution_still_works(emulator: RunningEmulator) -> None:
    env = {**os.environ, "BACKUPSHARE_ENDPOINT": emulator.url, "BACKUPSHARE_PROJECT_ID": OWN}
    env["BACKUPSHARE_TOKEN"] = DEFAULT_TOKEN
    script = f'"{BIN}" share {BACKUP} --projects-file <(sleep 0.2; echo {P1}) -o ids'
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=GUARD, check=False
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) == 1
