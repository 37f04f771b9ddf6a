"""audit against an allowlist, and -o dot, through the CLI against the emulator: every finding,
every format, exit 0/10 and the failures that win over findings, read-only; the graph rendered
by Graphviz's own `dot`."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from backupshare.emulator import EmulatorConfig, RunningEmulator, start
from backupshare.emulator.store import BackupSeed

from .helpers import OWN, P1, P2, P3, PARTNER_BACKUP, CliResult, Emulated, fault

A = "aaaaaaaa-0000-4000-8000-000000000001"
B = "aaaaaaaa-0000-4000-8000-000000000002"
HOSTILE = 'evil"]; x -> y [label="\\\n\x1b[31m'
PARTNER_TOKEN = "partner-token"


class Clock:
    """The emulator's clock, moved by the test (members are dated by it)."""

    def __init__(self) -> None:
        self.moment: datetime | None = None

    def __call__(self) -> datetime:
        return self.moment or datetime.now(timezone.utc)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Iterator[Emulated]:
    backups = [
        BackupSeed(id=A, project_id=OWN, name="db-a"),
        BackupSeed(id=B, project_id=OWN, name=HOSTILE),
        BackupSeed(id=PARTNER_BACKUP, project_id=P1, name="partner-golden-image"),
    ]
    with start(EmulatorConfig(backups=backups, clock=clock)) as running:
        yield Emulated.of(running)


