"""Shared fixtures: an isolated environment for every test and a real emulator over loopback;
the run's settings: Hypothesis's profile, the coverage floor and what coverage traces."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

from backupshare.auth import Secret
from backupshare.config import AuthSettings, Settings
from backupshare.emulator import EmulatorConfig, Fault, RunningEmulator, start
from backupshare.emulator.server import DEFAULT_PROJECT, DEFAULT_TOKEN

if TYPE_CHECKING:
    import pexpect

# Hypothesis: a property that sets no count of its own runs the profile's. `quick`, loaded here,
# gives it 1,000 examples on every run; `pytest --hypothesis-profile=thorough` gives 3,000 (what the
# costliest fuzzer, of the response bodies, ran every time before; the example tests pin the same
# parsers case by case). Both build on the profile Hypothesis chose itself (its `ci` one on CI,
# hence not that name). Properties that are cheap at their own count keep it.
settings.register_profile("quick", settings.default, max_examples=1_000)
settings.register_profile("thorough", settings.default, max_examples=3_000)
settings.load_profile("quick")

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


# -- the coverage floor ----------------------------------------------------------------------------
# pyproject.toml's [tool.coverage.report] fail_under is the floor of the whole suite; a run that
# leaves part of it out (a file, -k, -m, ...) covers less by design and is not held to it (a floor
# given with --cov-fail-under on the command line always holds). pytest-cov copies the configured
# floor into the early options namespace it reads at the end (in the controller, under xdist);
# clearing it there keeps the report and drops only the check.
def pytest_configure(config: pytest.Config) -> None:
    if leaves_tests_out(config) and config.getoption("cov_fail_under", None) is None:
        config.known_args_namespace.cov_fail_under = None


def leaves_tests_out(config: pytest.Config) -> bool:
    """Judged from the command line alone: under xdist the controller never collects."""
    suite = {ROOT, ROOT / "tests"}
    if any(Path(arg).resolve() not in suite for arg in config.args):
        return True
    option = config.option
    chosen = (option.keyword, option.markexpr, option.deselect, option.ignore, option.ignore_glob)
    return any(chosen) or config.getoption("lf", False) or config.getoption("stepwise", False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Hypothesis properties run without coverage's tracer: tracing thousands of generated
    examples (and Hypothesis itself) doubled their time, and the lines they reach are the example
    tests' too (the floor was measured this way)."""
    if not item.get_closest_marker("hypothesis"):
        return (yield)
    from coverage import Coverage

    measuring = Coverage.current()
    if measuring is None:  # --no-cov
        return (yield)
    measuring.stop()
    try:
        return (yield)
    finally:
        measuring.start()


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


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temp HOME/XDG dirs, no real credentials, fixed width, no colour, a fresh CLI state."""
    for name in list(os.environ):
        if name.startswith(("BACKUPSHARE_", "HUAWEICLOUD_SDK_")) or name in (
            "NO_COLOR",
            "FORCE_COLOR",
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ):
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return home


@pytest.fixture(scope="session")
def refused_port() -> Iterator[int]:
    """A loopback port that refuses every connection, for the whole run: a socket bound to it and
    never listening holds it, so no other program can take it (as one could take a fixed port)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    with start(EmulatorConfig()) as running:
        yield running


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., RunningEmulator]]:
    started: list[RunningEmulator] = []

    def make(**options: Any) -> RunningEmulator:
        running = start(EmulatorConfig(**options))
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


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


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[Any]:
    from backupshare.vbs import Vbs

    api = Vbs.connect(token_settings(emulator.url), sleep=lambda s: None)
    yield api
    api.close()


def fault(running: RunningEmulator, kind: str = "status", **options: Any) -> None:
    running.emulator.add_fault(Fault(kind, **options))


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def backoff_waits() -> list[float]:
    """The backoff waits of the CLI run in-process, recorded instead of slept: the run's
    Invocation carries this sleep (cli/common.Invocation, the seam for it). Subprocess tests
    run the executable as users do, real waits included."""
    return []


def in_process(argv: list[str], waits: list[float], stdin: str | None = None) -> int:
    """Runs the CLI in this process; `stdin` (else an empty one) is the run's standard input,
    handed to its Invocation (the only door to the terminal) rather than patched into sys."""
    import io

    from backupshare.cli import run
    from backupshare.cli.invocation import Invocation

    stream = io.TextIOWrapper(io.BytesIO((stdin or "").encode()))
    return run(argv, invocation=Invocation(sleep=waits.append, stdin=stream))


@pytest.fixture
def cli(
    emulator: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    backoff_waits: list[float],
) -> Callable[..., CliResult]:
    """Runs the CLI in-process against the emulator with env credentials (no config file), its
    backoff waits recorded in `backoff_waits` instead of slept."""

    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", emulator.url)
    monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", OWN)
    monkeypatch.setenv("BACKUPSHARE_TOKEN", DEFAULT_TOKEN)

    def invoke(*argv: str, stdin: str | None = None) -> CliResult:
        capsys.readouterr()
        code = in_process(list(argv), backoff_waits, stdin)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke
