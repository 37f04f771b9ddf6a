"""The installed executable in subprocesses: README quick start, signals, pipes, terminals, doctor."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pexpect
import pytest
import requests

from backupshare.emulator import RunningEmulator

from .helpers import (
    BACKUP,
    BIN,
    GUARD,
    OWN,
    P1,
    P2,
    ROOT,
    close_exited,
    copy_checkout,
    env_for,
    readme_block,
    reaped,
    wait_for,
)

pytestmark = pytest.mark.e2e


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


def test_ci_runs_the_readmes_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_block("quickstart:test").strip() in ci


@pytest.mark.skipif(
    os.environ.get("BACKUPSHARE_SKIP_QUICKSTART") == "1", reason="asked to skip the slow check"
)
def test_readme_quick_start_from_a_fresh_copy(tmp_path: Path) -> None:
    clone = copy_checkout(tmp_path / "clone")
    clean_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BACKUPSHARE_", "VIRTUAL_ENV"))
    }
    done = subprocess.run(
        ["bash", "-c", readme_block("quickstart:demo")],
        cwd=clone, capture_output=True, text=True, env=clean_env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"^created\s+{P1}", done.stdout, re.M)
    assert re.search(rf"^\S+\s+{BACKUP}\s+db-nightly\s+{P1}", done.stdout, re.M)
    assert re.search(rf"^canceled\s+{P1}", done.stdout, re.M)
    found = re.search(r"^demo: a VBS emulator on (http://127\.0\.0\.1:\d+),", done.stdout, re.M)
    assert found, done.stdout
    assert_stopped(f"demo emulator on {found[1]}")


def test_readme_quick_start_is_one_line_ending_in_the_demo() -> None:
    block = readme_block("quickstart:demo").strip()
    assert block == (
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/backupshare demo"
    )


# The demo without its setup line, run with this checkout's venv: fast enough to check how it
# treats its emulator on every run, and an endpoint already in the environment (another
# emulator, or a real cloud) is what it must never fall back to.
def run_demo(cwd: Path, decoy: RunningEmulator, **extra: str) -> subprocess.CompletedProcess[str]:
    setup, sep, rest = readme_block("emulator:explore", "docs/emulator.md").partition(" && (\n")
    assert sep and setup.endswith("pip install -q -e .")
    (cwd / ".venv").symlink_to(BIN.parent.parent)
    (cwd / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    env.update(BACKUPSHARE_ENDPOINT=decoy.url, TMPDIR=str(cwd / "tmp"), **extra)
    return subprocess.run(
        ["bash", "-c", "(\n" + rest],
        cwd=cwd, capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def assert_stopped(demo_stdout: str) -> None:
    found = re.search(r"^demo emulator on (http://127\.0\.0\.1:\d+)$", demo_stdout, re.M)
    assert found, demo_stdout
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{found[1]}/_emulator/backups", timeout=5)


def test_readme_demo_uses_its_own_emulator_and_stops_it(
    tmp_path: Path, emulator: RunningEmulator
) -> None:
    done = run_demo(tmp_path, emulator)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"^created\s+{P1}", done.stdout, re.M)
    assert re.search(rf"^canceled\s+{P1}", done.stdout, re.M)
    assert emulator.logged() == []  # the endpoint it was given went untouched
    assert_stopped(done.stdout)
    assert list((tmp_path / "tmp").iterdir()) == []  # its ready file and log are gone


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("BACKUPSHARE_EMULATOR_HOST", "0.0.0.0", "error: refusing to listen on 0.0.0.0"),
        ("BACKUPSHARE_EMULATOR_DB", ".", "error: cannot start the emulator: "),
    ],
)
def test_readme_demo_stops_when_its_emulator_cannot_start(
    tmp_path: Path, emulator: RunningEmulator, variable: str, value: str, says: str
) -> None:
    done = run_demo(tmp_path, emulator, **{variable: value})
    assert (done.returncode, done.stdout) == (1, "")
    first, second, *_ = done.stderr.splitlines()
    assert first == "error: the demo's emulator did not start:"
    assert second.startswith(says)  # the emulator's own reason follows
    assert emulator.logged() == []  # nothing shared, listed or cancelled elsewhere
    assert list((tmp_path / "tmp").iterdir()) == []


def test_exact_outputs_and_codes(emulator: RunningEmulator) -> None:
    shared = backupshare(emulator, "share", BACKUP, P1, "-o", "json")
    assert shared.returncode == 0 and shared.stderr == ""
    share_id = json.loads(shared.stdout)["results"][0]["share_id"]
    listed = backupshare(emulator, "list-shares", "-o", "ids")
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, f"{share_id}\n", "")
    counted = backupshare(emulator, "list-shares", "--count", "-o", "json")
    assert counted.stdout == '{"count": 1}\n'
    missing = backupshare(emulator, "show", "00000000-0000-4000-8000-000000000000")
    assert missing.returncode == 5 and missing.stdout == ""
    assert re.fullmatch(
        r"error: sharing 00000000-0000-4000-8000-000000000000 not found "
        r"\(HTTP 404, VolumeBackup\.0205, request id [0-9a-f]{32}, client request id [-0-9a-f]{36}\)\n"
        r"hint: check the id and the profile's project\n",
        missing.stderr,
    )
    bad = backupshare(emulator, "share", "066b1e37-9305-4057-97e5", P1)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == (
        "error: invalid backup id '066b1e37-9305-4057-97e5': expected a UUID such as "
        "066b1e37-9305-4057-97e5-2e99b21fc71d\n"
    )
    unknown = backupshare(emulator, "share", "nope", P1)  # not an id: a name, and none has it
    assert (unknown.returncode, unknown.stdout) == (5, "")
    assert (
        unknown.stderr == "error: no backup named 'nope'\nhint: `backupshare backups` lists them\n"
    )
    canceled = subprocess.run(
        [str(BIN), "cancel", share_id, "-o", "csv"],
        capture_output=True, env=env_for(emulator), timeout=60, check=False,
    )  # fmt: skip
    # By id, the DELETE does not say whose sharing it was: those columns stay empty.
    assert canceled.stdout == (
        f"backup_id,to_project_id,share_id,result,error\r\n,,{share_id},canceled,\r\n".encode()
    )


def test_python_dash_m_works(emulator: RunningEmulator) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "backupshare", "list-shares", "--count"],
        capture_output=True, text=True, env=env_for(emulator), timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (0, "0\n")


@pytest.mark.parametrize(
    ("signals", "fmt"),
    [
        ([signal.SIGINT], "json"),
        ([signal.SIGTERM], "json"),
        ([signal.SIGINT, signal.SIGINT], "json"),
        ([signal.SIGINT], "jsonl"),
        ([signal.SIGINT, signal.SIGINT], "csv"),
    ],
)
def test_interrupt_mid_batch_reports_and_exits_130(
    make_emulator: Any, monkeypatch: pytest.MonkeyPatch, signals: list[int], fmt: str
) -> None:
    """Ctrl-C (once or twice) or SIGTERM mid-batch: the report is whole every time, items never
    attempted are `skipped`, and what it says was cancelled is what the service no longer has."""
    running = make_emulator()
    running.seed_shares(40)
    ids = [r["id"] for r in running.store.query(OWN, {})]
    # Mid-batch by construction, however fast or slow the machine: past the sixth DELETE, each is
    # held in the emulator until the signals have been sent.
    signalled = threading.Event()
    record = running.emulator.record

    def record_then_hold(entry: dict[str, Any]) -> None:
        record(entry)
        if entry["method"] == "DELETE" and len(running.logged("DELETE")) > 6:
            signalled.wait(GUARD)

    monkeypatch.setattr(running.emulator, "record", record_then_hold)
    process = subprocess.Popen(
        [str(BIN), "cancel", *ids, "--concurrency", "2", "-o", fmt],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(running),
    )  # fmt: skip
    with reaped(process):
        try:
            wait_for(lambda: len(running.logged("DELETE")) > 6)
            for signum in signals:
                process.send_signal(signum)
        finally:
            signalled.set()
        out, err = process.communicate(timeout=GUARD)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "error: interrupted" in err
    if fmt == "json":
        outcomes = [r["result"] for r in json.loads(out)["results"]]  # complete JSON
    elif fmt == "jsonl":
        outcomes = [json.loads(line)["result"] for line in out.splitlines()]  # whole lines
    else:
        rows = out.splitlines()
        assert rows[0] == "backup_id,to_project_id,share_id,result,error"
        outcomes = [row.split(",")[3] for row in rows[1:]]
    assert len(outcomes) == 40
    done = outcomes.count("canceled")
    assert 0 < done < 40
    assert outcomes.count("skipped") > 0
    assert set(outcomes) <= {"canceled", "skipped", "failed"}
    if len(signals) == 1:
        assert "failed" not in outcomes  # in-flight requests were waited for
    wait_for(lambda: not running.faults)  # (nothing pending in the emulator)
    remaining = running.store.count(OWN, {})
    unknown = outcomes.count("failed")  # abandoned in flight: either way is possible
    assert 40 - done - unknown <= remaining <= 40 - done  # the report tells the truth


@pytest.mark.parametrize("fmt", ["ids", "jsonl", "csv", "json", "yaml", "table"])
def test_a_reader_that_goes_away_is_141_quietly(emulator: RunningEmulator, fmt: str) -> None:
    """`… | head -1` under `set -o pipefail` (what CI shells run): exit 141, nothing on stderr."""
    emulator.seed_shares(3000)  # far more than a pipe buffer holds
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; '{BIN}' list-shares -o {fmt} 2>err.txt | head -1; "
         "echo \"exit=$?\"; cat err.txt"],
        capture_output=True, text=True, env=env_for(emulator), timeout=60, check=False,
        cwd=str(Path(os.environ["HOME"])),
    )  # fmt: skip
    first, status, *stderr = done.stdout.splitlines()
    assert first.strip()
    assert status == "exit=141", done.stdout
    assert stderr == []  # quiet, like `yes | head`


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


def test_terminal_gets_colour_and_a_table_pipe_gets_plain_text(emulator: RunningEmulator) -> None:
    emulator.store.share(OWN, BACKUP, [P1, P2])  # the state to show, not under test
    child = spawn(emulator, "list-shares")
    output = child.read()
    close_exited(child)
    assert "\x1b[" in output and "─" in output  # colour and the rich table's rule
    share_ids = [r["id"] for r in emulator.store.query(OWN, {})]
    assert all(share_id in output for share_id in share_ids)  # ids are never folded
    piped = backupshare(emulator, "list-shares")
    assert "\x1b[" not in piped.stdout and "─" not in piped.stdout
    no_color = spawn(emulator, "list-shares", NO_COLOR="1")
    plain = no_color.read()
    close_exited(no_color)
    colour = re.compile(r"\x1b\[[0-9;]*m")  # SGR: colours and styles
    assert not colour.search(plain) and "db-nightly" in plain  # NO_COLOR removes colour only


def test_cancel_asks_on_a_terminal(emulator: RunningEmulator) -> None:
    emulator.store.share(OWN, BACKUP, [P1, P2])  # the state to show, not under test
    child = spawn(emulator, "cancel", "--backup-id", BACKUP)
    child.expect("About to end 2 sharings:")
    child.expect(r"Proceed\? \[y/N\] ")
    child.sendline("n")
    child.expect("nothing was ended")
    child.expect(pexpect.EOF)
    close_exited(child)
    assert child.exitstatus == 0
    assert emulator.store.count(OWN, {}) == 2
    child = spawn(emulator, "cancel", "--backup-id", BACKUP)
    child.expect(r"Proceed\? \[y/N\] ")
    child.sendline("y")
    child.expect("canceled")
    child.expect(pexpect.EOF)
    close_exited(child)
    assert child.exitstatus == 0 and emulator.store.count(OWN, {}) == 0


def test_config_init_through_its_prompts(emulator: RunningEmulator, isolated: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(isolated / ".config"), "HOME": str(isolated)}
    child = spawn(emulator, "-p", "prod", "config", "init", **env)
    child.expect(r"Backup service \(vbs or cbr\) \[vbs\]: ")
    child.sendline("cbr")
    child.expect(r"Cloud \(otc or huaweicloud\) \[otc\]: ")
    child.sendline("")
    child.expect(r"Region \[eu-de\]: ")
    child.sendline("eu-nl")
    child.expect(r"Project id \(32 hex\): ")
    child.sendline(P1.upper())
    child.expect(r"Auth method \(token, password, aksk\) \[aksk\]: ")
    child.sendline("")
    child.expect(r"Access key \(AK\): ")
    child.sendline("AKTYPED")
    child.expect(r"Secret key \(hidden\): ")
    child.sendline("typed-secret-key")
    child.expect("wrote profile 'prod'")
    child.expect(pexpect.EOF)
    transcript = child.before or ""
    close_exited(child)
    assert child.exitstatus == 0
    assert "typed-secret-key" not in transcript  # never echoed
    path = isolated / ".config" / "backupshare" / "config.yaml"
    assert path.stat().st_mode & 0o777 == 0o600
    text = path.read_text()
    assert "region: eu-nl" in text and P1 in text and "secret_key: typed-secret-key" in text
    assert "service: cbr" in text


# -- doctor ----------------------------------------------------------------------------------------
def doctor(emulator: RunningEmulator, **extra: str) -> tuple[int, dict[str, dict[str, str]]]:
    done = backupshare(emulator, "doctor", "-o", "json", **extra)
    steps = {step["check"]: step for step in json.loads(done.stdout)}
    return done.returncode, steps


def test_doctor_against_a_running_emulator(emulator: RunningEmulator) -> None:
    code, steps = doctor(emulator)
    assert code == 0
    assert [s["status"] for s in steps.values()] == ["warn"] + ["ok"] * 7  # no config file
    assert steps["credentials"]["detail"] == "token accepted; 0 sharings"


def test_doctor_with_a_wrong_token(emulator: RunningEmulator) -> None:
    code, steps = doctor(emulator, BACKUPSHARE_TOKEN="wrong")
    assert code == 4 and steps["credentials"]["status"] == "fail"
    assert "APIG.0301" in steps["credentials"]["detail"]


def test_doctor_against_a_stopped_emulator(emulator: RunningEmulator, refused_port: int) -> None:
    code, steps = doctor(emulator, BACKUPSHARE_ENDPOINT=f"http://127.0.0.1:{refused_port}")
    assert code == 8 and steps["tcp"]["status"] == "fail"
    assert "is the service (or `backupshare emulator`) running?" in steps["tcp"]["fix"]


def test_doctor_sees_a_skewed_clock(make_emulator: Any) -> None:
    running = make_emulator(clock_skew_seconds=3600)
    code, steps = doctor(
        running,
        BACKUPSHARE_TOKEN="",
        BACKUPSHARE_ACCESS_KEY="EMULATORACCESSKEY000",
        BACKUPSHARE_SECRET_KEY="emulator-secret-key",
    )
    assert code == 4
    assert steps["credentials"]["status"] == "fail"
    assert steps["clock"]["status"] == "fail"
    assert re.search(r"(3599|3600|3601) s behind the server", steps["clock"]["detail"])
