"""The emulator's CBR side (docs/wire.md (CBR)): backups own and shared, share members and their handshake,
one vault per project, any project with credentials; and the official `huaweicloudsdkcbr`
client driving all of it, so the emulator is checked against code this project did not write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from backupshare.emulator import BackupSeed, RunningEmulator
from backupshare.emulator.core import DEMO_VOLUME, PARTNER_CREDENTIALS, ProjectCredential
from backupshare.emulator.schema import vault_id_of
from backupshare.emulator.server import DEFAULT_AKSK, DEFAULT_TOKEN

from .helpers import BACKUP, BACKUP2, CREATING, ENCRYPTED, OWN, P1, P2, P3, PARTNER_BACKUP, fault

PARTNER_TOKEN = "partner-token"
PARTNER_AKSK = ("PARTNERACCESSKEY0000", "partner-secret-key")
TOKENS = {OWN: DEFAULT_TOKEN, P1: PARTNER_TOKEN}
MISSING = "00000000-0000-4000-8000-000000000000"
BACKUP_FIELDS = {
    "checkpoint_id", "created_at", "description", "expired_at", "extend_info", "id", "image_type",
    "name", "parent_id", "project_id", "protected_at", "resource_az", "resource_id",
    "resource_name", "resource_size", "resource_type", "scheduled_operation_id", "status",
    "updated_at", "vault_id", "replication_records", "enterprise_project_id", "provider_id",
    "children", "incremental", "version",
}  # fmt: skip
MEMBER_FIELDS = {
    "id", "backup_id", "dest_project_id", "status", "vault_id", "image_id", "created_at",
    "updated_at",
}  # fmt: skip


def cbr(
    emulator: RunningEmulator,
    method: str,
    path: str,
    project: str = OWN,
    *,
    token: str | None = None,
    **options: Any,
) -> requests.Response:
    """One CBR call as `project` (with its token), path relative to /v3/{project}."""
    headers = {"X-Auth-Token": token or TOKENS[project]}
    url = f"{emulator.url}/v3/{project}{path}"
    return requests.request(method, url, headers=headers, timeout=5, **options)


def ok(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def refused(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "error_msg"} and body["error_code"] == code, body


def add(emulator: RunningEmulator, backup: str, members: list[Any], **options: Any) -> Any:
    return cbr(emulator, "POST", f"/backups/{backup}/members", json={"members": members}, **options)


def backups(emulator: RunningEmulator, project: str = OWN, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(cbr(emulator, "GET", "/backups", project, params=params))[
        "backups"
    ]
    return found


def answer(
    emulator: RunningEmulator, backup: str, project: str, body: dict[str, Any]
) -> requests.Response:
    return cbr(emulator, "PUT", f"/backups/{backup}/members/{project}", project, json=body)


# -- backups ----------------------------------------------------------------------------------------
def test_own_backups_in_cbr_terms(emulator: RunningEmulator) -> None:
    body = ok(cbr(emulator, "GET", "/backups"))
    assert (body["count"], body["offset"], body["limit"]) == (4, 0, 1000)
    records = {b["id"]: b for b in body["backups"]}
    assert set(records) == {BACKUP, BACKUP2, CREATING, ENCRYPTED}
    assert all(set(b) == BACKUP_FIELDS for b in records.values())
    db = records[BACKUP]
    assert (db["resource_id"], db["resource_type"], db["resource_size"]) == (
        DEMO_VOLUME,
        "OS::Cinder::Volume",
        40,
    )
    assert (db["project_id"], db["vault_id"], db["image_type"]) == (OWN, vault_id_of(OWN), "backup")
    assert records[CREATING]["status"] == "protecting"  # CBR's word for a backup being made
    assert records[ENCRYPTED]["extend_info"]["encrypted"] is True
    assert db["extend_info"]["encrypted"] is False


def test_shared_backups_and_member_status(emulator: RunningEmulator) -> None:
    assert PARTNER_BACKUP not in {b["id"] for b in backups(emulator)}
    [offer] = backups(emulator, own_type="shared")
    assert (offer["id"], offer["project_id"]) == (PARTNER_BACKUP, P1)  # the owner's project
    assert backups(emulator, own_type="shared", member_status="pending") == [offer]
    assert backups(emulator, own_type="shared", member_status="accepted") == []
    assert len(backups(emulator, own_type="all_granted")) == 5
    assert ok(cbr(emulator, "GET", f"/backups/{PARTNER_BACKUP}"))["backup"] == offer
    refused(cbr(emulator, "GET", f"/backups/{BACKUP}", P1), 404, "BackupService.6200")


def test_filters_sort_and_paging(emulator: RunningEmulator) -> None:
    def names(**params: Any) -> list[str]:
        return [b["name"] for b in backups(emulator, **params)]

    newest = names(
        resource_id=DEMO_VOLUME, resource_type="OS::Cinder::Volume", status="available",
        image_type="backup", sort="created_at:desc", limit=1,
    )  # fmt: skip
    assert newest == ["db-nightly"]
    assert names(resource_id=DEMO_VOLUME) == ["logs-hourly", "db-nightly"]  # newest first
    assert names(status=["protecting", "error"]) == ["logs-hourly"]  # repeatable
    assert names(name="db") == [] and names(name="db-nightly") == ["db-nightly"]
    assert names(resource_type="OS::Nova::Server") == []
    assert names(sort="name:asc") == ["db-nightly", "logs-hourly", "vault-encrypted", "web-weekly"]
    assert names(sort="name:asc", limit=2, offset=1) == ["logs-hourly", "vault-encrypted"]
    everything = backups(emulator, sort="name:asc")
    assert names(sort="name:asc", marker=everything[1]["id"]) == ["vault-encrypted", "web-weekly"]
    assert ok(cbr(emulator, "GET", "/backups", params={"limit": 1}))["count"] == 4  # the total
    assert (
        names(start_time="2000-01-01T00:00:00Z", end_time="2999-01-01T00:00:00Z")[0]
        == "logs-hourly"
    )
    assert names(end_time="2000-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    "params",
    [
        {"own_type": "mine"}, {"member_status": "maybe"}, {"status": "creating"},
        {"resource_type": "disk"}, {"limit": "0"}, {"limit": "1001"}, {"offset": "-1"},
        {"sort": "size:asc"}, {"sort": "name:up"}, {"sort": "name," * 100}, {"marker": MISSING},
        {"start_time": "yesterday"},
    ],
)  # fmt: skip
def test_invalid_backup_list_parameters_are_9900(
    emulator: RunningEmulator, params: dict[str, str]
) -> None:
    refused(cbr(emulator, "GET", "/backups", params=params), 400, "BackupService.9900")


# -- members: adding --------------------------------------------------------------------------------
def test_adding_members_offers_the_backup(emulator: RunningEmulator) -> None:
    body = ok(add(emulator, BACKUP, [P1, P2]))
    assert body["count"] == 2
    members = body["members"]
    assert [m["dest_project_id"] for m in members] == [P1, P2]
    assert all(set(m) == MEMBER_FIELDS for m in members)
    assert {(m["status"], m["vault_id"], m["image_id"], m["backup_id"]) for m in members} == {
        ("pending", None, None, BACKUP)
    }
    assert len(members[0]["created_at"]) == len("2020-02-05T10:38:34.209782")
    assert ok(add(emulator, BACKUP, [P3]))["count"] == 3


@pytest.mark.parametrize(
    ("backup", "members", "status", "code"),
    [
        (CREATING, [P1], 400, "BackupService.6702"),
        (ENCRYPTED, [P1], 400, "BackupService.6709"),
        (BACKUP, [OWN], 400, "BackupService.6704"),
        (BACKUP, ["not-a-project"], 400, "BackupService.6704"),
        (BACKUP, [P1.upper()], 400, "BackupService.6704"),
        (BACKUP, [12], 400, "BackupService.6704"),
        (BACKUP, [], 400, "BackupService.9900"),
        (BACKUP, [f"{i:032x}" for i in range(1, 12)], 400, "BackupService.9900"),
        (BACKUP, [P1, P1], 400, "BackupService.9900"),
        (MISSING, [P1], 404, "BackupService.6200"),
        ("not-a-uuid", [P1], 404, "BackupService.6200"),
        (PARTNER_BACKUP, [P2], 400, "BackupService.6707"),  # offered to us, not ours to share
    ],
)
def test_add_member_rules(
    emulator: RunningEmulator, backup: str, members: list[Any], status: int, code: str
) -> None:
    refused(add(emulator, backup, members), status, code)


@pytest.mark.parametrize(
    "body", [b"{not json", b"[]", b'{"members": "x"}', b'{"domains": ["d1"], "members": []}']
)
def test_bad_add_member_bodies_are_9900(emulator: RunningEmulator, body: bytes) -> None:
    response = cbr(emulator, "POST", f"/backups/{BACKUP}/members", data=body)
    refused(response, 400, "BackupService.9900")


@pytest.mark.parametrize("state", ["pending", "accepted", "rejected"])
def test_a_member_in_any_status_is_a_member(emulator: RunningEmulator, state: str) -> None:
    ok(add(emulator, BACKUP, [P1]))
    if state != "pending":
        vault = vault_id_of(P1) if state == "accepted" else None
        ok(answer(emulator, BACKUP, P1, {"status": state, "vault_id": vault}))
    refused(add(emulator, BACKUP, [P2, P1]), 400, "BackupService.6714")
    members = ok(cbr(emulator, "GET", f"/backups/{BACKUP}/members"))["members"]
    assert [m["dest_project_id"] for m in members] == [P1]  # all or nothing


def test_the_duplicate_code_is_configurable(make_emulator: Callable[..., RunningEmulator]) -> None:
    running = make_emulator(cbr_duplicate_code="BackupService.6703")
    ok(add(running, BACKUP, [P1]))
    refused(add(running, BACKUP, [P1]), 400, "BackupService.6703")


def test_at_most_ten_members_all_or_nothing(make_emulator: Callable[..., RunningEmulator]) -> None:
    running = make_emulator(max_targets=3)
    ok(add(running, BACKUP, [P1, P2]))
    refused(add(running, BACKUP, [P3, f"{1:032x}"]), 400, "BackupService.6701")
    assert ok(add(running, BACKUP, [P3]))["count"] == 3


def test_server_backup_only_regions_refuse_disk_backups(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    running = make_emulator(cbr_server_backups_only=True)
    refused(add(running, BACKUP, [P1]), 400, "BackupService.6700")


# -- members: listing, answering, deleting ----------------------------------------------------------
def test_listing_members(emulator: RunningEmulator) -> None:
    ok(add(emulator, BACKUP, [P1, P2, P3]))
    ok(answer(emulator, BACKUP, P1, {"status": "rejected"}))

    def listed(project: str = OWN, **params: Any) -> tuple[list[str], int]:
        body = ok(cbr(emulator, "GET", f"/backups/{BACKUP}/members", project, params=params))
        return [m["dest_project_id"] for m in body["members"]], body["count"]

    everyone, count = listed(sort="dest_project_id:asc")
    assert (everyone, count) == (sorted([P1, P2, P3]), 3)
    assert listed(status="pending", sort="dest_project_id:asc") == (sorted([P2, P3]), 2)
    assert listed(dest_project_id=P2) == ([P2], 1)
    assert listed(limit=1, offset=1, sort="dest_project_id:asc") == ([everyone[1]], 3)
    assert listed(P1) == ([P1], 1)  # a receiving project sees its own record alone
    refused(
        cbr(emulator, "GET", f"/backups/{BACKUP}/members", params={"status": "x"}),
        400,
        "BackupService.9900",
    )
    refused(
        cbr(emulator, "GET", f"/backups/{BACKUP}/members", params={"vault_id": "v"}),
        400,
        "BackupService.9900",
    )
    refused(cbr(emulator, "GET", f"/backups/{BACKUP2}/members", P1), 404, "BackupService.6200")


def test_the_receiving_project_accepts_into_its_vault(emulator: RunningEmulator) -> None:
    ok(add(emulator, BACKUP, [P1, P2]))
    own_vault, partner_vault = vault_id_of(OWN), vault_id_of(P1)
    url = f"/backups/{BACKUP}/members/{P1}"
    refused(
        cbr(emulator, "PUT", url, json={"status": "accepted", "vault_id": partner_vault}),
        400,
        "BackupService.6708",
    )
    refused(answer(emulator, BACKUP, P1, {"status": "accepted"}), 400, "BackupService.6706")
    refused(answer(emulator, BACKUP, P1, {"status": "maybe"}), 400, "BackupService.6706")
    refused(
        answer(emulator, BACKUP, P1, {"status": "accepted", "vault_id": "v"}),
        400,
        "BackupService.6706",
    )
    refused(
        answer(emulator, BACKUP, P1, {"status": "accepted", "vault_id": own_vault}),
        404,
        "BackupService.6105",
    )
    shared = cbr(
        emulator, "PUT", f"/backups/{BACKUP}/members/{P2}", P1, json={"status": "rejected"}
    )
    refused(shared, 404, "BackupService.6705")  # not for P1 to answer P2's offer
    assert backups(emulator, P1, own_type="shared")[0]["vault_id"] == own_vault  # still the owner's
    member = ok(answer(emulator, BACKUP, P1, {"status": "accepted", "vault_id": partner_vault}))[
        "member"
    ]
    assert (member["status"], member["vault_id"], member["dest_project_id"]) == (
        "accepted",
        partner_vault,
        P1,
    )
    assert member["updated_at"] is not None
    [accepted] = backups(emulator, P1, own_type="shared", member_status="accepted")
    assert (accepted["id"], accepted["vault_id"], accepted["project_id"]) == (
        BACKUP,
        partner_vault,
        OWN,
    )
    seen = ok(cbr(emulator, "GET", url))["member"]  # the owner sees it accepted
    assert seen == member
    rejected = ok(answer(emulator, BACKUP, P1, {"status": "rejected"}))["member"]
    assert (rejected["status"], rejected["vault_id"]) == ("rejected", None)
    vault = ok(cbr(emulator, "GET", "/vaults", P1))["vaults"][0]
    assert vault["billing"]["used"] == 10 * 1024  # MB: its own backup only, once it let go


def test_deleting_a_member(emulator: RunningEmulator) -> None:
    ok(add(emulator, BACKUP, [P1]))
    url = f"/backups/{BACKUP}/members/{P1}"
    refused(cbr(emulator, "DELETE", url, P1), 400, "BackupService.6707")  # the owner's to end
    deleted = cbr(emulator, "DELETE", url)
    assert deleted.status_code == 204 and deleted.content == b""
    refused(cbr(emulator, "DELETE", url), 404, "BackupService.6705")
    refused(cbr(emulator, "GET", url), 404, "BackupService.6705")
    refused(cbr(emulator, "GET", f"/backups/{BACKUP}", P1), 404, "BackupService.6200")
    assert backups(emulator, P1, own_type="shared") == []
    refused(cbr(emulator, "GET", f"/backups/{BACKUP}/members/{P2}"), 404, "BackupService.6705")
    refused(
        cbr(emulator, "GET", f"/backups/{BACKUP}/members/not-a-project"), 404, "BackupService.6705"
    )


# -- vaults and projects ----------------------------------------------------------------------------
def test_one_vault_per_project(emulator: RunningEmulator) -> None:
    body = ok(cbr(emulator, "GET", "/vaults"))
    assert body["count"] == 1
    [vault] = body["vaults"]
    assert (vault["id"], vault["project_id"]) == (vault_id_of(OWN), OWN)
    assert (vault["billing"]["object_type"], vault["billing"]["protect_type"]) == ("disk", "backup")
    assert vault["billing"]["used"] == 75 * 1024  # MB: the demo backups, 40 + 20 + 5 + 10 GB
    assert vault["billing"]["size"] == 1000  # GB
    assert ok(cbr(emulator, "GET", f"/vaults/{vault['id']}"))["vault"] == vault
    assert ok(cbr(emulator, "GET", "/vaults", params={"object_type": "server"}))["vaults"] == []
    assert ok(cbr(emulator, "GET", "/vaults", params={"protect_type": "backup"}))["count"] == 1
    refused(cbr(emulator, "GET", f"/vaults/{vault_id_of(P1)}"), 404, "BackupService.6105")
    assert ok(cbr(emulator, "GET", "/vaults", P1))["vaults"][0]["id"] == vault_id_of(P1)


def test_a_full_vault_refuses_the_backup(make_emulator: Callable[..., RunningEmulator]) -> None:
    running = make_emulator(
        backups=[BackupSeed(BACKUP, OWN, "huge", size=999), BackupSeed(BACKUP2, P1, "p", size=2)]
    )
    ok(add(running, BACKUP, [P1]))
    full = answer(running, BACKUP, P1, {"status": "accepted", "vault_id": vault_id_of(P1)})
    refused(full, 400, "BackupService.6114")


def test_any_project_with_credentials_is_served(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    running = make_emulator(credentials=[ProjectCredential(P3, "token", "third-token")])
    ok(add(running, BACKUP, [P3]))
    headers = {"X-Auth-Token": "third-token"}
    url = f"{running.url}/v3/{P3}/vaults"
    vault = ok(requests.get(url, headers=headers, timeout=5))["vaults"][0]
    body = {"status": "accepted", "vault_id": vault["id"]}
    accepted = requests.put(
        f"{running.url}/v3/{P3}/backups/{BACKUP}/members/{P3}",
        json=body,
        headers=headers,
        timeout=5,
    )
    assert ok(accepted)["member"]["status"] == "accepted"
    refused_partner = requests.get(
        f"{running.url}/v3/{P1}/vaults", headers={"X-Auth-Token": PARTNER_TOKEN}, timeout=5
    )
    assert refused_partner.status_code == 401  # credentials given: the default partner's are gone


def test_the_gateway_guards_cbr_paths(emulator: RunningEmulator) -> None:
    anonymous = requests.get(f"{emulator.url}/v3/{OWN}/backups", timeout=5)
    assert anonymous.status_code == 401 and anonymous.json()["error_code"] == "APIG.0301"
    crossed = cbr(emulator, "GET", "/backups", P1, token=DEFAULT_TOKEN)
    assert crossed.status_code == 403 and crossed.json()["error_code"] == "APIG.0302"
    unknown = cbr(emulator, "GET", "/policies")
    assert unknown.status_code == 404 and unknown.json()["error_code"] == "APIG.0101"
    assert cbr(emulator, "DELETE", "/backups").status_code == 405
    assert cbr(emulator, "PATCH", f"/backups/{BACKUP}/members/{P1}").status_code == 405


def test_faults_and_the_log_cover_cbr(emulator: RunningEmulator) -> None:
    fault(emulator, status=503, method="GET", path="/members")
    refused(cbr(emulator, "GET", f"/backups/{BACKUP}/members"), 503, "BackupService.0503")
    fault(emulator, status=429, retry_after="3", path="/v3/")
    throttled = cbr(emulator, "GET", "/backups")
    assert throttled.headers["Retry-After"] == "3" and throttled.json()["error_code"] == "APIG.0308"
    fault(emulator, "commit_then_502", method="POST", path="/members")
    assert add(emulator, BACKUP, [P1]).status_code == 502
    assert [
        m["dest_project_id"]
        for m in ok(cbr(emulator, "GET", f"/backups/{BACKUP}/members"))["members"]
    ] == [P1]
    posted = emulator.logged("POST", "/members")[0]
    assert posted["path"] == f"/v3/{OWN}/backups/{BACKUP}/members" and '"members"' in posted["body"]


# -- the official SDK drives the handshake ---------------------------------------------------------
def sdk_client(emulator: RunningEmulator, ak: str, sk: str, project: str) -> Any:
    """docs/wire.md (CBR): AK/SK, a project id and the emulator as a custom endpoint; no IAM call."""
    from huaweicloudsdkcbr.v1 import CbrClient
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig

    config = HttpConfig.get_default_config()
    config.retry_times = 0
    config.timeout = (5, 10)
    return (
        CbrClient.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials(ak, sk, project))
        .with_endpoint(emulator.url)
        .build()
    )


def test_the_official_sdk_shares_accepts_and_deletes(emulator: RunningEmulator) -> None:
    from huaweicloudsdkcbr.v1 import (
        AddMemberRequest,
        AddMembersReq,
        BackupResp,
        DeleteMemberRequest,
        ListBackupsRequest,
        ListVaultRequest,
        Member,
        ShowMemberDetailRequest,
        ShowMembersDetailRequest,
        UpdateMember,
        UpdateMemberStatusRequest,
    )
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

    owner = sdk_client(emulator, *DEFAULT_AKSK, OWN)
    receiver = sdk_client(emulator, *PARTNER_AKSK, P1)

    added = owner.add_member(AddMemberRequest(backup_id=BACKUP, body=AddMembersReq(members=[P1])))
    assert added.status_code == 200
    [offered] = added.members
    assert isinstance(offered, Member) and (offered.dest_project_id, offered.status) == (
        P1,
        "pending",
    )

    listed = owner.show_members_detail(ShowMembersDetailRequest(backup_id=BACKUP))
    assert listed.count == 1 and [m.dest_project_id for m in listed.members] == [P1]

    offers = receiver.list_backups(ListBackupsRequest(own_type="shared", member_status="pending"))
    [offer] = offers.backups
    assert isinstance(offer, BackupResp) and offer.id == BACKUP and offer.project_id == OWN
    assert offer.created_at.tzinfo is not None  # parsed to a datetime, not left a string
    assert offer.extend_info.encrypted is False and offer.resource_size == 40

    [vault] = receiver.list_vault(ListVaultRequest()).vaults
    assert vault.id == vault_id_of(P1) and vault.billing.object_type == "disk"
    accepted = receiver.update_member_status(
        UpdateMemberStatusRequest(
            backup_id=BACKUP, member_id=P1, body=UpdateMember(status="accepted", vault_id=vault.id)
        )
    )
    assert (accepted.member.status, accepted.member.vault_id) == ("accepted", vault.id)

    seen = owner.show_member_detail(ShowMemberDetailRequest(backup_id=BACKUP, member_id=P1))
    assert (seen.member.status, seen.member.vault_id) == ("accepted", vault.id)

    gone = owner.delete_member(DeleteMemberRequest(backup_id=BACKUP, member_id=P1))
    assert gone.status_code == 204
    with pytest.raises(ClientRequestException) as missing:
        owner.show_member_detail(ShowMemberDetailRequest(backup_id=BACKUP, member_id=P1))
    assert (missing.value.status_code, missing.value.error_code) == (404, "BackupService.6705")
    assert missing.value.request_id  # from X-Request-Id

    signed = [entry for entry in emulator.logged() if entry["path"].startswith("/v3/")]
    assert len(signed) == 8
    assert all(e["headers"]["Authorization"].startswith("SDK-HMAC-SHA256 ") for e in signed)


def test_the_official_sdk_reads_own_backups_and_errors(emulator: RunningEmulator) -> None:
    from huaweicloudsdkcbr.v1 import (
        AddMemberRequest,
        AddMembersReq,
        ListBackupsRequest,
        ShowBackupRequest,
    )
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

    owner = sdk_client(emulator, *DEFAULT_AKSK, OWN)
    newest = owner.list_backups(
        ListBackupsRequest(
            resource_id=DEMO_VOLUME, resource_type="OS::Cinder::Volume", status="available",
            own_type="private", image_type="backup", sort="created_at:desc", limit=1,
        )
    )  # fmt: skip
    assert [b.name for b in newest.backups] == ["db-nightly"] and newest.count == 1
    shown = owner.show_backup(ShowBackupRequest(backup_id=ENCRYPTED)).backup
    assert shown.extend_info.encrypted is True and shown.protected_at is not None
    with pytest.raises(ClientRequestException) as encrypted:
        owner.add_member(AddMemberRequest(backup_id=ENCRYPTED, body=AddMembersReq(members=[P1])))
    assert (encrypted.value.status_code, encrypted.value.error_code) == (400, "BackupService.6709")
    wrong_key = sdk_client(emulator, DEFAULT_AKSK[0], "not-the-secret", OWN)
    with pytest.raises(ClientRequestException) as unsigned:
        wrong_key.list_backups(ListBackupsRequest())
    assert (unsigned.value.status_code, unsigned.value.error_code) == (401, "APIG.0303")


# -- the command line -------------------------------------------------------------------------------
def test_credentials_of_other_projects_on_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from backupshare.emulator.__main__ import config_from_args, parse

    config = config_from_args(parse([]))
    assert config.other_credentials() == list(PARTNER_CREDENTIALS)
    argv = ["--credential", f"{P3.upper()}:aksk:AK3:s:k", "--credential", f"{P3}:token:t3"]
    config = config_from_args(parse([*argv, "--credential", f"{P2}:user:u2:pw"]))
    assert config.other_credentials() == [
        ProjectCredential(P3, "aksk", "AK3", "s:k"),
        ProjectCredential(P3, "token", "t3"),
        ProjectCredential(P2, "user", "u2", "pw"),
    ]
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_CREDENTIAL", f"{P2}:token:a, {P3}:token:b")
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_CBR_SERVER_BACKUPS_ONLY", "1")
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_CBR_DUPLICATE_CODE", "6703")
    config = config_from_args(parse([]))
    assert [c.name for c in config.other_credentials()] == ["a", "b"]
    assert config.cbr_server_backups_only and config.cbr_duplicate_code == "BackupService.6703"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nope:token:t", "'nope' is not a project id"),
        (f"{P1}:key:x", "credential kind 'key' is not one of token, user, aksk"),
        (f"{P1}:token:", "expected PROJECT:token:TOKEN"),
        (f"{P1}:aksk:AK", "expected A:B, got 'AK'"),
    ],
)
def test_a_bad_credential_is_a_usage_error(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from backupshare.emulator.__main__ import parse

    with pytest.raises(SystemExit) as exited:
        parse(["--credential", value])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_the_banner_lists_cbr_backups_and_vaults() -> None:
    from backupshare.emulator.__main__ import banner, cbr_lines, config_from_args, parse
    from backupshare.emulator.core import Emulator

    config = config_from_args(parse([]))
    emulator = Emulator(config)
    lines = banner(
        config, "http://127.0.0.1:1", emulator.store.backups(OWN), cbr_lines(emulator)
    ).splitlines()
    emulator.store.close()
    assert f"    project {OWN}:" in lines
    vault_line = f"      vault {vault_id_of(OWN)} vault-c13f5220 (disk, 76800 MB used of 1000 GB)"
    assert vault_line in lines
    assert f"      vault {vault_id_of(P1)} vault-722513ed (disk, 10240 MB used of 1000 GB)" in lines
    assert f"      {CREATING}  protecting logs-hourly" in lines
    assert (
        f"      {PARTNER_BACKUP}  available  partner-golden-image  shared to it: pending" in lines
    )
    assert f"      {ENCRYPTED}  available  vault-encrypted encrypted" in lines
    assert (
        f"  project    : {P1} (token partner-token, user partner-user:partner-password,"
        " aksk PARTNERACCESSKEY0000:partner-secret-key)"
    ) in lines
