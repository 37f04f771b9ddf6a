"""The IAM token cache: an unsafe cache file or a directory others can write is never trusted;
`config forget-tokens` makes the next command log in again.
A password login's token is reused across processes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_USER

from .helpers import CliResult, backupshare
from .hostile import assert_never_shown, password_env, private_dir, run_bin


# -- cached tokens can be dropped ----------------------------------------------------------------
@pytest.mark.e2e
def test_forget_tokens_makes_the_next_command_log_in_again(
    emulator: RunningEmulator, isolated: Path
) -> None:
    from .helpers import backupshare

    password = {
        "BACKUPSHARE_TOKEN": "",
        "BACKUPSHARE_USERNAME": "emulator-user",
        "BACKUPSHARE_PASSWORD": "emulator-password",
        "BACKUPSHARE_DOMAIN": "acme",
        "BACKUPSHARE_IAM_ENDPOINT": emulator.url,
        "XDG_CACHE_HOME": str(isolated / "cache"),
    }
    logins = lambda: len(emulator.logged("POST", "/v3/auth/tokens"))  # noqa: E731
    assert backupshare(emulator, "list-shares", "--count", **password).returncode == 0
    assert backupshare(emulator, "list-shares", "--count", **password).returncode == 0
    assert logins() == 1  # the cached token served the second run
    forgot = backupshare(emulator, "config", "forget-tokens", **password)
    assert (forgot.returncode, forgot.stdout) == (0, "")
    assert forgot.stderr == f"removed 1 cached token from {isolated / 'cache' / 'backupshare'}\n"
    assert list((isolated / "cache" / "backupshare").iterdir()) == []
    assert backupshare(emulator, "list-shares", "--count", **password).returncode == 0
    assert logins() == 2


# -- the token cache -------------------------------------------------------------------------------
def cache_file(home: Path) -> Path:
    [path] = (home / ".cache" / "backupshare").glob("token-*.json")
    return path


def iam_logins(emulator: RunningEmulator) -> int:
    return len(emulator.logged("POST", "/v3/auth/tokens"))


def plant(case: str, path: Path, tmp_path: Path) -> None:
    if case == "world-writable":
        path.chmod(0o666)
    elif case == "group-readable":
        path.chmod(0o640)
    elif case == "foreign":
        os.chown(path, 65534, 65534)
    elif case == "symlink":
        elsewhere = private_dir(tmp_path / "elsewhere") / "token.json"
        path.rename(elsewhere)
        path.symlink_to(elsewhere)
    elif case == "fifo":
        path.unlink()
        os.mkfifo(path, 0o600)
    elif case == "200MB":
        with path.open("r+b") as handle:
            handle.truncate(200 * 1024 * 1024)  # sparse: the record, then zeros
    elif case == "oversized-valid":
        with path.open("ab") as handle:
            handle.write(b" " * (128 * 1024))  # still valid JSON if read whole
    elif case == "nested":
        path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    elif case == "nested-object":
        path.write_bytes(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)


@pytest.mark.e2e
@pytest.mark.parametrize(
    "case",
    [
        "world-writable",
        "group-readable",
        "foreign",
        "symlink",
        "fifo",
        "200MB",
        "oversized-valid",
        "nested",
        "nested-object",
    ],
)
def test_an_unsafe_token_cache_is_not_trusted(
    bs: Callable[..., CliResult],
    emulator: RunningEmulator,
    isolated: Path,
    tmp_path: Path,
    case: str,
) -> None:
    env = password_env(emulator.url, emulator.url)
    assert bs("list-shares", "-o", "json", env=env).code == 0
    assert iam_logins(emulator) == 1
    trusted = bs("list-shares", "-o", "json")  # the control: a sound cache is used
    assert trusted.code == 0 and iam_logins(emulator) == 1
    plant(case, cache_file(isolated), tmp_path)
    # The installed executable, so that a read that blocks (a FIFO) meets the hang guard.
    done = run_bin("list-shares", "-o", "json", "--debug")
    assert done.returncode == 0, done.stderr
    assert iam_logins(emulator) == 2  # a fresh login instead
    assert "Traceback" not in done.stderr
    assert_never_shown(done, DEFAULT_USER[1])
    path = cache_file(isolated)  # replaced by a sound one
    assert path.is_file() and not path.is_symlink()
    info = path.stat()
    assert info.st_uid == os.getuid() and info.st_mode & 0o777 == 0o600


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o770])
def test_a_cache_directory_others_can_write_is_not_used(
    bs: Callable[..., CliResult], emulator: RunningEmulator, isolated: Path, mode: int
) -> None:
    env = password_env(emulator.url, emulator.url)
    assert bs("list-shares", "-o", "json", env=env).code == 0
    path = cache_file(isolated)
    planted = path.read_bytes()
    path.parent.chmod(mode)
    for expected in (2, 3):  # neither read nor written
        result = bs("list-shares", "-o", "json")
        assert result.code == 0, result.err
        assert iam_logins(emulator) == expected
        assert path.read_bytes() == planted


@pytest.mark.e2e
def test_password_token_is_reused_across_processes(emulator: RunningEmulator) -> None:
    extra = {
        "BACKUPSHARE_TOKEN": "",
        "BACKUPSHARE_USERNAME": "emulator-user",
        "BACKUPSHARE_PASSWORD": "emulator-password",
        "BACKUPSHARE_DOMAIN": "acme",
        "BACKUPSHARE_IAM_ENDPOINT": emulator.url,
    }
    for _ in range(3):
        assert backupshare(emulator, "list-shares", "--count", **extra).stdout == "0\n"
    assert len(emulator.logged("POST", "/v3/auth/tokens")) == 1
