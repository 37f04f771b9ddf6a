"""The receiving side end to end (#23), two projects against the emulator over loopback: accept
into a vault that fits (--vault auto and --vault V, checked before the PUT), accept and reject
--all-pending, share --wait-accepted, and the lines a wait writes in a CI log. The emulator's
clock, the CLI's sleep and its monotonic clock are one timeline the test drives: nothing waits."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

import pytest

from backupshare.cli import run
from backupshare.cli.invocation import Invocation
from backupshare.emulator import BackupSeed, RunningEmulator
from backupshare.emulator.core import ProjectCredential
from backupshare.emulator.schema import AutoAnswer, VaultSeed
from backupshare.emulator.seeding import vaults_from_spec

from .helpers import BACKUP, BACKUP2, OWN, P1, P2
from .test_emulator_cbr import ok

PARTNER_TOKEN = "partner-token"  # P1, the receiving project
P2_TOKEN = "p2-token"  # P2, a second owner that offers P1 backups too
BACKUP3 = "5c2a1b7e-0d3f-4e8a-9b6c-7d8e9f0a1b2c"
BACKUP4 = "6d3b2c8f-1e4a-4f9b-8c7d-8e9f0a1b2c3d"
V_SMALL = "aaaaaaaa-0000-4000-8000-000000000001"
V_BIG = "aaaaaaaa-0000-4000-8000-000000000002"
V_SERVER = "aaaaaaaa-0000-4000-8000-000000000003"
V_NEAR = "aaaaaaaa-0000-4000-8000-000000000004"


@dataclass
class Timeline:
    """The emulator's clock, the CLI's sleep and clocks: waiting moves time, costs none."""

    now: datetime = field(default_factory=lambda: datetime(2026, 12, 3, 7, 40, tzinfo=timezone.utc))
    slept: list[float] = field(default_factory=list)

    def clock(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@dataclass
class Ran:
    code: int
    out: str
    err: str


def partner_vaults() -> list[VaultSeed]:
    """P1's vaults: 50 GB with 30 GB used (20 GB free), 200 GB empty, and a server vault."""
    return [
        VaultSeed(V_SMALL, P1, "small", size=50, used_mb=30 * 1024),
        VaultSeed(V_BIG, P1, "big", size=200),
        VaultSeed(V_SERVER, P1, "servers", object_type="server", size=5000),
    ]


def two_owners(**options: Any) -> dict[str, Any]:
    """OWN offers P1 a 40 GB backup and a 10 GB one; P2 offers it a 5 GB one."""
    return {
        "backups": [
            BackupSeed(BACKUP, OWN, "db", size=40),
            BackupSeed(BACKUP2, OWN, "web", size=10),
            BackupSeed(BACKUP3, P2, "p2-logs", size=5),
        ],
        "credentials": [
            ProjectCredential(P1, "token", PARTNER_TOKEN),
            ProjectCredential(P2, "token", P2_TOKEN),
        ],
        "vaults": partner_vaults(),
        **options,
    }


def offer(running: RunningEmulator, backup: str, owner: str = OWN) -> None:
    token = {OWN: "emulator-token", P2: P2_TOKEN}[owner]
    import requests

    url = f"{running.url}/v3/{owner}/backups/{backup}/members"
    answer = requests.post(url, headers={"X-Auth-Token": token}, json={"members": [P1]}, timeout=5)
    assert answer.status_code == 200, answer.text


@pytest.fixture
def cli_as(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Ran]:
    """The CLI in-process on CBR as a project (P1 by default), on a test-driven timeline."""

    def invoke(
        running: RunningEmulator,
        *argv: str,
        project: str = P1,
        service: str = "cbr",
        timeline: Timeline | None = None,
        stdin: str = "",
    ) -> Ran:
        token = {OWN: "emulator-token", P1: PARTNER_TOKEN, P2: P2_TOKEN}[project]
        monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
        monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", project)
        monkeypatch.setenv("BACKUPSHARE_TOKEN", token)
        monkeypatch.setenv("BACKUPSHARE_SERVICE", service)
        timeline = timeline or Timeline()
        capsys.readouterr()
        invocation = Invocation(
            sleep=timeline.sleep,
            clock=timeline.monotonic,
            now=timeline.clock,
            stdin=io.TextIOWrapper(io.BytesIO(stdin.encode())),
        )
        code = run(list(argv), invocation=invocation)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    return invoke


