"""Which backup share takes: an id, an exact name (several or none: said, nothing sent), a volume's
most recent (never trusting the service's order), and the notice that says which it chose."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from backupshare.cli import run
from backupshare.cli.invocation import Invocation
from backupshare.emulator import RunningEmulator
from backupshare.emulator.core import DEMO_VOLUME

from .helpers import BACKUP, OWN, P1, P2, VOLUME, FakeTime, fault, posts, seeded


# -- share by name, or a volume's most recent ------------------------------------------------------
def test_share_by_exact_name(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("share", "db-nightly", P1, "-o", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["results"][0]["backup_id"] == BACKUP


def test_a_name_several_backups_have_lists_them_and_sends_nothing(
    make_emulator: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    twins = [seeded(1, name="nightly"), seeded(2, name="nightly", status="error")]
    running = make_emulator(backups=twins)
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
    result = cli("share", "nightly", P1)
    assert (result.code, result.out) == (2, "")
    first, hint = result.err.splitlines()
    assert first.startswith(
        "error: 2 backups are named 'nightly': 00000000-0000-4000-8000-000000000001 (available, created "
    )
    assert "00000000-0000-4000-8000-000000000002 (error, created " in first
    # times as the tables show them: `2026-12-03 08:14:47 UTC`, not the wire's ISO form
    assert re.search(r"\(available, created \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)", first), first
    assert hint == "hint: give the backup id, or --volume-id VOLUME_ID --most-recent"
    assert posts(running) == []


def test_a_name_no_backup_has_is_not_found(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("share", "no-such-backup", P1)
    assert result.code == 5 and result.err.startswith("error: no backup named 'no-such-backup'")
    assert posts(emulator) == []


def test_most_recent_takes_the_newest_available_of_the_volume(
    cli: Any, emulator: RunningEmulator
) -> None:
    # the volume's newest backup is still creating: the newest *available* one is db-nightly
    result = cli("share", "--volume-id", VOLUME, "--most-recent", P1, P2, "-o", "json")
    assert result.code == 0, result.err
    assert {r["backup_id"] for r in json.loads(result.out)["results"]} == {BACKUP}


def test_most_recent_never_trusts_the_services_order(
    make_emulator: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Oldest first, with another volume's newer backup mixed in: still the right one."""
    backups = [seeded(3), seeded(1), seeded(2), seeded(0, volume_id=BACKUP)]
    running = make_emulator(backups=backups)
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
    records = json.loads(cli("backups", "-o", "json").out)
    shuffled = sorted(records, key=lambda r: r["created_at"])  # oldest first
    fault(running, "raw", method="GET", path="/backups/detail", status=200,
          body=json.dumps({"backups": shuffled}))  # fmt: skip
    result = cli("share", "--volume-id", VOLUME, "--most-recent", P1, "-o", "json")
    assert json.loads(result.out)["results"][0]["backup_id"] == seeded(1).id


def test_a_volume_without_an_available_backup_is_not_found(
    cli: Any, emulator: RunningEmulator
) -> None:
    other = "11111111-2222-4333-8444-555555555555"
    result = cli("share", "--volume-id", other, "--most-recent", P1)
    assert result.code == 5 and f"volume {other} has no available backup" in result.err
    assert posts(emulator) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--most-recent", P1], "--most-recent needs --volume-id VOLUME_ID"),
        (["--volume-id", VOLUME, P1], "--volume-id needs --most-recent"),
        (["--volume-id", VOLUME, "--most-recent", BACKUP, P1], "give BACKUP or --volume-id --most-recent, not both"),
        (["--volume-id", VOLUME, "--most-recent", "db-nightly", P1], "give BACKUP or --volume-id --most-recent, not both ('db-nightly' is not a project id"),
        (["--volume-id", "vol", "--most-recent", P1], "invalid volume id 'vol'"),
        ([P1, P2], f"invalid backup id '{P1}': expected a UUID"),
        (["", P1], "an empty backup name"),
        (["db\x07", P1], "invalid backup name 'db\\x07': it holds control characters"),
        ([], "no backup to share: give its id or name, or --volume-id VOLUME_ID --most-recent"),
        ([BACKUP, P1, "--wait", "0"], "invalid --wait 0: must be more than 0 and at most 86400 seconds"),
        ([BACKUP, P1, "--wait", "-5"], "invalid --wait -5"),
        ([BACKUP, P1, "--wait", "nan"], "invalid --wait nan"),
    ],
)  # fmt: skip
def test_share_backup_choice_bad_input(
    cli: Any, emulator: RunningEmulator, argv: list[str], message: str
) -> None:
    result = cli("share", *argv)
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines()[0].startswith(f"error: {message}")
    assert emulator.logged() == []


def test_wait_that_is_not_a_number_is_a_usage_error(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("share", BACKUP, P1, "--wait", "soon")
    assert result.code == 2 and "'soon' is not a valid number" in result.err
    assert emulator.logged() == []


def test_most_recent_with_wait_waits_for_the_newest_being_made(
    cli: Any,
    make_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Last night's backup is still being made: with --wait it is the one shared, once ready;
    without --wait the newest available one (the night before) is."""
    fake = FakeTime()
    tonight = seeded(1, available_after=120, created_at=fake.now - timedelta(minutes=5))
    yesterday = seeded(2, created_at=fake.now - timedelta(days=1))
    running = make_emulator(backups=[tonight, yesterday], clock=fake.clock)
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
    monkeypatch.setattr("time.monotonic", lambda: fake.now.timestamp())
    argv = ["share", "--volume-id", VOLUME, "--most-recent", "-o", "json"]
    assert run([*argv, P1], invocation=Invocation(sleep=fake.sleep)) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["backup_id"] == yesterday.id
    code = run([*argv, P2, "--wait", "600"], invocation=Invocation(sleep=fake.sleep))
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["results"][0]["backup_id"] == tonight.id
    assert sum(fake.slept) >= 115  # it waited for tonight's to be made


# -- share says which backup it chose ----------------------------------------------------------------
def test_share_by_name_says_which_backup_it_chose(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("share", "db-nightly", P1, "-o", "json")
    assert result.code == 0, result.err
    created = str(emulator.store.backup(BACKUP)["created_at"])
    shown = created.replace("T", " ").split(".")[0]
    assert result.err.splitlines() == [f"sharing backup {BACKUP} (db-nightly, created {shown} UTC)"]


def test_most_recent_says_which_backup_it_chose(cli: Any) -> None:
    result = cli("share", "--volume-id", DEMO_VOLUME, "--most-recent", P1, "-o", "json")
    assert result.code == 0, result.err
    assert result.err.startswith(f"sharing backup {BACKUP} (db-nightly, created ")


def test_quiet_share_by_name_says_nothing(cli: Any) -> None:
    result = cli("share", "db-nightly", P1, "-q", "-o", "json")
    assert (result.code, result.err) == (0, "")


def test_share_by_id_needs_no_notice(cli: Any) -> None:
    result = cli("share", BACKUP, P1, "-o", "json")
    assert (result.code, result.err) == (0, "")


def test_a_mistyped_backup_name_suggests_the_near_one(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("share", "db-nightlx", P1)
    assert (result.code, result.out) == (5, "")
    assert result.err.splitlines() == [
        "error: no backup named 'db-nightlx'",
        "hint: did you mean 'db-nightly'?",
    ]
    assert not emulator.store.query(OWN, {})  # nothing was shared
