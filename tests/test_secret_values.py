"""Secrets with control characters or non-ASCII are refused, never sent or shown; a secret
command does not inherit our credentials; the running CLI cannot dump core (a core holds them)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_TOKEN

from .helpers import BIN, GUARD, OWN, CliResult
from .hostile import SECRET, aksk_env, assert_never_shown, endpoint_env, password_env, write_config

# -- secrets with control characters ---------------------------------------------------------------
SECRET_CONTROL = "contains a line break or other control character"


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        (
            {"BACKUPSHARE_TOKEN": f"emulator-token\nX-Injected: {SECRET}"},
            "token (env BACKUPSHARE_TOKEN)",
        ),
        (
            {"BACKUPSHARE_TOKEN": f"emulator-token\r\nX-Injected: {SECRET}"},
            "token (env BACKUPSHARE_TOKEN)",
        ),
        ({"BACKUPSHARE_TOKEN": f"emulator\x1b]52;c;{SECRET}\x07"}, "token (env BACKUPSHARE_TOKEN)"),
        ({"BACKUPSHARE_TOKEN": f"emulator\x7f{SECRET}"}, "token (env BACKUPSHARE_TOKEN)"),
        (
            {**aksk_env(""), "BACKUPSHARE_SECRET_KEY": f"emulator-secret-key\n{SECRET}"},
            "secret_key (env BACKUPSHARE_SECRET_KEY)",
        ),
        (
            {**aksk_env(""), "BACKUPSHARE_SECRET_KEY": None, "HUAWEICLOUD_SDK_SK": f"sk\r{SECRET}"},
            "secret_key (env HUAWEICLOUD_SDK_SK)",
        ),
        (
            {**aksk_env(""), "BACKUPSHARE_SECURITY_TOKEN": f"st\n{SECRET}"},
            "security_token (env BACKUPSHARE_SECURITY_TOKEN)",
        ),
        (
            {**aksk_env(""), "BACKUPSHARE_ACCESS_KEY": f"AK\nX-Injected: {SECRET}"},
            "access_key (env BACKUPSHARE_ACCESS_KEY)",
        ),
        (
            {**password_env("", ""), "BACKUPSHARE_PASSWORD": f"pw\n{SECRET}"},
            "password (env BACKUPSHARE_PASSWORD)",
        ),
    ],
    ids=[
        "token-lf",
        "token-crlf",
        "token-osc52",
        "token-del",
        "sk",
        "sdk-sk",
        "security-token",
        "access-key",
        "password",
    ],
)
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_secret_with_a_control_character_from_env_is_refused(
    bs: Callable[..., CliResult],
    emulator: RunningEmulator,
    env: dict[str, str | None],
    setting: str,
    debug: bool,
) -> None:
    given = {**endpoint_env(emulator.url), **env, "BACKUPSHARE_ENDPOINT": emulator.url}
    if "BACKUPSHARE_IAM_ENDPOINT" in given:
        given["BACKUPSHARE_IAM_ENDPOINT"] = emulator.url
    result = bs("list-shares", *(["--debug"] if debug else []), env=given)
    assert result.code == 3, result.err
    assert result.err.startswith(f"error: {setting} {SECRET_CONTROL}"), result.err
    assert_never_shown(result, SECRET)
    assert emulator.logged() == []  # nothing was sent


def test_secret_with_a_control_character_from_a_file_or_command_is_refused(
    bs: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    block = write_config(
        tmp_path / "block",
        f"profiles:\n  default:\n    endpoint: {emulator.url}\n    project_id: {OWN}\n"
        f"    auth:\n      method: token\n      token: |\n        emulator-token\n"
        f"        X-Injected: {SECRET}\n",
    )
    # printf turns the \n into a line break: the command prints two lines.
    command = write_config(
        tmp_path / "command",
        f"profiles:\n  default:\n    endpoint: {emulator.url}\n    project_id: {OWN}\n"
        f"    auth:\n      method: token\n"
        f"      token_command: 'printf \"emulator-token\\nX-Injected: {SECRET}\"'\n",
    )
    env = {"BACKUPSHARE_TOKEN": None, "BACKUPSHARE_PROJECT_ID": None, "BACKUPSHARE_ENDPOINT": None}
    for path, setting in (
        (block, f"token (file {block}:7)"),
        (command, "token (command (via token_command))"),
    ):
        for debug in ([], ["--debug"]):
            result = bs("--config", str(path), "list-shares", *debug, env=env)
            assert result.code == 3, result.err
            assert result.err.startswith(f"error: {setting} {SECRET_CONTROL}"), result.err
            assert_never_shown(result, SECRET)
    assert emulator.logged() == []


def test_a_trailing_line_break_alone_is_stripped_and_works(
    bs: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    for token in ("emulator-token\n", "emulator-token\r\n", "  emulator-token \n"):
        result = bs(
            "list-shares",
            "-o",
            "json",
            env={**endpoint_env(emulator.url), "BACKUPSHARE_TOKEN": token},
        )
        assert result.code == 0, result.err
    block = write_config(
        tmp_path / "block",
        f"profiles:\n  default:\n    endpoint: {emulator.url}\n    project_id: {OWN}\n"
        "    auth:\n      method: token\n      token: |\n        emulator-token\n",
    )
    command = write_config(
        tmp_path / "command",
        f"profiles:\n  default:\n    endpoint: {emulator.url}\n    project_id: {OWN}\n"
        "    auth:\n      method: token\n      token_command: echo emulator-token\n",
    )
    for path in (block, command):
        result = bs(
            "--config", str(path), "list-shares", "-o", "json", env={"BACKUPSHARE_TOKEN": None}
        )
        assert result.code == 0, result.err
    sent = [entry["headers"].get("X-Auth-Token") for entry in emulator.logged()]
    assert sent == [DEFAULT_TOKEN] * 5


@pytest.mark.parametrize(
    "token", ["emulator-t\u00f6k\u00e9n", "emulator\u202etoken", "\u0442\u043e\u043a\u0435\u043d"]
)
def test_a_non_ascii_token_is_refused(
    bs: Callable[..., CliResult], emulator: RunningEmulator, token: str
) -> None:
    result = bs(
        "list-shares", "--debug", env={**endpoint_env(emulator.url), "BACKUPSHARE_TOKEN": token}
    )
    assert result.code == 3, result.err
    assert result.err.startswith(
        "error: token (env BACKUPSHARE_TOKEN) contains non-ASCII characters; "
        "it cannot be sent in a header"
    ), result.err
    assert_never_shown(result, token)
    assert emulator.logged() == []


# -- no core dumps ---------------------------------------------------------------------------------
@pytest.mark.e2e
def test_the_running_cli_cannot_dump_core(emulator: RunningEmulator, tmp_path: Path) -> None:
    marker = tmp_path / "core-limit"
    config = write_config(
        tmp_path / "conf",
        f"profiles:\n  default:\n    endpoint: {emulator.url}\n    project_id: {OWN}\n"
        f"    auth:\n      method: token\n"
        f"      token_command: sh -c 'ulimit -c > {marker}; echo {DEFAULT_TOKEN}'\n",
    )
    # Core dumps allowed (unlimited) for the CLI's parent: the control shows the limit is inherited.
    shell = 'ulimit -c unlimited && exec "$0" "$@"'
    control = subprocess.run(
        ["sh", "-c", shell, "sh", "-c", "ulimit -c"],
        capture_output=True,
        text=True,
        timeout=GUARD,
        check=False,
    )
    assert control.stdout.strip() == "unlimited"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKUPSHARE_")}
    done = subprocess.run(
        ["sh", "-c", shell, str(BIN), "--config", str(config), "list-shares", "-o", "json"],
        capture_output=True, text=True, env=env, timeout=GUARD, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert marker.read_text().strip() == "0"


# -- what the attack did not verify ----------------------------------------------------------------
# (no access key: with one, the environment's AK/SK would take over from the profile's token)
CREDENTIAL_VALUES = {
    "BACKUPSHARE_PASSWORD": f"pw-{SECRET}",
    "BACKUPSHARE_SECRET_KEY": f"sk-{SECRET}",
    "BACKUPSHARE_SECURITY_TOKEN": f"st-{SECRET}",
    "HUAWEICLOUD_SDK_SK": f"sdk-{SECRET}",
}


def test_a_secret_command_does_not_inherit_our_credentials(
    bs: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    seen = tmp_path / "helper-env"
    helper = f"sh -c 'env > {seen}; echo {DEFAULT_TOKEN}'"
    path = write_config(
        tmp_path / "conf",
        f"profiles:\n  default:\n    endpoint: {emulator.url}\n    project_id: {OWN}\n"
        f'    auth:\n      method: token\n      token_command: "{helper}"\n',
    )
    env: dict[str, str | None] = {"BACKUPSHARE_CONFIG": str(path), "BACKUPSHARE_TOKEN": None}
    env |= {**CREDENTIAL_VALUES, "HELPER_NEEDS_THIS": "kept"}
    result = bs("list-shares", "-o", "json", env=env)
    assert result.code == 0, result.err
    inherited = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    assert inherited.get("HELPER_NEEDS_THIS") == "kept"  # the rest of the environment is there
    assert "PATH" in inherited and "HOME" in inherited
    assert sorted(set(inherited) & set(CREDENTIAL_VALUES)) == []
    assert SECRET not in seen.read_text()
