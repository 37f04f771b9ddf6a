"""How many requests share and cancel make (issue 26), counted in the emulator's request log,
and that reading optimistically stays correct against a server that caps its pages; and the
memory a long listing's duplicate guard keeps."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from backupshare.cbr import Cbr
from backupshare.emulator import RunningEmulator
from backupshare.errors import RejectedError
from backupshare.models import ListQuery
from backupshare.paging import offset_pages, packed_id
from backupshare.vbs import Vbs
from backupshare.verbs import cancel as cancel_verb
from backupshare.verbs import find
from backupshare.verbs import share as share_verb

from .helpers import BACKUP, CREATING, OWN, P1, P2, P3, token_settings

MEMBERS = f"/v3/{OWN}/backups/{BACKUP}/members"
MORE = [f"{n:032x}" for n in range(0xA0, 0xA8)]  # eight more valid project ids


def results(outcome: Any) -> list[tuple[str | None, str]]:
    return [(r.to_project_id, r.result) for r in outcome.results]


def listed(running: RunningEmulator) -> list[str]:
    """The offsets of the sharing list requests, in order."""
    return [e["query"].get("offset", "") for e in running.logged("GET", "/detail")]


def planted(running: RunningEmulator, *projects: str, members: bool = False) -> None:
    """Sharings (or CBR members) put in the store directly, so no request of ours is logged."""
    if members:
        running.store.add_members(OWN, BACKUP, list(projects))
    else:
        running.store.share(OWN, BACKUP, list(projects))


def hidden_behind_first_page(api: Any, running: RunningEmulator, *projects: str) -> str:
    """Which of `projects` a capped first page (of one record) does not show; the log cleared."""
    first = find.current_shares(api, BACKUP, optimistic=True)
    running.clear_log()
    [hidden] = [p for p in projects if p not in first]
    return hidden


def vbs(running: RunningEmulator) -> Vbs:
    return Vbs.connect(token_settings(running.url), sleep=lambda s: None)


def cbr(running: RunningEmulator) -> Cbr:
    return Cbr.connect(token_settings(running.url, service="cbr"), sleep=lambda s: None)


def cancel_to(api: Any, *projects: str) -> Any:
    request = cancel_verb.CancelRequest([], BACKUP, list(projects), by_id=False)
    return cancel_verb.cancel(api, cancel_verb.plan_cancel(api, request))


# -- share -----------------------------------------------------------------------------------------
def test_share_reads_one_page_when_it_is_short(emulator: RunningEmulator) -> None:
    planted(emulator, P1)
    outcome = share_verb.share(vbs(emulator), BACKUP, [P1, P2])
    assert results(outcome) == [(P1, "existing"), (P2, "created")]
    assert listed(emulator) == ["0"] and len(emulator.logged("POST")) == 1
    assert len(emulator.logged()) == 2  # one list, one POST: nothing else


def test_share_of_what_exists_is_one_request(emulator: RunningEmulator) -> None:
    planted(emulator, P1, P2)
    outcome = share_verb.share(vbs(emulator), BACKUP, [P2, P1])
    assert results(outcome) == [(P2, "existing"), (P1, "existing")]
    assert len(emulator.logged()) == 1


def test_a_dry_run_reads_to_the_end(emulator: RunningEmulator) -> None:
    planted(emulator, P1)
    outcome = share_verb.share(vbs(emulator), BACKUP, [P2], dry_run=True)
    assert results(outcome) == [(P2, "created")]
    assert listed(emulator) == ["0", "1"]  # it cannot learn from a refusal: no POST is sent


def test_a_sharing_a_capped_page_hid_is_settled_by_a_full_listing(
    make_emulator: Any,
) -> None:
    running = make_emulator(page_cap=1)
    planted(running, P1, P2)
    api = vbs(running)
    hidden = hidden_behind_first_page(api, running, P1, P2)  # the first page shows the other
    outcome = share_verb.share(api, BACKUP, [hidden, P3])
    assert results(outcome) == [(hidden, "existing"), (P3, "created")]
    assert listed(running) == ["0", "0", "1", "2"]  # optimistic, then the full listing
    posts = [e["body"] for e in running.logged("POST")]
    assert len(posts) == 2 and hidden in posts[0] and hidden not in posts[1] and P3 in posts[1]
    assert sorted(r["to_project_id"] for r in running.store.query(OWN, {})) == sorted([P1, P2, P3])


def test_a_limit_a_capped_page_hid_is_refused_with_the_true_count(make_emulator: Any) -> None:
    running = make_emulator(page_cap=3)
    planted(running, P1, P2, *MORE)  # ten: the backup is full
    with pytest.raises(RejectedError) as caught:
        share_verb.share(vbs(running), BACKUP, [P3])
    assert caught.value.exit_code == 6
    assert caught.value.message == (
        f"backup {BACKUP} is shared with 10 projects; 1 more would pass the limit of 10"
    )
    assert len(running.logged("POST")) == 1  # the service refused; nothing after it


def test_a_refusal_the_listing_does_not_explain_stands(emulator: RunningEmulator) -> None:
    api = vbs(emulator)
    with pytest.raises(RejectedError, match="only available backups") as caught:
        share_verb.share(api, CREATING, [P1])
    assert caught.value.exit_code == 6
    assert len(emulator.logged("POST")) == 1


def test_cbr_share_reads_one_page_when_it_is_short(emulator: RunningEmulator) -> None:
    planted(emulator, P1, members=True)
    outcome = share_verb.share(cbr(emulator), BACKUP, [P1, P2])
    assert results(outcome) == [(P1, "existing"), (P2, "created")]
    reads = [e for e in emulator.logged("GET") if e["path"] == MEMBERS]
    assert len(reads) == 1 and len(emulator.logged("POST")) == 1


@pytest.mark.parametrize("code", ["BackupService.6703", "BackupService.6714"])
def test_cbr_member_a_capped_page_hid_is_settled(make_emulator: Any, code: str) -> None:
    running = make_emulator(page_cap=1, cbr_duplicate_code=code)
    planted(running, P1, P2, members=True)
    api = cbr(running)
    hidden = hidden_behind_first_page(api, running, P1, P2)
    outcome = share_verb.share(api, BACKUP, [hidden, P3])
    assert results(outcome) == [(hidden, "existing"), (P3, "created")]
    posts = [e["body"] for e in running.logged("POST")]
    assert len(posts) == 2 and hidden not in posts[1] and P3 in posts[1]


# -- cancel ----------------------------------------------------------------------------------------
def test_cancel_to_a_project_stops_reading_once_found(emulator: RunningEmulator) -> None:
    planted(emulator, P1, P2)
    outcome = cancel_to(vbs(emulator), P2)
    assert results(outcome) == [(P2, "canceled")]
    assert listed(emulator) == ["0"] and len(emulator.logged("DELETE")) == 1


def test_cancel_reads_to_the_end_before_reporting_absent(make_emulator: Any) -> None:
    running = make_emulator(page_cap=1)
    planted(running, P1, P2)
    outcome = cancel_to(vbs(running), P3, P2)
    assert results(outcome) == [(P3, "absent"), (P2, "canceled")]
    assert listed(running) == ["0", "1", "2"]  # a short page does not prove P3 absent


def test_cancel_finds_a_project_behind_a_capped_page(make_emulator: Any) -> None:
    running = make_emulator(page_cap=2)
    planted(running, P1, P2, P3)
    api = vbs(running)
    first = find.current_shares(api, BACKUP, optimistic=True)
    running.clear_log()
    [hidden] = [p for p in (P1, P2, P3) if p not in first]
    outcome = cancel_to(api, hidden)
    assert results(outcome) == [(hidden, "canceled")]
    assert listed(running) == ["0", "2"]  # found on the second page: no third read


def test_cbr_cancel_to_a_member_stops_reading_once_found(emulator: RunningEmulator) -> None:
    planted(emulator, P1, P2, members=True)
    outcome = cancel_to(cbr(emulator), P1)
    assert results(outcome) == [(P1, "canceled")]
    reads = [e for e in emulator.logged("GET") if e["path"] == MEMBERS]
    assert len(reads) == 1


# -- the duplicate guard's memory -------------------------------------------------------------------
@dataclass
class Record:
    id: str | None


def an_id(number: int) -> str:
    """A canonical UUID with letters in it, made anew (as a parsed JSON answer makes it)."""
    return str(uuid.UUID(int=(0xABCDEF << 100) + number))


def listing_peak(make: Callable[[int], str], numbers: list[int]) -> tuple[int, int]:
    """Records listed and the peak memory traced while a listing streams the records
    `make(number)` in pages of 100 (each page dropped once yielded, as `-o jsonl` does)."""
    import tracemalloc

    def fetch(want: int, offset: int) -> list[Record]:
        return [Record(make(n)) for n in numbers[offset : offset + want]]

    tracemalloc.start()
    try:
        listed = sum(len(page) for page in offset_pages(fetch, count=None, keep=lambda r: True))
        return listed, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_duplicate_guard_keeps_uuids_packed() -> None:
    numbers = list(range(20_000))
    packed_listed, packed_peak = listing_peak(an_id, numbers)
    # upper case is not canonical: those ids are kept as the strings they are
    plain_listed, plain_peak = listing_peak(lambda n: an_id(n).upper(), numbers)
    assert packed_listed == plain_listed == 20_000
    assert packed_peak < 0.9 * plain_peak  # ≈ 44 bytes an id where its string takes 85


def test_packed_ids_are_distinct_and_never_a_string() -> None:
    one, two = an_id(1), an_id(2)
    assert packed_id(one) != packed_id(two) and isinstance(packed_id(one), int)
    assert packed_id(one) == uuid.UUID(one).int
    assert packed_id(one.upper()) == one.upper() and packed_id("1") == "1"
    assert packed_id(None) is None and packed_id(f" {one}") == f" {one}"
    assert packed_id("+" + one[1:]) == "+" + one[1:]  # int() would take what the pattern refuses


def test_a_record_repeated_on_a_later_page_is_listed_once() -> None:
    listed, _ = listing_peak(an_id, [*range(150), 7])
    assert listed == 150


def test_attempt_deadlines_share_one_watchdog_thread(emulator: RunningEmulator) -> None:
    import threading

    api = vbs(emulator)
    for _ in range(5):
        api.count(ListQuery())
    watchdogs = [t for t in threading.enumerate() if t.name == "backupshare-deadlines"]
    assert len(watchdogs) == 1  # not a timer thread started per request
    assert len(emulator.logged("GET", "/count")) == 5
