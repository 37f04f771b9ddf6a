"""accept/reject --all-pending narrowed by the backup selectors, and the `existing` result of
answering one offer the way it is already answered (#23) — two projects, the CLI in-process
against the emulator over loopback."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone

import pytest

from backupshare.emulator import BackupSeed, RunningEmulator
from backupshare.emulator.schema import VaultSeed

from .helpers import BACKUP, BACKUP2, OWN, P1
from .test_receive import BACKUP3, Ran, cli_as, member, offer, puts, two_owners

__all__ = ["cli_as"]  # the fixture, used by name

VOLUME_A = "11111111-0000-4000-8000-00000000000a"
VOLUME_B = "11111111-0000-4000-8000-00000000000b"
V_OWNERS_HOME = "bbbbbbbb-0000-4000-8000-000000000000"  # the owner's first: its home vault
V_OWNERS = "bbbbbbbb-0000-4000-8000-000000000001"  # a second vault of the owner's


def three_offers(running_maker: Callable[..., RunningEmulator]) -> RunningEmulator:
    """OWN offers P1 three backups that differ in each selector: volume, owner's vault, name,
    and creation time."""
    backups = [
        BackupSeed(BACKUP, OWN, "db-1", volume_id=VOLUME_A,
                   created_at=datetime(2026, 11, 1, tzinfo=timezone.utc)),
        BackupSeed(BACKUP2, OWN, "db-2", volume_id=VOLUME_B, vault_id=V_OWNERS,
                   created_at=datetime(2026, 11, 15, tzinfo=timezone.utc)),
        BackupSeed(BACKUP3, OWN, "web", volume_id=VOLUME_B,
                   created_at=datetime(2026, 12, 1, tzinfo=timezone.utc)),
    ]  # fmt: skip
    options = two_owners(backups=backups)
    owners = [VaultSeed(V_OWNERS_HOME, OWN, "home", size=500),
              VaultSeed(V_OWNERS, OWN, "second", size=500)]  # fmt: skip
    options["vaults"] = [*options["vaults"], *owners]
    running = running_maker(**options)
    for backup in (BACKUP, BACKUP2, BACKUP3):
        offer(running, backup)
    return running


@pytest.mark.parametrize(
    ("selector", "chosen"),
    [
        (["--volume-id", VOLUME_B], {BACKUP2, BACKUP3}),
        (["--volume-id", VOLUME_A, "--volume-id", VOLUME_B], {BACKUP, BACKUP2, BACKUP3}),
        (["--vault-id", V_OWNERS], {BACKUP2}),
        (["--name-prefix", "db-"], {BACKUP, BACKUP2}),
        (["--created-after", "2026-11-10"], {BACKUP2, BACKUP3}),
        (["--created-before", "2026-11-15"], {BACKUP}),
        (["--created-after", "2026-11-01", "--created-before", "2026-12-01"], {BACKUP, BACKUP2}),
        (["--name-prefix", "db-", "--volume-id", VOLUME_B], {BACKUP2}),
        (["--name-prefix", "none-"], set()),
    ],
)
def test_each_selector_narrows_the_offers_accepted(
    make_emulator: Callable[..., RunningEmulator],
    cli_as: Callable[..., Ran],
    selector: list[str],
    chosen: set[str],
) -> None:
    running = three_offers(make_emulator)
    result = cli_as(running, "accept", "--all-pending", *selector, "-o", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert {r["backup_id"] for r in document["results"]} == chosen
    assert {r["result"] for r in document["results"]} <= {"accepted"}
    assert document["changed"] is bool(chosen)
    answered = {p["path"].split("/")[4] for p in puts(running)}
    assert answered == chosen  # the others were not sent anything
    left = {BACKUP, BACKUP2, BACKUP3} - chosen
    assert {member(running, b)["status"] for b in left} <= {"pending"}


def test_reject_all_pending_takes_the_selectors_too(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = three_offers(make_emulator)
    result = cli_as(running, "reject", "--all-pending", "--from-project", OWN,
                    "--name-prefix", "db-", "--created-after", "2026-11-10", "-o", "json")  # fmt: skip
    assert result.code == 0, result.err
    assert [(r["backup_id"], r["result"]) for r in json.loads(result.out)["results"]] == [
        (BACKUP2, "rejected")
    ]
    assert member(running, BACKUP)["status"] == member(running, BACKUP3)["status"] == "pending"


def test_a_dry_run_shows_only_the_selected_offers(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = three_offers(make_emulator)
    result = cli_as(running, "accept", "--all-pending", "--vault-id", V_OWNERS, "--dry-run",
                    "-o", "json")  # fmt: skip
    assert result.code == 0, result.err
    assert [r["backup_id"] for r in json.loads(result.out)["results"]] == [BACKUP2]
    assert puts(running) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["accept", BACKUP, "--name-prefix", "db-"], "error: --name-prefix needs --all-pending"),
        (["reject", BACKUP, "--volume-id", VOLUME_A], "error: --volume-id needs --all-pending"),
        (["accept", "--all-pending", "--created-after", "yesterday"],
         "error: invalid --created-after 'yesterday'"),
        (["accept", "--all-pending", "--created-after", "2026-12-01", "--created-before",
          "2026-11-01"], "error: --created-after 2026-12-01T00:00:00+00:00 is later than"),
        (["reject", "--all-pending", "--from-project", OWN, "--vault-id", "not-a-uuid"],
         "error: invalid vault id 'not-a-uuid'"),
    ],
)  # fmt: skip
def test_bad_selectors_are_usage_errors_and_nothing_is_sent(
    make_emulator: Callable[..., RunningEmulator],
    cli_as: Callable[..., Ran],
    argv: list[str],
    message: str,
) -> None:
    running = make_emulator(**two_owners())
    running.emulator.clear_log()
    result = cli_as(running, *argv)
    assert result.code == 2, result.err
    assert result.err.startswith(message), result.err
    assert running.emulator.logged() == []


def test_vault_id_on_vbs_is_a_usage_error_and_nothing_is_sent(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    running.emulator.clear_log()
    result = cli_as(running, "accept", "--all-pending", "--vault-id", V_OWNERS, service="vbs")
    assert result.code == 2
    assert result.err.startswith(f"error: --vault-id '{V_OWNERS}': VBS has no vaults")
    assert running.emulator.logged() == []


# -- `existing`: one offer already answered that way --------------------------------------------
def test_accepting_an_accepted_offer_again_is_existing_and_sends_nothing(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    offer(running, BACKUP)
    first = cli_as(running, "accept", BACKUP, "-o", "json")
    assert first.code == 0, first.err
    [done] = json.loads(first.out)["results"]
    assert json.loads(first.out)["changed"] is True and done["result"] == "accepted"
    running.emulator.clear_log()
    again = cli_as(running, "accept", BACKUP, "-o", "json")
    assert again.code == 0, again.err
    document = json.loads(again.out)
    assert document["changed"] is False
    [record] = document["results"]
    assert (record["result"], record["status"], record["vault_id"]) == (
        "existing", "accepted", done["vault_id"]
    )  # fmt: skip
    assert (record["from_project_id"], record["to_project_id"]) == (OWN, P1)
    assert puts(running) == [] and running.emulator.logged("GET", "/vaults") == []


def test_rejecting_a_rejected_offer_again_is_existing_and_accepting_it_is_a_change(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    offer(running, BACKUP2)
    assert cli_as(running, "reject", BACKUP2).code == 0
    running.emulator.clear_log()
    again = cli_as(running, "reject", BACKUP2)
    assert again.code == 0, again.err
    assert again.out.splitlines()[1].split()[:2] == ["existing", "rejected"]
    assert puts(running) == []
    accepted = cli_as(running, "accept", BACKUP2, "-o", "json")
    assert accepted.code == 0, accepted.err
    assert json.loads(accepted.out)["results"][0]["result"] == "accepted"
    assert member(running, BACKUP2)["status"] == "accepted"


def test_answering_a_backup_not_offered_is_not_found_and_nothing_is_put(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    result = cli_as(running, "reject", BACKUP)  # never offered to P1
    assert (result.code, result.out) == (5, "")
    assert result.err.startswith("error: ")
    assert puts(running) == []


def test_answering_ones_own_backup_says_whose_move_it_is(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    result = cli_as(running, "reject", BACKUP, project=OWN)
    assert result.code == 5
    assert result.err.splitlines()[0] == (
        f"error: backup {BACKUP} is not offered to this project: it is its own"
    )
    assert "reject is for the receiving project" in result.err
    assert puts(running) == []
