"""The emulator's CBR vaults (several per project, a type, a size in GB and a use in MB), the
checks before an accept (6713, 6114), offers answered on the receiver's behalf after a delay of
the test's own clock, IAM-like access keys (a user's key signs for every project served; the
official SDK does the receiver's calls with the owner's key), generated backups, and CBR's backup
list filters over them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from backupshare.emulator import BackupSeed, RunningEmulator
from backupshare.emulator.core import DEFAULT_AKSK, ProjectCredential
from backupshare.emulator.schema import AutoAnswer, VaultSeed, vault_id_of
from backupshare.emulator.seeding import vaults_from_spec

from .helpers import BACKUP, BACKUP2, OWN, P1, P2, P3
from .test_emulator_cbr import PARTNER_AKSK, add, answer, backups, cbr, ok, refused, sdk_client

V_SMALL = "aaaaaaaa-0000-4000-8000-000000000001"
V_BIG = "aaaaaaaa-0000-4000-8000-000000000002"
V_SERVER = "aaaaaaaa-0000-4000-8000-000000000003"
V_TWIN = "aaaaaaaa-0000-4000-8000-000000000004"
TOO_SMALL = "The used capacity of the vault exceeds the maximum capacity."
WRONG_TYPE = (
    "The type of the vault accepting the shared backup and the backup resource type are different."
)


class Clock:
    """The emulator's clock, moved by the test: no test here waits on the wall clock."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 7, 40, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def partner_vaults() -> list[VaultSeed]:
    """The receiving project's vaults: 50 GB with 30 GB used, 200 GB empty, a server vault."""
    return [
        VaultSeed(V_SMALL, P1, "small", size=50, used_mb=30 * 1024),
        VaultSeed(V_BIG, P1, "big", size=200),
        VaultSeed(V_SERVER, P1, "servers", object_type="server", size=5000),
    ]


