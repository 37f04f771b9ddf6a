"""What tests share that is not a fixture: the emulator's demo ids and projects, where the
checkout and the installed executable are, golden-output normalising, README blocks, settings
and in-process CLI runs, and the guards that keep a test independent of the machine's speed.

Tests import these from here; conftest.py holds only fixtures and hooks (it re-exports these
names for tests written before this module existed)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pexpect
import pytest

from backupshare.auth import Secret
from backupshare.config import AuthSettings, Settings
from backupshare.emulator import BackupSeed, Fault, RunningEmulator
from backupshare.emulator.server import DEFAULT_PROJECT, DEFAULT_TOKEN

if TYPE_CHECKING:
    from backupshare.emulator.store import Store

BACKUP = "066b1e37-9305-4057-97e5-2e99b21fc71d"  # demo: available
BACKUP2 = "3a9e46f5-2b47-4c0e-9a1d-5f2f8c4e7b10"  # demo: available
CREATING = "8c2d1f40-6b3a-4e55-b7a0-1e9d2c3b4a50"  # demo: creating
ENCRYPTED = "f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b"  # demo: encrypted
PARTNER_BACKUP = "5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f"  # another project's, shared with us
OWN = DEFAULT_PROJECT
P1 = "722513ed0a324dadaabe5b2d0fe848c9"
P2 = "722513ed0a324dadaabe5b2d0fe84919"
P3 = "0123456789abcdef0123456789abcdef"
BIN = Path(sys.executable).parent / "backupshare"
ROOT = Path(__file__).resolve().parent.parent

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX32_RE = re.compile(r"\b[0-9a-f]{32}\b")
TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?")

# How long a test waits for something that happens at once on a quiet machine (a child process
# starting, a request arriving, a pty answering) before it calls it a hang: a guard against
# hanging for ever, never a timing assertion. A hundred times what such a step takes on a loaded
# 2-core CI box, so that no machine is slow enough to miss it.
GUARD = 120.0


# -- the emulator as tests see it -----------------------------------------------------------------
@dataclass
class Emulated(RunningEmulator):
    """A started emulator (what the `emulator` and `make_emulator` fixtures give): its request
    log, state and faults one step away, rather than behind `.emulator`."""

    @classmethod
    def of(cls, running: RunningEmulator) -> Emulated:
        return cls(running.emulator, running.server, running.thread)

    def logged(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """The requests received (admin calls excluded), optionally by method and path part."""
        return self.emulator.logged(method, path)

    def clear_log(self) -> None:
        self.emulator.clear_log()

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.emulator.requests

    @property
    def store(self) -> Store:
        return self.emulator.store

    @property
    def faults(self) -> list[Fault]:
        return self.emulator.faults

    def seed_shares(self, count: int, project_id: str | None = None) -> int:
        return self.emulator.seed_shares(count, project_id)

    def add_fault(self, fault: Fault) -> None:
        self.emulator.add_fault(fault)


def fault(running: RunningEmulator, kind: str = "status", **options: Any) -> None:
    running.emulator.add_fault(Fault(kind, **options))


# -- golden outputs, documents, the checkout --------------------------------------------------------
def normalize(text: str) -> str:
    """Ids and times replaced, so golden outputs compare exactly."""
    text = TIME_RE.sub("<time>", text)
    for known, name in ((BACKUP, "<backup>"), (BACKUP2, "<backup2>")):
        text = text.replace(known, name)
    return UUID_RE.sub("<uuid>", text)


def readme_block(marker: str, page: str = "README.md") -> str:
    """The fenced block after `<!-- marker -->` in the README (or another page)."""
    text = (ROOT / page).read_text()
    match = re.search(rf"<!-- {re.escape(marker)} -->\n```\w+\n(.*?)```", text, re.S)
    assert match, f"{page} has no {marker} block"
    return match.group(1)


def checkout_files() -> list[str]:
    """The files of this checkout (tracked, or new and not ignored), as a fresh clone has them.

    Coverage's data files are never among them: under xdist a worker that is done writes its
    .coverage.* beside the checkout while the others still run."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (an unpacked sdist, say)")
    return subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--exclude=.coverage.*"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip


def copy_checkout(destination: Path) -> Path:
    """A copy of checkout_files() in `destination`: what a fresh clone holds, and somewhere to
    build or install that is not the checkout (tests run side by side, and read it)."""
    for name in checkout_files():
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    return destination


# -- child processes: bounded by GUARD, always reaped ----------------------------------------------
def env_for(emulator: RunningEmulator, **extra: str) -> dict[str, str]:
    """The environment of an installed-CLI child talking to `emulator` with a token."""
    return {
        **os.environ,
        "BACKUPSHARE_ENDPOINT": emulator.url,
        "BACKUPSHARE_PROJECT_ID": OWN,
        "BACKUPSHARE_TOKEN": "emulator-token",
        **extra,
    }


