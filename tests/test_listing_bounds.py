"""Listings are bounded: one that never ends is stopped, a listing is bounded in bytes,
collect-then-print formats in records, and a reader that goes away ends it quietly (141)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from backupshare import output
from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_TOKEN

from .helpers import BACKUP, BIN, GUARD, OWN, P1, P2, CliResult, env_for
from .hostile import (
    Handler,
    Hostile,
    Respond,
    Seen,
    backup_record,
    cbr_backup,
    endpoint_env,
    record,
    send,
)


# -- listings that never end -----------------------------------------------------------------------
def endless(kind: str) -> Respond:
    """Detail pages that never end: fresh ids for ever, the same page, or two pages in turn.
    Bounded all the same: after 60 pages it answers an empty page (the listing 'ends')."""
    pages = {"count": 0}
    same = [record(backup_id=BACKUP, to=uuid.uuid4().hex) for _ in range(3)]
    other = [record(backup_id=BACKUP, to=uuid.uuid4().hex) for _ in range(3)]

    def respond(h: Handler, seen: Seen) -> None:
        if seen.path.endswith("/count"):
            send(h, 200, {"count": 5})
            return
        if seen.method != "GET":
            send(h, 500, {"error_code": "X", "error_msg": "the test expects no write"})
            return
        pages["count"] += 1
        backup = seen.query.get("backup_id", BACKUP)
        if pages["count"] > 60:
            shared: list[dict[str, Any]] = []
        elif kind == "fresh":
            limit = int(seen.query.get("limit", "100"))
            shared = [record(backup_id=backup, to=uuid.uuid4().hex) for _ in range(limit)]
        elif kind == "same":
            shared = same
        else:
            shared = same if pages["count"] % 2 else other
        send(h, 200, {"shared": shared})

    return respond


@pytest.mark.parametrize("kind", ["fresh", "same", "alternating"])
@pytest.mark.parametrize(
    "argv",
    [
        ("list-shares", "-o", "jsonl"),
        ("share", BACKUP, P1),
        ("cancel", "--backup-id", BACKUP, "--to-project", P1),
        ("cancel", "--backup-id", BACKUP, "--yes"),
    ],
    ids=["list", "share", "cancel-to", "cancel-all"],
)
def test_a_listing_that_does_not_end_is_stopped(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], kind: str, argv: tuple[str, ...]
) -> None:
    server = hostile(endless(kind))
    result = bs(*argv, env=endpoint_env(server.url))
    assert result.code == 8, result.err
    assert result.err.startswith("error: unexpected response: the listing did not end"), result.err
    gets = [s for s in server.requests("GET") if s.path.endswith("/detail")]
    assert len(gets) <= 12  # stopped by the client, long before the server's own bound
    writes = [s.method for s in server.requests() if s.method != "GET"]
    # share reads optimistically: a short first page ends its read, so it posts once; the
    # listing that settles that POST's unknown outcome (a 500) is the one stopped
    optimistic = argv[0] == "share" and kind != "fresh"
    assert writes == (["POST"] if optimistic else [])  # otherwise no POST, no DELETE


def many(
    pages: int, *, filler: int = 0, count: int | None = None
) -> Callable[[Handler, Seen], None]:
    """`pages` full pages of fresh backups or sharings (each with `filler` characters of
    description), then an empty page; a count that says `count` (default: the truth)."""
    served = {"pages": 0}

    def respond(h: Handler, seen: Seen) -> None:
        limit = int(seen.query.get("limit", "100"))
        if seen.path.endswith("/count"):
            send(h, 200, {"count": pages * limit if count is None else count})
            return
        served["pages"] += 1
        more = served["pages"] <= pages
        if "/backups" in seen.path:
            send(
                h,
                200,
                {"backups": [backup_record("d" * filler) for _ in range(limit)] if more else []},
            )
        else:
            items = [record(to=uuid.uuid4().hex, description="d" * filler) for _ in range(limit)]
            send(h, 200, {"shared": items if more else []})

    return respond


@pytest.mark.parametrize(
    "argv",
    [("backups", "-o", "jsonl"), ("backups", "-o", "ids"), ("list-shares", "-o", "csv")],
    ids=["backups-without-count", "backups-ids", "shares-trusting-a-count"],
)
def test_a_listing_is_bounded_in_bytes(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    from backupshare import paging

    monkeypatch.setattr(paging, "LISTING_MAX_BYTES", 1024 * 1024)
    # 100 records of 3 kB a page: the bound is passed on the fourth page, long before the 50th;
    # the sharings' count claims a million, as a hostile server's would.
    server = hostile(many(50, filler=3000, count=1_000_000))
    result = bs(*argv, env=endpoint_env(server.url))
    assert result.code == 8, result.err
    assert result.err.startswith("error: unexpected response: the listing exceeds 1 MiB ("), (
        result.err
    )
    assert "hint: " in result.err
    assert len([s for s in server.requests("GET") if "/detail" in s.path]) <= 5
    assert 0 < result.out.count("\n") <= 400  # what streamed before the bound stays written


def test_cbr_offers_are_one_listing_for_the_byte_bound(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--shared-with-me` on CBR lists each member status in turn: the bound spans them all."""
    from backupshare import paging

    monkeypatch.setattr(paging, "LISTING_MAX_BYTES", 1024 * 1024)
    served: dict[str, int] = {}

    def respond(h: Handler, seen: Seen) -> None:
        status = seen.query.get("member_status", "")
        if seen.query.get("limit") == "1":
            send(h, 200, {"count": 1_000_000, "backups": []})
            return
        served[status] = served.get(status, 0) + 1
        more = served[status] <= 3  # 3 pages of ~300 kB a status: under 1 MiB each, not in all
        offer = {**cbr_backup(), "project_id": P2, "description": "d" * 3000}
        items = [{**offer, "id": str(uuid.uuid4())} for _ in range(100)] if more else []
        send(h, 200, {"backups": items})

    server = hostile(respond)
    env = {**endpoint_env(server.url), "BACKUPSHARE_SERVICE": "cbr"}
    result = bs("list-shares", "--shared-with-me", "-o", "jsonl", env=env)
    assert result.code == 8, result.err
    assert "the listing exceeds 1 MiB" in result.err
    assert set(served) == {"pending", "accepted"}  # stopped inside the second status


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
@pytest.mark.parametrize("command", ["backups", "list-shares"])
def test_collecting_formats_stop_past_the_record_bound(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    command: str,
) -> None:
    monkeypatch.setattr(output, "COLLECTED_MAX", 250)
    server = hostile(many(10))
    result = bs(command, "-o", fmt, env=endpoint_env(server.url))
    assert result.code == 8, result.err
    assert result.err.startswith(
        f"error: the listing has more than 250 records, too many to hold for -o {fmt}"
    ), result.err
    assert "hint: use -o jsonl, csv or ids, which stream" in result.err
    assert result.out == ""
    assert (
        len([s for s in server.requests("GET") if "/detail" in s.path]) == 3
    )  # counted while listing


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "ids"])
def test_streaming_formats_are_not_held_to_the_record_bound(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    monkeypatch.setattr(output, "COLLECTED_MAX", 250)
    server = hostile(many(4))
    result = bs("backups", "-o", fmt, env=endpoint_env(server.url))
    assert result.code == 0, result.err
    assert result.out.count("\n") == 400 + (fmt == "csv")


@pytest.mark.e2e
@pytest.mark.parametrize("fmt", ["ids", "jsonl", "csv", "json", "yaml", "table"])
def test_head_of_a_large_backup_listing_is_141_quietly(
    emulator: RunningEmulator, tmp_path: Path, fmt: str
) -> None:
    """`list-shares` has this test in test_e2e.py; `backups` pages its own way."""
    seeds = [{"id": str(uuid.uuid4()), "name": f"b{i}"} for i in range(3000)]
    assert requests.post(
        f"{emulator.url}/_emulator/seed", json={"backups": seeds}, timeout=GUARD
    ).ok
    env = {**os.environ, "BACKUPSHARE_ENDPOINT": emulator.url, "BACKUPSHARE_PROJECT_ID": OWN}
    env["BACKUPSHARE_TOKEN"] = DEFAULT_TOKEN
    done = subprocess.run(
        ["bash", "-c", f"set -o pipefail; '{BIN}' backups -o {fmt} 2>err.txt | head -1; "
         "echo \"exit=$?\"; cat err.txt"],
        capture_output=True, text=True, env=env, timeout=60, check=False, cwd=str(tmp_path),
    )  # fmt: skip
    head, status, *stderr = done.stdout.splitlines()
    assert head.strip()
    assert status == "exit=141", done.stdout
    assert stderr == []


@pytest.mark.e2e
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