def puts(running: RunningEmulator) -> list[dict[str, Any]]:
    return running.emulator.logged("PUT")


def member(running: RunningEmulator, backup: str) -> dict[str, Any]:
    import requests

    url = f"{running.url}/v3/{P1}/backups/{backup}/members/{P1}"
    found: dict[str, Any] = ok(
        requests.get(url, headers={"X-Auth-Token": PARTNER_TOKEN}, timeout=5)
    )["member"]
    return found


# -- one offer: a vault that fits --------------------------------------------------------------
def test_vault_auto_takes_the_roomiest_vault_of_the_backups_type(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    offer(running, BACKUP)
    result = cli_as(running, "accept", BACKUP, "-o", "json")
    assert result.code == 0, result.err
    [record] = json.loads(result.out)["results"]
    assert (record["result"], record["status"]) == ("accepted", "accepted")
    assert record["vault_id"] == V_BIG  # not small, not server


def test_a_vault_too_small_is_refused_with_both_sizes_and_nothing_is_sent(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    offer(running, BACKUP)
    result = cli_as(running, "accept", BACKUP, "--vault", V_SMALL)
    assert (result.code, result.out) == (6, "")
    assert result.err.splitlines() == [
        f"error: vault {V_SMALL} (small) cannot take backup {BACKUP} (disk, 40 GB): "
        "20480 MB free (50 GB, 30720 MB used), needs 40960 MB",
        "hint: choose another vault with --vault, or let --vault auto choose",
    ]
    assert puts(running) == [] and member(running, BACKUP)["status"] == "pending"


def test_a_vault_of_the_wrong_type_is_refused_and_nothing_is_sent(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    offer(running, BACKUP)
    result = cli_as(running, "accept", BACKUP, "--vault", V_SERVER)
    assert result.code == 6
    assert result.err.splitlines()[0] == (
        f"error: vault {V_SERVER} (servers) cannot take backup {BACKUP} (disk, 40 GB): "
        "it takes server backups"
    )
    assert puts(running) == []


def test_no_vault_fits_names_each_vault_and_why(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    tight = [VaultSeed(V_SMALL, P1, "small", size=50, used_mb=30 * 1024),
             VaultSeed(V_SERVER, P1, "servers", object_type="server", size=5000)]  # fmt: skip
    running = make_emulator(**two_owners(vaults=tight))
    offer(running, BACKUP)
    result = cli_as(running, "accept", BACKUP)
    assert result.code == 6
    assert result.err.splitlines()[0] == (
        f"error: no vault of this project can take backup {BACKUP} (disk, 40 GB): "
        f"{V_SMALL} (small): 20480 MB free (50 GB, 30720 MB used), needs 40960 MB; "
        f"{V_SERVER} (servers): it takes server backups"
    )
    assert puts(running) == []


def test_every_page_of_vaults_is_read(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    """1000 full vaults fill the first page (the service's largest); the one with room is on
    the second."""
    full = vaults_from_spec(
        {"project": P1, "size": 1, "used": 1024, "count": 1000, "name": "f"}, OWN
    )
    roomy = VaultSeed(V_BIG, P1, "last", size=100)
    running = make_emulator(**two_owners(vaults=[*full, roomy]))
    offer(running, BACKUP2)
    result = cli_as(running, "accept", BACKUP2, "-o", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["results"][0]["vault_id"] == V_BIG
    offsets = [r["query"].get("offset") for r in running.emulator.logged("GET", "/vaults")]
    assert "1000" in offsets


# -- every pending offer -----------------------------------------------------------------------
def test_accept_all_pending_fills_vaults_as_it_plans(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    """Two 60 GB offers, vaults with 100 and 90 GB free: the first goes to the roomier one, and
    the second sees that only 40 GB is left there, so it goes to the other."""
    near = [VaultSeed(V_BIG, P1, "hundred", size=100), VaultSeed(V_NEAR, P1, "ninety", size=90)]
    backups = [BackupSeed(BACKUP, OWN, "a", size=60), BackupSeed(BACKUP2, OWN, "b", size=60)]
    running = make_emulator(**two_owners(vaults=near, backups=backups))
    offer(running, BACKUP)
    offer(running, BACKUP2)
    result = cli_as(running, "accept", "--all-pending", "-o", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["changed"] is True
    chosen = {r["backup_id"]: (r["result"], r["vault_id"], r["from_project_id"])
              for r in document["results"]}  # fmt: skip
    assert sorted(chosen.values()) == [("accepted", V_BIG, OWN), ("accepted", V_NEAR, OWN)]
    assert {member(running, b)["status"] for b in (BACKUP, BACKUP2)} == {"accepted"}
    again = cli_as(running, "accept", "--all-pending", "-o", "json")
    assert (again.code, json.loads(again.out)) == (0, {"changed": False, "results": []})


def test_accept_all_pending_from_one_project_and_by_name(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    offer(running, BACKUP2)
    offer(running, BACKUP3, owner=P2)
    result = cli_as(running, "accept", "--all-pending", "--from-project", P2, "-o", "json")
    assert result.code == 0, result.err
    assert [r["backup_id"] for r in json.loads(result.out)["results"]] == [BACKUP3]
    assert member(running, BACKUP2)["status"] == "pending"
    named = cli_as(running, "accept", "--all-pending", "--name", "nope", "-o", "json")
    assert json.loads(named.out)["results"] == []
    named = cli_as(running, "accept", "--all-pending", "--name", "web", "-o", "json")
    assert [r["backup_id"] for r in json.loads(named.out)["results"]] == [BACKUP2]


def test_one_offer_without_room_fails_the_rest_are_accepted_exit_7(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    backups = [BackupSeed(BACKUP, OWN, "huge", size=4000), BackupSeed(BACKUP2, OWN, "web")]
    running = make_emulator(**two_owners(backups=backups))
    offer(running, BACKUP)
    offer(running, BACKUP2)
    result = cli_as(running, "accept", "--all-pending", "-o", "json")
    assert result.code == 7, result.err
    results = {r["backup_id"]: r for r in json.loads(result.out)["results"]}
    assert results[BACKUP2]["result"] == "accepted"
    assert results[BACKUP]["result"] == "failed"
    assert results[BACKUP]["error"]["message"].startswith(
        f"no vault of this project can take backup {BACKUP} (disk, 4000 GB): "
    )
    assert [p["path"].split("/")[4] for p in puts(running)] == [BACKUP2]  # none for the huge one
    assert "error: 1 of 2 offers failed" in result.err


def test_dry_run_shows_the_choices_and_sends_nothing(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    offer(running, BACKUP)
    result = cli_as(running, "accept", "--all-pending", "--dry-run")
    assert result.code == 0, result.err
    [row] = result.out.splitlines()[1:]
    assert row.split()[:4] == ["would", "accept", "pending", P1]  # the member is pending yet
    assert V_BIG in row and OWN in row
    as_json = json.loads(cli_as(running, "accept", "--all-pending", "--dry-run", "-o", "json").out)
    assert as_json["dry_run"] is True and as_json["results"][0]["vault_id"] == V_BIG
    assert puts(running) == []


def test_reject_all_pending_from_a_project(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    offer(running, BACKUP2)
    offer(running, BACKUP3, owner=P2)
    result = cli_as(running, "reject", "--all-pending", "--from-project", OWN, "-o", "json")
    assert result.code == 0, result.err
    [record] = json.loads(result.out)["results"]
    assert (record["backup_id"], record["result"], record["status"]) == (
        BACKUP2, "rejected", "rejected"
    )  # fmt: skip
    assert member(running, BACKUP3)["status"] == "pending"


def test_reject_every_offer_needs_yes_off_a_terminal(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    running = make_emulator(**two_owners())
    offer(running, BACKUP2)
    running.emulator.clear_log()
    refused = cli_as(running, "reject", "--all-pending")
    assert refused.code == 2
    assert refused.err.splitlines()[0] == (
        "error: refusing to reject every pending offer, from any project, without --yes"
    )
    assert running.emulator.logged() == []
    done = cli_as(running, "reject", "--all-pending", "--yes", "-o", "json")
    assert done.code == 0 and json.loads(done.out)["results"][0]["result"] == "rejected"


def test_an_interrupt_leaves_a_whole_report() -> None:
    """Ctrl-C before the batch starts: every planned offer is reported, `skipped`."""
    from backupshare.verbs.batch import Interrupt
    from backupshare.verbs.receive import Offered, Planned, answer_all

    class Service:
        invocation_id = "test"

        class settings:
            project_id = P1

        def answer(self, *args: Any) -> Any:
            raise AssertionError("nothing is sent after an interrupt")

    stop = Interrupt()
    stop.raise_()
    plan = [Planned(Offered(b, OWN, "disk", None, 10), V_BIG) for b in (BACKUP, BACKUP2)]
    outcome = answer_all(Service(), plan, "accepted", stop=stop)  # type: ignore[arg-type]
    assert [(r.backup_id, r.result, r.from_project_id) for r in outcome.results] == [
        (BACKUP, "skipped", OWN),
        (BACKUP2, "skipped", OWN),
    ]


# -- bad input: usage errors naming the value, nothing sent -----------------------------------
@pytest.mark.parametrize(
    ("argv", "service", "first_line"),
    [
        (["accept", BACKUP, "--all-pending"], "cbr",
         f"error: give BACKUP_ID or --all-pending, not both ('{BACKUP}' with --all-pending)"),
        (["accept", BACKUP, "--vault", "auto"], "vbs",
         "error: VBS sharing needs no acceptance: a sharing is usable as soon as it is made"),
        (["accept", "--all-pending"], "vbs",
         "error: VBS sharing needs no acceptance: a sharing is usable as soon as it is made"),
        (["accept", "--all-pending", "--from-project", P1], "cbr",
         f"error: invalid --from-project {P1}: it is the profile's own project; offers to it "
         "come from other projects"),
        (["accept", "--all-pending", "--from-project", "nope"], "cbr",
         "error: invalid project id 'nope' (--from-project): expected 32 hex characters such as "
         "722513ed0a324dadaabe5b2d0fe848c9"),
        (["accept", "--from-project", OWN], "cbr", "error: --from-project needs --all-pending"),
        (["accept"], "cbr", "error: nothing to accept: give BACKUP_ID or --all-pending"),
        (["accept", BACKUP, "--vault", "biggest"], "cbr",
         "error: invalid vault id 'biggest': expected a UUID such as "
         "066b1e37-9305-4057-97e5-2e99b21fc71d"),
        (["share", BACKUP, P2, "--wait-accepted", "0"], "cbr",
         "error: invalid --wait-accepted 0: must be more than 0 and at most 86400 seconds"),
        (["share", BACKUP, P2, "--wait-accepted", "86401"], "cbr",
         "error: invalid --wait-accepted 86401: must be more than 0 and at most 86400 seconds"),
        (["share", BACKUP, P2, "--wait-accepted", "60"], "vbs",
         "error: --wait-accepted: VBS sharing needs no acceptance: a sharing is usable as soon "
         "as it is made"),
    ],
)  # fmt: skip
def test_bad_input_is_a_usage_error_and_nothing_is_sent(
    make_emulator: Callable[..., RunningEmulator],
    cli_as: Callable[..., Ran],
    argv: list[str],
    service: str,
    first_line: str,
) -> None:
    running = make_emulator(**two_owners())
    project = OWN if argv[0] == "share" else P1
    result = cli_as(running, *argv, project=project, service=service)
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines()[0] == first_line
    assert running.emulator.logged() == []


# -- the owner waits for the receiver --------------------------------------------------------------
def owner_waits(
    make_emulator: Callable[..., RunningEmulator],
    cli_as: Callable[..., Ran],
    answers: list[tuple[str | None, AutoAnswer]],
    *argv: str,
    backups: list[BackupSeed] | None = None,
) -> tuple[Ran, RunningEmulator, Timeline]:
    timeline = Timeline()
    options = two_owners(auto_answers=answers, clock=timeline.clock)
    if backups is not None:
        options["backups"] = backups
    running = make_emulator(**options)
    result = cli_as(running, "share", *argv, project=OWN, timeline=timeline)
    return result, running, timeline


def test_share_waits_until_the_receiver_accepts(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    result, _, timeline = owner_waits(
        make_emulator, cli_as, [(P1, AutoAnswer("accepted", 75))],
        BACKUP2, P1, "--wait-accepted", "600", "-o", "json",
    )  # fmt: skip
    assert result.code == 0, result.err
    [record] = json.loads(result.out)["results"]
    assert (record["result"], record["status"]) == ("created", "accepted")
    assert 75 <= sum(timeline.slept) <= 600 and len(timeline.slept) >= 3  # backoff, not a spin
    lines = result.err.splitlines()  # stderr is not a terminal here: the CI log's lines
    subject = f"waiting for project {P1} to accept backup {BACKUP2}"
    assert lines[0] == f"2026-12-03T07:40:00Z {subject}: pending, 0 s of 600 s"
    assert lines[-1].endswith(f"{subject}: accepted, {sum(timeline.slept):.0f} s of 600 s")
    assert_every_30_s(lines)  # the start, one about every 30 s, the end


def test_an_offer_rejected_while_the_owner_waits_is_exit_6_naming_it(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    result, _, _ = owner_waits(
        make_emulator, cli_as, [(P1, AutoAnswer("rejected", 20))],
        BACKUP2, P1, "--wait-accepted", "600", "-o", "json",
    )  # fmt: skip
    assert result.code == 6
    assert json.loads(result.out)["results"][0]["status"] == "rejected"
    assert f"error: backup {BACKUP2}: project {P1} rejected it (or left)" in result.err


def test_an_offer_never_answered_is_exit_8_naming_it_and_how_long(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    result, _, timeline = owner_waits(
        make_emulator, cli_as, [], BACKUP2, P1, "--wait-accepted", "120", "-o", "json"
    )
    assert result.code == 8
    assert json.loads(result.out)["results"][0]["status"] == "pending"
    assert (
        f"error: backup {BACKUP2}: project {P1} did not answer in 120 s (still pending)"
        in result.err
    )
    assert sum(timeline.slept) == pytest.approx(120)  # to the deadline, not past it
    log = [line for line in result.err.splitlines() if " waiting for project " in line]
    assert log[-1].endswith(": pending, 120 s of 120 s")  # also said when time runs out
    assert_every_30_s(log)


def assert_every_30_s(log: list[str]) -> None:
    """A line at the start, then one a poll at least 30 s after the last (polls are at most 30 s
    apart, so at most 60 s after), and the last at the end."""
    elapsed = [int(line.rsplit(", ", 1)[1].split(" s of ")[0]) for line in log]
    assert elapsed[0] == 0 and len(elapsed) >= 3
    gaps = [later - earlier for earlier, later in pairwise(elapsed[:-1])]
    assert all(30 <= gap <= 60 for gap in gaps), elapsed


def test_wait_then_wait_accepted_each_with_its_own_deadline(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    creating = BackupSeed(BACKUP, OWN, "db", size=10, available_after=50)
    result, _, timeline = owner_waits(
        make_emulator, cli_as, [(P1, AutoAnswer("accepted", 50))],
        BACKUP, P1, "--wait", "60", "--wait-accepted", "60", backups=[creating],
    )  # fmt: skip
    assert result.code == 0, result.err  # 100 s in all, more than either deadline alone
    assert sum(timeline.slept) >= 100
    lines = result.err.splitlines()
    assert lines[0] == f"2026-12-03T07:40:00Z waiting for backup {BACKUP}: protecting, 0 s of 60 s"
    assert any(f"waiting for backup {BACKUP}: available" in line for line in lines)
    assert lines[-1].split(" ", 1)[1].startswith(f"waiting for project {P1} to accept")


def test_quiet_silences_the_wait_lines(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    result, _, _ = owner_waits(
        make_emulator, cli_as, [(P1, AutoAnswer("accepted", 40))],
        BACKUP2, P1, "--wait-accepted", "600", "-q", "-o", "json",
    )  # fmt: skip
    assert (result.code, result.err) == (0, "")


def test_a_partly_failed_share_outranks_the_answers() -> None:
    """7 (the share itself partly failed) > 8 (time ran out) > 6 (rejected)."""
    from backupshare.errors import RejectedError, UnavailableError
    from backupshare.models import Result
    from backupshare.verbs.share import ShareOutcome, answer_error

    statuses = {P1: "pending", P2: "rejected"}
    answers = answer_error(statuses, 60, BACKUP)
    assert isinstance(answers, UnavailableError) and P1 in answers.message  # 8 over 6
    assert isinstance(answer_error({P2: "rejected"}, 60, BACKUP), RejectedError)
    failed = Result(BACKUP, P2, None, "failed", RejectedError("no"))
    created = Result(BACKUP, P1, None, "created", status="pending")
    partly = ShareOutcome([created, failed], answers=answers).error()
    assert partly is not None and partly.exit_code == 7
    assert ShareOutcome([created], answers=answers).error() is answers


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_wait_shows_a_line_when_the_status_changes() -> None:
    from backupshare.cli.waiting import WaitTalk
    from backupshare.output import Output
    from backupshare.verbs.wait import WaitTick

    stderr = Tty()
    talk = WaitTalk(Output(stderr=stderr), lambda: datetime(2026, 12, 3, tzinfo=timezone.utc))
    for elapsed, status in ((0, "protecting"), (40, "protecting"), (70, "available")):
        talk(WaitTick(f"backup {BACKUP}", status, elapsed, 600, ended=status == "available"))
    assert stderr.getvalue() == f"waiting for backup {BACKUP}: protecting\n"
    quiet = Tty()
    WaitTalk(Output(stderr=quiet, quiet=True), datetime.now)(WaitTick("b", "x", 0, 1))
    assert quiet.getvalue() == ""


def test_hostile_vault_text_is_bounded_in_the_reasons() -> None:
    from backupshare.errors import RejectedError
    from backupshare.models import Vault
    from backupshare.verbs.receive import Offered, Room

    vaults = [Vault(f"v{i}", "n" * 10_000, "x" * 10_000, 1.0, 0.0) for i in range(50)]
    with pytest.raises(RejectedError) as refused:
        Room(vaults).choose(Offered(BACKUP, OWN, "disk", None, 10))
    message = refused.value.message
    assert len(message) < 2_000 and message.endswith("; and 40 more vaults")


def test_a_throttled_poll_honours_retry_after(
    make_emulator: Callable[..., RunningEmulator], cli_as: Callable[..., Ran]
) -> None:
    """The first pause of the wait arms a 429 with Retry-After: 7 for the next poll; the wait
    sleeps those 7 s (the client's retry) and goes on to the answer."""
    from backupshare.emulator import Fault

    timeline = Timeline()
    running = make_emulator(
        **two_owners(auto_answers=[(P1, AutoAnswer("accepted", 20))], clock=timeline.clock)
    )
    plain_sleep = timeline.sleep

    def sleep(seconds: float) -> None:
        if not timeline.slept:
            running.emulator.add_fault(
                Fault("status", method="GET", path="/members", status=429, retry_after="7")
            )
        plain_sleep(seconds)

    timeline.sleep = sleep  # type: ignore[method-assign]
    result = cli_as(
        running, "share", BACKUP2, P1, "--wait-accepted", "600", "-o", "json",
        project=OWN, timeline=timeline,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert 7.0 in timeline.slept[1:]
    assert json.loads(result.out)["results"][0]["status"] == "accepted"
