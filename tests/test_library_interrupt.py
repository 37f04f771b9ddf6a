"""Ctrl-C while a batch runs (review of #20/#23): through the library, the rest is `skipped` and
Interrupted (exit 130's class) is raised carrying the whole report; through the CLI, the run exits
130 whatever the items say. The interrupt lands mid-batch by construction: the emulator holds the
first answers it receives until the signal has been taken, so exactly the requests already in
flight are answered and nothing else is sent."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backupshare import Interrupted
from backupshare.emulator.schema import VaultSeed
from backupshare.testing import TestEmulator, emulator
from backupshare.verbs.batch import Interrupt

from .helpers import in_process

OFFERS = 12
CONCURRENCY = 4  # answer_all's: at most this many requests are in flight when it is taken
V_ROOMY = "bbbbbbbb-0000-4000-8000-000000000001"


@pytest.fixture
def offers(isolated: Path) -> Iterator[TestEmulator]:
    """OFFERS backups offered to the partner, whose one vault has room for them all."""
    from backupshare.emulator.core import OTHER_PROJECT

    roomy = VaultSeed(V_ROOMY, OTHER_PROJECT, "roomy", size=1_000_000)
    with emulator(service="cbr", seed_backups=40, vaults=[roomy]) as running:
        backups = [b.id for b in running.client.backups(status="available") if not b.encrypted]
        created = 0
        for backup_id in backups:  # a seeded backup may be offered already (and answered)
            report = running.client.share(backup_id, [running.partner_project_id])
            created += report.results[0].result == "created"
            if created == OFFERS:
                break
        running.clear_requests()
        yield running


def interrupt_at_first(
    running: TestEmulator, monkeypatch: pytest.MonkeyPatch, change: str = "answer_member"
) -> None:
    """The first change (the emulator store's method of that name: an answer, a removal, an
    addition) sends this process a SIGINT; every such change is held until the batch's flag is
    up (a bound 100x anything expected, against a hang)."""
    taken = threading.Event()
    raise_flag = Interrupt.raise_

    def spied(self: Interrupt) -> None:
        raise_flag(self)
        taken.set()

    monkeypatch.setattr(Interrupt, "raise_", spied)
    store = running.running.emulator.store
    original = getattr(store, change)
    sent = threading.Lock()

    def held(*args: Any, **kwargs: Any) -> Any:
        if sent.acquire(blocking=False):
            os.kill(os.getpid(), signal.SIGINT)
        assert taken.wait(100), "the interrupt was never taken"
        return original(*args, **kwargs)

    monkeypatch.setattr(store, change, held)


def pending(running: TestEmulator) -> int:
    return len(list(running.partner.offers(status="pending")))


def assert_cut_short(running: TestEmulator, outcomes: list[str], done: str, before: int) -> None:
    """Every offer reported; those whose request was sent before the interrupt was taken (one
    to CONCURRENCY, however the workers were scheduled) answered, the rest skipped, unsent."""
    assert len(outcomes) == before >= OFFERS
    answered = outcomes.count(done)
    assert 1 <= answered <= CONCURRENCY
    assert outcomes.count("skipped") == before - answered
    assert len(running.requests("PUT")) == answered  # nothing sent after the interrupt
    assert pending(running) == before - answered


def test_a_library_ctrl_c_skips_the_rest_and_raises_interrupted_with_the_report(
    offers: TestEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = pending(offers)
    interrupt_at_first(offers, monkeypatch)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # as in a script
    try:
        offers.partner.accept_all_pending()
    except Interrupted as exc:
        error = exc
    except KeyboardInterrupt:  # pragma: no cover - the bug this test guards against
        pytest.fail("a bare KeyboardInterrupt, no report")
    else:  # pragma: no cover
        pytest.fail("nothing was raised")
    assert error.exit_code == 130
    report = error.report
    assert report is not None and report.interrupted
    outcomes = [r.result for r in report.results]
    assert_cut_short(offers, outcomes, "accepted", before)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back


def test_a_library_ctrl_c_during_cancel_raises_interrupted_too(
    offers: TestEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupt_at_first(offers, monkeypatch, "remove_member")
    shared = [o.backup_id for o in offers.partner.offers()]
    with pytest.raises(Interrupted) as raised:
        offers.client.cancel(backup_id=shared[0], to_projects=[offers.partner_project_id])
    assert raised.value.report is not None
    assert [r.result for r in raised.value.report.results] == ["canceled"]


@pytest.mark.parametrize("verb", ["accept", "reject"])
def test_a_cli_ctrl_c_during_all_pending_exits_130_with_the_whole_report(
    offers: TestEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    verb: str,
) -> None:
    before = pending(offers)
    interrupt_at_first(offers, monkeypatch)
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", offers.url)
    monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", offers.partner_project_id)
    monkeypatch.setenv("BACKUPSHARE_TOKEN", offers.partner_token)
    monkeypatch.setenv("BACKUPSHARE_SERVICE", "cbr")
    capsys.readouterr()
    confirmed = ["--yes"] if verb == "reject" else []
    code = in_process([verb, "--all-pending", *confirmed, "-o", "json"], [])
    out, err = capsys.readouterr()
    assert code == 130, err
    assert "error: interrupted" in err
    outcomes = [r["result"] for r in json.loads(out)["results"]]
    done = "accepted" if verb == "accept" else "rejected"
    assert_cut_short(offers, outcomes, done, before)


def test_a_script_s_own_sigint_handler_is_left_alone(
    offers: TestEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script that handles SIGINT itself keeps its handler: the library takes over only
    Python's default one, so the batch runs to its end and the script decides."""
    before = pending(offers)
    heard = threading.Event()
    store = offers.running.emulator.store
    answer_member = store.answer_member
    sent = threading.Lock()

    def held(*args: Any) -> Any:
        if sent.acquire(blocking=False):
            os.kill(os.getpid(), signal.SIGINT)
        assert heard.wait(100), "the script's handler never ran"
        return answer_member(*args)

    monkeypatch.setattr(store, "answer_member", held)
    own = signal.signal(signal.SIGINT, lambda signum, frame: heard.set())
    try:
        report = offers.partner.accept_all_pending()
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, own)
    assert [r.result for r in report.results] == ["accepted"] * before
    assert not report.interrupted and report.error() is None


