"""The CLI in-process against the emulator: options, every output format, errors, exit codes."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from backupshare.emulator import RunningEmulator

from .helpers import BACKUP, BACKUP2, CREATING, ENCRYPTED, OWN, P1, P2, P3, fault, normalize


def share_ids(emulator: RunningEmulator) -> list[str]:
    return [r["id"] for r in emulator.emulator.store.query(OWN, {}, sort_dir="asc")]


# -- share -----------------------------------------------------------------------------------------
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
    assert emulator.emulator.logged("POST") == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["share", "066b1e37-9305-4057-97e5-2e99b21fc7", P1], "error: invalid backup id '066b1e37-9305-4057-97e5-2e99b21fc7': expected a UUID"),
        (["share", BACKUP, "abc"], "error: invalid project id 'abc': expected 32 hex characters"),
        (["share", BACKUP], "error: no target projects: give PROJECT_ID arguments or --projects-file"),
        (["share", BACKUP, OWN], f"error: project {OWN} is the profile's own project"),
        (["share", BACKUP, "--projects-file", "/no/file"], "error: --projects-file /no/file: no such file"),
        (["share"], "error: no backup to share: give its id or name"),
        (["share", BACKUP, P1, "--bogus"], "error: no such option: --bogus"),
        (["-o", "xml", "share", BACKUP, P1], "error: invalid --output 'xml': choose one of table"),
        (["list-shares", "--limit", "0"], "error: invalid --limit 0: must be at least 1"),
        (["list-shares", "--limit", "x"], "error: invalid value for '--limit'"),
        (["list-shares", "--page-size", "5000"], "error: invalid --page-size 5000: must be 1 to 1000"),
        (["list-shares", "--sort-dir", "up"], "error: invalid --sort-dir 'up': choose one of asc, desc"),
        (["list-shares", "--sort-key", "x"], "error: invalid --sort-key 'x': choose one of id, name"),
        (["list-shares", "--status", "ok"], "error: invalid --status 'ok': choose one of available"),
        (["list-shares", "--backup-id", "x"], "error: invalid backup id 'x'"),
        (["list-shares", "--to-project", "x"], "error: invalid project id 'x'"),
        (["list-shares", "--volume-id", "x"], "error: invalid volume id 'x'"),
        (["show", "x"], "error: invalid sharing id 'x'"),
        (["cancel"], "error: nothing to cancel: give SHARE_IDs, --ids-file, --backup-id or --to-project"),
        (["cancel", "x"], "error: invalid sharing id 'x'"),
        (["cancel", BACKUP, "--backup-id", BACKUP], "error: give SHARE_IDs (or --ids-file) or --backup-id, not both"),
        (["cancel", "--to-project", P1], "error: refusing to end sharings across the project without --yes"),
        (["cancel", "--backup-id", BACKUP], f"error: refusing to end every sharing of backup {BACKUP} without --yes"),
        (["cancel", BACKUP, "--concurrency", "0"], "error: invalid --concurrency 0: must be 1 to 64"),
        (["completion", "tcsh"], "error: invalid shell 'tcsh': choose one of bash, zsh, fish, powershell"),
        (["frobnicate"], "error: no such command 'frobnicate'"),
    ],
)  # fmt: skip
def test_usage_errors_are_exit_2_and_send_nothing(
    cli: Any, emulator: RunningEmulator, argv: list[str], message: str
) -> None:
    result = cli(*argv)
    assert result.code == 2, result.err
    first_line = result.err.splitlines()[0]
    assert first_line.startswith(message), result.err
    lines = result.err.splitlines()
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: "))
    assert result.out == ""
    assert emulator.emulator.logged() == []
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["share", CREATING, P1], 6, "is in status creating; only available backups can be shared"),
        (["share", ENCRYPTED, P1], 6, "Encrypted backups cannot be shared. (HTTP 400, VolumeBackup.0105, request id "),
        (["share", "00000000-0000-4000-8000-000000000000", P1], 5, "could not be found. (HTTP 404, VolumeBackup.0204"),
        (["show", "00000000-0000-4000-8000-000000000000"], 5, "sharing 00000000-0000-4000-8000-000000000000 not found (HTTP 404"),
    ],
)  # fmt: skip
def test_service_errors_map_to_exit_codes(
    cli: Any, argv: list[str], code: int, message: str
) -> None:
    result = cli(*argv)
    assert result.code == code
    assert result.err.startswith("error: ") and message in result.err.splitlines()[0]


def test_json_errors_are_also_structured_on_stderr(cli: Any) -> None:
    result = cli("-o", "json", "show", "00000000-0000-4000-8000-000000000000")
    assert result.code == 5 and result.out == ""
    error = json.loads(result.err.splitlines()[-1])["error"]
    assert error["type"] == "not_found" and error["status"] == 404
    assert error["code"] == "VolumeBackup.0205" and len(error["request_id"]) == 32
    assert error["hint"] == "check the id and the profile's project"


def test_auth_failure_is_exit_4(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKUPSHARE_TOKEN", "wrong")
    result = cli("list-shares")
    assert result.code == 4
    assert result.err.startswith(
        "error: Incorrect IAM authentication information. (HTTP 401, APIG.0301"
    )
    assert "hint: the credentials are wrong" in result.err


def test_unavailable_is_exit_8(cli: Any, emulator: RunningEmulator) -> None:
    fault(emulator, status=503, method="GET", count=10)
    result = cli("--retries", "0", "list-shares")
    assert result.code == 8
    assert result.err.startswith("error: Injected fault. (HTTP 503, VolumeBackup.0503, request id ")


def test_config_error_is_exit_3(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BACKUPSHARE_TOKEN")
    result = cli("list-shares")
    assert result.code == 3
    assert result.err.startswith("error: profile 'default' has no credentials")


# -- list-shares -----------------------------------------------------------------------------------
@pytest.fixture
def three(cli: Any) -> Any:
    assert cli("share", BACKUP, P1, P2).code == 0
    assert cli("share", BACKUP2, P3).code == 0
    return cli


def test_list_formats(three: Any, emulator: RunningEmulator) -> None:
    table = three("list-shares", "--sort-key", "name", "--sort-dir", "asc")
    assert table.code == 0
    lines = normalize(table.out).splitlines()
    assert lines[0].split() == [
        "SHARE", "ID", "BACKUP", "ID", "BACKUP", "NAME", "TO", "PROJECT", "STATUS", "SIZE", "CREATED", "(UTC)"
    ]  # fmt: skip
    assert [line.split()[2] for line in lines[1:]] == ["db-nightly", "db-nightly", "web-weekly"]
    assert "40 GB" in lines[1] and lines[1].endswith("<time>")

    records = json.loads(three("list-shares", "-o", "json").out)
    assert len(records) == 3 and {"id", "backup_id", "backup"} <= set(records[0])
    jsonl = three("list-shares", "-o", "jsonl").out.splitlines()
    assert [json.loads(line)["id"] for line in jsonl] == [r["id"] for r in records]
    assert yaml.safe_load(three("list-shares", "-o", "yaml").out) == records
    ids = three("list-shares", "-o", "ids").out.split()
    assert ids == [r["id"] for r in records]
    rows = list(csv.DictReader(io.StringIO(three("list-shares", "-o", "csv").out)))
    assert [r["id"] for r in rows] == ids and rows[0]["backup_size"] in ("40", "20")
    assert three("list-shares", "--count").out == "3\n"
    assert json.loads(three("list-shares", "--count", "-o", "json").out) == {"count": 3}


def test_list_filters_are_sent(three: Any, emulator: RunningEmulator) -> None:
    result = three(
        "list-shares", "--backup-id", BACKUP.upper(), "--to-project", P1, "--from-project", OWN,
        "--name", "db", "--status", "available", "--availability-zone", "eu-de-01",
        "--volume-id", "00000000-0000-4000-8000-000000000000", "--page-size", "7",
    )  # fmt: skip
    assert result.code == 0
    query = emulator.emulator.logged("GET", "/detail")[-1]["query"]
    assert query == {
        "backup_id": BACKUP, "to_project_id": P1, "from_project_id": OWN, "name": "db",
        "status": "available", "availability_zone": "eu-de-01",
        "volume_id": "00000000-0000-4000-8000-000000000000", "limit": "7", "offset": "0",
    }  # fmt: skip
    assert result.err == "no sharings\n"


def test_list_shared_with_me_and_limit(three: Any) -> None:
    mine = three("list-shares", "--shared-with-me")
    assert "FROM PROJECT" in mine.out and "partner-golden-image" in mine.out
    assert len(three("list-shares", "--limit", "2", "-o", "ids").out.split()) == 2


def test_list_pages_through_everything(cli: Any, emulator: RunningEmulator) -> None:
    emulator.emulator.seed_shares(250)
    result = cli("list-shares", "-o", "ids", "--page-size", "100")
    assert len(set(result.out.split())) == 250
    assert len(emulator.emulator.logged("GET", "/detail")) == 4


# -- show ------------------------------------------------------------------------------------------
def test_show_formats(three: Any, emulator: RunningEmulator) -> None:
    share_id = share_ids(emulator)[0]
    panel = three("show", share_id)
    assert panel.code == 0
    assert f"Share ID           {share_id}" in panel.out
    assert "Backup name        db-nightly" in panel.out and "Backup size        40 GB" in panel.out
    record = json.loads(three("show", share_id, "-o", "json").out)
    assert record["id"] == share_id and record["backup"]["name"] == "db-nightly"
    assert yaml.safe_load(three("show", share_id, "-o", "yaml").out) == record
    assert three("show", share_id, "-o", "ids").out == f"{share_id}\n"
    assert (
        next(iter(csv.DictReader(io.StringIO(three("show", share_id, "-o", "csv").out))))["id"]
        == share_id
    )


# -- cancel ----------------------------------------------------------------------------------------
def test_cancel_by_ids_json(three: Any, emulator: RunningEmulator) -> None:
    first, *_ = share_ids(emulator)
    unknown = "00000000-0000-4000-8000-000000000000"
    result = three("cancel", first, unknown, "-o", "json")
    assert result.code == 0
    body = json.loads(result.out)
    assert body["changed"] is True
    assert [(r["share_id"], r["result"]) for r in body["results"]] == [
        (first, "canceled"),
        (unknown, "absent"),
    ]


def test_cancel_backup_with_yes_and_to_project(three: Any, emulator: RunningEmulator) -> None:
    partial = three("cancel", "--backup-id", BACKUP, "--to-project", P2, "--to-project", P3)
    assert partial.code == 0
    assert [line.split()[0] for line in partial.out.splitlines()[1:]] == [
        "canceled",
        "absent",
    ]  # P2, P3: as given
    whole = three("cancel", "--backup-id", BACKUP2, "--yes", "-o", "json")
    assert [r["result"] for r in json.loads(whole.out)["results"]] == ["canceled"]
    assert len(emulator.emulator.logged("DELETE")) == 2
    again = three("cancel", "--backup-id", BACKUP2, "--yes")
    assert again.code == 0 and again.err == "nothing to do\n"


def test_cancel_dry_run(three: Any, emulator: RunningEmulator) -> None:
    result = three("cancel", "--backup-id", BACKUP, "--dry-run")
    assert result.code == 0 and "dry run" in result.err
    assert result.out.count("would cancel") == 2
    planned = json.loads(three("cancel", "--backup-id", BACKUP, "--dry-run", "-o", "json").out)
    assert planned["dry_run"] is True
    assert [r["result"] for r in planned["results"]] == ["canceled", "canceled"]
    assert emulator.emulator.logged("DELETE") == []


def test_cancel_partial_failure_exit_7(three: Any, emulator: RunningEmulator) -> None:
    ids = share_ids(emulator)
    fault(emulator, status=409, method="DELETE", path=ids[0])
    result = three("--retries", "0", "cancel", *ids, "-o", "json")
    assert result.code == 7
    body = json.loads(result.out)
    assert [r["result"] for r in body["results"]] == ["failed", "canceled", "canceled"]
    assert body["results"][0]["error"]["status"] == 409
    assert result.err.startswith("error: 1 of 3 cancellations failed")


def test_quiet_and_no_color(three: Any) -> None:
    result = three("share", BACKUP, P1, "-q", "--dry-run")
    assert result.err == "" and "existing" in result.out
    assert "\x1b[" not in three("list-shares", "--no-color").out


def test_version_and_help(cli: Any) -> None:
    from backupshare import __version__

    assert cli("--version").out == f"backupshare {__version__}\n"
    for command in ("share", "list-shares", "show", "cancel", "doctor", "config", "completion"):
        result = cli(command, "--help")
        assert result.code == 0 and "Usage: backupshare" in result.out
        assert "Example" in result.out


@pytest.mark.parametrize("order", [("--version", "--verbose"), ("--verbose", "--version")])
def test_version_verbose_says_what_a_bug_report_needs(cli: Any, order: tuple[str, str]) -> None:
    import platform
    import sys
    from importlib.metadata import version

    from backupshare import __version__

    result = cli(*order)
    assert (result.code, result.err) == (0, "")
    first, python, system, *libraries = result.out.splitlines()
    assert first == f"backupshare {__version__}"  # what plain --version prints, then details
    assert python == f"python    {platform.python_version()} (CPython) {sys.executable}"
    assert system == f"platform  {platform.platform()}"
    assert libraries == [
        f"{name:<9} {version(name)}" for name in ("typer", "requests", "rich", "PyYAML")
    ]


def test_verbose_without_version_is_a_usage_error(cli: Any) -> None:
    result = cli("--verbose", "list-shares")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "error: --verbose only goes with --version\nhint: for request logs use --debug\n"
    )


def test_no_arguments_shows_help(cli: Any) -> None:
    result = cli()
    assert result.code == 2 and "Usage: backupshare" in result.err


# -- config and completion -------------------------------------------------------------------------
def test_config_commands(cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = isolated / ".config" / "backupshare" / "config.yaml"
    assert cli("config", "path").out == f"{path}\n"
    result = cli("config", "init", "--cloud", "otc", "--region", "eu-de", "--project-id", P1,
                 "--auth-method", "aksk", "--access-key", "AK1", "--secret-env", "PROD_SK", "-p", "prod")  # fmt: skip
    assert result.code == 0, result.err
    assert (path.stat().st_mode & 0o777) == 0o600
    written = yaml.safe_load(path.read_text())
    assert written["profiles"]["prod"]["auth"] == {
        "method": "aksk", "access_key": "AK1", "secret_key_env": "PROD_SK"
    }  # fmt: skip
    again = cli("config", "init", "--cloud", "otc", "--project-id", P1, "--auth-method", "token",
                "--secret-env", "T", "-p", "prod")  # fmt: skip
    assert again.code == 3 and "profile 'prod' exists already" in again.err
    assert "hint: add --force" in again.err
    forced = cli("config", "init", "--endpoint", "http://127.0.0.1:1", "--project-id", P1,
                 "--auth-method", "token", "--secret-env", "T", "-p", "prod", "--force")  # fmt: skip
    assert forced.code == 0
    profiles = json.loads(cli("config", "profiles", "-o", "json", "--config", str(path)).out)
    assert profiles == [{"profile": "prod", "default": True}]
    assert cli("config", "validate").code == 0
    monkeypatch.setenv("T", "secret-token-value")
    monkeypatch.delenv("BACKUPSHARE_ENDPOINT")
    shown = cli("config", "show", "-p", "prod", "-o", "json")
    records = {r["key"]: r for r in json.loads(shown.out)}
    assert records["auth.token"]["value"] == "***"
    assert records["endpoint"]["source"].startswith(f"file {path}:")
    assert records["config_file"]["value"] == str(path)
    # -p names the profile: its project id, not the environment's (issue #24, AWS CLI rule)
    assert records["project_id"]["source"].startswith(f"file {path}:")
    assert "ignoring BACKUPSHARE_PROJECT_ID, BACKUPSHARE_TOKEN" in shown.err
    assert "secret-token-value" not in shown.out + shown.err


def test_config_init_refuses_secrets_without_a_terminal(cli: Any) -> None:
    result = cli("config", "init", "--endpoint", "http://127.0.0.1:1", "--project-id", P1,
                 "--auth-method", "token")  # fmt: skip
    assert result.code == 2
    assert "--secret-env VAR" in result.err and "never taken on the command line" in result.err


def test_config_validate_lists_problems(cli: Any, isolated: Path) -> None:
    bad = isolated / "bad.yaml"
    bad.write_text("profiles:\n  p:\n    regoin: x\n    retries: many\n")
    result = cli("config", "validate", "--config", str(bad))
    assert result.code == 3
    assert result.err.count("problem: ") == 2
    assert f"error: {bad}: 2 problems" in result.err


def test_completion_scripts(cli: Any) -> None:
    for shell in ("bash", "zsh", "fish", "powershell"):
        result = cli("completion", shell)
        assert result.code == 0 and "_BACKUPSHARE_COMPLETE" in result.out


def test_internal_errors_are_one_line_without_debug(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("kaboom")

    monkeypatch.setattr("backupshare.verbs.project.count_project_shares", boom)
    result = cli("list-shares", "--count")
    assert result.code == 1
    assert result.err == (
        "error: internal error: RuntimeError: kaboom\n"
        "hint: this is a bug; re-run with --debug for a traceback and report it\n"
    )
    with pytest.raises(RuntimeError):
        cli("--debug", "list-shares", "--count")


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
@pytest.mark.parametrize(
    ("argv", "method"),
    [
        (["list-shares"], "GET"),
        (["list-shares", "--count"], "GET"),
        (["show", "00000000-0000-4000-8000-000000000000"], "GET"),
        (["cancel", "00000000-0000-4000-8000-000000000000", "--yes"], "DELETE"),
        (["cancel", "--backup-id", BACKUP2, "--yes"], "DELETE"),
    ],
)
def test_beyond_the_retry_budget_is_exit_8_with_request_ids(
    three: Any,
    emulator: RunningEmulator,
    backoff_waits: list[float],
    argv: list[str],
    method: str,
    status: int,
) -> None:
    emulator.emulator.requests.clear()
    fault(emulator, status=status, method=method, count=10)
    result = three("--retries", "1", *argv)
    assert result.code == 8, result.err
    assert re.search(
        rf"\(HTTP {status}, [\w.]+, request id [0-9a-f]{{32}}, client request id [-0-9a-f]{{36}}\)",
        result.err,
    ), result.err
    assert len(emulator.emulator.logged(method)) == 2  # one try and the one retry allowed
    assert len(backoff_waits) == 1  # with a backoff between them


def test_a_bad_id_is_reported_before_a_missing_config(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKUPSHARE_TOKEN")
    result = cli("share", BACKUP, "nope")
    assert result.code == 2 and result.err.startswith("error: invalid project id 'nope'")


def test_each_commands_help_line_is_written_once() -> None:
    # app.COMMANDS holds each command's help line; a docstring on its function would never be
    # shown, and editing it would change nothing (a trap for the next maintainer)
    from backupshare.cli.app import COMMANDS, app
    from backupshare.cli.typer_internals import click_command

    root = click_command(app)
    commands = {name: root.get_command(None, name) for name in COMMANDS}
    assert all(commands[name].help == COMMANDS[name][1] for name in COMMANDS)
    documented = [
        name for name, c in commands.items() if c.callback is not None and c.callback.__doc__
    ]
    assert documented == []
