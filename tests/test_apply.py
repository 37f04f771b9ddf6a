"""apply against the emulator, on VBS and CBR: converging (additions before removals, unless the
limit forces a removal first), idempotence, the guards (--max-removals, --yes off a terminal, a
stale saved plan) each with the request log proving nothing was sent, per-item reports and their
exit codes, an interrupted apply re-run to convergence, and the library's Client.plan/apply."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backupshare.emulator import EmulatorConfig, RunningEmulator, start

from .helpers import OWN, P1, P2, P3, CliResult, Emulated, fault, token_settings
from .test_plan import (
    NIGHTLY,
    PROJECTS,
    A,
    B,
    C,
    D,
    X,
    changes_sent,
    plan_document,
    seeds,
    sharings_file,
)


@pytest.fixture
def emulator() -> Iterator[Emulated]:
    """The project's backups, as test_plan's (used by `cli`, which talks to this emulator)."""
    with start(EmulatorConfig(backups=seeds())) as running:
        yield Emulated.of(running)


@pytest.fixture(params=["vbs", "cbr"])
def service(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BACKUPSHARE_SERVICE", request.param)
    return str(request.param)


def report(result: CliResult) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.out)
    return document


def outcomes(document: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [
        (r["backup_id"], r["to_project_id"], r["action"], r["result"]) for r in document["results"]
    ]


def exact(backup: str, *projects: str) -> str:
    return (
        f"sharings:\n  - backups: {{id: {backup}}}\n    to: [{', '.join(projects)}]\n"
        "    mode: exact\n"
    )


def test_apply_converges_and_a_second_run_changes_nothing(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert cli("share", B, P1).code == 0
    path = sharings_file(tmp_path, NIGHTLY)
    first = cli("apply", "-f", path, "-o", "json")
    assert first.code == 0, first.err
    done = report(first)
    assert done["changed"] is True
    assert outcomes(done) == [
        (C, P1, "share", "created"),
        (C, P2, "share", "created"),
        (C, P3, "share", "created"),
        (B, P1, "ok", "existing"),
        (B, P2, "share", "created"),
        (B, P3, "share", "created"),
    ]
    assert all(r["share_id"] and r["error"] is None for r in done["results"])
    assert set(done["results"][0]) == {
        "entry", "action", "backup_id", "to_project_id", "share_id", "result", "error"
    }  # fmt: skip
    assert "plan: 5 to share, 0 to cancel, 1 unchanged, 0 blocked" in first.err
    emulator.clear_log()
    second = cli("apply", "-f", path, "-o", "json")
    assert second.code == 0 and report(second)["changed"] is False
    assert {r["result"] for r in report(second)["results"]} == {"existing"}
    assert changes_sent(emulator) == []


def test_one_post_per_backup_and_no_listing_before_it(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    path = sharings_file(tmp_path, NIGHTLY)
    emulator.clear_log()
    assert cli("apply", "-f", path).code == 0
    posts = [r["path"] for r in emulator.logged("POST")]
    assert len(posts) == 2  # one per backup, every missing project in it
    sharing_reads = [
        r for r in emulator.logged("GET") if "/members" in r["path"] or "backup_id" in str(r)
    ]
    assert len(sharing_reads) == 2  # the plan's one read per backup; the share sends no other


def test_additions_go_before_removals(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert cli("share", A, P2).code == 0
    emulator.clear_log()
    result = cli("apply", "-f", sharings_file(tmp_path, exact(A, P1)), "--yes", "-o", "json")
    assert outcomes(report(result)) == [(A, P1, "share", "created"), (A, P2, "cancel", "canceled")]
    assert [method for method, _ in changes_sent(emulator)] == ["POST", "DELETE"]


def test_the_limit_forces_a_removal_first_and_the_plan_says_so(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert cli("share", A, *PROJECTS[:10]).code == 0
    emulator.clear_log()
    path = sharings_file(tmp_path, exact(A, P1, *PROJECTS[1:10]))
    result = cli("apply", "-f", path, "--yes", "-o", "json")
    assert result.code == 0, result.err
    assert outcomes(report(result))[:2] == [
        (A, PROJECTS[0], "cancel", "canceled"),
        (A, P1, "share", "created"),
    ]
    assert f"cancel   {A} to {PROJECTS[0]}  [sharings[0]]  (limit: removed first)" in result.err
    assert [method for method, _ in changes_sent(emulator)] == ["DELETE", "POST"]


def test_more_removals_than_allowed_are_refused_before_anything_is_sent(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert cli("share", A, P1, P2, P3).code == 0
    emulator.clear_log()
    path = sharings_file(tmp_path, exact(A))
    result = cli("apply", "-f", path, "--yes", "--max-removals", "2")
    assert result.code == 2
    assert "error: the plan cancels 3 sharings, more than --max-removals 2" in result.err
    saved = tmp_path / "plan.json"
    saved.write_text(cli("plan", "-f", path, "-o", "json").out)
    emulator.clear_log()
    again = cli("apply", "--plan", str(saved), "--yes", "--max-removals", "2")
    assert again.code == 2 and emulator.logged() == []  # not even read
    assert cli("apply", "-f", path, "--yes", "--max-removals", "3").code == 0


def test_off_a_terminal_cancels_need_yes(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert cli("share", A, P2).code == 0
    emulator.clear_log()
    result = cli("apply", "-f", sharings_file(tmp_path, exact(A, P1)))
    assert result.code == 2
    assert "error: the plan cancels 1 sharing: without a terminal to ask, give --yes" in result.err
    assert changes_sent(emulator) == []


def test_a_saved_plan_runs_exactly_and_a_stale_one_is_refused(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert cli("share", A, P2).code == 0
    path = sharings_file(tmp_path, exact(A, P1))
    saved = tmp_path / "plan.json"
    saved.write_text(cli("plan", "-f", path, "-o", "json").out)
    # Someone changes a pair the plan changes, and one it does not touch.
    assert cli("share", A, P1).code == 0
    emulator.clear_log()
    stale = cli("apply", "--plan", str(saved), "--yes")
    assert stale.code == 6
    assert f"the live state differs from the saved plan for 1 pair: backup {A} to {P1}" in stale.err
    assert changes_sent(emulator) == []
    assert cli("apply", "--plan", str(saved), "--yes").code == 6  # still: nothing changed
    fresh = tmp_path / "fresh.json"
    fresh.write_text(cli("plan", "-f", path, "-o", "json").out)
    assert cli("share", C, P3).code == 0  # another backup: not in the plan
    ran = cli("apply", "--plan", str(fresh), "--yes", "-o", "json")
    assert ran.code == 0, ran.err
    assert outcomes(report(ran)) == [(A, P1, "ok", "existing"), (A, P2, "cancel", "canceled")]
    again = cli("apply", "--plan", str(fresh), "--yes")
    assert again.code == 6  # the plan saw P2 shared; it is not any more


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "plan.json: not a plan document (invalid JSON"),
        ('{"version": 2, "changes": []}', "plan.json: not a plan document of version 1"),
        ('{"version": 1}', "plan.json: changes: missing or not a list"),
        ('{"version": 1, "changes": [1]}', "plan.json: changes[0]: not an object"),
        ('{"version": 1, "changes": [{"action": "delete"}]}', "changes[0].action: 'delete'"),
        ("[" * 100_000, "not a plan document"),
    ],
)
def test_a_bad_plan_document_is_a_configuration_error(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path, document: str,
    message: str,
) -> None:  # fmt: skip
    saved = tmp_path / "plan.json"
    saved.write_text(document)
    result = cli("apply", "--plan", str(saved), "--yes")
    assert result.code == 3 and message in result.err, result.err
    assert emulator.logged() == []


def test_every_field_of_a_saved_change_is_checked(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    good = plan_document(cli("plan", "-f", sharings_file(tmp_path, NIGHTLY), "-o", "json"))
    for field, value, message in [
        ("backup_id", "x", "changes[0].backup_id: invalid id 'x'"),
        ("to_project_id", 7, "changes[0].to_project_id: expected text, got 7"),
        ("service", "s3", "changes[0].service: 's3' is not vbs or cbr"),
        ("seen", {"shared": "yes"}, "changes[0].seen: expected"),
        ("project_id", P1, f"the plan's profile 'default' was project {P1}"),
        ("entry", "x" * 5000, "changes[0].entry: expected text, got 'xxx"),
    ]:
        broken = json.loads(json.dumps(good))
        broken["changes"][0][field] = value
        saved = tmp_path / "plan.json"
        saved.write_text(json.dumps(broken))
        emulator.clear_log()
        result = cli("apply", "--plan", str(saved), "--yes")
        assert result.code == 3 and message in result.err, (field, result.err)
        assert emulator.logged() == []
    assert cli("apply", "--plan", "-", "--yes", stdin=json.dumps(good)).code == 0


def test_an_accepted_member_is_kept_unless_revoked(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    from backupshare import Client

    assert cli("--service", "cbr", "share", C, P1, P2).code == 0
    with Client(endpoint=emulator.url, project_id=P1, token="partner-token", service="cbr") as p1:
        p1.accept(C)
    path = sharings_file(tmp_path, exact(C))
    kept = cli("--service", "cbr", "apply", "-f", path, "--yes", "-o", "json")
    assert kept.code == 7  # one ended, one blocked: partial
    done = report(kept)
    assert outcomes(done) == [(C, P1, "blocked", "failed"), (C, P2, "cancel", "canceled")]
    assert "accepted by the receiving project" in done["results"][0]["error"]["message"]
    revoked = cli("--service", "cbr", "apply", "-f", path, "--yes", "--revoke-accepted")
    assert revoked.code == 0, revoked.err
    assert cli("--service", "cbr", "list-shares", "--backup-id", C, "-o", "ids").out == ""


def test_failures_are_reported_per_item_and_the_run_goes_on(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    fault(emulator, "status", method="POST", status=400, count=1)
    result = cli(
        "apply", "-f", sharings_file(tmp_path, NIGHTLY), "-o", "json", "--concurrency", "1"
    )
    assert result.code == 7, result.err
    words = [r["result"] for r in report(result)["results"]]
    assert words == ["failed"] * 3 + ["created"] * 3
    assert cli("apply", "-f", sharings_file(tmp_path, NIGHTLY)).code == 0  # re-run: converges


def test_nothing_possible_exits_with_the_failures_own_code(
    cli: Callable[..., CliResult], service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    body = f"sharings:\n  - backups: {{id: {X}}}\n    to: [dr]\n"
    result = cli("apply", "-f", sharings_file(tmp_path, body), "-o", "json")
    assert result.code == 6
    [row] = report(result)["results"]
    assert (row["action"], row["result"]) == ("blocked", "failed")
    assert changes_sent(emulator) == []


def test_an_interrupted_apply_reports_every_row_and_a_rerun_converges(
    service: str, emulator: RunningEmulator
) -> None:
    from backupshare.registry import connect
    from backupshare.sharings import parse_sharings
    from backupshare.verbs.apply import apply_plan
    from backupshare.verbs.batch import Interrupt
    from backupshare.verbs.plan import make_plan

    text = (
        f"version: 1\nsharings:\n  - backups: {{name_prefix: 'd'}}\n    to: [{P1}]\n"
        f"  - backups: {{name_prefix: 'w'}}\n    to: [{P2}]\n"
    )
    sharings = parse_sharings(text, "s.yaml", now=__import__("datetime").datetime.now())
    with connect(token_settings(emulator.url, service=service), sleep=lambda s: None) as api:
        plan = make_plan(sharings, lambda profile: api, concurrency=1)
        assert [row.action for row in plan.rows] == ["share"] * 4
        stop = Interrupt()
        outcome = apply_plan(
            plan, lambda row: api, concurrency=1, progress=lambda n: stop.raise_(), stop=stop
        )
        words = [result.result for result in outcome.results]
        assert words[0] == "created" and "skipped" in words  # every row accounted for
        assert set(words) <= {"created", "skipped"} and len(words) == 4
        assert outcome.error() is not None and outcome.error().exit_code == 130  # type: ignore[union-attr]
        again = apply_plan(make_plan(sharings, lambda profile: api), lambda row: api)
        assert sorted(r.result for r in again.results) == sorted(
            "existing" if word == "created" else "created" for word in words
        )
        final = make_plan(sharings, lambda profile: api)
        assert final.holds


def test_the_library_plans_and_applies(
    service: str, emulator: RunningEmulator, tmp_path: Path
) -> None:
    from backupshare import Client
    from backupshare.errors import PartialFailure

    text = f"version: 1\nsharings:\n  - backups: {{id: {D}}}\n    to: [{P1}, {OWN}]\n"
    with Client(
        endpoint=emulator.url, project_id=OWN, token="emulator-token", service=service
    ) as api:
        plan = api.plan(text=text)
        assert [(r.action, r.to_project_id) for r in plan.rows] == [("share", P1), ("blocked", OWN)]
        assert plan.to_document()["summary"] == {"share": 1, "cancel": 0, "ok": 0, "blocked": 1}
        outcome = api.apply(plan=plan)
        assert outcome.to_dict()["changed"] is True
        assert [r.result for r in outcome.results] == ["created", "failed"]
        with pytest.raises(PartialFailure) as raised:
            api.apply(text=text, raise_on_failure=True)
        assert raised.value.report.changed is False
        path = tmp_path / "s.yaml"
        path.write_text(text)
        assert api.plan(path).summary == {"share": 0, "cancel": 0, "ok": 1, "blocked": 1}


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "shared"), [("n\n", {P2}), ("y\n", {P1})])
def test_on_a_terminal_it_asks_first(
    emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    answer: str,
    shared: set[str],
) -> None:
    from backupshare.cli import run
    from backupshare.cli.invocation import Invocation
    from backupshare.emulator.server import DEFAULT_TOKEN

    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", emulator.url)
    monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", OWN)
    monkeypatch.setenv("BACKUPSHARE_TOKEN", DEFAULT_TOKEN)
    assert run(["share", A, P2]) == 0
    emulator.clear_log()
    stderr = Tty()
    path = sharings_file(tmp_path, exact(A, P1))
    code = run(["-q", "apply", "-f", path], invocation=Invocation(stdin=Tty(answer), stderr=stderr))
    assert code == 0
    assert "Apply these changes? [y/N] " in stderr.getvalue()
    rows = emulator.store.query(OWN, {"backup_id": A})
    assert {row["to_project_id"] for row in rows} == shared


def test_one_file_many_projects_each_entry_with_its_profile(
    make_emulator: Callable[..., RunningEmulator],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from backupshare.cli import run
    from backupshare.emulator.server import DEFAULT_TOKEN

    from .helpers import PARTNER_BACKUP

    running = make_emulator()  # the demo: each project has its own backups
    config = tmp_path / "config.yaml"
    config.write_text(
        f"default_profile: own\nprofiles:\n"
        f"  own: {{endpoint: '{running.url}', project_id: {OWN}, service: cbr,\n"
        f"        auth: {{method: token, token: {DEFAULT_TOKEN}}}}}\n"
        f"  partner: {{endpoint: '{running.url}', project_id: {P1}, service: cbr,\n"
        f"            auth: {{method: token, token: partner-token}}}}\n"
    )
    config.chmod(0o600)
    body = (
        f"sharings:\n  - backups: {{id: 066b1e37-9305-4057-97e5-2e99b21fc71d}}\n    to: [{P2}]\n"
        f"  - profile: partner\n    backups: {{id: {PARTNER_BACKUP}}}\n    to: [{P3}]\n"
    )
    path = sharings_file(tmp_path, body)
    capsys.readouterr()
    assert run(["--config", str(config), "plan", "-f", path, "-o", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [(c["profile"], c["project_id"], c["to_project_id"], c["action"])
            for c in document["changes"]] == [
        ("own", OWN, P2, "share"), ("partner", P1, P3, "share")
    ]  # fmt: skip
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(document))
    assert run(["--config", str(config), "apply", "--plan", str(saved), "--yes"]) == 0
    members = running.emulator.store.members(PARTNER_BACKUP)
    assert {m["dest_project_id"] for m in members} == {OWN, P3}  # the demo shares it with OWN
    unknown = sharings_file(tmp_path, body.replace("profile: partner", "profile: nobody"))
    running.emulator.clear_log()
    assert run(["--config", str(config), "plan", "-f", unknown]) == 3
    assert "nobody" in capsys.readouterr().err
    assert running.emulator.logged() == []


def test_the_library_takes_a_saved_plan_as_a_document_or_a_path_and_checks_its_arguments(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    from backupshare import Client
    from backupshare.errors import UsageError
    from backupshare.verbs.apply import StalePlanError

    text = f"version: 1\nsharings:\n  - backups: {{id: {D}}}\n    to: [{P1}]\n"
    with Client(endpoint=emulator.url, project_id=OWN, token="emulator-token") as api:
        document = api.plan(text=text).to_document()
        saved = tmp_path / "plan.json"
        saved.write_text(json.dumps(document))
        assert [r.result for r in api.apply(plan=document).results] == ["created"]
        with pytest.raises(StalePlanError):  # the plan saw it unshared
            api.apply(plan=saved)
        for wrong in (
            lambda: api.plan(),
            lambda: api.plan("a.yaml", text=text),
            lambda: api.plan(text=b"version: 1"),  # type: ignore[arg-type]
            lambda: api.plan(text=text, concurrency=0),
            lambda: api.plan(text=text, revoke_accepted="yes"),  # type: ignore[arg-type]
            lambda: api.apply(text=text, max_removals=-1),
            lambda: api.apply(text=text, plan=document),
            lambda: api.apply(plan=42),  # type: ignore[arg-type]
        ):
            with pytest.raises(UsageError):
                wrong()
