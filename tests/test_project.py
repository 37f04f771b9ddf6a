"""The whole project at once, through the CLI against the emulator (two projects on CBR):
list-shares across the project (CBR's fan-out, VBS's list), the backup selectors on it,
cancel --to-project across the project, and the fan-out's one request budget."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pexpect
import pytest

from backupshare.cbr import Cbr
from backupshare.emulator import EmulatorConfig, RunningEmulator, start
from backupshare.emulator.store import BackupSeed
from backupshare.verbs.batch import Interrupt
from backupshare.verbs.fanout import FanOut
from backupshare.verbs.project import ProjectQuery, project_shares

from .helpers import OWN, P1, P2, P3, CliResult, Emulated, fault, token_settings

NOW = datetime.now(timezone.utc).replace(microsecond=0)
V1 = "11111111-1111-4111-8111-111111111111"
V2 = "22222222-2222-4222-8222-222222222222"
V3 = "33333333-3333-4333-8333-333333333333"
A = "aaaaaaaa-0000-4000-8000-000000000001"  # db-a, V1, 10 days old
B = "aaaaaaaa-0000-4000-8000-000000000002"  # db-b, V1, 2 days old
C = "aaaaaaaa-0000-4000-8000-000000000003"  # web-c, V2, an hour old
D = "aaaaaaaa-0000-4000-8000-000000000004"  # web-d, V2, 40 days old
E = "aaaaaaaa-0000-4000-8000-000000000005"  # a hostile name, V3, 3 days old
HOSTILE = 'evil"]; x -> y [label="\\\n\x1b[31m'
NEWEST_FIRST = [C, B, E, A, D]
SHARED = {A: [P1, P2], B: [P1], C: [P3], D: [P1], E: [P2]}


def seeds() -> list[BackupSeed]:
    made = [
        (A, "db-a", V1, timedelta(days=10)),
        (B, "db-b", V1, timedelta(days=2)),
        (C, "web-c", V2, timedelta(hours=1)),
        (D, "web-d", V2, timedelta(days=40)),
        (E, HOSTILE, V3, timedelta(days=3)),
    ]
    return [
        BackupSeed(id=i, project_id=OWN, name=name, volume_id=volume, created_at=NOW - age)
        for i, name, volume, age in made
    ]


@pytest.fixture
def emulator() -> Iterator[Emulated]:
    """The project's five backups (used by `cli`, which talks to this emulator)."""
    with start(EmulatorConfig(backups=seeds())) as running:
        yield Emulated.of(running)


