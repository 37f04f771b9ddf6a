"""CBR through the CLI, against the emulator over loopback: the same verbs as VBS on share
members, the receiving project's accept and reject, and every refusal before anything is sent;
hints that fit the service, and doctor on CBR asks CBR."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from backupshare.emulator import RunningEmulator

from .helpers import (
    BACKUP,
    ENCRYPTED,
    OWN,
    P1,
    P2,
    PARTNER_BACKUP,
    CliResult,
    fault,
)


def test_the_cbr_backups_table_marks_an_encrypted_backup(cli: Any) -> None:
    cbr = cli("--service", "cbr", "backups")
    assert cbr.code == 0, cbr.err
    rows = {line.split()[0]: line for line in cbr.out.splitlines()[1:]}
    assert rows["vault-encrypted"].split()[1] == "(encrypted)"
    assert "(encrypted)" not in rows["db-nightly"]
    vbs = cli("backups")  # VBS's record does not say: nothing is marked
    assert vbs.code == 0 and "(encrypted)" not in vbs.out


def test_a_cbr_permission_refusal_asks_for_cbr_permissions(
    cbr: Any, emulator: RunningEmulator
) -> None:
    from .helpers import fault

    body = '{"error_code": "APIG.0302", "error_msg": "not allowed"}'
    fault(emulator, "raw", method="GET", status=403, body=body)
    result = cbr("backups")
    assert result.code == 4
    assert result.err.splitlines()[1] == (
        "hint: these credentials are not allowed to do this; ask for CBR permissions"
    )


def test_accepting_ones_own_backup_says_accept_is_for_the_receiver(cbr: Any) -> None:
    result = cbr("accept", BACKUP)
    assert result.code == 5
    assert result.err.splitlines()[1] == (
        f"hint: accept is for the receiving project: backup {BACKUP} belongs to this project "
        f"({OWN}); run `backupshare -p PROFILE accept {BACKUP}` with the profile of a project "
        "it was shared with"
    )


def test_cbr_refusing_a_backup_being_made_suggests_wait(cbr: Any) -> None:
    from .helpers import CREATING

    result = cbr("share", CREATING, P1)
    assert result.code == 6
    assert result.err.splitlines()[-1] == (
        "hint: only backups in status available can be shared; wait for it with --wait SECONDS"
    )


def test_cbr_offers_show_the_backup_id_once(cbr: Any, monkeypatch: Any) -> None:
    assert cbr("share", BACKUP, P1).code == 0
    as_partner(monkeypatch)
    result = cbr("list-shares", "--shared-with-me")
    assert result.code == 0, result.err
    header, row = result.out.splitlines()
    assert header.split()[:4] == ["BACKUP", "ID", "BACKUP", "NAME"]
    assert row.count(BACKUP) == 1 and row.split()[:3] == [BACKUP, "db-nightly", OWN]
    csv = cbr("list-shares", "--shared-with-me", "-o", "csv")  # csv keeps its fixed header
    assert csv.out.splitlines()[0].startswith("id,backup_id,")


def test_the_owners_member_listing_names_the_backup(cbr: Any) -> None:
    assert cbr("share", BACKUP, P1).code == 0
    result = cbr("list-shares", "--backup-id", BACKUP)
    assert result.code == 0, result.err
    row = result.out.splitlines()[1].split()
    assert row[1:6] == [BACKUP, "db-nightly", P1, "pending", "40"]


def test_accept_tables_use_the_usual_header_style(cbr: Any, monkeypatch: Any) -> None:
    assert cbr("share", BACKUP, P1).code == 0
    as_partner(monkeypatch)
    result = cbr("accept", BACKUP)
    assert result.code == 0, result.err
    # the report's table, as share's and --all-pending's
    headers = "RESULT STATUS PROJECT SHARE ID BACKUP ID FROM PROJECT VAULT ERROR"
    assert result.out.splitlines()[0].split() == headers.split()


def test_doctor_on_cbr_checks_with_a_cbr_call(cbr: Any, emulator: RunningEmulator) -> None:
    import json

    result = cbr("doctor", "-o", "json")
    assert result.code == 0, result.err
    steps = {step["check"]: step for step in json.loads(result.out)}
    assert steps["credentials"]["detail"].startswith("token accepted; ")
    assert steps["credentials"]["detail"].endswith(" backups")
    [call] = [r for r in emulator.logged("GET") if r["path"].startswith("/v3/")]
    assert call["path"] == f"/v3/{OWN}/backups"


PARTNER_TOKEN = "partner-token"  # the emulator's second project (P1) and its credentials


MEMBERS = f"/v3/{OWN}/backups/{BACKUP}/members"


@pytest.fixture
def cbr(cli: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """The CLI on CBR as the owning project (OWN)."""
    monkeypatch.setenv("BACKUPSHARE_SERVICE", "cbr")
    return cli  # type: ignore[no-any-return]


def as_partner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", P1)
    monkeypatch.setenv("BACKUPSHARE_TOKEN", PARTNER_TOKEN)


def members(emulator: RunningEmulator) -> list[str]:
    return [r["path"] for r in emulator.logged("POST") if r["path"].endswith("/members")]


def test_share_adds_members_and_converges(cbr: Any, emulator: RunningEmulator) -> None:
    first = cbr("share", BACKUP, P1, P2, "-o", "json")
    assert first.code == 0, first.err
    document = json.loads(first.out)
    assert document["changed"] is True
    assert [(r["to_project_id"], r["result"], r["status"]) for r in document["results"]] == [
        (P1, "created", "pending"),
        (P2, "created", "pending"),
    ]
    again = cbr("share", BACKUP, P1, P2, "-o", "json")
    assert [r["result"] for r in json.loads(again.out)["results"]] == ["existing", "existing"]
    assert len(members(emulator)) == 1  # one POST for both, none on the re-run


def test_share_table_shows_each_members_status(cbr: Any) -> None:
    result = cbr("share", BACKUP, P1)
    assert result.code == 0
    header, row = result.out.splitlines()
    assert header.split() == ["RESULT", "STATUS", "PROJECT", "SHARE", "ID", "BACKUP", "ID", "ERROR"]
    assert row.split()[:3] == ["created", "pending", P1]


def test_eleven_targets_are_refused_before_anything_is_sent(
    cbr: Any, emulator: RunningEmulator
) -> None:
    targets = [f"{n:032x}" for n in range(1, 12)]
    result = cbr("share", BACKUP, *targets)
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines()[0] == (
        "error: 11 target projects: a backup can be shared with at most 10 projects"
    )
    assert emulator.logged() == []


def test_past_the_limit_with_existing_members_is_refused_before_the_post(
    cbr: Any, emulator: RunningEmulator
) -> None:
    assert cbr("share", BACKUP, *[f"{n:032x}" for n in range(1, 10)]).code == 0
    emulator.clear_log()
    result = cbr("share", BACKUP, P1, P2, "--dry-run")
    assert result.code == 6
    assert "is shared with 9 projects; 2 more would pass the limit of 10" in result.err
    real = cbr("share", BACKUP, P1, P2)
    assert real.code == 6 and members(emulator) == []  # dry run and real run agree


def test_own_project_and_bad_ids_are_usage_errors(cbr: Any, emulator: RunningEmulator) -> None:
    own = cbr("share", BACKUP, OWN)
    assert own.code == 2 and "the profile's own project" in own.err
    bad = cbr("accept", "not-a-backup")
    assert bad.code == 2 and "invalid backup id 'not-a-backup'" in bad.err
    vault = cbr("accept", BACKUP, "--vault", "nope")
    assert vault.code == 2 and "invalid vault id 'nope'" in vault.err
    assert emulator.logged() == []


def test_an_ambiguous_post_is_settled_by_listing(cbr: Any, emulator: RunningEmulator) -> None:
    fault(emulator, "commit_then_502", method="POST", path=MEMBERS)
    result = cbr("share", BACKUP, P1, "-o", "json")
    assert result.code == 0, result.err
    assert [r["result"] for r in json.loads(result.out)["results"]] == ["created"]
    assert len(members(emulator)) == 1  # never a second POST for a member that is there


def test_already_a_member_means_existing(cbr: Any, emulator: RunningEmulator) -> None:
    """A list that missed the member (here: one empty answer), then 6714 from the POST: the
    second list finds it, and it is `existing`, not an error."""
    assert cbr("share", BACKUP, P1).code == 0
    empty = json.dumps({"members": [], "count": 0})
    fault(emulator, "raw", method="GET", path=MEMBERS, status=200, body=empty)
    result = cbr("share", BACKUP, P1, "-o", "json")
    assert result.code == 0, result.err
    assert [r["result"] for r in json.loads(result.out)["results"]] == ["existing"]


def test_an_encrypted_backup_is_warned_about_then_refused_with_a_hint(cbr: Any) -> None:
    result = cbr("share", ENCRYPTED, P1)
    assert result.code == 6
    lines = result.err.splitlines()
    # one story: the warning before the POST and the hint of its refusal say the same thing
    story = (
        "an encrypted backup can be used by the receiving account only with a grant on its KMS "
        "key, and regions that still refuse sharing encrypted backups answer BackupService.6709"
    )
    assert lines[0] == f"warning: backup {ENCRYPTED} is encrypted: {story}"
    assert "BackupService.6709" in lines[1]
    assert lines[2] == f"hint: {story}"


def test_list_shares_without_a_backup_lists_across_the_project_on_cbr(
    cbr: Any, emulator: RunningEmulator
) -> None:
    assert cbr("share", BACKUP, P1).code == 0
    result = cbr("list-shares", "-o", "json")
    assert result.code == 0, result.err
    assert [(r["backup_id"], r["dest_project_id"]) for r in json.loads(result.out)] == [
        (BACKUP, P1)
    ]  # the whole project (tests/test_project.py), no longer a usage error


def test_list_shares_of_a_backup_with_status_filter(cbr: Any) -> None:
    assert cbr("share", BACKUP, P1, P2).code == 0
    listed = cbr("list-shares", "--backup-id", BACKUP, "-o", "json")
    records = json.loads(listed.out)
    assert sorted((r["dest_project_id"], r["status"]) for r in records) == [
        (P1, "pending"),
        (P2, "pending"),
    ]
    assert cbr("list-shares", "--backup-id", BACKUP, "--status", "accepted", "-o", "ids").out == ""
    count = cbr("list-shares", "--backup-id", BACKUP, "--count")
    assert count.out == "2\n"
    bad = cbr("list-shares", "--backup-id", BACKUP, "--status", "available")
    assert bad.code == 2 and "choose one of pending, accepted, rejected" in bad.err


def test_the_receiving_project_sees_accepts_and_the_owner_sees_it(
    cbr: Any, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cbr("share", BACKUP, P1).code == 0
    as_partner(monkeypatch)
    offers = cbr("list-shares", "--shared-with-me", "--status", "pending", "-o", "json")
    assert [(o["id"], o["member_status"]) for o in json.loads(offers.out)] == [(BACKUP, "pending")]
    accepted = cbr("accept", BACKUP, "-o", "json")
    assert accepted.code == 0, accepted.err
    [record] = json.loads(accepted.out)["results"]
    assert (record["result"], record["status"]) == ("accepted", "accepted")
    assert record["to_project_id"] == P1
    assert record["vault_id"]  # the partner's only vault, found without --vault
    again = cbr("accept", BACKUP, "-o", "json")
    assert again.code == 0  # answering the same way twice is harmless: `existing`
    assert json.loads(again.out)["changed"] is False
    monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", OWN)
    monkeypatch.setenv("BACKUPSHARE_TOKEN", "emulator-token")
    seen = json.loads(cbr("list-shares", "--backup-id", BACKUP, "-o", "json").out)
    assert [(m["dest_project_id"], m["status"]) for m in seen] == [(P1, "accepted")]


def test_reject_an_offer(cbr: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cbr("share", BACKUP, P1).code == 0
    as_partner(monkeypatch)
    rejected = cbr("reject", BACKUP, "-o", "json")
    assert rejected.code == 0
    assert json.loads(rejected.out)["results"][0]["status"] == "rejected"


def test_vaults_that_say_nothing_of_their_room_are_named_and_nothing_is_sent(
    cbr: Any, emulator: RunningEmulator
) -> None:
    vaults = {"vaults": [{"id": "11111111-1111-4111-8111-111111111111", "name": "disks"},
                         {"id": "22222222-2222-4222-8222-222222222222", "name": "servers"}]}  # fmt: skip
    fault(
        emulator, "raw", method="GET", path=f"/v3/{OWN}/vaults", status=200, body=json.dumps(vaults)
    )
    result = cbr("accept", PARTNER_BACKUP)
    assert (result.code, result.out) == (6, "")
    assert result.err.splitlines()[0] == (
        f"error: no vault of this project can take backup {PARTNER_BACKUP} (disk, 10 GB): "
        "11111111-1111-4111-8111-111111111111 (disks): it takes an unknown type of backups; "
        "22222222-2222-4222-8222-222222222222 (servers): it takes an unknown type of backups"
    )
    assert emulator.logged("PUT") == []


def test_accept_and_reject_on_vbs_are_usage_errors(cli: Any, emulator: RunningEmulator) -> None:
    for verb in ("accept", "reject"):
        result = cli(verb, PARTNER_BACKUP)
        assert result.code == 2
        assert result.err.splitlines()[0] == (
            "error: VBS sharing needs no acceptance: a sharing is usable as soon as it is made"
        )
    assert emulator.logged() == []


def test_cancel_every_member_of_a_backup(cbr: Any, emulator: RunningEmulator) -> None:
    assert cbr("share", BACKUP, P1, P2).code == 0
    result = cbr("cancel", "--backup-id", BACKUP, "--yes", "-o", "json")
    assert result.code == 0, result.err
    assert sorted(r["to_project_id"] for r in json.loads(result.out)["results"]) == [P1, P2]
    deletes = [r["path"] for r in emulator.logged("DELETE")]
    assert sorted(deletes) == [f"{MEMBERS}/{P1}", f"{MEMBERS}/{P2}"]
    assert cbr("list-shares", "--backup-id", BACKUP, "--count").out == "0\n"


def test_cancel_one_member_and_an_absent_one(cbr: Any) -> None:
    assert cbr("share", BACKUP, P1).code == 0
    result = cbr(
        "cancel", "--backup-id", BACKUP, "--to-project", P1, "--to-project", P2, "-o", "json"
    )
    assert result.code == 0
    outcome = {r["to_project_id"]: r["result"] for r in json.loads(result.out)["results"]}
    assert outcome == {P1: "canceled", P2: "absent"}


@pytest.mark.parametrize("argv", [["cancel", BACKUP], ["show", BACKUP]])
def test_sharing_ids_are_usage_errors_on_cbr(
    cbr: Any, emulator: RunningEmulator, argv: list[str]
) -> None:
    result = cbr(*argv)
    assert result.code == 2
    assert result.err.startswith("error: CBR sharings have no ids of their own")
    assert emulator.logged() == []


def test_a_bad_service_is_named(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    flag = cli("--service", "ebs", "list-shares")
    assert flag.code == 2 and "service 'ebs' (flag --service) is not one of vbs, cbr" in flag.err
    monkeypatch.setenv("BACKUPSHARE_SERVICE", "ebs")
    env = cli("list-shares")
    assert env.code == 3 and "service 'ebs' (env BACKUPSHARE_SERVICE)" in env.err


def test_doctor_proves_cbr_credentials_with_a_backup_list(
    cbr: Any, emulator: RunningEmulator
) -> None:
    result = cbr("doctor", "-o", "json")
    assert result.code == 0, result.out
    steps = {step["check"]: step for step in json.loads(result.out)}
    assert steps["credentials"]["status"] == "ok"
    assert steps["credentials"]["detail"].startswith("token accepted; ")
    assert steps["credentials"]["detail"].endswith(" backups")
    [probe] = emulator.logged("GET")
    assert (probe["path"], probe["query"]) == (f"/v3/{OWN}/backups", {"limit": "1"})


def test_config_show_says_which_service(cbr: Any) -> None:
    shown = {row["key"]: row for row in json.loads(cbr("config", "show", "-o", "json").out)}
    assert (shown["service"]["value"], shown["service"]["source"]) == (
        "cbr",
        "env BACKUPSHARE_SERVICE",
    )


def test_a_dry_run_shows_the_cbr_request(cbr: Any, emulator: RunningEmulator) -> None:
    result = cbr("share", BACKUP, P1, "--dry-run")
    assert result.code == 0
    assert f'would send: POST …/backups/{BACKUP}/members {{"members": ["{P1}"]}}' in result.err
    assert emulator.logged("POST") == []


def test_the_receiving_project_cannot_end_a_sharing_only_decline_it(
    cbr: Any, emulator: RunningEmulator
) -> None:
    result = cbr("cancel", "--backup-id", PARTNER_BACKUP, "--yes", "-o", "json")
    assert result.code == 4
    hint = f"hint: to decline it: backupshare reject {PARTNER_BACKUP}"
    assert hint in result.err.splitlines()
    [item] = json.loads(result.out)["results"]
    assert (item["to_project_id"], item["result"]) == (OWN, "failed")
    assert "only the owner can end the sharing" in item["error"]["message"]
    assert emulator.logged("DELETE") == []


def test_offers_of_one_backup_are_filtered_here(
    cbr: Any, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .helpers import BACKUP2

    assert cbr("share", BACKUP, P1).code == 0 and cbr("share", BACKUP2, P1).code == 0
    as_partner(monkeypatch)
    emulator.clear_log()
    listed = cbr("list-shares", "--shared-with-me", "--backup-id", BACKUP, "-o", "ids")
    assert listed.out == f"{BACKUP}\n"
    assert all("id" not in r["query"] for r in emulator.logged("GET"))


def test_an_unknown_vault_is_refused_before_the_put(cbr: Any, emulator: RunningEmulator) -> None:
    result = cbr("accept", PARTNER_BACKUP, "--vault", "00000000-0000-4000-8000-000000000000")
    assert result.code == 5
    assert "vault 00000000-0000-4000-8000-000000000000 is not one of this project's" in result.err
    assert emulator.logged("PUT") == []  # the vault list said so: nothing sent
    assert result.err.splitlines()[-1] == (
        "hint: the vault does not exist in this project (see the vault ids)"
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [("--name", "db"), ("--volume-id", BACKUP), ("--sort-key", "name"), ("--from-project", P2)],
)
def test_options_cbr_cannot_honour_are_refused(
    cbr: Any, emulator: RunningEmulator, option: str, value: str
) -> None:
    result = cbr("list-shares", "--backup-id", BACKUP, option, value)
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines()[0] == f"error: {option}: not available on CBR"
    assert emulator.logged() == []


def test_a_bad_project_id_flag_is_a_usage_error(cli: Any) -> None:
    result = cli("--project-id", "nope", "list-shares")
    assert result.code == 2
    assert result.err.startswith("error: project id 'nope' (flag --project-id) is not 32 hex")


def test_a_dry_run_reads_the_backup_once(cbr: Any, emulator: RunningEmulator) -> None:
    assert cbr("share", BACKUP, P1, "--dry-run").code == 0
    path = f"/v3/{OWN}/backups/{BACKUP}"
    reads = [r for r in emulator.logged("GET", path) if r["path"] == path]
    assert len(reads) == 1  # read for the dry run's checks, not again for the warnings
