"""Tables on a real terminal (a pty) at 80, 100, 120 and 200 columns: ids never cut, outcomes
and errors always shown, nothing wider than the terminal; too narrow: one record per block.
A person at a terminal is asked before anything is ended (NO_COLOR or not), and told what.
A terminal gets colour, a pipe plain text; config init through its prompts."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pexpect
import pytest

from backupshare.emulator import RunningEmulator

from .helpers import (
    BACKUP,
    BACKUP2,
    BIN,
    GUARD,
    OWN,
    P1,
    P2,
    PARTNER_BACKUP,
    backupshare,
    close_exited,
    fault,
    share_ids,
    shared_with_us,
    spawn,
)


@pytest.mark.e2e
def test_no_color_still_asks_on_a_terminal(emulator: RunningEmulator) -> None:
    from .helpers import spawn

    emulator.store.share(OWN, BACKUP, [P1])  # the state to show, not under test
    child = spawn(emulator, "cancel", "--backup-id", BACKUP, "--to-project", P1, NO_COLOR="1")
    child.expect(r"Proceed\? \[y/N\] ")
    child.sendline("n")
    child.expect("nothing was ended")
    child.expect(pexpect.EOF)
    close_exited(child)
    assert child.exitstatus == 0
    assert emulator.store.count(OWN, {}) == 1  # nothing was ended


# -- the confirmation names what it ends -----------------------------------------------------------
@pytest.mark.e2e
def test_cancel_prompt_names_backup_and_project_of_bare_ids(emulator: RunningEmulator) -> None:
    from .helpers import backupshare, spawn

    backupshare(emulator, "share", BACKUP, P1)
    [mine] = share_ids(emulator)
    theirs = shared_with_us(emulator)
    missing = "00000000-0000-4000-8000-000000000000"
    child = spawn(emulator, "cancel", mine, theirs["id"], missing, COLUMNS="80")
    child.expect(r"Proceed\? \[y/N\] ")
    question = child.before.replace("\r", "").splitlines()
    assert question == [
        "About to end 3 sharings:",
        f"  backup {BACKUP}:",
        f"    {mine}  to {P1}",
        f"  backup {PARTNER_BACKUP}:",
        f"    {theirs['id']}  to {OWN}",
        f"      from {theirs['from_project_id']}: only that project can end it",
        f"  {missing}  (not found: nothing to end)",
    ]
    assert all(len(line) <= 80 for line in question)  # fits an 80-column terminal
    child.sendline("n")
    child.expect("nothing was ended")
    child.expect(pexpect.EOF)
    assert "canceled" not in child.before  # the result word is not said of what was kept
    child.close()
    assert child.exitstatus == 0 and share_ids(emulator) == [mine]


pytestmark = pytest.mark.e2e


WIDTHS = (80, 100, 120, 200)


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_terminal(emulator: RunningEmulator, width: int, *argv: str, **extra: str) -> str:
    """What a person sees: the command on a pty `width` columns wide, colour codes removed."""
    env = {
        **os.environ,
        "BACKUPSHARE_ENDPOINT": emulator.url,
        "BACKUPSHARE_PROJECT_ID": OWN,
        "BACKUPSHARE_TOKEN": "emulator-token",
        "TERM": "xterm-256color",
        **extra,
    }
    env.pop("COLUMNS", None)  # the terminal's own size decides
    child = pexpect.spawn(
        str(BIN), list(argv), env=env, encoding="utf-8", timeout=GUARD, dimensions=(60, width)
    )
    output = child.read()
    close_exited(child)
    screen = ANSI.sub("", output).replace("\r", "")
    # the transient progress line is erased on a terminal; its remains are not the table
    progress = ("listing sharings", "canceling sharings", "listing backups")
    return "\n".join(line for line in screen.split("\n") if not any(p in line for p in progress))


def assert_fits(screen: str, width: int) -> None:
    """Every line of the table fits (stderr's `error:`/`hint:` lines are one line by contract
    and the terminal wraps them)."""
    for line in screen.splitlines():
        if line.startswith(("error: ", "hint: ")):
            continue
        assert len(line.rstrip()) <= width, f"wider than {width}: {line!r}"


def sharing_ids(emulator: RunningEmulator) -> list[str]:
    return [record["id"] for record in emulator.store.query(OWN, {})]


@pytest.mark.parametrize("width", WIDTHS)
def test_list_shares_always_says_which_backup_and_project(
    emulator: RunningEmulator, width: int
) -> None:
    # two sharings of different backups to one project: the backup tells them apart (issue #24)
    emulator.store.share(OWN, BACKUP, [P1, P2])  # the state to show, not under test
    emulator.store.share(OWN, BACKUP2, [P1])
    screen = on_terminal(emulator, width, "list-shares")
    assert_fits(screen, width)
    assert "BACKUP ID" in screen and "TO PROJECT" in screen
    rows = [line for line in screen.splitlines() if P1 in line or P2 in line]
    assert len(rows) == 3
    assert sorted(row.count(BACKUP) + 2 * row.count(BACKUP2) for row in rows) == [1, 1, 2]
    if width >= 120:  # the share id comes next (108 columns), whole and copyable
        assert all(share_id in screen for share_id in sharing_ids(emulator))
    else:
        assert "SHARE ID" not in screen


def test_list_shares_columns_chosen_by_name_at_80(emulator: RunningEmulator) -> None:
    emulator.store.share(OWN, BACKUP, [P1])  # the state to show, not under test
    [share_id] = sharing_ids(emulator)
    screen = on_terminal(emulator, 80, "list-shares", "-c", "id", "-c", "to_project_id")
    assert_fits(screen, 80)
    header, _, row = screen.strip().splitlines()[:3]
    assert header.split() == ["SHARE", "ID", "TO", "PROJECT"]
    assert row.split() == [share_id, P1]


def test_list_shares_too_narrow_for_backup_and_project_uses_blocks(
    emulator: RunningEmulator,
) -> None:
    emulator.store.share(OWN, BACKUP, [P1])  # the state to show, not under test
    screen = on_terminal(emulator, 60, "list-shares")
    assert_fits(screen, 60)
    assert re.search(rf"^BACKUP ID +{BACKUP}$", screen, re.M)
    assert re.search(rf"^TO PROJECT +{P1}$", screen, re.M)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_partial_failure_shows_result_and_error(emulator: RunningEmulator, width: int) -> None:
    emulator.store.share(OWN, BACKUP, [P1, P2])  # the state to show, not under test
    ids = sharing_ids(emulator)
    fault(emulator, "status", method="DELETE", status=409, count=1)
    screen = on_terminal(emulator, width, "cancel", *ids, "--yes")
    assert_fits(screen, width)
    assert "canceled" in screen and "failed" in screen  # every item says what happened
    assert "ERROR" in screen or "error" in screen.lower()
    assert all(share_id in screen for share_id in ids)
    assert "1 of 2 cancellations failed" in screen


@pytest.mark.parametrize("width", WIDTHS)
def test_share_results_show_result_and_ids(emulator: RunningEmulator, width: int) -> None:
    screen = on_terminal(emulator, width, "share", BACKUP, P1, P2)
    assert_fits(screen, width)
    assert screen.count("created") == 2 and P1 in screen and P2 in screen
    assert all(share_id in screen for share_id in sharing_ids(emulator))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("argv", [("doctor",), ("config", "show")])
def test_doctor_and_config_show_keep_their_first_column(
    emulator: RunningEmulator, width: int, argv: tuple[str, ...]
) -> None:
    screen = on_terminal(emulator, width, *argv)
    assert_fits(screen, width)
    first = "credentials" if argv == ("doctor",) else "project_id"
    assert re.search(rf"^{first}\b", screen, re.M), screen
    if argv == ("doctor",):
        assert re.search(r"^credentials +ok +token accepted", screen, re.M)
    else:
        assert OWN in screen


@pytest.mark.parametrize("width", (60, 80, 200))
def test_show_never_folds_an_id(emulator: RunningEmulator, width: int) -> None:
    emulator.store.share(OWN, BACKUP, [P1])  # the state to show, not under test
    [share_id] = sharing_ids(emulator)
    screen = on_terminal(emulator, width, "show", share_id)
    assert_fits(screen, width)
    assert share_id in screen and BACKUP in screen and P1 in screen


def test_too_narrow_for_the_ids_one_record_per_block(emulator: RunningEmulator) -> None:
    screen = on_terminal(emulator, 60, "share", BACKUP, P1, P2)
    assert_fits(screen, 60)
    blocks = [block for block in screen.strip().split("\n\n") if block.strip()]
    assert len(blocks) == 2
    for block, project in zip(blocks, (P1, P2), strict=True):
        assert re.search(r"^RESULT +created$", block, re.M)
        assert re.search(rf"^PROJECT +{project}$", block, re.M)


def test_no_color_keeps_the_fitted_table_without_colour(emulator: RunningEmulator) -> None:
    emulator.store.share(OWN, BACKUP, [P1])  # the state to show, not under test
    env: dict[str, Any] = {"NO_COLOR": "1"}
    screen = on_terminal(emulator, 80, "list-shares", **env)
    assert_fits(screen, 80)
    assert P1 in screen


@pytest.mark.parametrize("width", WIDTHS)
def test_backups_at_every_width(emulator: RunningEmulator, width: int) -> None:
    screen = on_terminal(emulator, width, "backups")
    assert_fits(screen, width)
    ids = {b["id"] for b in emulator.store.backups(OWN)}
    assert ids <= set(re.findall(r"[0-9a-f]{8}-[0-9a-f-]{27}", screen))  # every id, whole
    assert "NAME" in screen and "db-nightly" in screen and "STATUS" in screen  # what people read
    if width >= 120:
        assert "CREATED (UTC)" in screen  # then the dates
    if width >= 200:
        assert "VOLUME" in screen  # the volume id is the first to give way


def test_share_by_name_says_what_it_chose_at_80(emulator: RunningEmulator) -> None:
    screen = on_terminal(emulator, 80, "share", "db-nightly", P1)
    notice, *table = screen.strip().split("\n")
    assert notice.startswith(f"sharing backup {BACKUP} (db-nightly, created ")  # stderr, first
    assert_fits("\n".join(table), 80)
    assert "created" in "\n".join(table) and P1 in "\n".join(table)


def test_terminal_gets_colour_and_a_table_pipe_gets_plain_text(emulator: RunningEmulator) -> None:
    emulator.store.share(OWN, BACKUP, [P1, P2])  # the state to show, not under test
    child = spawn(emulator, "list-shares")
    output = child.read()
    close_exited(child)
    assert "\x1b[" in output and "─" in output  # colour and the rich table's rule
    share_ids = [r["id"] for r in emulator.store.query(OWN, {})]
    assert all(share_id in output for share_id in share_ids)  # ids are never folded
    piped = backupshare(emulator, "list-shares")
    assert "\x1b[" not in piped.stdout and "─" not in piped.stdout
    no_color = spawn(emulator, "list-shares", NO_COLOR="1")
    plain = no_color.read()
    close_exited(no_color)
    colour = re.compile(r"\x1b\[[0-9;]*m")  # SGR: colours and styles
    assert not colour.search(plain) and "db-nightly" in plain  # NO_COLOR removes colour only


def test_cancel_asks_on_a_terminal(emulator: RunningEmulator) -> None:
    emulator.store.share(OWN, BACKUP, [P1, P2])  # the state to show, not under test
    child = spawn(emulator, "cancel", "--backup-id", BACKUP)
    child.expect("About to end 2 sharings:")
    child.expect(r"Proceed\? \[y/N\] ")
    child.sendline("n")
    child.expect("nothing was ended")
    child.expect(pexpect.EOF)
    close_exited(child)
    assert child.exitstatus == 0
    assert emulator.store.count(OWN, {}) == 2
    child = spawn(emulator, "cancel", "--backup-id", BACKUP)
    child.expect(r"Proceed\? \[y/N\] ")
    child.sendline("y")
    child.expect("canceled")
    child.expect(pexpect.EOF)
    close_exited(child)
    assert child.exitstatus == 0 and emulator.store.count(OWN, {}) == 0


def test_config_init_through_its_prompts(emulator: RunningEmulator, isolated: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(isolated / ".config"), "HOME": str(isolated)}
    child = spawn(emulator, "-p", "prod", "config", "init", **env)
    child.expect(r"Backup service \(vbs or cbr\) \[vbs\]: ")
    child.sendline("cbr")
    child.expect(r"Cloud \(otc or huaweicloud\) \[otc\]: ")
    child.sendline("")
    child.expect(r"Region \[eu-de\]: ")
    child.sendline("eu-nl")
    child.expect(r"Project id \(32 hex\): ")
    child.sendline(P1.upper())
    child.expect(r"Auth method \(token, password, aksk\) \[aksk\]: ")
    child.sendline("")
    child.expect(r"Access key \(AK\): ")
    child.sendline("AKTYPED")
    child.expect(r"Secret key \(hidden\): ")
    child.sendline("typed-secret-key")
    child.expect("wrote profile 'prod'")
    child.expect(pexpect.EOF)
    transcript = child.before or ""
    close_exited(child)
    assert child.exitstatus == 0
    assert "typed-secret-key" not in transcript  # never echoed
    path = isolated / ".config" / "backupshare" / "config.yaml"
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert "region: eu-nl" in text and P1 in text and "secret_key: typed-secret-key" in text
    assert "service: cbr" in text