@pytest.fixture(params=["vbs", "cbr"])
def service(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("BACKUPSHARE_SERVICE", request.param)
    return str(request.param)


@pytest.fixture
def shared(cli: Callable[..., CliResult], service: str, emulator: RunningEmulator) -> str:
    for backup, projects in SHARED.items():
        result = cli("share", backup, *projects)
        assert result.code == 0, result.err
    emulator.clear_log()
    return service


def pairs(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(r["backup_id"], r.get("to_project_id") or r["dest_project_id"]) for r in records]


def jsonl(result: CliResult) -> list[dict[str, Any]]:
    assert result.code == 0, result.err
    return [json.loads(line) for line in result.out.splitlines()]


def expected(backups: list[str], projects: set[str] | None = None) -> set[tuple[str, str]]:
    return {(b, p) for b in backups for p in SHARED[b] if projects is None or p in projects}


# -- list-shares across the project ----------------------------------------------------------------
def test_every_sharing_of_the_project_on_both_services(cli: Any, shared: str) -> None:
    records = jsonl(cli("list-shares", "-o", "jsonl"))
    assert set(pairs(records)) == expected(NEWEST_FIRST)
    assert len(records) == 6


def test_cbr_streams_each_backups_members_as_its_own_listing_prints_them(cli: Any) -> None:
    for backup, projects in SHARED.items():
        assert cli("--service", "cbr", "share", backup, *projects).code == 0
    across = jsonl(cli("--service", "cbr", "list-shares", "-o", "jsonl", "--concurrency", "3"))
    one_by_one = [
        record
        for backup in NEWEST_FIRST
        for record in jsonl(
            cli("--service", "cbr", "list-shares", "--backup-id", backup, "-o", "jsonl")
        )
    ]
    assert across == one_by_one  # the same records, in the backup listing's order
    assert [r["backup_id"] for r in across] == [b for b in NEWEST_FIRST for _ in SHARED[b]]


def test_cbr_costs_one_request_per_backup_and_debug_shows_them(
    cli: Any, emulator: RunningEmulator
) -> None:
    for backup, projects in SHARED.items():
        assert cli("--service", "cbr", "share", backup, *projects).code == 0
    emulator.clear_log()
    result = cli("--service", "cbr", "--debug", "list-shares", "--count")
    assert (result.code, result.out) == (0, "6\n")
    member_reads = emulator.logged("GET", "/members")
    assert sorted(r["path"].split("/")[4] for r in member_reads) == sorted(NEWEST_FIRST)
    assert result.err.count("/members") >= len(NEWEST_FIRST)  # each request, in --debug


def test_the_table_has_the_columns_of_one_backups_listing(cli: Any, shared: str) -> None:
    across = cli("list-shares")
    one = cli("list-shares", "--backup-id", A)
    assert across.code == one.code == 0

    def columns(text: str) -> list[str]:
        return re.split(r"\s{2,}", text.splitlines()[0].strip())

    assert columns(across.out) == columns(one.out)
    assert len(across.out.splitlines()) == 1 + 6


@pytest.mark.parametrize(
    ("argv", "backups", "projects"),
    [
        (["--to-project", P1], [A, B, D], {P1}),
        (["--volume-id", V1], [A, B], None),
        (["--volume-id", V1, "--volume-id", V2], [A, B, C, D], None),
        (["--name-prefix", "web-"], [C, D], None),
        (["--created-after", "5d"], [C, B, E], None),
        (["--created-before", "5d"], [A, D], None),
        (
            [
                "--created-after",
                (NOW - timedelta(days=11)).date().isoformat(),
                "--created-before",
                "1d",
            ],
            [B, E, A],
            None,
        ),
        (["--to-project", P2, "--volume-id", V1], [A], {P2}),
    ],
)
def test_selectors_and_to_project_narrow_it(
    cli: Any, shared: str, argv: list[str], backups: list[str], projects: set[str] | None
) -> None:
    records = jsonl(cli("list-shares", "-o", "jsonl", *argv))
    assert set(pairs(records)) == expected(backups, projects)
    counted = cli("list-shares", "--count", *argv)
    assert (counted.code, counted.out) == (0, f"{len(records)}\n")


def test_cbr_is_sent_the_backup_filters_it_has(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("--service", "cbr", "list-shares", "--volume-id", V1, "--created-after", "5d")
    assert result.code == 0, result.err
    listing = emulator.logged("GET", f"/v3/{OWN}/backups")[0]
    assert listing["query"]["resource_id"] == V1
    sent = datetime.fromisoformat(listing["query"]["start_time"].replace("Z", "+00:00"))
    assert abs(sent - (NOW - timedelta(days=5))) < timedelta(days=1)


def test_limit_counts_across_the_project(cli: Any, shared: str) -> None:
    assert len(jsonl(cli("list-shares", "-o", "jsonl", "--limit", "2"))) == 2


def test_a_selector_matching_nothing_is_an_empty_listing(cli: Any, shared: str) -> None:
    result = cli("list-shares", "--name-prefix", "nothing-like-it")
    assert (result.code, result.out, result.err) == (0, "", "no sharings\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list-shares", "--created-after", "someday"], "error: invalid --created-after 'someday'"),
        (["backups", "--created-before", "7x"], "error: invalid --created-before '7x'"),
        (
            [
                "cancel",
                "--to-project",
                P1,
                "--created-after",
                "1d",
                "--created-before",
                "2d",
                "--yes",
            ],
            "error: --created-after ",
        ),
        (["list-shares", "--volume-id", "nope"], "error: invalid volume id 'nope'"),
        (
            ["list-shares", "--backup-id", A, "--name-prefix", "db"],
            "error: --name-prefix: backup selectors narrow",
        ),
        (["list-shares", "--concurrency", "0"], "error: invalid --concurrency 0"),
        (["backups", "-o", "dot"], "error: -o dot draws the sharing graph"),
        (["list-shares", "--count", "-o", "dot"], "error: -o dot draws a graph; --count"),
        (
            ["cancel", "--to-project", P1, "--yes", "-o", "dot"],
            "error: -o dot draws the sharing graph",
        ),
        (
            ["list-shares", "--shared-with-me", "-o", "dot"],
            "error: -o dot draws the project's sharings",
        ),
        (
            ["cancel", "--backup-id", A, "--volume-id", V1, "--yes"],
            "error: backup selectors narrow a cancel",
        ),
    ],
)
def test_bad_selectors_are_usage_errors_naming_the_value_and_send_nothing(
    cli: Any, emulator: RunningEmulator, argv: list[str], message: str
) -> None:
    result = cli(*argv)
    assert (result.code, result.out) == (2, ""), result.err
    assert result.err.startswith(message), result.err
    assert emulator.logged() == []


