"""Config files others could change are refused and run nothing; YAML bombs, devices and FIFOs
as config; `config init` never writes through a planted symlink and writes 0600."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_TOKEN

from .helpers import BIN, GUARD, OWN, CliResult
from .hostile import private_dir, run_bin, write_config


# -- a config file others can change ---------------------------------------------------------------
def marker_profile(url: str, marker: Path) -> str:
    return (
        f"profiles:\n  default:\n    endpoint: {url}\n    project_id: {OWN}\n"
        f"    auth:\n      method: token\n"
        f"      token_command: sh -c 'touch {marker}; echo {DEFAULT_TOKEN}'\n"
    )


@pytest.mark.parametrize(
    "case", ["group-writable", "world-writable", "open-directory", "group-directory", "foreign"]
)
@pytest.mark.parametrize(
    "command", [("list-shares",), ("config", "show"), ("doctor", "-o", "json")]
)
def test_a_config_file_others_can_change_is_refused_and_runs_nothing(
    bs: Callable[..., CliResult],
    emulator: RunningEmulator,
    tmp_path: Path,
    case: str,
    command: tuple[str, ...],
) -> None:
    marker = tmp_path / "command-ran"
    folder = tmp_path / "conf"
    path = write_config(folder, marker_profile(emulator.url, marker))
    if case == "group-writable":
        path.chmod(0o620)
        message, fix = f"{path} is writable by group or others (mode 620)", f"chmod go-w {path}"
    elif case == "world-writable":
        path.chmod(0o602)
        message, fix = f"{path} is writable by group or others (mode 602)", f"chmod go-w {path}"
    elif case in ("open-directory", "group-directory"):
        folder.chmod(0o777 if case == "open-directory" else 0o770)
        message = f"{path} is in a directory writable by group or others ({folder})"
        fix = f"chmod go-w {folder}"
    else:
        os.chown(path, 65534, 65534)
        message, fix = f"{path} belongs to another user (uid 65534)", "use a config file you own"
    result = bs("--config", str(path), *command, env={"BACKUPSHARE_TOKEN": None})
    assert result.code == 3, result.err
    if command[0] == "doctor":
        [step] = json.loads(result.out)
        assert step["check"] == "config file" and step["status"] == "fail"
        assert message in step["detail"] and fix in step["fix"]
    else:
        assert result.err.startswith(f"error: {message}; refusing to use it"), result.err
        assert f"hint: {'run: ' if 'chmod' in fix else ''}{fix}" in result.err
    assert not marker.exists()  # its token_command never ran
    assert emulator.logged() == []


def test_a_sticky_shared_directory_is_accepted(
    bs: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The control: the same file in a /tmp-like (sticky) directory is used, command and all."""
    marker = tmp_path / "command-ran"
    folder = tmp_path / "sticky"
    path = write_config(folder, marker_profile(emulator.url, marker))
    folder.chmod(0o1777)
    result = bs("--config", str(path), "list-shares", env={"BACKUPSHARE_TOKEN": None})
    assert result.code == 0, result.err
    assert marker.exists()


# -- hostile config files --------------------------------------------------------------------------
def alias_bomb(key: str) -> str:
    lines = ["a: &a [" + ", ".join(['"lol"'] * 9) + "]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n" + key + "\n"


def merge_bomb() -> str:
    lines = ["a: &a {" + ", ".join(f"k{i}: {i}" for i in range(9)) + "}"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} {{<<: [" + ", ".join([f"*{previous}"] * 9) + "]}")
    return "\n".join(lines) + "\n"


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (alias_bomb("? *i\n: boom"), "keys must be strings"),
        (alias_bomb("? [*i, *i]\n: boom"), "keys must be strings"),
        (alias_bomb("? {x: *i}\n: boom"), "keys must be strings"),
        (alias_bomb("profiles:\n  p:\n    ? *i\n    : boom"), "keys must be strings"),
        (merge_bomb(), "unknown top-level key"),
    ],
    ids=["alias-key", "list-key", "mapping-key", "nested-key", "merge-keys"],
)
def test_a_yaml_bomb_is_a_config_error(tmp_path: Path, text: str, message: str) -> None:
    config = write_config(tmp_path / "conf", text)
    done = run_bin("--config", str(config), "list-shares")
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith(f"error: {config}") and message in done.stderr


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "fifo-env", "dev-urandom"])
def test_a_device_or_fifo_as_config_is_refused_without_hanging(tmp_path: Path, kind: str) -> None:
    if kind.startswith("fifo"):
        path = private_dir(tmp_path / "conf") / "config.yaml"
        os.mkfifo(path, 0o600)
    else:
        path = Path("/dev/zero" if kind == "dev-zero" else "/dev/urandom")
    if kind == "fifo-env":
        done = run_bin("list-shares", env={"BACKUPSHARE_CONFIG": str(path)})
    else:
        done = run_bin("--config", str(path), "list-shares")
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith(f"error: {path}: not a regular file"), done.stderr


# -- config init writes safely ---------------------------------------------------------------------
def init(bs: Callable[..., CliResult], path: Path, url: str) -> CliResult:
    return bs(
        "config", "init", "--config", str(path), "--endpoint", url, "--project-id", OWN,
        "--auth-method", "token", "--secret-env", "MY_TOKEN",
    )  # fmt: skip


@pytest.mark.parametrize("planted", [".config.yaml.tmp", "config.yaml.tmp", ".config.yaml.swp"])
def test_config_init_does_not_write_through_a_planted_symlink(
    bs: Callable[..., CliResult], tmp_path: Path, planted: str
) -> None:
    folder = private_dir(tmp_path / "conf")
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (folder / planted).symlink_to(victim)
    path = folder / "config.yaml"
    result = init(bs, path, "http://127.0.0.1:8776")
    assert result.code == 0, result.err
    assert victim.read_text() == "precious\n"
    assert (folder / planted).is_symlink() and (folder / planted).resolve() == victim.resolve()
    assert path.is_file() and not path.is_symlink()
    assert path.stat().st_mode & 0o777 == 0o600
    assert "token_env: MY_TOKEN" in path.read_text()


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_config_init_refuses_a_directory_others_can_write(
    bs: Callable[..., CliResult], tmp_path: Path, mode: int
) -> None:
    folder = private_dir(tmp_path / "conf")
    folder.chmod(mode)
    result = init(bs, folder / "config.yaml", "http://127.0.0.1:8776")
    assert result.code == 3, result.err
    assert result.err.startswith(
        f"error: {folder} is writable by group or others; refusing to write a config there"
    )
    assert f"hint: run: chmod go-w {folder}" in result.err
    assert list(folder.iterdir()) == []


@pytest.mark.e2e
def test_config_init_writes_0600_in_a_checked_directory_end_to_end(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """The installed command under `umask 000`: the new directories are 0700, the file 0600,
    and the CLI then accepts the file it wrote (its own permission check passes)."""
    path = tmp_path / "new" / "deeper" / "config.yaml"
    env = {**os.environ, "MY_TOKEN": DEFAULT_TOKEN, "BACKUPSHARE_TOKEN": ""}
    init = (
        f"umask 000; exec '{BIN}' config init --config '{path}' --endpoint {emulator.url} "
        f"--project-id {OWN} --auth-method token --secret-env MY_TOKEN"
    )
    done = subprocess.run(
        ["bash", "-c", init], capture_output=True, text=True, env=env, timeout=GUARD, check=False
    )
    assert done.returncode == 0, done.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert "token_env: MY_TOKEN" in path.read_text()
    listed = subprocess.run(
        [str(BIN), "--config", str(path), "list-shares", "-o", "json"],
        capture_output=True, text=True, env=env, timeout=GUARD, check=False,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
