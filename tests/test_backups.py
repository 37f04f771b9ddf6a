"""Finding the backup to share (issue 11): `backups`, a backup by exact name or a volume's most
recent, `--wait`, and dry runs that refuse what the real run refuses — over loopback HTTP."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from backupshare.cli import run
from backupshare.cli.invocation import Invocation
from backupshare.emulator import BackupSeed, RunningEmulator

from .helpers import BACKUP, CREATING, OWN, P1, P2, fault

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
    return emulator.emulator.logged("POST")


# -- backups ---------------------------------------------------------------------------------------
def test_backups_newest_first_in_every_format(cli: Any) -> None:
    listed = json.loads(cli("backups", "-o", "json").out)
    created = [b["created_at"] for b in listed]
    assert created == sorted(created, reverse=True) and len(listed) == 4
    ids = cli("backups", "-o", "ids").out.split()
    assert ids == [b["id"] for b in listed]
    jsonl = [json.loads(line) for line in cli("backups", "-o", "jsonl").out.splitlines()]
    assert jsonl == listed  # the service's own records
    csv = cli("backups", "-o", "csv").out.splitlines()
    assert csv[0] == "id,name,status,volume_id,size,created_at"
    assert csv[1].startswith(f"{CREATING},logs-hourly,creating,{VOLUME},5,")
    table = cli("backups").out.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "VOLUME", "SIZE", "CREATED", "(UTC)", "ID"]


def test_backups_filters_are_exact_and_rechecked(cli: Any, emulator: RunningEmulator) -> None:
    assert cli("backups", "--volume-id", VOLUME, "-o", "ids").out.split() == [CREATING, BACKUP]
    assert cli("backups", "--name", "db-nightly", "-o", "ids").out == f"{BACKUP}\n"
    assert cli("backups", "--name", "db-night", "-o", "ids").out == ""  # exact, not fuzzy
    assert cli("backups", "--status", "creating", "-o", "ids").out == f"{CREATING}\n"
    # a service that ignores the filter must not widen the answer
    everything = json.dumps({"backups": json.loads(cli("backups", "-o", "json").out)})
    fault(emulator, "raw", method="GET", path="/backups/detail", status=200, body=everything)
    assert cli("backups", "--volume-id", VOLUME, "-o", "ids").out.split() == [CREATING, BACKUP]


def test_backups_page_to_the_very_end_past_a_capped_page(
    make_emulator: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = make_emulator(backups=[seeded(n) for n in range(1, 26)], page_cap=7)
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
    ids = cli("backups", "--page-size", "10", "-o", "ids").out.split()
    assert len(ids) == 25 and len(set(ids)) == 25
    pages = running.emulator.logged("GET", "/backups/detail")
    assert len(pages) == 5  # 7 + 7 + 7 + 4, then the empty page that ends it
    assert cli("backups", "--limit", "9", "-o", "ids").out.split() == ids[:9]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--volume-id", "vol-1"], "invalid volume id 'vol-1': expected a UUID"),
        (["--name", ""], "an empty backup name"),
        (["--name", "db\x1b[31m"], "invalid backup name 'db\\x1b[31m': it holds control characters"),
        (["--status", "done"], "invalid --status 'done': choose one of available, creating"),
        (["--limit", "0"], "invalid --limit 0: must be at least 1"),
    ],
)  # fmt: skip
def test_backups_bad_input(
    cli: Any, emulator: RunningEmulator, argv: list[str], message: str
) -> None:
    result = cli("backups", *argv)
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines()[0].startswith(f"error: {message}")
    assert emulator.emulator.logged("GET", "/backups") == []


def test_backups_on_cbr(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKUPSHARE_SERVICE", "cbr")
    listed = json.loads(cli("backups", "--volume-id", VOLUME, "-o", "json").out)
    assert [(b["id"], b["status"]) for b in listed] == [
        (CREATING, "protecting"),
        (BACKUP, "available"),
    ]
    assert cli("backups", "--status", "creating").code == 2  # CBR calls it protecting


# -- share by name, or a volume's most recent ------------------------------------------------------
def test_share_by_exact_name(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("share", "db-nightly", P1, "-o", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["results"][0]["backup_id"] == BACKUP


def test_a_name_several_backups_have_lists_them_and_sends_nothing(
    make_emulator: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    twins = [seeded(1, name="nightly"), seeded(2, name="nightly", status="error")]
    running = make_emulator(backups=twins)
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
    result = cli("share", "nightly", P1)
    assert (result.code, result.out) == (2, "")
    first, hint = result.err.splitlines()
    assert first.startswith(
        "error: 2 backups are named 'nightly': 00000000-0000-4000-8000-000000000001 (available, created "
    )
    assert "00000000-0000-4000-8000-000000000002 (error, created " in first
    # times as the tables show them: `2026-12-03 08:14:47 UTC`, not the wire's ISO form
    assert re.search(r"\(available, created \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)", first), first
    assert hint == "hint: give the backup id, or --volume-id VOLUME_ID --most-recent"
    assert posts(running) == []


def test_a_name_no_backup_has_is_not_found(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("share", "no-such-backup", P1)
    assert result.code == 5 and result.err.startswith("error: no backup named 'no-such-backup'")
    assert posts(emulator) == []


def test_most_recent_takes_the_newest_available_of_the_volume(
    cli: Any, emulator: RunningEmulator
) -> None:
    # the volume's newest backup is still creating: the newest *available* one is db-nightly
    result = cli("share", "--volume-id", VOLUME, "--most-recent", P1, P2, "-o", "json")
    assert result.code == 0, result.err
    assert {r["backup_id"] for r in json.loads(result.out)["results"]} == {BACKUP}


def test_most_recent_never_trusts_the_services_order(
    make_emulator: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Oldest first, with another volume's newer backup mixed in: still the right one."""
    backups = [seeded(3), seeded(1), seeded(2), seeded(0, volume_id=BACKUP)]
    running = make_emulator(backups=backups)
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
    records = json.loads(cli("backups", "-o", "json").out)
    shuffled = sorted(records, key=lambda r: r["created_at"])  # oldest first
    fault(running, "raw", method="GET", path="/backups/detail", status=200,
          body=json.dumps({"backups": shuffled}))  # fmt: skip
    result = cli("share", "--volume-id", VOLUME, "--most-recent", P1, "-o", "json")
    assert json.loads(result.out)["results"][0]["backup_id"] == seeded(1).id