def test_a_library_ctrl_c_during_apply_raises_interrupted_with_every_row_reported(
    offers: TestEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """apply's batch is the same latch: the backups not started are `skipped`, each row is in
    the report, and nothing is sent after the interrupt."""
    interrupt_at_first(offers, monkeypatch, "add_members")
    third = "0123456789abcdef0123456789abcdef"
    backups = sorted({o.backup_id for o in offers.partner.offers()})
    entries = "".join(f"  - backups: {{id: {b}}}\n    to: [{third}]\n" for b in backups)
    with pytest.raises(Interrupted) as raised:
        offers.client.apply(text=f"version: 1\nsharings:\n{entries}", concurrency=2)
    report = raised.value.report
    assert report is not None and report.interrupted
    outcomes = [r.result for r in report.results]
    assert len(outcomes) == len(backups)
    assert 1 <= outcomes.count("created") <= 2  # what was in flight when it was taken
    assert outcomes.count("skipped") == len(backups) - outcomes.count("created")
    assert len(offers.requests("POST")) == outcomes.count("created")


def test_the_library_s_apply_checks_its_callback_and_flags_before_sending(
    offers: TestEmulator,
) -> None:
    from backupshare.errors import UsageError

    backup = next(iter(o.backup_id for o in offers.partner.offers()))
    text = f"version: 1\nsharings:\n  - backups: {{id: {backup}}}\n    to: [{'0' * 32}]\n"
    offers.clear_requests()
    for wrong in ({"progress": 123}, {"raise_on_failure": "yes"}):
        with pytest.raises(UsageError):
            offers.client.apply(text=text, **wrong)  # type: ignore[arg-type]
    assert offers.requests() == []
