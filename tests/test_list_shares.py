"""list-shares and show: every format, the filters sent, paging through everything, --limit under
pipefail as the README teaches, names re-checked exactly; the verb's listing and count."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import yaml

from backupshare.emulator import RunningEmulator
from backupshare.models import ListQuery
from backupshare.vbs import Vbs
from backupshare.verbs import find
from backupshare.verbs import share as share_verb

from .helpers import BACKUP, BACKUP2, OWN, P1, P2, normalize, share_ids


def test_list_formats(three: Any, emulator: RunningEmulator) -> None:
    table = three("list-shares", "--sort-key", "name", "--sort-dir", "asc")
    assert table.code == 0
    lines = normalize(table.out).splitlines()
    assert lines[0].split() == [
        "SHARE", "ID", "BACKUP", "ID", "BACKUP", "NAME", "TO", "PROJECT", "STATUS", "SIZE", "CREATED", "(UTC)"
    ]  # fmt: skip
    assert [line.split()[2] for line in lines[1:]] == ["db-nightly", "db-nightly", "web-weekly"]
    assert "40 GB" in lines[1] and lines[1].endswith("<time>")

    records = json.loads(three("list-shares", "-o", "json").out)
    assert len(records) == 3 and {"id", "backup_id", "backup"} <= set(records[0])
    jsonl = three("list-shares", "-o", "jsonl").out.splitlines()
    assert [json.loads(line)["id"] for line in jsonl] == [r["id"] for r in records]
    assert yaml.safe_load(three("list-shares", "-o", "yaml").out) == records
    ids = three("list-shares", "-o", "ids").out.split()
    assert ids == [r["id"] for r in records]
    rows = list(csv.DictReader(io.StringIO(three("list-shares", "-o", "csv").out)))
    assert [r["id"] for r in rows] == ids and rows[0]["backup_size"] in ("40", "20")
    assert three("list-shares", "--count").out == "3\n"
    assert json.loads(three("list-shares", "--count", "-o", "json").out) == {"count": 3}


def test_list_filters_are_sent(three: Any, emulator: RunningEmulator) -> None:
    result = three(
        "list-shares", "--backup-id", BACKUP.upper(), "--to-project", P1, "--from-project", OWN,
        "--name", "db", "--status", "available", "--availability-zone", "eu-de-01",
        "--volume-id", "00000000-0000-4000-8000-000000000000", "--page-size", "7",
    )  # fmt: skip
    assert result.code == 0
    query = emulator.logged("GET", "/detail")[-1]["query"]
    assert query == {
        "backup_id": BACKUP, "to_project_id": P1, "from_project_id": OWN, "name": "db",
        "status": "available", "availability_zone": "eu-de-01",
        "volume_id": "00000000-0000-4000-8000-000000000000", "limit": "7", "offset": "0",
    }  # fmt: skip
    assert result.err == "no sharings\n"


def test_list_shared_with_me_and_limit(three: Any) -> None:
    mine = three("list-shares", "--shared-with-me")
    assert "FROM PROJECT" in mine.out and "partner-golden-image" in mine.out
    assert len(three("list-shares", "--limit", "2", "-o", "ids").out.split()) == 2


def test_list_pages_through_everything(cli: Any, emulator: RunningEmulator) -> None:
    emulator.seed_shares(250)
    result = cli("list-shares", "-o", "ids", "--page-size", "100")
    assert len(set(result.out.split())) == 250
    assert len(emulator.logged("GET", "/detail")) == 4


# -- show ------------------------------------------------------------------------------------------
def test_show_formats(three: Any, emulator: RunningEmulator) -> None:
    share_id = share_ids(emulator)[0]
    panel = three("show", share_id)
    assert panel.code == 0
    assert f"Share ID           {share_id}" in panel.out
    assert "Backup name        db-nightly" in panel.out and "Backup size        40 GB" in panel.out
    record = json.loads(three("show", share_id, "-o", "json").out)
    assert record["id"] == share_id and record["backup"]["name"] == "db-nightly"
    assert yaml.safe_load(three("show", share_id, "-o", "yaml").out) == record
    assert three("show", share_id, "-o", "ids").out == f"{share_id}\n"
    assert (
        next(iter(csv.DictReader(io.StringIO(three("show", share_id, "-o", "csv").out))))["id"]
        == share_id
    )


def test_list_and_count(client: Vbs) -> None:
    share_verb.share(client, BACKUP, [P1, P2])
    pages = find.list_shares(client, ListQuery(), page_size=1, limit=5)
    assert sum(len(p) for p in pages) == 2
    assert find.count_shares(client, ListQuery(shared_with_me=True)) == 1


# -- README's CI section: --limit, not | head ------------------------------------------------------
@pytest.mark.e2e
def test_limit_under_pipefail_is_what_the_readme_teaches(
    emulator: RunningEmulator, tmp_path: Any
) -> None:
    import os
    import subprocess

    from .helpers import BIN, ROOT

    readme = (ROOT / "README.md").read_text()
    assert "**Take the first N records with `--limit N`, not `| head`.**" in readme
    emulator.store.share(OWN, BACKUP, [P1, P2])  # the state to list, not under test
    env = dict(os.environ, BACKUPSHARE_ENDPOINT=emulator.url, BACKUPSHARE_PROJECT_ID=OWN,
               BACKUPSHARE_TOKEN="emulator-token")  # fmt: skip
    script = f'set -eo pipefail; "{BIN}" list-shares -o ids --limit 1 | cat'
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert (done.returncode, len(done.stdout.splitlines())) == (0, 1), done.stderr


def test_list_shares_name_is_re_checked_exactly(cli: Any, emulator: RunningEmulator) -> None:
    import json

    emulator.store.share(OWN, BACKUP, [P1])  # the state to list, not under test
    emulator.store.share(OWN, BACKUP2, [P1])
    exact = cli("list-shares", "--name", "db-nightly", "-o", "json")
    assert [r["backup_id"] for r in json.loads(exact.out)] == [BACKUP]
    loose = cli("list-shares", "--name", "db", "-o", "json")  # the service's loose match: "db…"
    assert (loose.code, json.loads(loose.out)) == (0, [])
    assert emulator.logged("GET", "/detail")[-1]["query"]["name"] == "db"
