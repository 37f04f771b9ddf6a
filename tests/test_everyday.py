"""Everyday use (issue 10): numbers checked whatever their source, env credentials outrank the
profile's, and NO_COLOR is about colour only — a person at a terminal is still asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pexpect
import pytest

from backupshare.emulator import RunningEmulator

from .helpers import BACKUP, OWN, P1, close_exited, fault


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--timeout", "0"],
            "invalid timeout '0.0' (flag --timeout): must be more than 0 and at most 3600 seconds",
        ),
        (["--timeout", "-5"], "invalid timeout '-5.0' (flag --timeout)"),
        (["--timeout", "nan"], "invalid timeout 'nan' (flag --timeout)"),
        (["--timeout", "inf"], "invalid timeout 'inf' (flag --timeout)"),
        (["--timeout", "1e308"], "invalid timeout '1e+308' (flag --timeout)"),
        (["--retries", "-1"], "invalid retries '-1' (flag --retries): must be between 0 and 20"),
        (["--retries", "21"], "invalid retries '21' (flag --retries): must be between 0 and 20"),
    ],
)
def test_bad_numbers_on_the_command_line_are_usage_errors(
    cli: Any, emulator: RunningEmulator, argv: list[str], message: str
) -> None:
    result = cli(*argv, "share", BACKUP, P1)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(f"error: {message}")
    assert emulator.emulator.logged() == []  # nothing sent


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BACKUPSHARE_TIMEOUT", "0", "invalid timeout '0' (env BACKUPSHARE_TIMEOUT)"),
        ("BACKUPSHARE_RETRIES", "x", "invalid retries 'x' (env BACKUPSHARE_RETRIES): must be an"),
        ("BACKUPSHARE_RETRIES", "100000", "invalid retries '100000' (env BACKUPSHARE_RETRIES)"),
    ],
)
def test_bad_numbers_in_the_environment_are_config_errors(
    cli: Any, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    result = cli("list-shares")
    assert result.code == 3
    assert result.err.startswith(f"error: {message}")


def test_retries_zero_is_exactly_one_attempt(cli: Any, emulator: RunningEmulator) -> None:
    fault(emulator, "status", method="GET", status=503, count=10)
    result = cli("--retries", "0", "share", BACKUP, P1)
    assert result.code == 8
    assert len(emulator.emulator.logged("GET")) == 1
    assert emulator.emulator.logged("POST") == []


def test_environment_credentials_outrank_the_default_profiles(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator
) -> None:
    config = isolated / ".config" / "backupshare" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "default_profile: prod\nprofiles:\n  prod:\n"
        f"    endpoint: {emulator.url}\n    project_id: {OWN}\n"
        "    auth: {method: aksk, access_key: AKEXAMPLE, secret_key_env: PROD_SK}\n"
    )
    monkeypatch.delenv("BACKUPSHARE_ENDPOINT")
    result = cli("list-shares", "--count")  # BACKUPSHARE_TOKEN is set; PROD_SK is not
    assert (result.code, result.out, result.err) == (0, "0\n", "")
    shown = cli("config", "show", "-o", "json")
    assert '"value": "token"' in shown.out and "derived from the environment" in shown.out


@pytest.mark.e2e
def test_no_color_still_asks_on_a_terminal(emulator: RunningEmulator) -> None:
    from .test_e2e import spawn

    emulator.emulator.store.share(OWN, BACKUP, [P1])  # the state to show, not under test
    child = spawn(emulator, "cancel", "--backup-id", BACKUP, "--to-project", P1, NO_COLOR="1")
    child.expect(r"Proceed\? \[y/N\] ")
    child.sendline("n")
    child.expect("nothing was ended")
    child.expect(pexpect.EOF)
    close_exited(child)
    assert child.exitstatus == 0
    assert emulator.emulator.store.count(OWN, {}) == 1  # nothing was ended
