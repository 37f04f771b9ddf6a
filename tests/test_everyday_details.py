"""The small things people reached for (issue 10, point 9): did-you-mean and `help`, cancel by a
file of ids, a confirmation that names what it ends, sharings made *to* this project, …"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pexpect
import pytest

from backupshare.emulator import RunningEmulator

from .conftest import BACKUP, BACKUP2, OWN, P1, P2, PARTNER_BACKUP


# -- mistyped commands and `help` ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "error", "hint"),
    [
        (["shar"], "no such command 'shar'", "did you mean 'share'? see 'backupshare --help'"),
        (["cancle", "x"], "no such command 'cancle'", "did you mean 'cancel'?"),
        (["doctr"], "no such command 'doctr'", "did you mean 'doctor'?"),
        (["config", "shwo"], "no such command 'shwo'", "did you mean 'show'? see 'backupshare config --help'"),
        (["help", "shrae"], "no such command 'shrae'", "did you mean 'share'?"),
        (["help", "config", "nit"], "no such command 'nit'", "did you mean 'init'?"),
        (["frobnicate"], "no such command 'frobnicate'", "commands: share, list-shares, show, cancel"),
    ],
)  # fmt: skip
def test_a_mistyped_command_names_what_was_meant(
    cli: Any, argv: list[str], error: str, hint: str
) -> None:
    result = cli(*argv)
    assert (result.code, result.out) == (2, "")
    first, second = result.err.splitlines()
    assert first == f"error: {error}"
    assert second.startswith("hint: ") and hint in second


@pytest.mark.parametrize("path", [["share"], ["cancel"], ["config", "init"], []])
def test_help_command_prints_the_commands_own_help(cli: Any, path: list[str]) -> None:
    via_help = cli("help", *path)
    via_flag = cli(*path, "--help")
    assert via_help.code == 0 and via_help.err == ""
    assert via_help.out == via_flag.out
    assert via_help.out.startswith(f"Usage: backupshare {' '.join(path)}".rstrip())


# -- cancel --ids-file ---------------------------------------------------------------------------
def share_ids(emulator: RunningEmulator) -> list[str]:
    return sorted(r["id"] for r in emulator.emulator.store.query(OWN, {}))


def test_cancel_reads_ids_from_a_pipe(cli: Any, emulator: RunningEmulator) -> None:
    assert cli("share", BACKUP, P1, P2).code == 0
    assert cli("share", BACKUP2, P1).code == 0
    listed = cli("list-shares", "--backup-id", BACKUP, "-o", "ids")
    result = cli(
        "cancel", "--ids-file", "-", "-o", "json", stdin="# from list-shares\n" + listed.out
    )
    assert result.code == 0, result.err
    assert result.out.count('"canceled"') == 2
    assert [r["backup_id"] for r in emulator.emulator.store.query(OWN, {})] == [BACKUP2]


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
    assert emulator.emulator.logged() == []


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
    assert emulator.emulator.logged() == []


def test_cancel_ids_file_that_does_not_exist(cli: Any, tmp_path: Path) -> None:
    result = cli("cancel", "--ids-file", str(tmp_path / "nope"))
    assert result.code == 2
    assert result.err.splitlines()[0] == f"error: --ids-file {tmp_path / 'nope'}: no such file"


# -- sharings made to this project ---------------------------------------------------------------
def shared_with_us(emulator: RunningEmulator) -> dict[str, Any]:
    [share] = emulator.emulator.store.query(OWN, {"backup_id": PARTNER_BACKUP}, to_me=True)
    return share


def test_cancelling_a_sharing_made_to_us_says_who_can_end_it(
    cli: Any, emulator: RunningEmulator
) -> None:
    share = shared_with_us(emulator)
    owner = share["from_project_id"]
    result = cli("cancel", share["id"])
    assert result.code == 4
    assert f"sharing {share['id']} was made to this project by project {owner}" in result.out
    assert result.err.splitlines() == [
        f"error: every cancellation failed: sharing {share['id']} was made to this project by "
        f"project {owner}; only that project can end it (client request id "
        + result.err.split("client request id ")[1].split(")")[0]
        + ")",
        f"hint: ask project {owner} to run: backupshare cancel {share['id']}",
    ]
    assert shared_with_us(emulator)["id"] == share["id"]  # still there


def test_a_sharing_that_does_not_exist_is_still_absent(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("cancel", "00000000-0000-4000-8000-000000000000", "-o", "jsonl")
    assert (result.code, result.err) == (0, "")
    assert '"result": "absent"' in result.out


# -- the confirmation names what it ends -----------------------------------------------------------
@pytest.mark.e2e
def test_cancel_prompt_names_backup_and_project_of_bare_ids(emulator: RunningEmulator) -> None:
    from .test_e2e import backupshare, spawn

    backupshare(emulator, "share", BACKUP, P1)
    [mine] = share_ids(emulator)
    theirs = shared_with_us(emulator)
    missing = "00000000-0000-4000-8000-000000000000"
    child = spawn(emulator, "cancel", mine, theirs["id"], missing)
    child.expect("About to end 3 sharings:")
    child.expect(rf"{mine}  backup {BACKUP} → project {P1}\r\n")
    child.expect(
        rf"{theirs['id']}  backup {PARTNER_BACKUP} → project {OWN}  "
        rf"\(made to this project by {theirs['from_project_id']}: only it can end this\)"
    )
    child.expect(rf"{missing}  \(not found: nothing to end\)")
    child.expect(r"Proceed\? \[y/N\] ")
    child.sendline("n")
    child.expect("cancelled nothing")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and share_ids(emulator) == [mine]
