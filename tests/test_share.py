"""share: its table and formats, options after the command, targets from a file or stdin, dry runs
that send nothing and refuse what the real run refuses; the verb converges, and an ambiguous
POST never makes a duplicate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.errors import UnavailableError
from backupshare.vbs import Vbs
from backupshare.verbs import share as share_verb

from .helpers import (
    BACKUP,
    CREATING,
    P1,
    P2,
    P3,
    fault,
    normalize,
    posts,
    results,
    sharings,
    token_settings,
)


# -- share through the CLI -------------------------------------------------------------------------
def test_share_table_then_existing(cli: Any) -> None:
    first = cli("share", BACKUP, P1, P2)
    assert first.code == 0 and first.err == ""
    assert [line.split() for line in normalize(first.out).splitlines()] == [
        ["RESULT", "PROJECT", "SHARE", "ID", "BACKUP", "ID", "ERROR"],
        ["created", P1, "<uuid>", "<backup>"],
        ["created", P2, "<uuid>", "<backup>"],
    ]
    second = cli("-o", "json", "share", BACKUP, P1)
    assert second.code == 0
    body = json.loads(second.out)
    assert body["changed"] is False
    assert body["results"][0] | {"share_id": "x"} == {
        "backup_id": BACKUP, "to_project_id": P1, "share_id": "x",
        "result": "existing", "error": None,
    }  # fmt: skip


def test_share_options_after_the_command_and_projects_file(cli: Any, tmp_path: Path) -> None:
    targets = tmp_path / "targets.txt"
    targets.write_text(f"# team\n{P2.upper()}\n\n{P1}\n")
    result = cli("share", BACKUP, P1, "--projects-file", str(targets), "-o", "ids", "-q")
    assert result.code == 0 and result.err == ""
    assert len(result.out.split()) == 2


def test_share_from_stdin(cli: Any) -> None:
    result = cli("share", BACKUP, "--projects-file", "-", "-o", "jsonl", stdin=f"{P3}\n")
    assert result.code == 0
    assert json.loads(result.out)["to_project_id"] == P3


def test_share_dry_run_sends_no_post(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("share", BACKUP, P1, "--dry-run")
    assert result.code == 0
    assert "dry run: nothing was changed" in result.err
    assert (
        f'would send: POST …/os-vendor-backup-sharing {{"shared": {{"backup_id": "{BACKUP}", "to_project_ids": ["{P1}"]}}}}'
        in result.err
    )
    assert "would create" in result.out
    planned = json.loads(cli("share", BACKUP, P1, "--dry-run", "-o", "json").out)
    assert planned["dry_run"] is True and planned["changed"] is True
    assert [r["result"] for r in planned["results"]] == ["created"]  # docs/output.md's result words
    assert emulator.logged("POST") == []


# -- the verb (verbs/share.py) against the emulator -----------------------------------------------
def test_share_converges(client: Vbs, emulator: RunningEmulator) -> None:
    first = share_verb.share(client, BACKUP, [P1, P2])
    assert results(first) == [(P1, "created"), (P2, "created")] and first.changed
    assert all(r.share_id for r in first.results)
    second = share_verb.share(client, BACKUP, [P1, P2, P3])
    assert results(second) == [(P1, "existing"), (P2, "existing"), (P3, "created")]
    posts = emulator.logged("POST")
    assert len(posts) == 2 and '"to_project_ids": ["' + P3 + '"]' in posts[1]["body"]
    third = share_verb.share(client, BACKUP, [P3])
    assert results(third) == [(P3, "existing")] and not third.changed
    assert len(emulator.logged("POST")) == 2  # nothing sent when all exist


def test_dry_run_changes_nothing(client: Vbs, emulator: RunningEmulator) -> None:
    share_verb.share(client, BACKUP, [P1])
    plan = share_verb.share(client, BACKUP, [P1, P2], dry_run=True)
    assert results(plan) == [(P1, "existing"), (P2, "created")]  # the plan, in result words
    body = {"shared": {"backup_id": BACKUP, "to_project_ids": [P2]}}
    assert plan.request == f"POST …/os-vendor-backup-sharing {json.dumps(body)}"
    assert sharings(emulator) == [P1] and len(emulator.logged("POST")) == 1


@pytest.mark.parametrize(
    "fault_spec",
    [
        {"kind": "commit_then_502"},
        {"kind": "delay", "seconds": 1.0},
        {"kind": "truncated"},
    ],
)
def test_ambiguous_post_never_duplicates(
    emulator: RunningEmulator, fault_spec: dict[str, Any]
) -> None:
    api = Vbs.connect(token_settings(emulator.url, timeout=0.4), sleep=lambda s: None)
    fault(emulator, method="POST", **fault_spec)
    outcome = share_verb.share(api, BACKUP, [P1, P2])
    assert results(outcome) == [(P1, "created"), (P2, "created")]
    assert all(r.share_id for r in outcome.results)
    assert sharings(emulator) == [P1, P2]
    assert len(emulator.logged("POST")) == 1  # learned by listing, not by re-posting


def test_uncommitted_post_is_retried_for_missing_targets_only(emulator: RunningEmulator) -> None:
    sleeps: list[float] = []
    api = Vbs.connect(token_settings(emulator.url), sleep=sleeps.append, jitter=lambda: 1.0)
    fault(emulator, status=503, method="POST")
    outcome = share_verb.share(api, BACKUP, [P1, P2])
    assert results(outcome) == [(P1, "created"), (P2, "created")]
    assert len(emulator.logged("POST")) == 2 and sleeps == [0.5]  # the client's backoff


def test_post_that_never_succeeds_reports_failed(emulator: RunningEmulator) -> None:
    api = Vbs.connect(token_settings(emulator.url, retries=1), sleep=lambda s: None)
    fault(emulator, status=503, method="POST", count=5)
    outcome = share_verb.share(api, BACKUP, [P1])
    assert results(outcome) == [(P1, "failed")]
    error = outcome.error()
    assert isinstance(error, UnavailableError) and error.exit_code == 8
    assert outcome.results[0].error is not None and outcome.results[0].error.status == 503


def test_share_rejections_raise(client: Vbs) -> None:
    from backupshare.errors import NotFoundError, RejectedError

    with pytest.raises(RejectedError, match="only available backups"):
        share_verb.share(client, CREATING, [P1])
    with pytest.raises(NotFoundError):
        share_verb.share(client, "00000000-0000-4000-8000-000000000000", [P1])


# -- dry runs say no where the real run would -----------------------------------------------------
@pytest.mark.parametrize(
    ("backup", "code"),
    [("00000000-0000-4000-8000-000000000099", 5), (CREATING, 6)],
    ids=["missing", "creating"],
)
def test_dry_run_and_real_run_exit_alike(
    cli: Any, emulator: RunningEmulator, backup: str, code: int
) -> None:
    dry = cli("share", backup, P1, "--dry-run")
    real = cli("share", backup, P1)
    assert (dry.code, real.code) == (code, code)
    assert dry.out == "" and len(posts(emulator)) <= 1  # the dry run sent nothing


def test_dry_run_rows_all_say_so(cli: Any, emulator: RunningEmulator) -> None:
    for line in cli("share", BACKUP, P1, P2, "--dry-run", "-o", "jsonl").out.splitlines():
        assert json.loads(line)["dry_run"] is True
    csv = cli("share", BACKUP, P1, "--dry-run", "-o", "csv").out.splitlines()
    assert csv[0].endswith(",dry_run") and csv[1].endswith(",true")
    assert posts(emulator) == []


def test_too_many_targets_is_said_before_any_wait(cli: Any, emulator: RunningEmulator) -> None:
    targets = [f"{n:032x}" for n in range(1, 12)]
    result = cli("share", CREATING, *targets, "--wait", "600")
    assert result.code == 2 and "11 target projects" in result.err
    assert emulator.logged() == []  # no lookup, no wait