def vaults(running: RunningEmulator, project: str = P1, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(cbr(running, "GET", "/vaults", project, params=params))
    return body


def accept(running: RunningEmulator, backup: str, vault: str) -> requests.Response:
    return answer(running, backup, P1, {"status": "accepted", "vault_id": vault})


def member(running: RunningEmulator, backup: str, project: str = P1) -> dict[str, Any]:
    found: dict[str, Any] = ok(cbr(running, "GET", f"/backups/{backup}/members/{project}"))[
        "member"
    ]
    return found


# -- vaults ---------------------------------------------------------------------------------------
def test_several_vaults_with_type_size_and_use(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    running = make_emulator(vaults=partner_vaults())
    body = vaults(running)
    assert body["count"] == 3
    listed = {v["id"]: v["billing"] for v in body["vaults"]}
    assert [v["name"] for v in body["vaults"]] == ["small", "big", "servers"]  # as made
    # GB and MB: 30 GB seeded as used, and the partner's own 10 GB demo backup (its home vault
    # is its first disk vault).
    assert (listed[V_SMALL]["size"], listed[V_SMALL]["used"]) == (50, 40 * 1024)
    assert (listed[V_BIG]["size"], listed[V_BIG]["used"]) == (200, 0)
    assert listed[V_SERVER]["object_type"] == "server"
    assert [v["provider_id"] for v in body["vaults"]][-1] == "0daac4c5-6707-4851-97ba-169e36266b66"
    # Given vaults, the project has those alone: no default vault besides them.
    assert vault_id_of(P1) not in listed
    # The own project, given none, still has its default one.
    assert [v["id"] for v in vaults(running, OWN)["vaults"]] == [vault_id_of(OWN)]
    shown = ok(cbr(running, "GET", f"/vaults/{V_BIG}", P1))["vault"]
    assert shown == body["vaults"][1]
    refused(cbr(running, "GET", f"/vaults/{vault_id_of(P1)}", P1), 404, "BackupService.6105")


def test_the_vault_list_is_paged_and_filtered(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    many = vaults_from_spec({"project": P1, "size": 10, "count": 25, "name": "v"}, OWN)
    running = make_emulator(vaults=many)
    first = vaults(running, limit=10)
    second = vaults(running, limit=10, offset=10)
    third = vaults(running, limit=10, offset=20)
    assert (first["count"], second["count"], third["count"]) == (25, 25, 25)
    names = [v["name"] for page in (first, second, third) for v in page["vaults"]]
    assert names == [f"v-{i}" for i in range(1, 26)]
    assert vaults(running, object_type="server")["vaults"] == []
    assert vaults(running, object_type="disk", limit=1)["count"] == 25
    refused(cbr(running, "GET", "/vaults", P1, params={"limit": "0"}), 400, "BackupService.9900")


def test_an_accept_checks_the_vault_type_and_room(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    seeded = [
        BackupSeed(BACKUP, OWN, "db", size=40),
        BackupSeed(BACKUP2, OWN, "web", size=20),
    ]
    running = make_emulator(backups=seeded, vaults=partner_vaults())
    ok(add(running, BACKUP, [P1]))
    ok(add(running, BACKUP2, [P1]))
    wrong_type = accept(running, BACKUP, V_SERVER)
    refused(wrong_type, 400, "BackupService.6713")
    assert wrong_type.json()["error_msg"] == WRONG_TYPE
    too_small = accept(running, BACKUP, V_SMALL)  # 20 GB free, 40 GB wanted
    refused(too_small, 400, "BackupService.6114")
    assert too_small.json()["error_msg"] == TOO_SMALL
    assert member(running, BACKUP)["status"] == "pending"  # nothing changed
    refused(accept(running, BACKUP, vault_id_of(OWN)), 404, "BackupService.6105")  # not P1's

    # Exactly as much room as the backup needs is enough: free space >= its size.
    assert ok(accept(running, BACKUP2, V_SMALL))["member"]["vault_id"] == V_SMALL
    listed = {v["id"]: v["billing"]["used"] for v in vaults(running)["vaults"]}
    assert listed == {V_SMALL: 50 * 1024, V_BIG: 0, V_SERVER: 0}  # the backup's size, in MB
    assert ok(accept(running, BACKUP, V_BIG))["member"]["vault_id"] == V_BIG
    assert {v["id"]: v["billing"]["used"] for v in vaults(running)["vaults"]}[V_BIG] == 40 * 1024
    # A full vault refuses even a small backup; moving the member lets its old vault go.
    refused(accept(running, BACKUP, V_SMALL), 400, "BackupService.6114")
    ok(answer(running, BACKUP2, P1, {"status": "rejected"}))
    assert {v["id"]: v["billing"]["used"] for v in vaults(running)["vaults"]}[V_SMALL] == 30 * 1024
    # A shared backup accepted into a vault reads that vault's id.
    accepted = backups(running, P1, own_type="shared", member_status="accepted")
    assert [(b["id"], b["vault_id"]) for b in accepted] == [(BACKUP, V_BIG)]


def test_own_backups_live_in_their_vault(make_emulator: Callable[..., RunningEmulator]) -> None:
    own_vaults = [VaultSeed(V_SMALL, OWN, "a", size=100), VaultSeed(V_BIG, OWN, "b", size=100)]
    seeded = [
        BackupSeed(BACKUP, OWN, "db", size=40, vault_id=V_BIG),
        BackupSeed(BACKUP2, OWN, "web", size=20),  # the home vault: the first disk vault
    ]
    running = make_emulator(backups=seeded, vaults=own_vaults)
    assert {b["id"]: b["vault_id"] for b in backups(running)} == {BACKUP: V_BIG, BACKUP2: V_SMALL}
    used = {v["id"]: v["billing"]["used"] for v in vaults(running, OWN)["vaults"]}
    assert used == {V_SMALL: 20 * 1024, V_BIG: 40 * 1024}
    assert [b["id"] for b in backups(running, vault_id=V_BIG)] == [BACKUP]


# -- answering on the receiver's behalf -----------------------------------------------------------
def test_an_offer_is_accepted_after_the_delay_of_emulator_time(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    clock = Clock()
    twins = [VaultSeed(V_TWIN, P1, "twin", size=200), *partner_vaults()]
    running = make_emulator(
        clock=clock, vaults=twins, auto_answers=[(None, AutoAnswer("accepted", 30))]
    )
    offered = ok(add(running, BACKUP, [P1]))["members"][0]
    clock.advance(29.999)
    assert member(running, BACKUP)["status"] == "pending"
    clock.advance(0.001)
    answered = member(running, BACKUP)
    # The roomiest disk vault with room (the two 200 GB ones tie: the smaller id wins), dated
    # when the answer fell due.
    assert (answered["status"], answered["vault_id"]) == ("accepted", V_BIG)
    assert answered["updated_at"] == "2026-12-03T07:40:30.000000"
    assert answered["created_at"] == offered["created_at"]


def test_an_offer_is_rejected_or_left_per_project(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    clock = Clock()
    running = make_emulator(
        clock=clock,
        credentials=[
            ProjectCredential(P1, "token", "partner-token"),
            ProjectCredential(P2, "token", "p2-token"),
            ProjectCredential(P3, "token", "p3-token"),
        ],
        vaults=[VaultSeed(V_SMALL, P3, "tiny", size=10)],
    )
    setting = requests.post(
        f"{running.url}/_emulator/auto-answer",
        json={"status": "rejected", "after": 5, "project": P1},
        timeout=5,
    )
    assert ok(setting) == {"project": P1, "status": "rejected", "after": 5.0}
    rule = {"status": "accepted", "after": 5, "project": P3}
    ok(requests.post(f"{running.url}/_emulator/auto-answer", json=rule, timeout=5))
    ok(add(running, BACKUP, [P1, P2, P3]))  # a 40 GB backup
    clock.advance(3600)
    statuses = {m["dest_project_id"]: (m["status"], m["vault_id"]) for m in members(running)}
    assert statuses == {
        P1: ("rejected", None),
        P2: ("pending", None),  # no rule for it: never answered
        P3: ("pending", None),  # no vault of its has room: it cannot accept
    }
    ok(requests.delete(f"{running.url}/_emulator/auto-answer", timeout=5))
    ok(add(running, BACKUP2, [P1]))
    clock.advance(3600)
    assert member(running, BACKUP2)["status"] == "pending"


def test_offers_made_before_the_rule_are_left_alone(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    clock = Clock()
    running = make_emulator(clock=clock)
    ok(add(running, BACKUP, [P1]))
    clock.advance(1)
    rule = {"status": "accepted", "after": 0}
    ok(requests.post(f"{running.url}/_emulator/auto-answer", json=rule, timeout=5))
    ok(add(running, BACKUP2, [P1]))
    assert member(running, BACKUP)["status"] == "pending"
    assert member(running, BACKUP2)["status"] == "accepted"


def members(running: RunningEmulator, backup: str = BACKUP) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(cbr(running, "GET", f"/backups/{backup}/members"))["members"]
    return found


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"status": "pending"}, "status must be accepted or rejected"),
        ({"status": "accepted", "after": -1}, "after must be 0 to 604800 seconds"),
        ({"status": "accepted", "after": True}, "after must be 0 to 604800 seconds"),
        ({"status": "accepted", "project": "p"}, "'p' is not a project id"),
        ({"status": "accepted", "when": 1}, "give {'status'"),
        (["accepted"], "give {'status'"),
    ],
)
def test_a_bad_auto_answer_is_refused(emulator: RunningEmulator, spec: Any, message: str) -> None:
    response = requests.post(f"{emulator.url}/_emulator/auto-answer", json=spec, timeout=5)
    assert response.status_code == 400 and response.json()["error_code"] == "EMULATOR.0002"
    assert message in response.json()["error_msg"]
    assert emulator.store.auto_answers == {}


# -- keys like IAM's --------------------------------------------------------------------------------
def test_the_official_sdk_answers_for_the_receiver_with_the_owner_s_key(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    """Two projects of one account: the user's key signs for both (prod -> DR)."""
    from huaweicloudsdkcbr.v1 import (
        AddMemberRequest,
        AddMembersReq,
        ListBackupsRequest,
        ListVaultRequest,
        ShowMemberDetailRequest,
        ShowMembersDetailRequest,
        UpdateMember,
        UpdateMemberStatusRequest,
    )

    running = make_emulator(vaults=partner_vaults())
    owner = sdk_client(running, *DEFAULT_AKSK, OWN)
    receiver = sdk_client(running, *DEFAULT_AKSK, P1)  # the owner's own key, the other project

    owner.add_member(AddMemberRequest(backup_id=BACKUP, body=AddMembersReq(members=[P1])))
    offers = receiver.list_backups(ListBackupsRequest(own_type="shared", member_status="pending"))
    assert BACKUP in [offer.id for offer in offers.backups]
    listed = receiver.list_vault(ListVaultRequest(limit=2, offset=1)).vaults
    assert [(v.id, v.billing.object_type, v.billing.size) for v in listed] == [
        (V_BIG, "disk", 200),
        (V_SERVER, "server", 5000),
    ]
    assert listed[0].billing.used == 0
    own_record = receiver.show_members_detail(ShowMembersDetailRequest(backup_id=BACKUP))
    assert [m.dest_project_id for m in own_record.members] == [P1]
    accepted = receiver.update_member_status(
        UpdateMemberStatusRequest(
            backup_id=BACKUP, member_id=P1, body=UpdateMember(status="accepted", vault_id=V_BIG)
        )
    )
    assert (accepted.member.status, accepted.member.vault_id) == ("accepted", V_BIG)
    seen = receiver.show_member_detail(ShowMemberDetailRequest(backup_id=BACKUP, member_id=P1))
    assert seen.member.vault_id == V_BIG
    [vault] = receiver.list_vault(ListVaultRequest(limit=1, offset=1)).vaults
    assert vault.billing.used == 40 * 1024  # the 40 GB backup, in MB
    signed = [e for e in running.logged() if e["path"].startswith(f"/v3/{P1}/")]
    assert signed and all(
        e["headers"]["Authorization"].startswith(f"SDK-HMAC-SHA256 Access={DEFAULT_AKSK[0]},")
        for e in signed
    )


def test_a_project_bound_key_and_a_token_stay_in_their_project(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    from huaweicloudsdkcbr.v1 import ListVaultRequest
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

    running = make_emulator()
    partner_on_own = sdk_client(running, *PARTNER_AKSK, OWN)  # --credential P1:aksk:…
    with pytest.raises(ClientRequestException) as crossed:
        partner_on_own.list_vault(ListVaultRequest())
    assert (crossed.value.status_code, crossed.value.error_code) == (403, "APIG.0302")
    unserved = sdk_client(running, *DEFAULT_AKSK, P3)  # a project the emulator does not serve
    with pytest.raises(ClientRequestException) as outside:
        unserved.list_vault(ListVaultRequest())
    assert (outside.value.status_code, outside.value.error_code) == (403, "APIG.0302")
    token_crossed = cbr(running, "GET", "/vaults", P1, token="emulator-token")
    assert token_crossed.status_code == 403  # tokens stay scoped to their project


def test_a_user_key_follows_x_project_id() -> None:
    from backupshare.emulator.iam import Identity

    identity = Identity(OWN)
    identity.add_token("t", P1)
    assert identity._named_project(f"/v3/{P1}/vaults", None) == P1
    assert identity._named_project(f"/v3/{P1}/vaults", P1) == P1
    assert identity._named_project(f"/v3/{P1}/vaults", OWN) == OWN  # then 403 on the path
    assert identity._named_project(f"/v3/{P3}/vaults", None) == OWN  # not served
    assert identity._named_project("/v3.0/OS-CREDENTIAL/securitytokens", None) == OWN


# -- generated backups and CBR's list filters ----------------------------------------------------
def all_backups(running: RunningEmulator, **params: Any) -> list[dict[str, Any]]:
    """Every page (1000 a page, by offset)."""
    found: list[dict[str, Any]] = []
    while True:
        page = ok(cbr(running, "GET", "/backups", params={**params, "offset": len(found)}))
        found += page["backups"]
        if len(found) >= page["count"]:
            return found


def test_generated_backups_are_the_same_for_the_same_seed(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    def generated(seed: int) -> list[tuple[str, str, str, str]]:
        clock = Clock()
        running = make_emulator(clock=clock, backups=[], seed_backups=300, random_seed=seed)
        rows = all_backups(running)
        return [(b["id"], b["name"], b["created_at"], b["resource_id"]) for b in rows]

    first, again, other = generated(7), generated(7), generated(8)
    assert len(first) == 300 and first == again and first != other


def test_ten_thousand_generated_backups_spread_and_shared(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    clock = Clock()
    own_vaults = vaults_from_spec({"size": 100000, "count": 3, "name": "own"}, OWN)
    running = make_emulator(clock=clock, backups=[], vaults=own_vaults, seed_backups=10_000)
    rows = all_backups(running)
    assert len(rows) == 10_000
    assert len({b["resource_id"] for b in rows}) == 1000  # volumes
    assert {b["vault_id"] for b in rows} == {v.id for v in own_vaults}
    days = {b["created_at"][:10] for b in rows}
    assert len(days) > 80 and max(b["created_at"] for b in rows) < "2026-12-03T07:40:00"
    assert {b["status"] for b in rows} == {"available", "protecting", "error"}
    offered = backups(running, P1, own_type="shared", limit=1000)
    assert {b["project_id"] for b in offered} == {OWN} and len(offered) > 1000 // 2
    statuses = [
        m["status"]
        for b in rows[:300]
        for m in ok(cbr(running, "GET", f"/backups/{b['id']}/members"))["members"]
    ]
    assert set(statuses) == {"pending", "accepted", "rejected"}
    sharings = requests.get(
        f"{running.url}/v2/{OWN}/os-vendor-backup-sharing/detail",
        headers={"X-Auth-Token": "emulator-token"},
        params={"limit": 1},
        timeout=5,
    )
    assert sharings.status_code == 200 and sharings.json()["shared"]


def test_cbr_list_filters_over_generated_backups(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    clock = Clock()
    own_vaults = vaults_from_spec({"size": 100000, "count": 2, "name": "own"}, OWN)
    running = make_emulator(clock=clock, backups=[], vaults=own_vaults, seed_backups=2000)
    rows = all_backups(running)

    def ids(records: list[dict[str, Any]]) -> set[str]:
        return {record["id"] for record in records}

    def matching(**params: Any) -> set[str]:
        return ids(all_backups(running, **params))

    vault = own_vaults[1].id
    assert matching(vault_id=vault) == ids([b for b in rows if b["vault_id"] == vault])
    volume = rows[0]["resource_id"]
    assert matching(resource_id=volume) == ids([b for b in rows if b["resource_id"] == volume])
    name = rows[0]["name"]  # a volume's backups share its name: exact, not a prefix or part
    assert matching(name=name) == ids([b for b in rows if b["name"] == name])
    assert matching(name=name[:-1]) == set()
    assert matching(checkpoint_id=rows[5]["checkpoint_id"]) == {rows[5]["id"]}
    assert all(b["checkpoint_id"] for b in rows)  # on every page
    assert matching(status=["error", "protecting"]) == ids(
        [b for b in rows if b["status"] in ("error", "protecting")]
    )
    start, end = "2026-11-01T00:00:00Z", "2026-11-15T12:00:00Z"
    window = [b for b in rows if "2026-11-01T00:00:00" <= b["created_at"] <= "2026-11-15T12:00:00"]
    assert window and matching(start_time=start, end_time=end) == ids(window)
    assert matching(start_time=end, end_time=start) == set()
    both = matching(vault_id=vault, status="available", start_time=start)
    assert both == ids(
        [
            b
            for b in rows
            if b["vault_id"] == vault
            and b["status"] == "available"
            and b["created_at"] >= start[:19]
        ]
    )
    for bad in ({"start_time": "2026-11-01"}, {"end_time": "2026-11-01 00:00:00"}):
        refused(cbr(running, "GET", "/backups", params=bad), 400, "BackupService.9900")
    refused(
        cbr(running, "GET", "/backups", params={"status": "creating"}), 400, "BackupService.9900"
    )


# -- the admin API and the command line ------------------------------------------------------------
def test_the_admin_api_seeds_vaults_and_generates_backups(emulator: RunningEmulator) -> None:
    spec = {"vaults": [{"project": P1, "size": 300, "used": 1024, "count": 2, "type": "disk"}]}
    seeded = ok(requests.post(f"{emulator.url}/_emulator/seed", json=spec, timeout=5))
    assert len(seeded["vaults"]) == 2
    # Nothing had used P1's vaults yet, so the seeded ones are its only ones, the first its home
    # vault (where its own 10 GB demo backup lives).
    sizes = [(v["billing"]["size"], v["billing"]["used"]) for v in vaults(emulator)["vaults"]]
    assert sizes == [(300, 1024 + 10 * 1024), (300, 1024)]
    generate = {"backup_count": 50, "random_seed": 3}
    made = ok(requests.post(f"{emulator.url}/_emulator/seed", json=generate, timeout=5))
    assert made == {"generated": 50}
    assert len(backups(emulator)) == 50 + 4  # and the demo ones
    accepted = backups(emulator, P1, own_type="shared", member_status="accepted")
    assert accepted and {b["vault_id"] for b in accepted} == {seeded["vaults"][0]}
    # What P1 accepted takes at most half the room its home vault had: it can still accept.
    home = vaults(emulator)["vaults"][0]["billing"]
    assert home["used"] <= (1024 + 10 * 1024) + (300 * 1024 - 1024 - 10 * 1024) // 2
    bad = {"vaults": [{"size": 1, "used": 2048}], "backup_count": 5}
    refused_seed = requests.post(f"{emulator.url}/_emulator/seed", json=bad, timeout=5)
    assert refused_seed.status_code == 400
    assert "used (2048 MB) is more than the size" in refused_seed.json()["error_msg"]
    assert len(backups(emulator)) == 54  # nothing made
    too_many = {"backup_count": 200_001}
    refused_count = requests.post(f"{emulator.url}/_emulator/seed", json=too_many, timeout=5)
    assert refused_count.status_code == 400 and "at most 200000" in refused_count.text


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "tape"}, "type 'tape' is not one of server, disk"),
        ({"size": 0}, "size (GB) must be a whole number >= 1"),
        ({"used": -1}, "used (MB) must be a whole number >= 0"),
        ({"count": 2, "id": V_BIG}, "either an id or a count above 1"),
        ({"id": "v1"}, "'v1' is not a vault id"),
        ({"project": "x"}, "'x' is not a project id"),
        ({"colour": "red"}, "unknown vault key 'colour'"),
        ({"count": 1001}, "count must be at most 1000"),
    ],
)
def test_bad_vaults_are_named(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        vaults_from_spec(spec, OWN)
    assert message in str(caught.value)


def test_the_command_line_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from backupshare.emulator.__main__ import config_from_args, parse

    config = config_from_args(
        parse(
            [
                "--vault",
                f"project={P1}:size=50:used=40960:name=dr",
                "--vault",
                "type=server:count=2",
                "--auto-answer",
                f"{P1}:rejected:5",
                "--auto-answer",
                "accepted",
                "--seed-backups",
                "10",
                "--random-seed",
                "4",
            ]
        )
    )
    assert [(v.project_id, v.name, v.object_type, v.size, v.used_mb) for v in config.vaults] == [
        (P1, "dr", "disk", 50, 40960),
        (OWN, "server-1000gb-1", "server", 1000, 0),
        (OWN, "server-1000gb-2", "server", 1000, 0),
    ]
    assert config.auto_answers == [
        (P1, AutoAnswer("rejected", 5.0)),
        (None, AutoAnswer("accepted", 10.0)),
    ]
    assert (config.seed_backups, config.random_seed) == (10, 4)
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_VAULT", "size=5,size=6")
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_AUTO_ANSWER", "accepted:1")
    monkeypatch.setenv("BACKUPSHARE_EMULATOR_SEED_BACKUPS", "3")
    config = config_from_args(parse([]))
    assert [v.size for v in config.vaults] == [5, 6]
    assert config.auto_answers == [(None, AutoAnswer("accepted", 1.0))]
    assert config.seed_backups == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--vault", "size"], "argument --vault: expected KEY=VALUE, got 'size'"),
        (["--vault", "size=0"], "size (GB) must be a whole number >= 1"),
        (["--auto-answer", "maybe"], "status must be accepted or rejected, got 'maybe'"),
        (["--auto-answer", "accepted:soon"], "after must be 0 to 604800 seconds"),
        (["--auto-answer", "a:b:c:d"], "expected [PROJECT:]accepted|rejected[:SECONDS]"),
        (["--seed-backups", "-1"], "argument --seed-backups: expected a whole number 0 to 200000"),
        (["--seed-backups", "200001"], "expected a whole number 0 to 200000, got '200001'"),
    ],
)
def test_bad_options_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from backupshare.emulator.__main__ import parse

    with pytest.raises(SystemExit) as exited:
        parse(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ") and "Traceback" not in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"backup_count": -1}, "backup_count and random_seed are whole numbers >= 0"),
        (
            {"backup_count": 5, "random_seed": "x"},
            "backup_count and random_seed are whole numbers >= 0",
        ),
        ({"backup_count": True}, "backup_count and random_seed are whole numbers >= 0"),
        ({"vaults": {"size": 5}}, "'vaults' must be a list"),
        ({"vaults": ["big"]}, "Invalid vault: a vault is an object"),
        ({"backups": [{"id": BACKUP, "vault": "v"}]}, "'v' is not a vault id"),
        ({"colour": 1}, "Give {'shares': N}"),
    ],
)
def test_bad_seeds_are_refused_and_nothing_is_made(
    emulator: RunningEmulator, spec: dict[str, Any], message: str
) -> None:
    before = len(backups(emulator)), vaults(emulator, OWN)["count"]
    response = requests.post(f"{emulator.url}/_emulator/seed", json=spec, timeout=5)
    assert response.status_code == 400 and response.json()["error_code"] == "EMULATOR.0002"
    assert message in response.json()["error_msg"]
    assert (len(backups(emulator)), vaults(emulator, OWN)["count"]) == before


def test_a_naive_clock_is_utc_and_the_home_vault_is_the_first_disk_vault(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    clock = Clock()
    running = make_emulator(
        clock=lambda: clock.now.replace(tzinfo=None),
        vaults=[VaultSeed(V_SERVER, P1, "servers", "server"), VaultSeed(V_BIG, P1, "disks")],
        auto_answers=[(P1, AutoAnswer("accepted", 60))],
    )
    ok(add(running, BACKUP, [P1]))
    clock.advance(60)
    assert (member(running, BACKUP)["status"], member(running, BACKUP)["vault_id"]) == (
        "accepted",
        V_BIG,
    )
    store = running.store
    assert store.home_vault(P1) == V_BIG and store.vault(P1)["used"] == (10 + 40) * 1024
    store.add_vault(VaultSeed(V_SMALL, P3, "only-servers", "server"))
    assert store.home_vault(P3) == V_SMALL  # no disk vault: the first one


# -- cloud-server backups ---------------------------------------------------------------------------
SERVER_BACKUP = "bbbbbbbb-0000-4000-8000-000000000001"
V_OWN_SERVER = "aaaaaaaa-0000-4000-8000-000000000005"


def test_a_server_backup_goes_into_a_server_vault(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    clock = Clock()
    own = [VaultSeed(V_TWIN, OWN, "disks"), VaultSeed(V_OWN_SERVER, OWN, "servers", "server")]
    seeded = [
        BackupSeed(SERVER_BACKUP, OWN, "app-server", size=60, kind="server"),
        BackupSeed(BACKUP, OWN, "db", size=40),
    ]
    running = make_emulator(
        clock=clock,
        backups=seeded,
        vaults=[*own, *partner_vaults()],
        cbr_server_backups_only=True,
    )
    [server] = backups(running, resource_type="OS::Nova::Server")
    assert (server["id"], server["provider_id"]) == (
        SERVER_BACKUP,
        "0daac4c5-6707-4851-97ba-169e36266b66",
    )
    assert server["vault_id"] == V_OWN_SERVER  # its owner's first server vault
    assert server["resource_name"].startswith("ecs-")
    used = {v["id"]: v["billing"]["used"] for v in vaults(running, OWN)["vaults"]}
    assert used == {V_TWIN: 40 * 1024, V_OWN_SERVER: 60 * 1024}
    # A region that shares server backups only shares this one, and refuses the disk backup.
    ok(add(running, SERVER_BACKUP, [P1]))
    refused(add(running, BACKUP, [P1]), 400, "BackupService.6700")
    refused(accept(running, SERVER_BACKUP, V_BIG), 400, "BackupService.6713")
    assert ok(accept(running, SERVER_BACKUP, V_SERVER))["member"]["vault_id"] == V_SERVER


def test_an_auto_answer_puts_a_server_backup_into_a_server_vault(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    clock = Clock()
    running = make_emulator(
        clock=clock,
        backups=[BackupSeed(SERVER_BACKUP, OWN, "app-server", size=60, kind="server")],
        vaults=partner_vaults(),
        auto_answers=[(P1, AutoAnswer("accepted", 1))],
    )
    ok(add(running, SERVER_BACKUP, [P1]))
    clock.advance(1)
    assert member(running, SERVER_BACKUP)["vault_id"] == V_SERVER


def test_vbs_does_not_see_server_backups(make_emulator: Callable[..., RunningEmulator]) -> None:
    seeded = [
        BackupSeed(SERVER_BACKUP, OWN, "app-server", kind="server"),
        BackupSeed(BACKUP, OWN, "db"),
    ]
    running = make_emulator(backups=seeded)
    headers = {"X-Auth-Token": "emulator-token"}
    base = f"{running.url}/v2/{OWN}"
    listed = requests.get(f"{base}/backups/detail", headers=headers, timeout=5).json()["backups"]
    assert [b["id"] for b in listed] == [BACKUP]
    shown = requests.get(f"{base}/backups/{SERVER_BACKUP}", headers=headers, timeout=5)
    assert shown.status_code == 404
    body = {"shared": {"backup_id": SERVER_BACKUP, "to_project_ids": [P1]}}
    shared = requests.post(
        f"{base}/os-vendor-backup-sharing", json=body, headers=headers, timeout=5
    )
    assert shared.status_code == 404 and "VolumeBackup.0204" in shared.text
    assert {b["id"] for b in backups(running)} == {BACKUP, SERVER_BACKUP}  # CBR lists both


def test_a_seeded_backup_s_type_and_vault() -> None:
    from backupshare.emulator.seeding import parse_backup_option

    seed = parse_backup_option(f"{SERVER_BACKUP}:type=server:vault={V_SMALL.upper()}", OWN, "b")
    assert (seed.kind, seed.vault_id) == ("server", V_SMALL)
    with pytest.raises(ValueError, match="type must be disk or server, got 'tape'"):
        parse_backup_option(f"{SERVER_BACKUP}:type=tape", OWN, "b")
