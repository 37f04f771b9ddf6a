"""`backups`: newest first in every format, filters exact and re-checked, paging to the very end,
its bad input, on CBR; a malformed backup record is named as a backup."""

from __future__ import annotations

import json
from typing import Any

import pytest

from backupshare.emulator import RunningEmulator

from .helpers import (
    BACKUP,
    CREATING,
    VOLUME,
    FakeTime,  # noqa: F401 (test_receive.py imports it from here until the merge)
    fault,
    seeded,
)


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
    pages = running.logged("GET", "/backups/detail")
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
    assert emulator.logged("GET", "/backups") == []


def test_backups_on_cbr(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKUPSHARE_SERVICE", "cbr")
    listed = json.loads(cli("backups", "--volume-id", VOLUME, "-o", "json").out)
    assert [(b["id"], b["status"]) for b in listed] == [
        (CREATING, "protecting"),
        (BACKUP, "available"),
    ]
    assert cli("backups", "--status", "creating").code == 2  # CBR calls it protecting


def test_a_malformed_backup_record_is_named_as_a_backup(
    cli: Any, emulator: RunningEmulator
) -> None:
    fault(emulator, "raw", method="GET", path="/backups/detail", status=200,
          body=json.dumps({"backups": [{"id": "nope"}]}))  # fmt: skip
    result = cli("backups")
    assert result.code == 8
    assert result.err.startswith("error: unexpected response: backup without a valid 'id'")
