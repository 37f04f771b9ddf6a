"""accept/reject through the CLI (review of #23): a dry run's records have the real run's shape,
and an answer of the wrong shape is exit 8, one escaped line naming the answer, nothing reported
done."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from backupshare.testing import TestEmulator, emulator

from .helpers import BACKUP, in_process


@pytest.fixture
def cbr(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestEmulator]:
    with emulator(service="cbr") as running:
        running.client.share(BACKUP, [running.partner_project_id])
        monkeypatch.setenv("BACKUPSHARE_ENDPOINT", running.url)
        monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", running.partner_project_id)
        monkeypatch.setenv("BACKUPSHARE_TOKEN", running.partner_token)
        monkeypatch.setenv("BACKUPSHARE_SERVICE", "cbr")
        yield running


def test_a_garbage_member_status_is_exit_8_not_accepted(
    cbr: TestEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    member = {
        "id": BACKUP, "backup_id": BACKUP, "dest_project_id": cbr.partner_project_id,
        "status": "evil\x1b[2J\r\nerror: fake line", "vault_id": None, "image_id": None,
        "created_at": None, "updated_at": None,
    }  # fmt: skip
    cbr.fault(
        "raw", method="PUT", path="/members/", status=200, body=json.dumps({"member": member})
    )
    capsys.readouterr()
    code = in_process(["accept", BACKUP, "-o", "json"], [])
    out, err = capsys.readouterr()
    assert code == 8, err
    assert out == ""  # nothing reported accepted
    first = err.splitlines()[0]
    assert first.startswith(
        "error: unexpected response: the member's 'status' is 'evil\\x1b[2J\\r\\nerror: fake line',"
        f" not 'accepted' as asked, in the answer to PUT /v3/{cbr.partner_project_id}/backups/"
    )
    assert "(HTTP 200, request id " in first
    assert "\x1b" not in err


@pytest.mark.parametrize("verb", ["accept", "reject"])
def test_a_dry_run_s_records_have_the_real_run_s_keys(
    cbr: TestEmulator, capsys: pytest.CaptureFixture[str], verb: str
) -> None:
    confirmed = ["--yes"] if verb == "reject" else []  # accept asks nothing

    def answered(*dry_run: str) -> list[dict[str, object]]:
        capsys.readouterr()
        code = in_process([verb, "--all-pending", *confirmed, *dry_run, "-o", "json"], [])
        out, err = capsys.readouterr()
        assert code == 0, err
        return list(json.loads(out)["results"])

    [planned] = answered("--dry-run")
    [done] = answered()
    assert list(planned) == [*done, "dry_run"]
    assert (planned["status"], done["status"]) == (
        "pending",
        {"accept": "accepted", "reject": "rejected"}[verb],
    )