def test_after_later_than_before_names_both(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("backups", "--created-after", "2026-12-02", "--created-before", "2026-12-01")
    assert result.code == 2
    assert result.err.splitlines() == [
        "error: --created-after 2026-12-02T00:00:00+00:00 is later than --created-before "
        "2026-12-01T00:00:00+00:00: no backup can match both"
    ]
    assert emulator.logged() == []


def test_vault_id_is_a_usage_error_on_vbs_and_a_filter_on_cbr(
    cli: Any, emulator: RunningEmulator
) -> None:
    vbs = cli("backups", "--vault-id", A)
    assert (vbs.code, vbs.err.splitlines()[0]) == (2, f"error: --vault-id '{A}': VBS has no vaults")
    assert emulator.logged() == []
    listed = jsonl(cli("--service", "cbr", "backups", "-o", "jsonl"))
    vault = listed[0]["vault_id"]
    in_vault = jsonl(cli("--service", "cbr", "backups", "--vault-id", vault, "-o", "jsonl"))
    assert {r["id"] for r in in_vault} == set(NEWEST_FIRST)
    assert emulator.logged("GET", "/backups")[-1]["query"]["vault_id"] == vault
    other = cli("--service", "cbr", "backups", "--vault-id", V3)
    assert (other.code, other.out) == (0, "")


def test_backups_take_every_selector(cli: Any, service: str) -> None:
    names = jsonl(cli("backups", "-o", "jsonl", "--name-prefix", "db-", "--created-after", "5d"))
    assert [r["id"] for r in names] == [B]
    by_volume = jsonl(cli("backups", "-o", "jsonl", "--volume-id", V2, "--volume-id", V3))
    assert [r["id"] for r in by_volume] == [C, E, D]


# -- cancel --to-project across the project --------------------------------------------------------
def cancel_results(result: CliResult) -> list[tuple[str, str, str]]:
    document = json.loads(result.out)
    return sorted((r["backup_id"], r["to_project_id"], r["result"]) for r in document["results"])


def test_cancel_to_project_ends_it_everywhere_and_nothing_else(cli: Any, shared: str) -> None:
    result = cli("cancel", "--to-project", P1, "--yes", "-o", "json")
    assert result.code == 0, result.err
    assert cancel_results(result) == sorted((b, P1, "canceled") for b in (A, B, D))
    assert json.loads(result.out)["changed"] is True
    left = jsonl(cli("list-shares", "-o", "jsonl"))
    assert set(pairs(left)) == expected(NEWEST_FIRST) - expected([A, B, D], {P1})
    again = cli("cancel", "--to-project", P1, "--yes", "-o", "json")
    assert again.code == 0
    assert json.loads(again.out) == {"changed": False, "results": []}
    assert "nothing to do" in again.err


def test_cancel_to_several_projects_with_selectors(cli: Any, shared: str) -> None:
    result = cli(
        "cancel", "--to-project", P1, "--to-project", P2, "--volume-id", V1, "--yes", "-o", "json"
    )
    assert result.code == 0, result.err
    assert cancel_results(result) == sorted(
        [(A, P1, "canceled"), (A, P2, "canceled"), (B, P1, "canceled")]
    )


def test_cancel_dry_run_lists_and_changes_nothing(
    cli: Any, shared: str, emulator: RunningEmulator
) -> None:
    result = cli("cancel", "--to-project", P1, "--dry-run", "-o", "jsonl")
    assert result.code == 0, result.err
    assert sorted((r["backup_id"], r["result"], r["dry_run"]) for r in jsonl(result)) == sorted(
        (b, "canceled", True) for b in (A, B, D)
    )
    assert emulator.logged("DELETE") == []


def test_cancel_across_the_project_needs_yes_off_a_terminal(
    cli: Any, shared: str, emulator: RunningEmulator
) -> None:
    result = cli("cancel", "--to-project", P1)
    assert result.code == 2
    assert result.err.startswith("error: refusing to end sharings across the project without --yes")
    assert emulator.logged() == []


def test_nothing_matched_is_nothing_to_do(cli: Any, shared: str) -> None:
    result = cli("cancel", "--to-project", P3, "--name-prefix", "db-", "--yes")
    assert (result.code, result.out) == (0, "")
    assert result.err == "nothing to do: no sharing with those projects matches the selectors\n"


def test_cancel_goes_on_past_a_failure_and_exits_7(
    cli: Any, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUPSHARE_SERVICE", "cbr")
    for backup, projects in SHARED.items():
        assert cli("share", backup, *projects).code == 0
    fault(emulator, method="DELETE", path=f"/backups/{B}/members/{P1}", status=500, count=10)
    result = cli("cancel", "--to-project", P1, "--yes", "-o", "json")
    assert result.code == 7, result.err
    assert cancel_results(result) == sorted(
        [(A, P1, "canceled"), (B, P1, "failed"), (D, P1, "canceled")]
    )
    assert "error: 1 of 3 cancellations failed" in result.err


# -- the fan-out ---------------------------------------------------------------------------------
def test_a_429_with_retry_after_pauses_every_worker(emulator: RunningEmulator) -> None:
    """With the sleeps held (not slept), every worker ends up waiting on the one pause before
    its next request: without a shared budget only the worker that met the 429 would."""
    concurrency = 4
    many = [
        BackupSeed(id=f"bbbbbbbb-0000-4000-8000-{n:012d}", project_id=OWN, name=f"b{n}")
        for n in range(20)
    ]
    for seed in many:
        emulator.store.add_backup(seed)
    released = threading.Event()
    sleepers: list[float] = []
    lock = threading.Lock()

    def held_sleep(seconds: float) -> None:
        with lock:
            sleepers.append(seconds)
        assert released.wait(100), "the pause was never released"

    fault(emulator, method="GET", path="/members", status=429, retry_after="2", count=1)
    api = Cbr.connect(token_settings(emulator.url, service="cbr"), sleep=held_sleep)
    asked = ProjectQuery(concurrency=concurrency)
    done: list[int] = []

    def listing() -> None:
        done.append(sum(len(page) for page in project_shares(api, asked)))

    runner = threading.Thread(target=listing)
    runner.start()
    try:
        for _ in range(10_000):  # a bound far above need; each step waits on the thread
            with lock:
                if len(sleepers) >= concurrency or not runner.is_alive():
                    break
            runner.join(0.01)
        with lock:
            assert len(sleepers) >= concurrency, sleepers
        sent_while_paused = len(emulator.logged("GET", "/members"))
        with lock:
            assert all(0 < s <= 2 for s in sleepers)
    finally:
        released.set()
        runner.join(100)
        api.close()
    assert done == [0]  # the listing finished: every backup's members read
    assert len(emulator.logged("GET", "/members")) > sent_while_paused


def test_the_fan_out_keeps_order_and_holds_a_bounded_window() -> None:
    pulled: list[int] = []

    def items() -> Iterator[int]:
        for n in range(1000):
            pulled.append(n)
            yield n

    fan = FanOut(items(), lambda n: n * 2, concurrency=4)
    results = iter(fan)
    assert next(results) == 0
    assert len(pulled) <= 2 * 4  # never more than the window ahead of the reader
    assert list(results) == [n * 2 for n in range(1, 1000)]


def test_the_fan_out_stops_starting_work_once_interrupted() -> None:
    stop = Interrupt()
    started: list[int] = []

    def work(n: int) -> int:
        started.append(n)
        if n == 0:
            stop.raise_()
        return n

    fan = FanOut(range(100), work, concurrency=1, stop=stop)
    got = list(fan)
    assert got[0] == 0 and len(got) <= 2 and fan.stopped
    assert len(started) <= 2


def test_an_error_in_the_fan_out_ends_it_with_that_error() -> None:
    def work(n: int) -> int:
        if n == 3:
            raise ValueError("three")
        return n

    with pytest.raises(ValueError, match="three"):
        list(FanOut(range(100), work, concurrency=2))


@pytest.mark.e2e
def test_cancel_across_the_project_shows_what_it_will_end_and_asks_on_a_terminal(
    emulator: RunningEmulator,
) -> None:
    from .helpers import close_exited, spawn

    for backup, projects in SHARED.items():
        emulator.store.share(OWN, backup, projects)  # the state to show, not under test
    child = spawn(emulator, "cancel", "--to-project", P1)
    child.expect("About to end 3 sharings:")
    child.expect(r"Proceed\? \[y/N\] ")
    shown = child.before
    assert all(f"backup {backup}" in shown for backup in (A, B, D)) and C not in shown
    child.sendline("n")
    child.expect("nothing was ended")
    child.expect(pexpect.EOF)
    close_exited(child)
    assert child.exitstatus == 0 and emulator.logged("DELETE") == []
    child = spawn(emulator, "cancel", "--to-project", P1)
    child.expect(r"Proceed\? \[y/N\] ")
    child.sendline("y")
    child.expect(pexpect.EOF)
    close_exited(child)
    assert child.exitstatus == 0
    assert len(emulator.logged("DELETE")) == 3
    assert emulator.store.count(OWN, {"to_project_id": P1}) == 0
