"""Shared fixtures and hooks: an isolated environment for every test, a real emulator over loopback,
the CLI in-process, the hostile server; the run's settings: Hypothesis's profiles, the coverage
floor and what coverage traces. Helpers that are not fixtures are in helpers.py."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from backupshare.emulator import EmulatorConfig, RunningEmulator, start
from backupshare.emulator.server import DEFAULT_TOKEN

# Shared helpers live in helpers.py, which tests import (tests/test_fences.py: never from here).
from .helpers import (
    BACKUP,
    BACKUP2,
    OWN,
    P1,
    P2,
    P3,
    ROOT,
    CliResult,
    Emulated,
    in_process,
    token_settings,
)
from .hostile import Hostile, Respond

# Hypothesis: a property sets no count of its own; the profile gives it. `quick`, the default,
# keeps the local loop fast (200 examples); CI asks for `thorough` (HYPOTHESIS_PROFILE=thorough,
# .ci/run): 1,000, what every run gave before. No deadline: a loaded machine runs an example
# slowly, and that is not a failure. Both build on the profile Hypothesis chose itself (its `ci`
# one on CI, hence not that name).
settings.register_profile("quick", settings.default, max_examples=200, deadline=None)
settings.register_profile("thorough", settings.default, max_examples=1_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


# -- the coverage floor ----------------------------------------------------------------------------
# pyproject.toml's [tool.coverage.report] fail_under is the floor of the whole suite; a run that
# leaves part of it out (a file, -k, -m, ...) covers less by design and is not held to it (a floor
# given with --cov-fail-under on the command line always holds). pytest-cov copies the configured
# floor into the early options namespace it reads at the end (in the controller, under xdist);
# clearing it there keeps the report and drops only the check.
def pytest_configure(config: pytest.Config) -> None:
    if leaves_tests_out(config) and config.getoption("cov_fail_under", None) is None:
        config.known_args_namespace.cov_fail_under = None
    restore_ctrl_c()


def restore_ctrl_c() -> None:
    """A run started in the background by a shell without job control (`pytest &` in a script,
    some CI runners) has SIGINT ignored, and so would every child it starts: Python then installs
    no KeyboardInterrupt, and the tests that press Ctrl-C on a child would wait in vain. A handler
    of our own is reset to the default in a child, so Ctrl-C works there as at a terminal."""
    import signal

    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


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
    """The demo emulator (an `Emulated`: its log, store and faults at hand), stopped after."""
    with Emulated.of(start(EmulatorConfig())) as running:
        yield running


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., RunningEmulator]]:
    """Starts emulators with the given EmulatorConfig options (each an `Emulated`); all are
    stopped after the test."""
    started: list[RunningEmulator] = []

    def make(**options: Any) -> RunningEmulator:
        running = Emulated.of(start(EmulatorConfig(**options)))
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[Any]:
    from backupshare.vbs import Vbs

    api = Vbs.connect(token_settings(emulator.url), sleep=lambda s: None)
    yield api
    api.close()


@pytest.fixture
def backoff_waits() -> list[float]:
    """The backoff waits of the CLI run in-process, recorded instead of slept: the run's
    Invocation carries this sleep (cli/common.Invocation, the seam for it). Subprocess tests
    run the executable as users do, real waits included."""
    return []


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


# -- the security tests' hostile server (hostile.py) and the CLI run against it ------------------
@pytest.fixture
def hostile() -> Iterator[Callable[..., Hostile]]:
    """Starts hostile servers (hostile.py) answering as `respond` says; all closed after."""
    started: list[Hostile] = []

    def make(respond: Respond | None = None) -> Hostile:
        server = Hostile(respond)
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()


@pytest.fixture
def bs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], backoff_waits: list[float]
) -> Callable[..., CliResult]:
    """The CLI in-process; `env` entries are set (None: removed) for the rest of the test; its
    backoff waits are recorded in `backoff_waits`, not slept."""

    def invoke(*argv: str, env: dict[str, str | None] | None = None) -> CliResult:
        for name, value in (env or {}).items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = in_process(list(argv), backoff_waits)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def three(cli: Any) -> Any:
    """The CLI after three sharings were made through it: BACKUP to P1 and P2, BACKUP2 to P3."""
    assert cli("share", BACKUP, P1, P2).code == 0
    assert cli("share", BACKUP2, P3).code == 0
    return cli
