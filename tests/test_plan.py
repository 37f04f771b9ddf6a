"""plan -f FILE against the emulator, on VBS and CBR: one row per (backup, project), every
blocked reason, the plan document, every output format, --detailed-exitcode, and the refusals
(two exact entries disagreeing: exit 3; an exact entry matching nothing: exit 5) with the
request log proving nothing was changed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from backupshare.emulator import EmulatorConfig, RunningEmulator, start
from backupshare.emulator.store import BackupSeed
from backupshare.models import Backup

from .helpers import OWN, P1, P2, P3, CliResult, Emulated

NOW = datetime.now(timezone.utc).replace(microsecond=0)
V1 = "11111111-1111-4111-8111-111111111111"
V2 = "22222222-2222-4222-8222-222222222222"
A = "aaaaaaaa-0000-4000-8000-000000000001"  # db-a, V1, 10 days old
B = "aaaaaaaa-0000-4000-8000-000000000002"  # db-b, V1, 2 days old: V1's newest
C = "aaaaaaaa-0000-4000-8000-000000000003"  # web-c, V2, an hour old: V2's newest
D = "aaaaaaaa-0000-4000-8000-000000000004"  # web-d, V2, 40 days old
X = "aaaaaaaa-0000-4000-8000-000000000005"  # db-x, V1, still creating
CREATING = {"vbs": "creating", "cbr": "protecting"}  # as each service says it
MISSING = "aaaaaaaa-0000-4000-8000-0000000000ff"
PROJECTS = [f"{i:02x}" + "ab" * 15 for i in range(1, 12)]  # eleven more projects, for the limit


def seeds() -> list[BackupSeed]:
    made = [
        (A, "db-a", V1, timedelta(days=10), "available"),
        (B, "db-b", V1, timedelta(days=2), "available"),
        (C, "web-c", V2, timedelta(hours=1), "available"),
        (D, "web-d", V2, timedelta(days=40), "available"),
        (X, "db-x", V1, timedelta(minutes=5), "creating"),
    ]
    return [
        BackupSeed(id=i, project_id=OWN, name=name, volume_id=v, created_at=NOW - age, status=s)
        for i, name, v, age, s in made
    ]


@pytest.fixture
def emulator() -> Iterator[Emulated]:
    """The project's backups (used by `cli`, which talks to this emulator)."""
    with start(EmulatorConfig(backups=seeds())) as running:
        yield Emulated.of(running)


@pytest.fixture(params=["vbs", "cbr"])
def service(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BACKUPSHARE_SERVICE", request.param)
    return str(request.param)


def sharings_file(tmp_path: Path, body: str, name: str = "sharings.yaml") -> str:
    path = tmp_path / name
    path.write_text(f"version: 1\ngroups:\n  dr: [{P1}]\n  staging: [{P2}, {P3}]\n{body}")
    return str(path)


def changes_sent(emulator: RunningEmulator) -> list[tuple[str, str]]:
    """Every request that could change something (reads are GET)."""
    return [(r["method"], r["path"]) for r in emulator.logged() if r["method"] != "GET"]


def plan_document(result: CliResult) -> dict[str, Any]:
    assert result.code == 0, result.err
    document: dict[str, Any] = json.loads(result.out)
    return document


def rows(document: dict[str, Any]) -> list[tuple[str, str, str, str | None]]:
    return [
        (c["backup_id"], c["to_project_id"], c["action"], c["reason"]) for c in document["changes"]
    ]


NIGHTLY = f"""\
sharings:
  - name: nightly-db
    backups: {{volume_id: [{V1}, {V2}], newest: 1}}
    to: [dr, staging]
"""


def test_newest_counts_per_volume_and_every_row_is_in_the_document(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert cli("share", B, P1).code == 0
    emulator.clear_log()
    result = cli("plan", "-f", sharings_file(tmp_path, NIGHTLY), "-o", "json")
    document = plan_document(result)
    assert rows(document) == [
        (C, P1, "share", None),
        (C, P2, "share", None),
        (C, P3, "share", None),
        (B, P1, "ok", None),
        (B, P2, "share", None),
        (B, P3, "share", None),
    ]
    assert document["version"] == 1
    assert document["summary"] == {"share": 5, "cancel": 0, "ok": 1, "blocked": 0}
    ok = document["changes"][3]
    assert ok["seen"]["shared"] is True and ok["seen"]["share_id"]
    assert ok["seen"]["member_status"] == ("pending" if service == "cbr" else None)
    assert {k: ok[k] for k in ("entry", "profile", "service", "project_id", "backup_name")} == {
        "entry": "nightly-db",
        "profile": "default",
        "service": service,
        "project_id": OWN,
        "backup_name": "db-b",
    }
    assert result.err == "plan: 5 to share, 0 to cancel, 1 unchanged, 0 blocked\n"
    assert changes_sent(emulator) == []


def test_newest_without_volumes_counts_overall(
    cli: Callable[..., CliResult], service: str, tmp_path: Path
) -> None:
    body = "sharings:\n  - backups: {name_prefix: web-, newest: 1}\n    to: [dr]\n"
    document = plan_document(cli("plan", "-f", sharings_file(tmp_path, body), "-o", "json"))
    assert rows(document) == [(C, P1, "share", None)]
    every = f"sharings:\n  - backups: {{volume_id: {V1}}}\n    to: [dr]\n"  # available only
    document = plan_document(cli("plan", "-f", sharings_file(tmp_path, every), "-o", "json"))
    assert [r[0] for r in rows(document)] == [B, A]


def test_exact_mode_cancels_only_what_the_entry_selects(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    for backup in (A, B, C):
        assert cli("share", backup, P2, P3).code == 0
    emulator.clear_log()
    body = f"sharings:\n  - backups: {{volume_id: {V1}, newest: 1}}\n    to: [dr, {P2}]\n"
    body += "    mode: exact\n"
    document = plan_document(cli("plan", "-f", sharings_file(tmp_path, body), "-o", "json"))
    assert rows(document) == [(B, P1, "share", None), (B, P2, "ok", None), (B, P3, "cancel", None)]
    # A fell out of the newest: 1 selection and keeps its sharings; C is not selected at all.
    assert changes_sent(emulator) == []


def test_exact_with_no_projects_ends_every_sharing_of_what_it_selects(
    cli: Callable[..., CliResult], service: str, tmp_path: Path
) -> None:
    assert cli("share", C, P1, P2).code == 0
    body = f"sharings:\n  - backups: {{id: {C}}}\n    to: []\n    mode: exact\n"
    document = plan_document(cli("plan", "-f", sharings_file(tmp_path, body), "-o", "json"))
    assert rows(document) == [(C, P1, "cancel", None), (C, P2, "cancel", None)]


def test_blocked_rows_say_what_the_real_run_would_meet(
    cli: Callable[..., CliResult], service: str, tmp_path: Path
) -> None:
    body = f"""\
sharings:
  - name: creating
    backups: {{id: {X}}}
    to: [dr]
  - name: gone
    backups: {{id: {MISSING}}}
    to: [dr]
  - name: self
    backups: {{id: {A}}}
    to: [{OWN}]
"""
    result = cli("plan", "-f", sharings_file(tmp_path, body), "-o", "json")
    assert rows(plan_document(result)) == [
        (X, P1, "blocked", f"backup not available (status {CREATING[service]})"),
        (MISSING, P1, "blocked", "backup not found"),
        (A, OWN, "blocked", "own project: a backup cannot be shared with its own project"),
    ]
    assert result.err.endswith("plan: 0 to share, 0 to cancel, 0 unchanged, 3 blocked\n")


def test_the_project_limit_blocks_or_removes_first(
    cli: Callable[..., CliResult], service: str, tmp_path: Path
) -> None:
    assert cli("share", A, *PROJECTS[:10]).code == 0  # full: ten projects
    additive = f"sharings:\n  - backups: {{id: {A}}}\n    to: [dr]\n"
    document = plan_document(cli("plan", "-f", sharings_file(tmp_path, additive), "-o", "json"))
    [(_, _, action, reason)] = rows(document)
    assert (action, reason) == (
        "blocked",
        "over the project limit: a backup can be shared with at most 10",
    )
    keep = ", ".join(PROJECTS[1:10])
    exact = f"sharings:\n  - backups: {{id: {A}}}\n    to: [dr, {keep}]\n    mode: exact\n"
    document = plan_document(cli("plan", "-f", sharings_file(tmp_path, exact), "-o", "json"))
    assert rows(document)[:2] == [
        (A, PROJECTS[0], "cancel", "limit: removed first"),
        (A, P1, "share", None),
    ]
    assert document["summary"] == {"share": 1, "cancel": 1, "ok": 9, "blocked": 0}


def test_an_accepted_cbr_member_needs_revoke_accepted(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    from backupshare import Client

    assert cli("--service", "cbr", "share", C, P1, P2).code == 0
    with Client(endpoint=emulator.url, project_id=P1, token="partner-token", service="cbr") as p1:
        p1.accept(C)
    body = f"sharings:\n  - backups: {{id: {C}}}\n    to: []\n    mode: exact\n"
    path = sharings_file(tmp_path, body)
    document = plan_document(cli("--service", "cbr", "plan", "-f", path, "-o", "json"))
    assert rows(document) == [
        (C, P1, "blocked", "accepted by the receiving project (--revoke-accepted ends it)"),
        (C, P2, "cancel", None),
    ]
    assert document["changes"][0]["seen"]["member_status"] == "accepted"
    revoking = cli("--service", "cbr", "plan", "-f", path, "-o", "json", "--revoke-accepted")
    assert [r[2] for r in rows(plan_document(revoking))] == ["cancel", "cancel"]


def test_encrypted_on_vbs_is_blocked_where_the_record_says_so() -> None:
    from backupshare.verbs.plan import encrypted

    def backup(**raw: Any) -> Backup:
        return Backup(A, "x", "available", 1, V1, None, None, None, raw=raw)

    assert encrypted(backup(encrypted=True))
    assert encrypted(backup(encryption_key_id="k-1"))
    assert not encrypted(backup(encrypted="yes", encryption_key_id=""))


def test_two_exact_entries_that_disagree_are_refused_after_reading(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    body = f"""\
sharings:
  - name: one
    backups: {{volume_id: {V1}}}
    to: [dr]
    mode: exact
  - name: two
    backups: {{id: {B}}}
    to: [staging]
    mode: exact
"""
    path = sharings_file(tmp_path, body)
    for argv in (["plan"], ["apply", "--yes"]):
        result = cli(*argv, "-f", path)
        assert result.code == 3
        assert result.err.startswith(
            f"error: backup {B} is selected by exact entries with different projects: "
            f"one ({path}:6); two ({path}:10)\n"
        )
    assert changes_sent(emulator) == []


def test_an_exact_entry_matching_nothing_is_not_found(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert cli("share", A, P1).code == 0
    emulator.clear_log()
    body = "sharings:\n  - backups: {name: nothing-like-it}\n    to: []\n    mode: exact\n"
    path = sharings_file(tmp_path, body)
    for argv in (["plan"], ["apply", "--yes"]):
        result = cli(*argv, "-f", path)
        assert result.code == 5, result.err
        assert f"{path}:6: sharings[0]: the exact entry's selector matches no" in result.err
    gone = f"sharings:\n  - backups: {{id: {MISSING}}}\n    to: []\n    mode: exact\n"
    assert cli("apply", "--yes", "-f", sharings_file(tmp_path, gone)).code == 5
    assert changes_sent(emulator) == []


def test_vault_id_on_vbs_is_a_configuration_error_before_any_request(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    body = f"sharings:\n  - backups: {{vault_id: {V1}}}\n    to: [dr]\n"
    result = cli("--service", "vbs", "plan", "-f", sharings_file(tmp_path, body))
    assert (
        result.code == 3 and ":6: backups: vault_id: the profile 'default' uses VBS" in result.err
    )
    assert emulator.logged() == []


def test_detailed_exitcode_is_10_until_the_policy_holds(
    cli: Callable[..., CliResult], service: str, tmp_path: Path
) -> None:
    path = sharings_file(tmp_path, NIGHTLY)
    pending = cli("plan", "-f", path, "--detailed-exitcode", "-q")
    assert pending.code == 10
    assert pending.err.startswith(
        "error: plan: 6 to share, 0 to cancel, 0 unchanged, 0 blocked: the policy does not hold\n"
    )
    assert cli("plan", "-f", path).code == 0  # without the flag: 0 whatever it finds
    assert cli("apply", "-f", path).code == 0  # additions only: no --yes needed off a terminal
    held = cli("plan", "-f", path, "--detailed-exitcode")
    assert held.code == 0 and held.err == "plan: 0 to share, 0 to cancel, 6 unchanged, 0 blocked\n"


def test_every_output_format(cli: Callable[..., CliResult], service: str, tmp_path: Path) -> None:
    assert cli("share", B, P1).code == 0
    path = sharings_file(tmp_path, NIGHTLY)
    table = cli("plan", "-f", path)
    assert table.out.splitlines()[0].split() == [
        "ACTION", "BACKUP", "ID", "TO", "PROJECT", "ENTRY", "REASON", "BACKUP", "NAME"
    ]  # fmt: skip
    assert len(table.out.splitlines()) == 7
    lines = [json.loads(line) for line in cli("plan", "-f", path, "-o", "jsonl").out.splitlines()]
    assert [line["action"] for line in lines] == ["share"] * 3 + ["ok"] + ["share"] * 2
    csv = cli("plan", "-f", path, "-o", "csv").out.splitlines()
    assert csv[0].startswith("entry,profile,service,project_id,backup_id,backup_name,to_project_id")
    assert csv[4].endswith(",ok,,true," + csv[4].split(",")[-2] + "," + csv[4].split(",")[-1])
    assert cli("plan", "-f", path, "-o", "ids").out == f"{C}\n{B}\n"  # backups with changes
    import yaml

    document = yaml.safe_load(cli("plan", "-f", path, "-o", "yaml").out)
    assert document["summary"] == {"share": 5, "cancel": 0, "ok": 1, "blocked": 0}
    assert cli("plan", "-f", path, "-o", "dot").code == 2


def test_hostile_backup_names_are_escaped_in_the_table(
    make_emulator: Callable[..., RunningEmulator],
    cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    hostile = BackupSeed(A, OWN, "evil\x1b[31m\r\nname", volume_id=V1)
    running = make_emulator(backups=[hostile])
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
    body = f"sharings:\n  - backups: {{id: {A}}}\n    to: [dr]\n"
    result = cli("plan", "-f", sharings_file(tmp_path, body))
    assert result.code == 0 and "\x1b" not in result.out and "\\x1b[31m" in result.out