def test_a_volume_without_an_available_backup_is_not_found(
    cli: Any, emulator: RunningEmulator
) -> None:
    other = "11111111-2222-4333-8444-555555555555"
    result = cli("share", "--volume-id", other, "--most-recent", P1)
    assert result.code == 5 and f"volume {other} has no available backup" in result.err
    assert posts(emulator) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--most-recent", P1], "--most-recent needs --volume-id VOLUME_ID"),
        (["--volume-id", VOLUME, P1], "--volume-id needs --most-recent"),
        (["--volume-id", VOLUME, "--most-recent", BACKUP, P1], "give BACKUP or --volume-id --most-recent, not both"),
        (["--volume-id", VOLUME, "--most-recent", "db-nightly", P1], "give BACKUP or --volume-id --most-recent, not both ('db-nightly' is not a project id"),
        (["--volume-id", "vol", "--most-recent", P1], "invalid volume id 'vol'"),
        ([P1, P2], f"invalid backup id '{P1}': expected a UUID"),
        (["", P1], "an empty backup name"),
        (["db\x07", P1], "invalid backup name 'db\\x07': it holds control characters"),
        ([], "no backup to share: give its id or name, or --volume-id VOLUME_ID --most-recent"),
        ([BACKUP, P1, "--wait", "0"], "invalid --wait 0: must be more than 0 and at most 86400 seconds"),
        ([BACKUP, P1, "--wait", "-5"], "invalid --wait -5"),
        ([BACKUP, P1, "--wait", "nan"], "invalid --wait nan"),
    ],
)  # fmt: skip
def test_share_backup_choice_bad_input(
    cli: Any, emulator: RunningEmulator, argv: list[str], message: str
) -> None:
    result = cli("share", *argv)
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines()[0].startswith(f"error: {message}")
    assert emulator.emulator.logged() == []


def test_wait_that_is_not_a_number_is_a_usage_error(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("share", BACKUP, P1, "--wait", "soon")
    assert result.code == 2 and "'soon' is not a valid number" in result.err
    assert emulator.emulator.logged() == []


# -- --wait ----------------------------------------------------------------------------------------
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


# -- dry runs say no where the real run would -----------------------------------------------------
@pytest.mark.parametrize(
    ("backup", "code"),
    [("00000000-0000-4000-8000-000000000099", 5), (CREATING, 6)],
    ids=["missing", "creating"],
)
def test_dry_run_and_real_run_exit_alike(
    cli: Any, emulator: RunningEmulator, backup: str, code: int
) -> None:
    dry = cli("share", backup, P1, "--dry-run")
    real = cli("share", backup, P1)
    assert (dry.code, real.code) == (code, code)
    assert dry.out == "" and len(posts(emulator)) <= 1  # the dry run sent nothing


def test_dry_run_rows_all_say_so(cli: Any, emulator: RunningEmulator) -> None:
    for line in cli("share", BACKUP, P1, P2, "--dry-run", "-o", "jsonl").out.splitlines():
        assert json.loads(line)["dry_run"] is True
    csv = cli("share", BACKUP, P1, "--dry-run", "-o", "csv").out.splitlines()
    assert csv[0].endswith(",dry_run") and csv[1].endswith(",true")
    assert posts(emulator) == []


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


def test_too_many_targets_is_said_before_any_wait(cli: Any, emulator: RunningEmulator) -> None:
    targets = [f"{n:032x}" for n in range(1, 12)]
    result = cli("share", CREATING, *targets, "--wait", "600")
    assert result.code == 2 and "11 target projects" in result.err
    assert emulator.emulator.logged() == []  # no lookup, no wait


def test_a_malformed_backup_record_is_named_as_a_backup(
    cli: Any, emulator: RunningEmulator
) -> None:
    fault(emulator, "raw", method="GET", path="/backups/detail", status=200,
          body=json.dumps({"backups": [{"id": "nope"}]}))  # fmt: skip
    result = cli("backups")
    assert result.code == 8
    assert result.err.startswith("error: unexpected response: backup without a valid 'id'")


def test_most_recent_with_wait_waits_for_the_newest_being_made(
    cli: Any,
    make_emulator: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Last night's backup is still being made: with --wait it is the one shared, once ready;
    without --wait the newest available one (the night before) is."""
    fake = FakeTime()
    tonight = seeded(1, available_after=120, created_at=fake.now - timedelta(minutes=5))
    yesterday = seeded(2, created_at=fake.now - timedelta(days=1))
    running = make_emulator(backups=[tonight, yesterday], clock=fake.clock)
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
    monkeypatch.setattr("time.monotonic", lambda: fake.now.timestamp())
    argv = ["share", "--volume-id", VOLUME, "--most-recent", "-o", "json"]
    assert run([*argv, P1], invocation=Invocation(sleep=fake.sleep)) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["backup_id"] == yesterday.id
    code = run([*argv, P2, "--wait", "600"], invocation=Invocation(sleep=fake.sleep))
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["results"][0]["backup_id"] == tonight.id
    assert sum(fake.slept) >= 115  # it waited for tonight's to be made