@pytest.fixture
def cbr(cli: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    monkeypatch.setenv("BACKUPSHARE_SERVICE", "cbr")
    return cli  # type: ignore[no-any-return]


@pytest.fixture
def sharings(
    cbr: Any, clock: Clock, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A → P1 (pending for 10 days), A → P2 (rejected by P2? no credentials: stays pending,
    made now), B → P3 (made now); P1 offered PARTNER_BACKUP to OWN."""
    clock.moment = datetime.now(timezone.utc) - timedelta(days=10)
    assert cbr("share", A, P1).code == 0
    clock.moment = None
    assert cbr("share", A, P2).code == 0
    assert cbr("share", B, P3).code == 0
    # the partner offers OWN its backup, and rejects nothing; OWN's offer to P1 is rejected by P1
    with monkeypatch.context() as partner:
        partner.setenv("BACKUPSHARE_PROJECT_ID", P1)
        partner.setenv("BACKUPSHARE_TOKEN", PARTNER_TOKEN)
        assert cbr("share", PARTNER_BACKUP, OWN).code == 0
    emulator.clear_log()


def findings(result: CliResult) -> list[tuple[str, str, str]]:
    assert result.code == 10, result.err
    return sorted(
        (f["finding"], f["backup_id"], f["to_project_id"]) for f in json.loads(result.out)
    )


def test_a_clean_project_exits_0(cbr: Any, sharings: None) -> None:
    result = cbr(
        "audit", "--allowed", P1, "--allowed", P2, "--allowed", P3, "--max-pending-age", "30d"
    )
    assert (result.code, result.out, result.err) == (0, "", "no findings\n")


def test_each_finding_is_a_record(cbr: Any, sharings: None) -> None:
    result = cbr("audit", "--allowed", P1, "--allowed", P3, "-o", "json")
    assert findings(result) == sorted([("not-allowed", A, P2), ("pending-too-long", A, P1)])
    record = next(f for f in json.loads(result.out) if f["finding"] == "pending-too-long")
    assert set(record) == {
        "finding",
        "backup_id",
        "to_project_id",
        "from_project_id",
        "status",
        "since",
    }
    assert (record["from_project_id"], record["status"]) == (OWN, "pending")
    assert (
        result.err.splitlines()[0] == "error: audit: 2 findings (1 not-allowed, 1 pending-too-long)"
    )


def test_a_sharing_that_is_two_findings_is_two_records(cbr: Any, sharings: None) -> None:
    result = cbr("audit", "--allowed", P2, "--allowed", P3, "-o", "json")
    assert findings(result) == sorted([("not-allowed", A, P1), ("pending-too-long", A, P1)])


def test_rejected_members_and_offers_from_unknown_projects(
    cbr: Any, sharings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as partner:
        partner.setenv("BACKUPSHARE_PROJECT_ID", P1)
        partner.setenv("BACKUPSHARE_TOKEN", PARTNER_TOKEN)
        assert cbr("reject", A).code == 0
    result = cbr("audit", "--allowed", P2, "--allowed", P3, "--incoming", "-o", "json")
    assert findings(result) == sorted(
        [("not-allowed", A, P1), ("rejected", A, P1), ("offer-from-unknown", PARTNER_BACKUP, OWN)]
    )
    offer = next(f for f in json.loads(result.out) if f["finding"] == "offer-from-unknown")
    assert offer["from_project_id"] == P1


def test_selectors_narrow_the_audited_backups(cbr: Any, sharings: None) -> None:
    result = cbr("audit", "--allowed", P1, "--name", "db-a", "-o", "json")
    assert findings(result) == sorted([("not-allowed", A, P2), ("pending-too-long", A, P1)])
    assert cbr("audit", "--allowed", P3, "--name-prefix", "evil").code == 0  # B → P3 alone


def test_max_pending_age_sets_the_limit(cbr: Any, sharings: None) -> None:
    result = cbr(
        "audit",
        "--allowed",
        P1,
        "--allowed",
        P2,
        "--allowed",
        P3,
        "--max-pending-age",
        "1w",
        "-o",
        "json",
    )
    assert findings(result) == [("pending-too-long", A, P1)]


@pytest.mark.parametrize("fmt", ["table", "jsonl", "csv", "yaml", "ids"])
def test_every_format(cbr: Any, sharings: None, fmt: str) -> None:
    result = cbr("audit", "--allowed", P3, "-o", fmt)
    assert result.code == 10, result.err
    if fmt == "jsonl":
        rows = [json.loads(line) for line in result.out.splitlines()]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(result.out)))
    elif fmt == "yaml":
        rows = yaml.safe_load(result.out)
    elif fmt == "ids":
        assert result.out.splitlines() == [A, A, A]
        return
    else:
        header, *lines = result.out.splitlines()
        assert header.split()[:3] == ["FINDING", "BACKUP", "ID"]
        assert sorted(line.split()[0] for line in lines) == [
            "not-allowed",
            "not-allowed",
            "pending-too-long",
        ]
        return
    assert sorted(r["finding"] for r in rows) == ["not-allowed", "not-allowed", "pending-too-long"]


def test_vbs_sharings_are_audited_too(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("share", A, P1, P2).code == 0
    with monkeypatch.context() as partner:
        partner.setenv("BACKUPSHARE_PROJECT_ID", P1)
        partner.setenv("BACKUPSHARE_TOKEN", PARTNER_TOKEN)
        assert cli("share", PARTNER_BACKUP, OWN).code == 0
    result = cli("audit", "--allowed", P2, "--incoming", "-o", "json")
    assert findings(result) == sorted(
        [("not-allowed", A, P1), ("offer-from-unknown", PARTNER_BACKUP, OWN)]
    )
    assert cli("audit", "--allowed", P1, "--allowed", P2, "--incoming").code == 0


def test_allowlist_files_stdin_comments_and_ids_together(
    cbr: Any, sharings: None, tmp_path: Path
) -> None:
    listed = tmp_path / "allowed.txt"
    listed.write_text(f"# partners\n{P1}  # prod DR\n\n{P2.upper()}\n")
    from_file = cbr("audit", "--allowed", str(listed), "--allowed", P3, "--max-pending-age", "30d")
    assert from_file.code == 0, from_file.err
    from_stdin = cbr(
        "audit", "--allowed", "-", "--max-pending-age", "30d", stdin=f"{P1}\n{P2}\n{P3}\n"
    )
    assert from_stdin.code == 0, from_stdin.err


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        ([], None, "error: audit needs the allowed projects"),
        (["--allowed", "-"], "# nobody\n", "error: --allowed standard input: an empty allowlist"),
        (["--allowed", "no-such-file"], None, "error: --allowed no-such-file: no such file"),
        (
            ["--allowed", "-"],
            "not-a-project\n",
            "error: invalid project id 'not-a-project' (line 1 of standard input)",
        ),
        (
            ["--allowed", P1, "--max-pending-age", "a week"],
            None,
            "error: invalid --max-pending-age 'a week'",
        ),
        (
            ["--allowed", P1, "--created-after", "soon"],
            None,
            "error: invalid --created-after 'soon'",
        ),
        (["--allowed", P1, "--concurrency", "65"], None, "error: invalid --concurrency 65"),
    ],
)
def test_bad_audit_input_is_a_usage_error_and_sends_nothing(
    cbr: Any, emulator: RunningEmulator, argv: list[str], stdin: str | None, message: str
) -> None:
    result = cbr("audit", *argv, stdin=stdin)
    assert (result.code, result.out) == (2, ""), result.err
    assert result.err.startswith(message), result.err
    assert emulator.logged() == []


def test_an_empty_allowlist_file_is_refused(
    cbr: Any, emulator: RunningEmulator, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n# nothing yet\n")
    result = cbr("audit", "--allowed", str(empty))
    assert result.code == 2
    assert result.err.startswith(f"error: --allowed {empty}: an empty allowlist")


def test_a_failure_to_read_wins_over_findings(
    cbr: Any, sharings: None, emulator: RunningEmulator
) -> None:
    fault(emulator, method="GET", path="/members", status=503, count=100)
    result = cbr("audit", "--allowed", P3, "-o", "jsonl")
    assert result.code == 8, result.err
    fault(emulator, method="GET", path="/backups", status=403, count=100)
    assert cbr("audit", "--allowed", P3).code == 4


def test_audit_is_read_only(cbr: Any, sharings: None, emulator: RunningEmulator) -> None:
    assert cbr("audit", "--allowed", P3, "--incoming").code == 10
    methods = {r["method"] for r in emulator.logged()}
    assert methods == {"GET"}


# -- -o dot --------------------------------------------------------------------------------------
def render(text: str) -> str:
    """The graph through Graphviz's `dot`: in CI it must be there (.ci/run installs it)."""
    dot = shutil.which("dot")
    if dot is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Graphviz's dot is not installed (.ci/run installs it): -o dot is untested")
        pytest.skip("Graphviz's dot is not installed (.ci/run installs it in CI)")
    done = subprocess.run(
        [dot, "-Tplain"], input=text, capture_output=True, text=True, timeout=100, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def test_audit_dot_is_a_graph_dot_renders_with_findings_in_red(cbr: Any, sharings: None) -> None:
    result = cbr("audit", "--allowed", P3, "--incoming", "-o", "dot")
    assert result.code == 10, result.err
    plain = render(result.out)
    nodes = [line.split()[1] for line in plain.splitlines() if line.startswith("node ")]
    assert sorted(nodes) == sorted(
        f'"{n}"'
        for n in [f"backup:{A}", f"backup:{B}", f"backup:{PARTNER_BACKUP}",
                  f"project:{OWN}", f"project:{P1}", f"project:{P2}", f"project:{P3}"]
    )  # fmt: skip
    red = [line for line in plain.splitlines() if line.startswith("edge ") and line.endswith("red")]
    assert len(red) == 3  # A → P1, A → P2 (not allowed), the partner's offer (from unknown)


def test_hostile_names_stay_inside_their_label(cbr: Any, sharings: None) -> None:
    result = cbr("list-shares", "-o", "dot")
    assert result.code == 0, result.err
    plain = render(result.out)
    assert plain.count("\nnode ") == 6  # OWN, A, B, P1, P2, P3: the name added no node
    assert "\x1b" not in result.out and "x -> y" in result.out  # escaped, inside a label
    assert '\\"]; x -> y [label=\\"\\\\\\\\n\\\\x1b[31m' in result.out


def test_list_shares_dot_on_vbs(cli: Any) -> None:
    assert cli("share", A, P1).code == 0
    result = cli("list-shares", "-o", "dot")
    assert result.code == 0, result.err
    assert f'"backup:{A}" -> "project:{P1}"' in result.out
    render(result.out)
