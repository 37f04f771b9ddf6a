"""Errors and exit codes: usage errors are 2 and send nothing, service errors map to their codes
(config 3, auth 4, unavailable 8), JSON errors on stderr, internal errors in one line, the retry
budget and timeouts say how hard they tried, Ctrl-C while importing is 130.
The installed executable's exact outputs and codes; `python -m backupshare`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest

from backupshare.emulator import RunningEmulator

from .helpers import BACKUP, BACKUP2, BIN, CREATING, ENCRYPTED, OWN, P1, backupshare, env_for, fault


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
    assert emulator.logged() == []
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
    emulator.requests.clear()
    fault(emulator, status=status, method=method, count=10)
    result = three("--retries", "1", *argv)
    assert result.code == 8, result.err
    assert re.search(
        rf"\(HTTP {status}, [\w.]+, request id [0-9a-f]{{32}}, client request id [-0-9a-f]{{36}}\)",
        result.err,
    ), result.err
    assert len(emulator.logged(method)) == 2  # one try and the one retry allowed
    assert len(backoff_waits) == 1  # with a backoff between them


def test_a_bad_id_is_reported_before_a_missing_config(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKUPSHARE_TOKEN")
    result = cli("share", BACKUP, "nope")
    assert result.code == 2 and result.err.startswith("error: invalid project id 'nope'")


# -- a timeout error says how hard it tried -----------------------------------------------------------
def test_a_timeout_says_how_many_attempts_were_made(
    cli: Any, emulator: RunningEmulator, backoff_waits: list[float]
) -> None:
    from .helpers import fault

    fault(emulator, "delay", method="GET", seconds=1, count=3)  # 10x the deadline
    result = cli("list-shares", "--timeout", "0.1", "--retries", "2")
    assert result.code == 8
    first = result.err.splitlines()[0]
    assert re.fullmatch(
        r"error: no answer from 127\.0\.0\.1:\d+ within 0\.1 s \(3 attempts\) \(client request id .*\)",
        first,
    )
    assert len(backoff_waits) == 2


# -- Ctrl-C while importing ---------------------------------------------------------------------------
# A child whose import of `module` is met by a SIGINT, raised from an import hook: the Ctrl-C of
# the first fraction of a second, at a known moment instead of a raced clock.
INTERRUPTED_IMPORT = """
import os, signal, sys

class Interrupting:
    def find_spec(self, name, path=None, target=None):
        if name == sys.argv[1]:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)  # Python raises KeyboardInterrupt right here
        return None

sys.meta_path.insert(0, Interrupting())
from backupshare.cli import main
main(["list-shares"])
"""


@pytest.mark.e2e
@pytest.mark.parametrize("module", ["backupshare.cli.invocation", "typer", "backupshare.cli.app"])
def test_ctrl_c_while_importing_exits_130_without_a_traceback(module: str) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", INTERRUPTED_IMPORT, module], capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    assert (done.returncode, done.stdout) == (130, "")
    assert done.stderr.splitlines() == [
        "error: interrupted",
        "hint: work in progress was stopped; re-run to finish",
    ]


@pytest.mark.e2e
def test_exact_outputs_and_codes(emulator: RunningEmulator) -> None:
    shared = backupshare(emulator, "share", BACKUP, P1, "-o", "json")
    assert shared.returncode == 0 and shared.stderr == ""
    share_id = json.loads(shared.stdout)["results"][0]["share_id"]
    listed = backupshare(emulator, "list-shares", "-o", "ids")
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, f"{share_id}\n", "")
    counted = backupshare(emulator, "list-shares", "--count", "-o", "json")
    assert counted.stdout == '{"count": 1}\n'
    missing = backupshare(emulator, "show", "00000000-0000-4000-8000-000000000000")
    assert missing.returncode == 5 and missing.stdout == ""
    assert re.fullmatch(
        r"error: sharing 00000000-0000-4000-8000-000000000000 not found "
        r"\(HTTP 404, VolumeBackup\.0205, request id [0-9a-f]{32}, client request id [-0-9a-f]{36}\)\n"
        r"hint: check the id and the profile's project\n",
        missing.stderr,
    )
    bad = backupshare(emulator, "share", "066b1e37-9305-4057-97e5", P1)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == (
        "error: invalid backup id '066b1e37-9305-4057-97e5': expected a UUID such as "
        "066b1e37-9305-4057-97e5-2e99b21fc71d\n"
    )
    unknown = backupshare(emulator, "share", "nope", P1)  # not an id: a name, and none has it
    assert (unknown.returncode, unknown.stdout) == (5, "")
    assert (
        unknown.stderr == "error: no backup named 'nope'\nhint: `backupshare backups` lists them\n"
    )
    canceled = subprocess.run(
        [str(BIN), "cancel", share_id, "-o", "csv"],
        capture_output=True, env=env_for(emulator), timeout=60, check=False,
    )  # fmt: skip
    # By id, the DELETE does not say whose sharing it was: those columns stay empty.
    assert canceled.stdout == (
        f"backup_id,to_project_id,share_id,result,error\r\n,,{share_id},canceled,\r\n".encode()
    )


@pytest.mark.e2e
def test_python_dash_m_works(emulator: RunningEmulator) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "backupshare", "list-shares", "--count"],
        capture_output=True, text=True, env=env_for(emulator), timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "0\n")
