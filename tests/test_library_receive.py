"""The library's receiving side and whole-project verbs (#20, #23): accept_all_pending and
reject_all_pending with their narrowing, answering twice, project-wide shares and counts, audit —
against the emulator that backupshare.testing starts, with the CLI's usage errors for bad input
and nothing sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from backupshare import Client, RejectedError, Share, UsageError
from backupshare.testing import TestEmulator, emulator

from .helpers import BACKUP, BACKUP2, P3


@pytest.fixture
def cbr(isolated: Path) -> Iterator[TestEmulator]:
    with emulator(service="cbr") as running:
        yield running


@pytest.fixture
def vbs(isolated: Path) -> Iterator[TestEmulator]:
    with emulator() as running:
        yield running


def offered(cbr: TestEmulator, *backups: str) -> None:
    for backup in backups:
        cbr.client.share(backup, [cbr.partner_project_id])


# -- every pending offer -------------------------------------------------------------------------
def test_accept_all_pending_returns_the_report_and_a_second_run_has_nothing(
    cbr: TestEmulator,
) -> None:
    offered(cbr, BACKUP, BACKUP2)
    report = cbr.partner.accept_all_pending(from_projects=[cbr.project_id])
    assert report.changed is True and report.error() is None
    assert sorted((r.backup_id, r.result) for r in report.results) == [
        (BACKUP, "accepted"), (BACKUP2, "accepted")
    ]  # fmt: skip
    assert {r.vault_id for r in report.results} != {None}
    assert {o.backup_id for o in cbr.partner.offers(status="accepted")} == {BACKUP, BACKUP2}
    again = cbr.partner.accept_all_pending()
    assert (again.changed, again.results) == (False, [])


def test_the_selectors_narrow_the_offers(cbr: TestEmulator) -> None:
    offered(cbr, BACKUP, BACKUP2)  # db-nightly and web-weekly
    report = cbr.partner.reject_all_pending(name_prefix="web-")
    assert [(r.backup_id, r.result) for r in report.results] == [(BACKUP2, "rejected")]
    later = datetime.now(timezone.utc) + timedelta(days=1)
    assert cbr.partner.accept_all_pending(created_after=later).results == []
    assert cbr.partner.accept_all_pending(created_before="2000-01-01").results == []
    [accepted] = cbr.partner.accept_all_pending(name="db-nightly").results
    assert (accepted.backup_id, accepted.result) == (BACKUP, "accepted")


def test_a_dry_run_reports_the_choices_and_sends_no_answer(cbr: TestEmulator) -> None:
    offered(cbr, BACKUP)
    cbr.clear_requests()
    report = cbr.partner.accept_all_pending(dry_run=True)
    assert [(r.backup_id, r.result) for r in report.results] == [(BACKUP, "accepted")]
    assert report.results[0].vault_id is not None
    assert cbr.requests("PUT") == []
    assert [o.status for o in cbr.partner.offers()] == ["pending"]


def test_progress_is_called_once_per_offer(cbr: TestEmulator) -> None:
    offered(cbr, BACKUP, BACKUP2)
    calls: list[None] = []
    cbr.partner.accept_all_pending(progress=lambda: calls.append(None))
    assert len(calls) == 2


def test_answering_twice_returns_the_member_and_sends_nothing_more(cbr: TestEmulator) -> None:
    offered(cbr, BACKUP)
    first = cbr.partner.accept(BACKUP)
    assert isinstance(first, Share) and first.status == "accepted"
    cbr.clear_requests()
    again = cbr.partner.accept(BACKUP)
    assert (again.status, again.vault_id) == ("accepted", first.vault_id)
    assert cbr.requests("PUT") == []


PARTNER_CALLS: list[tuple[Callable[[Client, str], object], str]] = [
    (lambda c, own: c.accept_all_pending(from_projects=[own]), "is the profile's own project"),
    (lambda c, own: c.accept_all_pending(from_projects="nope"), "invalid project id 'nope'"),
    (lambda c, own: c.accept_all_pending(vault="big"), "invalid vault id 'big'"),
    (lambda c, own: c.accept_all_pending(created_after="soon"), "invalid --created-after 'soon'"),
    (lambda c, own: c.reject_all_pending(volume_ids=[7]), "invalid volume id 7"),  # type: ignore[list-item]
    (lambda c, own: c.reject_all_pending(dry_run="yes"), "invalid dry_run 'yes'"),  # type: ignore[arg-type]
    (lambda c, own: c.accept_all_pending(name_prefix=""), "an empty backup name"),
]


@pytest.mark.parametrize(("call", "message"), PARTNER_CALLS)
def test_bad_arguments_are_usage_errors_and_nothing_is_sent(
    cbr: TestEmulator, call: Callable[[Client, str], object], message: str
) -> None:
    partner = cbr.partner
    with pytest.raises(UsageError) as raised:
        call(partner, partner.project_id)
    assert message in str(raised.value) and raised.value.exit_code == 2
    assert cbr.requests() == []


def test_on_vbs_answers_are_usage_errors_sent_nowhere(vbs: TestEmulator) -> None:
    for call in (
        lambda: vbs.partner.accept_all_pending(),
        lambda: vbs.partner.reject_all_pending(from_projects=[vbs.project_id]),
        lambda: vbs.partner.accept(BACKUP),
        lambda: vbs.partner.reject(BACKUP),
    ):
        with pytest.raises(UsageError, match="VBS sharing needs no acceptance"):
            call()
    with pytest.raises(UsageError, match="VBS has no vaults"):
        vbs.partner.accept_all_pending(vault_id=BACKUP)
    assert vbs.requests() == []


# -- the whole project -----------------------------------------------------------------------
@pytest.mark.parametrize("service", ["vbs", "cbr"])
def test_shares_without_a_backup_lists_the_whole_project(isolated: Path, service: str) -> None:
    with emulator(service=service) as emu:
        emu.client.share(BACKUP, [emu.partner_project_id, P3])
        emu.client.share(BACKUP2, [emu.partner_project_id])
        every = list(emu.client.shares(concurrency=2))
        assert sorted((s.backup_id, s.to_project_id) for s in every) == sorted(
            [(BACKUP, emu.partner_project_id), (BACKUP, P3), (BACKUP2, emu.partner_project_id)]
        )
        assert emu.client.count_shares() == 3
        web = list(emu.client.shares(name_prefix="web-"))
        assert [(s.backup_id, s.to_project_id) for s in web] == [(BACKUP2, emu.partner_project_id)]
        assert emu.client.count_shares(to_project=P3) == 1
        assert len(list(emu.client.shares(limit=2))) == 2


def test_selectors_are_for_the_whole_project_listing(cbr: TestEmulator) -> None:
    with pytest.raises(UsageError, match="--name-prefix: backup selectors narrow a listing"):
        cbr.client.shares(backup_id=BACKUP, name_prefix="db-")
    with pytest.raises(UsageError, match="invalid --concurrency 0"):
        cbr.client.shares(concurrency=0)
    assert cbr.requests() == []


def test_backups_take_every_selector(cbr: TestEmulator) -> None:
    named = [b.id for b in cbr.client.backups(name_prefix="db-")]
    assert named == [BACKUP]
    assert list(cbr.client.backups(created_before="2000-01-01")) == []
    with pytest.raises(UsageError, match="invalid --created-before"):
        cbr.client.backups(created_before="tomorrow")


# -- audit -------------------------------------------------------------------------------------
def test_audit_yields_each_sharing_with_its_findings(cbr: TestEmulator) -> None:
    cbr.client.share(BACKUP, [cbr.partner_project_id, P3])
    audited = list(cbr.client.audit([cbr.partner_project_id]))
    found = {a.share.to_project_id: [f.finding for f in a.findings] for a in audited}
    assert found == {cbr.partner_project_id: [], P3: ["not-allowed"]}
    clean = list(cbr.client.audit([cbr.partner_project_id, P3], max_pending_age=timedelta(0, 1)))
    assert all(f.finding != "not-allowed" for a in clean for f in a.findings)
    incoming = [a for a in cbr.partner.audit([P3], incoming=True) if a.incoming]
    assert [(a.share.backup_id, [f.finding for f in a.findings]) for a in incoming] == [
        (BACKUP, ["offer-from-unknown"])
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"allowed": []}, "audit needs the allowed projects"),
        ({"allowed": "allowed.txt"}, "invalid project id 'allowed.txt'"),
        ({"allowed": P3, "max_pending_age": "a week"}, "invalid --max-pending-age 'a week'"),
        ({"allowed": P3, "max_pending_age": timedelta(0)}, "invalid max_pending_age"),
        ({"allowed": P3, "concurrency": 99}, "invalid --concurrency 99"),
    ],
)
def test_bad_audit_arguments_are_usage_errors_before_anything_is_sent(
    cbr: TestEmulator, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError) as raised:
        cbr.client.audit(**arguments)  # type: ignore[arg-type]
    assert message in str(raised.value)
    assert cbr.requests() == []


# -- every argument checked before anything is sent ----------------------------------------------
@pytest.mark.parametrize(
    ("method", "side", "arguments", "message"),
    [
        ("accept_all_pending", "partner", {"progress": 123},
         "invalid progress 123: expected a function (or None)"),
        ("reject_all_pending", "partner", {"progress": "yes"},
         "invalid progress 'yes': expected a function (or None)"),
        ("cancel", "client", {"backup_id": BACKUP, "progress": 123},
         "invalid progress 123: expected a function (or None)"),
        ("cancel", "client", {"backup_id": BACKUP, "dry_run": 1},
         "invalid dry_run 1: expected True or False"),
        ("cancel", "client", {"backup_id": BACKUP, "raise_on_failure": "no"},
         "invalid raise_on_failure 'no': expected True or False"),
        ("share", "client", {"backup": BACKUP, "projects": [P3], "raise_on_failure": 0},
         "invalid raise_on_failure 0: expected True or False"),
        ("share", "client", {"backup": BACKUP, "projects": [P3], "progress": [print]},
         "invalid progress [<built-in function print>]: expected a function (or None)"),
        ("wait_available", "client", {"backup": BACKUP, "timeout": 1, "progress": "yes"},
         "invalid progress 'yes': expected a function (or None)"),
    ],
)  # fmt: skip
def test_a_wrong_argument_is_refused_before_anything_is_sent(
    cbr: TestEmulator, method: str, side: str, arguments: dict[str, object], message: str
) -> None:
    offered(cbr, BACKUP)
    cbr.clear_requests()
    with pytest.raises(UsageError) as refused:
        getattr(getattr(cbr, side), method)(**arguments)
    assert (str(refused.value), refused.value.exit_code) == (message, 2)
    assert [r for r in cbr.requests() if not r["path"].startswith("/v3/auth")] == []


# -- a backup of unknown size: no vault is chosen, nothing sent ----------------------------------
def _offered_backup_without_a_valid_size(cbr: TestEmulator, size: object) -> str:
    """The partner's view of BACKUP as JSON, its `resource_size` replaced by `size` (None:
    left out; NaN: the bare `NaN` a lax server writes), for a `raw` fault to answer with."""
    import json

    import requests

    url = f"{cbr.url}/v3/{cbr.partner_project_id}/backups/{BACKUP}"
    body = requests.get(url, headers={"X-Auth-Token": cbr.partner_token}, timeout=30).json()
    del body["backup"]["resource_size"]
    if size is not None:
        body["backup"]["resource_size"] = size
    return json.dumps(body)


@pytest.mark.parametrize("size", [None, -500, "forty", float("nan")])
def test_a_backup_of_unknown_size_is_refused_before_the_put(
    cbr: TestEmulator, size: object
) -> None:
    offered(cbr, BACKUP)
    body = _offered_backup_without_a_valid_size(cbr, size)
    cbr.clear_requests()
    cbr.fault("raw", method="GET", path=f"/backups/{BACKUP}", status=200, body=body)
    with pytest.raises(RejectedError) as refused:
        cbr.partner.accept(BACKUP)
    assert str(refused.value) == (
        f"cannot tell which vault has room for backup {BACKUP} (disk, size unknown): the service "
        "gave no valid size for it"
    )
    assert refused.value.exit_code == 6
    assert cbr.requests("PUT") == []
    assert [o.status for o in cbr.partner.offers()] == ["pending"]


def test_when_no_vault_fits_the_numbers_count_what_this_run_took(isolated: Path) -> None:
    """db-nightly (40 GB) and web-weekly (20 GB) into one 50 GB vault: the first fits, the
    second finds none left (10 GB of it was used already), and the message adds up."""
    from backupshare.emulator.core import OTHER_PROJECT
    from backupshare.emulator.seeding import parse_vault_option

    vaults = parse_vault_option(f"project={OTHER_PROJECT}:name=dr:size=50", OTHER_PROJECT)
    with emulator(service="cbr", vaults=vaults) as running:
        offered(running, BACKUP, BACKUP2)
        sizes = {b.id: b.size for b in running.client.backups()}
        assert (sizes[BACKUP], sizes[BACKUP2]) == (40, 20)
        [vault] = vaults
        report = running.partner.accept_all_pending()
        assert [r.result for r in report.results] == ["accepted", "failed"]
        error = report.results[1].error
        assert error is not None and str(error) == (
            f"no vault of this project can take backup {BACKUP2} (disk, 20 GB): {vault.id} (dr): "
            "0 MB free of 50 GB (10240 MB used, 40960 MB taken by this run), needs 20480 MB"
        )
        assert len(running.requests("PUT")) == 1


# -- answers of the wrong shape: exit 8, said like any other answer ------------------------------
def _member_answer(cbr: TestEmulator, status: object) -> str:
    """The PUT's answer as the emulator gives it, its member's `status` replaced."""
    import json

    member = {
        "id": BACKUP, "backup_id": BACKUP, "dest_project_id": cbr.partner_project_id,
        "status": status, "vault_id": None, "image_id": None, "created_at": None,
        "updated_at": None,
    }  # fmt: skip
    return json.dumps({"member": member})


@pytest.mark.parametrize("status", ["evil\x1b[2J\r\nerror: fake", "pending", None])
def test_a_put_answered_with_another_status_is_an_unexpected_response(
    cbr: TestEmulator, status: object
) -> None:
    from backupshare import UnexpectedResponse

    offered(cbr, BACKUP)
    body = _member_answer(cbr, status)
    cbr.clear_requests()
    cbr.fault("raw", method="PUT", path="/members/", status=200, body=body)
    with pytest.raises(UnexpectedResponse) as raised:
        cbr.partner.accept(BACKUP)
    error = raised.value
    given = "no status" if status is None else repr(status)
    assert error.message == (
        f"unexpected response: the member's 'status' is {given}, not 'accepted' as asked, in "
        f"the answer to PUT /v3/{cbr.partner_project_id}/backups/{BACKUP}/members/"
        f"{cbr.partner_project_id}"
    )
    assert (error.exit_code, error.status, error.client_request_id is not None) == (8, 200, True)
    assert [len(rid) for rid in error.request_ids] == [32]  # the emulator's X-Request-Id


@pytest.mark.parametrize(
    ("path", "body", "what"),
    [
        ("/vaults", '{"oops": 1}', "no 'vaults' list in the body"),
        ("/vaults", '{"vaults": [7], "count": 1}', "a vault is not an object"),
        (f"/backups/{BACKUP}", '{"backup": []}', "a backup is not an object"),
    ],
)
def test_a_body_of_the_wrong_shape_names_the_answer_like_any_error(
    cbr: TestEmulator, path: str, body: str, what: str
) -> None:
    from backupshare import UnexpectedResponse

    offered(cbr, BACKUP)
    cbr.fault("raw", method="GET", path=path, status=200, body=body)
    with pytest.raises(UnexpectedResponse) as raised:
        cbr.partner.accept(BACKUP)
    error = raised.value
    assert error.message.startswith(f"unexpected response: {what}, in the answer to GET /v3/")
    assert (error.exit_code, error.status, error.client_request_id is not None) == (8, 200, True)
    assert [len(rid) for rid in error.request_ids] == [32]  # the emulator's X-Request-Id
    assert cbr.requests("PUT") == []


def test_an_unknown_vault_names_ten_of_the_project_s_vaults_and_counts_the_rest(
    isolated: Path,
) -> None:
    from backupshare import NotFoundError
    from backupshare.emulator.core import OTHER_PROJECT
    from backupshare.emulator.schema import VaultSeed

    ids = [f"cccccccc-0000-4000-8000-{n:012d}" for n in range(13)]
    vaults = [VaultSeed(vault_id, OTHER_PROJECT, f"v{n}") for n, vault_id in enumerate(ids)]
    unknown = "dddddddd-0000-4000-8000-000000000000"
    with emulator(service="cbr", vaults=vaults) as running:
        offered(running, BACKUP)
        running.clear_requests()
        with pytest.raises(NotFoundError) as refused:
            running.partner.accept(BACKUP, vault=unknown)
        named = ", ".join(f"{vault_id} (v{n})" for n, vault_id in enumerate(ids[:10]))
        assert str(refused.value) == (
            f"vault {unknown} is not one of this project's vaults ({named} and 3 more)"
        )
        assert running.requests("PUT") == []
