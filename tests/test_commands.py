"""The verbs (verbs/) and their argument checks (cli/arguments.py) against the emulator: convergence, ambiguous POSTs, cancel forms, batches."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backupshare.cli import arguments as argv_checks
from backupshare.emulator import RunningEmulator
from backupshare.errors import PartialFailure, UnavailableError, UsageError
from backupshare.models import ListQuery
from backupshare.vbs import Vbs
from backupshare.verbs import cancel as cancel_verb
from backupshare.verbs import find
from backupshare.verbs import share as share_verb

from .helpers import BACKUP, BACKUP2, CREATING, OWN, P1, P2, P3, fault, token_settings


def results(outcome: Any) -> list[tuple[str | None, str]]:
    return [(r.to_project_id, r.result) for r in outcome.results]


def sharings(emulator: RunningEmulator, backup: str = BACKUP) -> list[str]:
    records = emulator.emulator.store.query(OWN, {"backup_id": backup})
    return sorted(r["to_project_id"] for r in records)


# -- ids and target lists --------------------------------------------------------------------------
def test_targets_are_validated_normalised_and_deduplicated() -> None:
    file_ids = [(P3.upper(), " (line 2 of f)"), (P1, " (line 3 of f)")]
    assert argv_checks.share_targets([P1, P2.upper(), P1], file_ids) == [P1, P2, P3]


@pytest.mark.parametrize(
    ("arguments", "file_ids", "message"),
    [
        ([], [], "no target projects"),
        (["xyz"], [], "invalid project id 'xyz': expected 32 hex"),
        ([P1 + "0"], [], "invalid project id"),
        ([], [("nothex" * 5, " (line 4 of t.txt)")], "'nothexnothexnothexnothexnothex' (line 4 of t.txt)"),
    ],
)  # fmt: skip
def test_bad_targets_are_usage_errors(
    arguments: list[str], file_ids: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(UsageError) as caught:
        argv_checks.share_targets(arguments, file_ids)
    assert message in caught.value.message and caught.value.exit_code == 2


def test_own_project_is_refused() -> None:
    with pytest.raises(UsageError, match=f"project {OWN} is the profile's own project"):
        share_verb.refuse_own_project([P1, OWN], OWN)
    share_verb.refuse_own_project([P1], OWN)


def test_projects_file_comments_blanks_and_stdin(tmp_path: Any) -> None:
    path = tmp_path / "t.txt"
    path.write_text(f"# targets\n\n{P1}  # prod\n  {P2}\n")
    assert argv_checks.read_ids_file(str(path)) == [
        (P1, f" (line 3 of {path})"),
        (P2, f" (line 4 of {path})"),
    ]
    stdin = io.BytesIO(f"{P3}\n".encode())
    assert argv_checks.read_ids_file("-", stdin) == [(P3, " (line 1 of standard input)")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01binary", "binary data"),
        (b"\xff\xfe\xff", "not UTF-8 text"),
        (b"a" * (1024 * 1024 + 1), "larger than 1 MiB"),
    ],
)
def test_bad_projects_files(tmp_path: Any, content: bytes, message: str) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=message):
        argv_checks.read_ids_file(str(path))


def test_missing_and_directory_projects_files(tmp_path: Any) -> None:
    with pytest.raises(UsageError, match="no such file"):
        argv_checks.read_ids_file(str(tmp_path / "none"))
    with pytest.raises(UsageError, match="is a directory"):
        argv_checks.read_ids_file(str(tmp_path))


@given(st.text(max_size=40))
def test_id_parsing_never_crashes(value: str) -> None:
    parsers = (lambda v: argv_checks.uuid_arg(v, "backup id"), argv_checks.project_id_arg)
    for parse in parsers:
        try:
            parsed = parse(value)
        except UsageError:
            continue
        assert parsed == parsed.lower() and parsed.strip() == parsed


# -- share -----------------------------------------------------------------------------------------
def test_share_converges(client: Vbs, emulator: RunningEmulator) -> None:
    first = share_verb.share(client, BACKUP, [P1, P2])
    assert results(first) == [(P1, "created"), (P2, "created")] and first.changed
    assert all(r.share_id for r in first.results)
    second = share_verb.share(client, BACKUP, [P1, P2, P3])
    assert results(second) == [(P1, "existing"), (P2, "existing"), (P3, "created")]
    posts = emulator.emulator.logged("POST")
    assert len(posts) == 2 and '"to_project_ids": ["' + P3 + '"]' in posts[1]["body"]
    third = share_verb.share(client, BACKUP, [P3])
    assert results(third) == [(P3, "existing")] and not third.changed
    assert len(emulator.emulator.logged("POST")) == 2  # nothing sent when all exist


def test_dry_run_changes_nothing(client: Vbs, emulator: RunningEmulator) -> None:
    share_verb.share(client, BACKUP, [P1])
    plan = share_verb.share(client, BACKUP, [P1, P2], dry_run=True)
    assert results(plan) == [(P1, "existing"), (P2, "created")]  # the plan, in result words
    body = {"shared": {"backup_id": BACKUP, "to_project_ids": [P2]}}
    assert plan.request == f"POST …/os-vendor-backup-sharing {json.dumps(body)}"
    assert sharings(emulator) == [P1] and len(emulator.emulator.logged("POST")) == 1


@pytest.mark.parametrize(
    "fault_spec",
    [
        {"kind": "commit_then_502"},
        {"kind": "delay", "seconds": 1.0},
        {"kind": "truncated"},
    ],
)
def test_ambiguous_post_never_duplicates(
    emulator: RunningEmulator, fault_spec: dict[str, Any]
) -> None:
    api = Vbs.connect(token_settings(emulator.url, timeout=0.4), sleep=lambda s: None)
    fault(emulator, method="POST", **fault_spec)
    outcome = share_verb.share(api, BACKUP, [P1, P2])
    assert results(outcome) == [(P1, "created"), (P2, "created")]
    assert all(r.share_id for r in outcome.results)
    assert sharings(emulator) == [P1, P2]
    assert len(emulator.emulator.logged("POST")) == 1  # learned by listing, not by re-posting


def test_uncommitted_post_is_retried_for_missing_targets_only(emulator: RunningEmulator) -> None:
    sleeps: list[float] = []
    api = Vbs.connect(token_settings(emulator.url), sleep=sleeps.append, jitter=lambda: 1.0)
    fault(emulator, status=503, method="POST")
    outcome = share_verb.share(api, BACKUP, [P1, P2])
    assert results(outcome) == [(P1, "created"), (P2, "created")]
    assert len(emulator.emulator.logged("POST")) == 2 and sleeps == [0.5]  # the client's backoff


def test_post_that_never_succeeds_reports_failed(emulator: RunningEmulator) -> None:
    api = Vbs.connect(token_settings(emulator.url, retries=1), sleep=lambda s: None)
    fault(emulator, status=503, method="POST", count=5)
    outcome = share_verb.share(api, BACKUP, [P1])
    assert results(outcome) == [(P1, "failed")]
    error = outcome.error()
    assert isinstance(error, UnavailableError) and error.exit_code == 8
    assert outcome.results[0].error is not None and outcome.results[0].error.status == 503


def test_share_rejections_raise(client: Vbs) -> None:
    from backupshare.errors import NotFoundError, RejectedError

    with pytest.raises(RejectedError, match="only available backups"):
        share_verb.share(client, CREATING, [P1])
    with pytest.raises(NotFoundError):
        share_verb.share(client, "00000000-0000-4000-8000-000000000000", [P1])


# -- cancel ----------------------------------------------------------------------------------------
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
    deletes = emulator.emulator.logged("DELETE")
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


def test_many_cancels_run_concurrently(make_emulator: Any) -> None:
    import time

    running = make_emulator(latency_ms=100)
    api = Vbs.connect(token_settings(running.url), pool_size=8)
    running.emulator.seed_shares(16)
    ids = [r["id"] for r in running.emulator.store.query(OWN, {})]
    plan = cancel_verb.plan_cancel(api, argv_checks.cancel_request(ids, None, None, []))
    started = time.monotonic()
    outcome = cancel_verb.cancel(api, plan, concurrency=8)
    elapsed = time.monotonic() - started
    assert [r.result for r in outcome.results] == ["canceled"] * 16
    assert running.emulator.store.count(OWN, {}) == 0
    assert elapsed < 16 * 0.1  # not sequential (the bound is loose: this is no timing test)


def test_list_and_count(client: Vbs) -> None:
    share_verb.share(client, BACKUP, [P1, P2])
    pages = find.list_shares(client, ListQuery(), page_size=1, limit=5)
    assert sum(len(p) for p in pages) == 2
    assert find.count_shares(client, ListQuery(shared_with_me=True)) == 1