@contextmanager
def reaped(child: subprocess.Popen[Any]) -> Iterator[subprocess.Popen[Any]]:
    """`child`, killed (if still running) and waited for however the block ends: a child left
    behind by a failed assertion would otherwise be reported, as a ResourceWarning, in whichever
    later test the garbage collector happens to run in."""
    with child:  # closes its pipes and waits for it
        try:
            yield child
        finally:
            if child.poll() is None:
                child.kill()


def terminated(child: subprocess.Popen[Any]) -> tuple[Any, Any]:
    """Sends `child` SIGTERM and returns what is left of its output once it has exited; killed
    and reaped all the same if it has not exited within GUARD (then TimeoutExpired is raised)."""
    child.terminate()
    try:
        return child.communicate(timeout=GUARD)
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise


def wait_for(condition: Callable[[], object], guard: float = GUARD) -> None:
    """Polls until `condition()` holds (a guard against hanging, not a timing assertion)."""
    give_up = time.monotonic() + guard
    while not condition():
        assert time.monotonic() < give_up, "the condition never held"
        time.sleep(0.02)


def backupshare(
    emulator: RunningEmulator, *argv: str, stdin: str | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env_for(emulator, **extra),
        timeout=60,
        check=False,
    )


# -- terminals -------------------------------------------------------------------------------------
def spawn(emulator: RunningEmulator, *argv: str, **extra: str) -> pexpect.spawn:
    env = env_for(emulator, COLUMNS="160", LINES="40", TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    env.update(extra)
    child = pexpect.spawn(str(BIN), list(argv), env=env, encoding="utf-8", timeout=GUARD,
                          dimensions=(40, 160))  # fmt: skip
    # pexpect waits 0.05 s before every send for programs that read before they are ready; these
    # tests always expect the prompt (written after a hidden one turns echo off) before answering.
    child.delaybeforesend = None
    return child


def close_exited(child: pexpect.spawn) -> None:
    """Closes a pty child that has reached EOF, once it has exited: without pexpect's fixed sleep.

    pexpect's close() sleeps 0.1 s "to give the kernel time" and then kills a child still alive.
    A child at EOF is on its way out, so this waits for its exit (bounded by the child's own
    timeout) and then closes with nothing left to wait for; exitstatus is the child's own.
    """
    give_up = time.monotonic() + child.timeout
    while child.isalive() and time.monotonic() < give_up:  # isalive() reaps an exited child
        time.sleep(0.001)
    child.ptyproc.delayafterclose = 0
    child.close()


# -- settings and in-process CLI runs --------------------------------------------------------------
def token_settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "profile": "test",
        "config_path": None,
        "endpoint": url,
        "project_id": OWN,
        "auth": AuthSettings("token", token=Secret(DEFAULT_TOKEN)),
        "retries": 3,
        "timeout": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def in_process(argv: list[str], waits: list[float], stdin: str | None = None) -> int:
    """Runs the CLI in this process; `stdin` (else an empty one) is the run's standard input,
    handed to its Invocation (the only door to the terminal) rather than patched into sys."""
    import io

    from backupshare.cli import run
    from backupshare.cli.invocation import Invocation

    stream = io.TextIOWrapper(io.BytesIO((stdin or "").encode()))
    return run(argv, invocation=Invocation(sleep=waits.append, stdin=stream))


# -- the state and outcomes several subjects' tests read; seeding backups; a test's clock -------
def share_ids(emulator: RunningEmulator) -> list[str]:
    return [r["id"] for r in emulator.store.query(OWN, {}, sort_dir="asc")]


def results(outcome: Any) -> list[tuple[str | None, str]]:
    return [(r.to_project_id, r.result) for r in outcome.results]


def sharings(emulator: RunningEmulator, backup: str = BACKUP) -> list[str]:
    records = emulator.store.query(OWN, {"backup_id": backup})
    return sorted(r["to_project_id"] for r in records)


VOLUME = "9d2f7f3e-5b5c-4f0e-8d8e-1c2b3a4d5e6f"  # the demo volume: db-nightly, and logs-hourly
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def seeded(n: int, **fields: Any) -> BackupSeed:
    values: dict[str, Any] = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "project_id": OWN,
        "name": f"backup-{n}",
        "volume_id": VOLUME,
        "created_at": NOW - timedelta(hours=n),
    }
    return BackupSeed(**(values | fields))


def posts(emulator: RunningEmulator) -> list[dict[str, Any]]:
    return emulator.logged("POST")


class FakeTime:
    """The emulator's clock and the CLI's sleep, one timeline: waiting costs no real time."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def shared_with_us(emulator: RunningEmulator) -> dict[str, Any]:
    [share] = emulator.store.query(OWN, {"backup_id": PARTNER_BACKUP}, to_me=True)
    return share
