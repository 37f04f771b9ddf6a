"""Each run gets its own Invocation (Typer's ctx.obj), made at the process boundary: no state
survives between runs in one process, and a test can hand in its own (e.g. a sleep that does not
wait). Signals and file descriptors are main()'s alone."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from backupshare.cli import run
from backupshare.cli.common import Invocation
from backupshare.emulator import RunningEmulator

from .conftest import BACKUP, P1, fault


def test_retries_wait_through_the_invocations_sleep(
    cli: Any, emulator: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    waits: list[float] = []
    fault(emulator, "status", method="GET", status=503, count=2)
    code = run(["list-shares", "--count"], invocation=Invocation(sleep=waits.append))
    assert (code, capsys.readouterr().out) == (0, "0\n")
    assert len(waits) == 2  # two backoffs, and no real waiting


def test_nothing_carries_over_between_runs(cli: Any) -> None:
    first = cli("-q", "--output", "json", "list-shares", "--count")
    second = cli("list-shares", "--count")
    assert (first.out, second.out) == ('{"count": 0}\n', "0\n")


def test_an_in_process_run_installs_no_signal_handler(cli: Any) -> None:
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    assert cli("share", BACKUP, P1).code == 0
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_the_invocation_reaches_the_command(cli: Any, capsys: pytest.CaptureFixture[str]) -> None:
    mine = Invocation()
    assert run(["--no-color", "-o", "ids", "list-shares"], invocation=mine) == 0
    assert mine.no_color and mine.flags.output == "ids" and mine.resolved is not None
