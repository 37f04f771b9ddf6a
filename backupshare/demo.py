"""`backupshare demo`: the tour of the tool against a bundled emulator of its own.

It starts the emulator on a free loopback port (a thread of this process), writes a private
config file with two profiles (the owner and the partner project), then runs each command of the
tour as a child process, exactly as a user would type it, its real output on this terminal. The
emulator stops and the file goes, whatever happens (a failed step, Ctrl-C).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .errors import BackupshareError

# What the children must not inherit: the caller's own settings and credentials.
CALLER_SETTINGS = ("BACKUPSHARE_", "HUAWEICLOUD_SDK_")
# The demo's second target: any project id does (the emulator checks only the form).
THIRD_PROJECT = "0123456789abcdef0123456789abcdef"
DEMO_BACKUP_NAME = "db-nightly"


class DemoStepFailed(BackupshareError):
    """A step of the tour failed; its own error is above, its exit code is the demo's."""


def tour(service: str, backup_id: str, owner: str, partner: str) -> list[list[str]]:
    """The commands of the tour (without `backupshare`): find a backup, share it with two
    projects, list, (on CBR) accept as the receiving project, cancel."""
    steps = [
        ["backups"],
        ["share", DEMO_BACKUP_NAME, partner, THIRD_PROJECT],
    ]
    if service == "cbr":  # CBR lists a backup's members; the partner sees and accepts its offer
        steps += [
            ["list-shares", "--backup-id", backup_id],
            ["-p", "partner", "list-shares", "--shared-with-me"],
            ["-p", "partner", "accept", backup_id],
            ["list-shares", "--backup-id", backup_id],
        ]
    else:
        steps += [["list-shares"]]
    steps += [["cancel", "--backup-id", backup_id, "--yes"]]
    return steps


def config_text(url: str, service: str, owner: str, partner: str, tokens: tuple[str, str]) -> str:
    def profile(name: str, project: str, token: str) -> str:
        return (
            f"  {name}:\n    service: {service}\n    endpoint: {url}\n    project_id: {project}\n"
            f"    auth: {{method: token, token: {token}}}\n"
        )

    return (
        "default_profile: owner\nprofiles:\n"
        + profile("owner", owner, tokens[0])
        + profile("partner", partner, tokens[1])
    )


def child_environment(config: Path) -> dict[str, str]:
    """This process's environment without any backupshare or SDK setting (the demo never acts
    with the user's own credentials or endpoint), reading only the demo's config file."""
    env = {
        name: value for name, value in os.environ.items() if not name.startswith(CALLER_SETTINGS)
    }
    env["BACKUPSHARE_CONFIG"] = str(config)
    env["NO_PROXY"] = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    return env


@contextmanager
def demo_files() -> Iterator[Path]:
    """A private folder for the config file, removed however the demo ends."""
    with tempfile.TemporaryDirectory(prefix="backupshare-demo-") as folder:
        yield Path(folder)


def run(
    service: str,
    *,
    stdout: IO[str] | None = None,
    execute: Callable[..., subprocess.CompletedProcess[bytes]] = subprocess.run,
) -> None:
    """Runs the tour on `service` ("vbs" or "cbr"); raises DemoStepFailed at a failed step."""
    from .emulator import EmulatorConfig, start
    from .emulator.core import DEFAULT_PROJECT, DEFAULT_TOKEN, DEMO_BACKUPS, OTHER_PROJECT

    out = stdout or sys.stdout
    backup_id = next(seed.id for seed, _ in DEMO_BACKUPS if seed.name == DEMO_BACKUP_NAME)
    with demo_files() as folder, start(EmulatorConfig()) as running:
        config = folder / "config.yaml"
        text = config_text(
            running.url, service, DEFAULT_PROJECT, OTHER_PROJECT, (DEFAULT_TOKEN, "partner-token")
        )
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(
            f"demo: a {service.upper()} emulator on {running.url}, stopped when the demo ends; "
            f"profiles `owner` (project {DEFAULT_PROJECT}, the default) and `partner` "
            f"(project {OTHER_PROJECT}) in a temporary config file",
            file=out,
            flush=True,
        )
        env = child_environment(config)
        for argv in tour(service, backup_id, DEFAULT_PROJECT, OTHER_PROJECT):
            print(f"\n$ backupshare {shlex.join(argv)}", file=out, flush=True)
            done = execute([sys.executable, "-m", "backupshare", *argv], env=env, check=False)
            if done.returncode != 0:
                error = DemoStepFailed(
                    f"the demo stopped: `backupshare {shlex.join(argv)}` exited with "
                    f"{done.returncode}"
                )
                error.exit_code = done.returncode
                raise error
    print(f"\ndemo: done; its emulator on {running.url} is stopped", file=out, flush=True)
