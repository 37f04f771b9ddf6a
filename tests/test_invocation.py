"""Each run gets its own Invocation (Typer's ctx.obj), made at the process boundary: no state
survives between runs in one process, and a test can hand in its own (e.g. a sleep that does not
wait). Signals and file descriptors are main()'s alone."""

from __future__ import annotations

import io
import signal
from typing import Any

import pytest

from backupshare.cli import run
from backupshare.cli.invocation import Invocation
from backupshare.emulator import RunningEmulator

from .helpers import BACKUP, OWN, P1, fault


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


def test_an_output_taken_before_the_settings_follows_the_profiles_output(tmp_path: Any) -> None:
    from backupshare.config import Flags

    config = tmp_path / "config.yaml"
    config.write_text(
        "profiles:\n  default:\n    endpoint: http://127.0.0.1:9\n"
        f"    project_id: {OWN}\n    output: json\n"
        "    auth:\n      method: token\n      token_env: SOME_TOKEN\n"
    )
    config.chmod(0o600)
    inv = Invocation(flags=Flags(config=str(config)), env={"SOME_TOKEN": "t"})
    early = inv.out()
    assert early.format == "table"
    inv.settings()
    assert inv.out() is early and early.format == "json"  # one Output, never a stale one


def test_the_environment_is_read_once_by_the_invocation_and_handed_on_as_values() -> None:
    env = {"NO_COLOR": "1", "FORCE_COLOR": "1", "BACKUPSHARE_OUTPUT": "jsonl"}
    out = Invocation(env=env).out()
    assert (out.no_color, out.force_color, out.format) == (True, True, "jsonl")
    out = Invocation(env={}).out()
    assert (out.no_color, out.force_color, out.format) == (False, False, "table")


def test_prompts_read_the_invocations_stdin_and_write_its_stderr() -> None:
    stderr = io.StringIO()
    inv = Invocation(stdin=io.StringIO("yes\n\nname\n"), stderr=stderr)
    assert not inv.can_prompt()  # not a terminal: commands never ask
    assert inv.confirm("Proceed?") is True
    assert inv.ask("Region", "eu-de") == "eu-de"  # an empty answer takes the default
    assert inv.ask("Name") == "name"
    assert inv.confirm("Again?") is False  # end of input is no
    with pytest.raises(EOFError):
        inv.ask("More")
    assert stderr.getvalue() == "Proceed? [y/N] Region [eu-de]: Name: Again? [y/N] More: "
