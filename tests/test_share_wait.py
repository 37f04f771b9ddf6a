"""share --wait: polls (with the test's clock) until the backup is available, names the last status
when time runs out, stops at once on an error status; Ctrl-C while waiting is 130."""

from __future__ import annotations

from typing import Any

import pytest

from backupshare.cli import run
from backupshare.cli.invocation import Invocation
from backupshare.emulator import BackupSeed, RunningEmulator

from .helpers import CREATING, P1, FakeTime, posts, seeded


def wait_run(
    make_emulator: Any, monkeypatch: pytest.MonkeyPatch, backup: BackupSeed, *argv: str
) -> tuple[int, RunningEmulator, FakeTime]:
    fake = FakeTime()
    running = make_emulator(backups=[backup], clock=fake.clock)
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
    monkeypatch.setattr("time.monotonic", lambda: fake.now.timestamp())
    code = run(["share", str(backup.id), P1, *argv], invocation=Invocation(sleep=fake.sleep))
    return code, running, fake


def test_wait_polls_until_available_then_shares(
    cli: Any,
    make_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, running, fake = wait_run(
        make_emulator, monkeypatch, seeded(1, available_after=45), "--wait", "120"
    )
    assert code == 0, capsys.readouterr().err
    assert 45 <= sum(fake.slept) <= 120 and len(fake.slept) >= 3  # backoff, not a busy loop
    pairs = zip(fake.slept, fake.slept[1:], strict=False)
    assert all(later >= earlier * 0.5 for earlier, later in pairs)
    assert len(posts(running)) == 1


def test_wait_that_runs_out_names_the_last_status(
    cli: Any,
    make_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, running, fake = wait_run(
        make_emulator, monkeypatch, seeded(1, available_after=600), "--wait", "30"
    )
    err = capsys.readouterr().err
    assert code == 8
    assert "error: backup 00000000-0000-4000-8000-000000000001 is still creating after 30 s" in err
    assert sum(fake.slept) <= 30.001 and posts(running) == []  # never past the deadline (µs clock)


def test_wait_stops_at_once_on_an_error_status(
    cli: Any,
    make_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, running, fake = wait_run(
        make_emulator, monkeypatch, seeded(1, status="error"), "--wait", "300"
    )
    assert code == 6 and fake.slept == []
    assert "is in status error: it will not become available" in capsys.readouterr().err
    assert posts(running) == []


@pytest.mark.e2e
def test_ctrl_c_while_waiting_is_130(emulator: RunningEmulator) -> None:
    import signal
    import subprocess

    from .helpers import BIN, GUARD, env_for, reaped, wait_for

    child = subprocess.Popen(
        [str(BIN), "share", CREATING, P1, "--wait", "600"],
        env=env_for(emulator), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with reaped(child):
        # It is polling (the backup is creating, and stays so: the emulator's clock is not
        # driven here), or it exited early, which the asserts below then show.
        wait_for(lambda: child.poll() is not None or emulator.logged("GET", f"/backups/{CREATING}"))
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=GUARD)
    assert (child.returncode, out) == (130, ""), err
    assert err.splitlines()[-2:] == [
        "error: interrupted",
        "hint: work in progress was stopped; re-run to finish",
    ]
    assert posts(emulator) == []
