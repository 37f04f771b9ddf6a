"""cancel: by ids, a whole backup, a backup to projects (in the order given), dry runs, partial
failures (7) with per-item results, concurrency; a sharing made to us says who can end it.
Ctrl-C (once or twice) or SIGTERM mid-batch: the report is whole, exit 130."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from typing import Any

import pytest

from backupshare.cli import arguments as argv_checks
from backupshare.emulator import RunningEmulator
from backupshare.errors import PartialFailure
from backupshare.vbs import Vbs
from backupshare.verbs import cancel as cancel_verb
from backupshare.verbs import share as share_verb

from .helpers import (
    BACKUP,
    BACKUP2,
    BIN,
    GUARD,
    OWN,
    P1,
    P2,
    P3,
    env_for,
    fault,
    reaped,
    results,
    share_ids,
    shared_with_us,
    sharings,
    token_settings,
    wait_for,
)


# -- cancel through the CLI ------------------------------------------------------------------------
def test_cancel_by_ids_json(three: Any, emulator: RunningEmulator) -> None:
    first, *_ = share_ids(emulator)
    unknown = "00000000-0000-4000-8000-000000000000"
    result = three("cancel", first, unknown, "-o", "json")
    assert result.code == 0
    body = json.loads(result.out)
    assert body["changed"] is True
    assert [(r["share_id"], r["result"]) for r in body["results"]] == [
        (first, "canceled"),
        (unknown, "absent"),
    ]


def test_cancel_backup_with_yes_and_to_project(three: Any, emulator: RunningEmulator) -> None:
    partial = three("cancel", "--backup-id", BACKUP, "--to-project", P2, "--to-project", P3)
    assert partial.code == 0
    assert [line.split()[0] for line in partial.out.splitlines()[1:]] == [
        "canceled",
        "absent",
    ]  # P2, P3: as given
    whole = three("cancel", "--backup-id", BACKUP2, "--yes", "-o", "json")
    assert [r["result"] for r in json.loads(whole.out)["results"]] == ["canceled"]
    assert len(emulator.logged("DELETE")) == 2
    again = three("cancel", "--backup-id", BACKUP2, "--yes")
    assert again.code == 0 and again.err == "nothing to do\n"


def test_cancel_dry_run(three: Any, emulator: RunningEmulator) -> None:
    result = three("cancel", "--backup-id", BACKUP, "--dry-run")
    assert result.code == 0 and "dry run" in result.err
    assert result.out.count("would cancel") == 2
    planned = json.loads(three("cancel", "--backup-id", BACKUP, "--dry-run", "-o", "json").out)
    assert planned["dry_run"] is True
    assert [r["result"] for r in planned["results"]] == ["canceled", "canceled"]
    assert emulator.logged("DELETE") == []


def test_cancel_partial_failure_exit_7(three: Any, emulator: RunningEmulator) -> None:
    ids = share_ids(emulator)
    fault(emulator, status=409, method="DELETE", path=ids[0])
    result = three("--retries", "0", "cancel", *ids, "-o", "json")
    assert result.code == 7
    body = json.loads(result.out)
    assert [r["result"] for r in body["results"]] == ["failed", "canceled", "canceled"]
    assert body["results"][0]["error"]["status"] == 409
    assert result.err.startswith("error: 1 of 3 cancellations failed")


# -- the verb (verbs/cancel.py) against the emulator ----------------------------------------------
def test_cancel_by_ids_reports_absent(client: Vbs, emulator: RunningEmulator) -> None:
    created = share_verb.share(client, BACKUP, [P1, P2]).results
    unknown = "00000000-0000-4000-8000-000000000000"
    request = argv_checks.cancel_request([str(created[0].share_id), unknown], None, None, [])
    plan = cancel_verb.plan_cancel(client, request)
    outcome = cancel_verb.cancel(client, plan)
    assert [r.result for r in outcome.results] == ["canceled", "absent"]
    assert outcome.changed and outcome.error() is None
    assert sharings(emulator) == [P2]


def test_cancel_whole_backup_is_one_delete(client: Vbs, emulator: RunningEmulator) -> None:
    share_verb.share(client, BACKUP, [P1, P2])
    plan = cancel_verb.plan_cancel(client, argv_checks.cancel_request([], None, BACKUP, []))
    outcome = cancel_verb.cancel(client, plan)
    assert sorted(results(outcome)) == [(P1, "canceled"), (P2, "canceled")]
    deletes = emulator.logged("DELETE")
    assert len(deletes) == 1 and deletes[0]["query"] == {"is_backup_id": "true"}
    again = argv_checks.cancel_request([], None, BACKUP, [])
    assert cancel_verb.plan_cancel(client, again).empty  # nothing left: nothing to send


def test_cancel_backup_to_projects(client: Vbs, emulator: RunningEmulator) -> None:
    share_verb.share(client, BACKUP, [P1, P2])
    plan = cancel_verb.plan_cancel(client, argv_checks.cancel_request([], None, BACKUP, [P2, P3]))
    outcome = cancel_verb.cancel(client, plan)
    assert results(outcome) == [(P2, "canceled"), (P3, "absent")]  # in the order given
    assert sharings(emulator) == [P1]


def test_partial_failure_is_exit_7_with_per_item_results(emulator: RunningEmulator) -> None:
    api = Vbs.connect(token_settings(emulator.url, retries=0), sleep=lambda s: None)
    made = share_verb.share(api, BACKUP, [P1, P2, P3]).results
    ids = [str(r.share_id) for r in made]
    fault(emulator, status=403, method="DELETE", path=ids[1])
    plan = cancel_verb.plan_cancel(api, argv_checks.cancel_request(ids, None, None, []))
    outcome = cancel_verb.cancel(api, plan, concurrency=1)
    assert [r.result for r in outcome.results] == ["canceled", "failed", "canceled"]
    assert outcome.results[1].error is not None
    assert outcome.results[1].error.kind == "auth" and outcome.results[1].error.status == 403
    error = outcome.error()
    assert isinstance(error, PartialFailure) and error.exit_code == 7
    assert error.message == "1 of 3 cancellations failed"


def test_all_failed_takes_the_failures_exit_code(emulator: RunningEmulator) -> None:
    api = Vbs.connect(token_settings(emulator.url, retries=0), sleep=lambda s: None)
    ids = [str(r.share_id) for r in share_verb.share(api, BACKUP2, [P1, P2]).results]
    fault(emulator, status=503, method="DELETE", count=2)
    outcome = cancel_verb.cancel(
        api, cancel_verb.plan_cancel(api, argv_checks.cancel_request(ids, None, None, []))
    )
    error = outcome.error()
    assert error is not None and error.exit_code == 8
    assert error.message.startswith("every cancellation failed")


def test_many_cancels_run_concurrently(make_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    running = make_emulator()
    api = Vbs.connect(token_settings(running.url), pool_size=8)
    running.seed_shares(16)
    ids = [r["id"] for r in running.store.query(OWN, {})]
    plan = cancel_verb.plan_cancel(api, argv_checks.cancel_request(ids, None, None, []))
    # Each DELETE is held in the emulator until eight are there at once: sent one after another,
    # none would ever be answered (the barrier breaks after GUARD, and they fail). Concurrency
    # shown by what the emulator sees, not by how long it took.
    eight_at_once = threading.Barrier(8, timeout=GUARD)
    record = running.emulator.record

    def record_then_meet(entry: dict[str, Any]) -> None:
        record(entry)
        if entry["method"] == "DELETE":
            eight_at_once.wait()

    monkeypatch.setattr(running.emulator, "record", record_then_meet)
    outcome = cancel_verb.cancel(api, plan, concurrency=8)
    assert [r.result for r in outcome.results] == ["canceled"] * 16
    assert running.store.count(OWN, {}) == 0


# -- projects in the order given -------------------------------------------------------------------
def test_cancel_reports_projects_in_the_order_given(cli: Any, emulator: RunningEmulator) -> None:
    import json

    from .helpers import P3

    emulator.store.share(OWN, BACKUP, [P1, P3])  # the state to end, not under test
    for dry_run in (["--dry-run"], []):
        result = cli("cancel", "--backup-id", BACKUP, "--to-project", P3, "--to-project", P2,
                     "--to-project", P1, "-o", "json", *dry_run)  # fmt: skip
        assert result.code == 0, result.err
        shown = [(r["to_project_id"], r["result"]) for r in json.loads(result.out)["results"]]
        assert shown == [(P3, "canceled"), (P2, "absent"), (P1, "canceled")]


def test_cancelling_a_sharing_made_to_us_says_who_can_end_it(
    cli: Any, emulator: RunningEmulator
) -> None:
    share = shared_with_us(emulator)
    owner = share["from_project_id"]
    result = cli("cancel", share["id"])
    assert result.code == 4
    assert f"sharing {share['id']} was made to this project by project {owner}" in result.out
    assert result.err.splitlines() == [
        f"error: every cancellation failed: sharing {share['id']} was made to this project by "
        f"project {owner}; only that project can end it (client request id "
        + result.err.split("client request id ")[1].split(")")[0]
        + ")",
        f"hint: ask project {owner} to run: backupshare cancel {share['id']}",
    ]
    assert shared_with_us(emulator)["id"] == share["id"]  # still there


def test_a_sharing_that_does_not_exist_is_still_absent(cli: Any, emulator: RunningEmulator) -> None:
    result = cli("cancel", "00000000-0000-4000-8000-000000000000", "-o", "jsonl")
    assert (result.code, result.err) == (0, "")
    assert '"result": "absent"' in result.out


@pytest.mark.e2e
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
