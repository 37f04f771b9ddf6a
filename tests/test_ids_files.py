"""Ids and target lists, from arguments, files and stdin: validated, normalised, deduplicated;
bad files refused; a FIFO or process substitution read when written, never blocking for ever;
cancel --ids-file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backupshare.cli import arguments as argv_checks
from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_TOKEN
from backupshare.errors import UsageError
from backupshare.verbs import share as share_verb

from .helpers import BACKUP, BACKUP2, BIN, GUARD, OWN, P1, P2, P3, CliResult, share_ids


# -- ids and target lists --------------------------------------------------------------------------
def test_targets_are_validated_normalised_and_deduplicated() -> None:
    file_ids = [(P3.upper(), " (line 2 of f)"), (P1, " (line 3 of f)")]
    assert argv_checks.share_targets([P1, P2.upper(), P1], file_ids) == [P1, P2, P3]


@pytest.mark.parametrize(
    ("arguments", "file_ids", "message"),
    [
        ([], [], "no target projects"),
        (["xyz"], [], "invalid project id 'xyz': expected 32 hex"),
        ([P1 + "0"], [], "invalid project id"),
        ([], [("nothex" * 5, " (line 4 of t.txt)")], "'nothexnothexnothexnothexnothex' (line 4 of t.txt)"),
    ],
)  # fmt: skip
def test_bad_targets_are_usage_errors(
    arguments: list[str], file_ids: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        argv_checks.share_targets(arguments, file_ids)
    assert message in caught.value.message and caught.value.exit_code == 2


def test_own_project_is_refused() -> None:
    with pytest.raises(UsageError, match=f"project {OWN} is the profile's own project"):
        share_verb.refuse_own_project([P1, OWN], OWN)
    share_verb.refuse_own_project([P1], OWN)


def test_projects_file_comments_blanks_and_stdin(tmp_path: Any) -> None:
    path = tmp_path / "t.txt"
    path.write_text(f"# targets\n\n{P1}  # prod\n  {P2}\n")
    assert argv_checks.read_ids_file(str(path)) == [
        (P1, f" (line 3 of {path})"),
        (P2, f" (line 4 of {path})"),
    ]
    stdin = io.BytesIO(f"{P3}\n".encode())
    assert argv_checks.read_ids_file("-", stdin) == [(P3, " (line 1 of standard input)")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01binary", "binary data"),
        (b"\xff\xfe\xff", "not UTF-8 text"),
        (b"a" * (1024 * 1024 + 1), "larger than 1 MiB"),
    ],
)
def test_bad_projects_files(tmp_path: Any, content: bytes, message: str) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        argv_checks.read_ids_file(str(path))


def test_missing_and_directory_projects_files(tmp_path: Any) -> None:
    with pytest.raises(UsageError, match="no such file"):
        argv_checks.read_ids_file(str(tmp_path / "none"))
    with pytest.raises(UsageError, match="is a directory"):
        argv_checks.read_ids_file(str(tmp_path))


@given(st.text(max_size=40))
def test_id_parsing_never_crashes(value: str) -> None:
    parsers = (lambda v: argv_checks.uuid_arg(v, "backup id"), argv_checks.project_id_arg)
    for parse in parsers:
        try:
            parsed = parse(value)
        except UsageError:
            continue
        assert parsed == parsed.lower() and parsed.strip() == parsed


def test_cancel_reads_ids_from_a_pipe(cli: Any, emulator: RunningEmulator) -> None:
    assert cli("share", BACKUP, P1, P2).code == 0
    assert cli("share", BACKUP2, P1).code == 0
    listed = cli("list-shares", "--backup-id", BACKUP, "-o", "ids")
    result = cli(
        "cancel", "--ids-file", "-", "-o", "json", stdin="# from list-shares\n" + listed.out
    )
    assert result.code == 0, result.err
    assert result.out.count('"canceled"') == 2
    assert [r["backup_id"] for r in emulator.store.query(OWN, {})] == [BACKUP2]


def test_cancel_ids_file_and_arguments_add_up(
    cli: Any, emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert cli("share", BACKUP, P1, P2).code == 0
    first, second = share_ids(emulator)
    ids = tmp_path / "ids.txt"
    ids.write_text(f"{second}  # the other one\n\n")
    result = cli("cancel", first, "--ids-file", str(ids), "-o", "ids")
    assert result.code == 0, result.err
    assert share_ids(emulator) == []


def test_cancel_ids_file_with_nothing_in_it_is_nothing_to_do(
    cli: Any, emulator: RunningEmulator
) -> None:
    result = cli("cancel", "--ids-file", "-", "-o", "json", stdin="# nothing left\n")
    assert (result.code, result.out) == (0, '{\n  "changed": false,\n  "results": []\n}\n')
    assert emulator.logged() == []


@pytest.mark.parametrize(
    ("content", "argv", "message"),
    [
        ("not-a-uuid\n", [], "invalid sharing id 'not-a-uuid' (line 1 of standard input): expected a UUID such as 066b1e37-9305-4057-97e5-2e99b21fc71d"),
        ("\x00\x01", [], "--ids-file standard input: binary data, expected one sharing id a line"),
        (f"{BACKUP}\n", ["--backup-id", BACKUP], "give SHARE_IDs (or --ids-file) or --backup-id, not both"),
    ],
)  # fmt: skip
def test_cancel_ids_file_bad_input(
    cli: Any, emulator: RunningEmulator, content: str, argv: list[str], message: str
) -> None:
    result = cli("cancel", "--ids-file", "-", *argv, stdin=content)
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines()[0] == f"error: {message}"
    assert emulator.logged() == []


def test_cancel_ids_file_that_does_not_exist(cli: Any, tmp_path: Path) -> None:
    result = cli("cancel", "--ids-file", str(tmp_path / "nope"))
    assert result.code == 2
    assert result.err.splitlines()[0] == f"error: --ids-file {tmp_path / 'nope'}: no such file"


# -- a FIFO as an ids file -------------------------------------------------------------------------
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
    assert [e for e in emulator.logged() if e["method"] != "GET"] == []


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


@pytest.mark.e2e
def test_process_substitution_still_works(emulator: RunningEmulator) -> None:
    env = {**os.environ, "BACKUPSHARE_ENDPOINT": emulator.url, "BACKUPSHARE_PROJECT_ID": OWN}
    env["BACKUPSHARE_TOKEN"] = DEFAULT_TOKEN
    script = f'"{BIN}" share {BACKUP} --projects-file <(sleep 0.2; echo {P1}) -o ids'
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=GUARD, check=False
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) == 1
