"""The emulator's VBS backup list (docs/wire.md "Backups", docs/wire.md (CBR)): filters, sorting, paging with
`backups_links` and the page cap, single backups, and backups seeded to become available."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from backupshare.emulator import BackupSeed, RunningEmulator
from backupshare.emulator.core import DEMO_VOLUME
from backupshare.emulator.server import DEFAULT_TOKEN

from .helpers import BACKUP, BACKUP2, CREATING, ENCRYPTED, OWN, P1, PARTNER_BACKUP, fault

HEADERS = {"X-Auth-Token": DEFAULT_TOKEN}
FIELDS = {
    "id", "name", "status", "volume_id", "size", "availability_zone", "created_at", "updated_at",
    "description", "container", "fail_reason", "object_count", "snapshot_id", "is_incremental",
    "has_dependent_backups", "data_timestamp", "links",
}  # fmt: skip
VOLUME = "11111111-2222-4333-8444-555555555555"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 1, 2, 3, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def get(emulator: RunningEmulator, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{emulator.url}/v2/{OWN}{path}", params=params, headers=HEADERS, timeout=5)


def listed(emulator: RunningEmulator, **params: Any) -> list[dict[str, Any]]:
    response = get(emulator, "/backups/detail", **params)
    assert response.status_code == 200, response.text
    backups: list[dict[str, Any]] = response.json()["backups"]
    return backups


def names(emulator: RunningEmulator, **params: Any) -> list[str]:
    return [backup["name"] for backup in listed(emulator, **params)]


def seeds(count: int, clock: Clock, volume: str = VOLUME) -> list[BackupSeed]:
    """`count` backups of one volume, an hour apart, the last one newest."""
    return [
        BackupSeed(
            f"00000000-0000-4000-8000-{i:012d}",
            OWN,
            f"b{i:02d}",
            volume_id=volume,
            created_at=clock.now - timedelta(hours=count - i),
        )
        for i in range(count)
    ]


# -- the list ---------------------------------------------------------------------------------------
def test_the_project_s_backups_newest_first_with_every_documented_field(
    emulator: RunningEmulator,
) -> None:
    backups = listed(emulator)
    assert [b["id"] for b in backups] == [CREATING, BACKUP, ENCRYPTED, BACKUP2]  # not the partner's
    assert all(set(b) == FIELDS for b in backups)
    assert [b["created_at"] for b in backups] == sorted(
        (b["created_at"] for b in backups), reverse=True
    )
    db = backups[1]
    assert (db["name"], db["status"], db["size"], db["volume_id"]) == (
        "db-nightly",
        "available",
        40,
        DEMO_VOLUME,
    )
    assert db["links"] == [
        {"rel": "self", "href": f"{emulator.url}/v2/{OWN}/backups/{BACKUP}"},
        {"rel": "bookmark", "href": f"{emulator.url}/{OWN}/backups/{BACKUP}"},
    ]
    assert len(db["created_at"]) == len("2017-08-10T12:25:40.480424")  # naive, microseconds
    summary = get(emulator, "/backups").json()["backups"]
    assert [set(b) for b in summary] == [{"id", "name", "links"}] * 4


def test_filters_are_exact(emulator: RunningEmulator) -> None:
    assert names(emulator, name="db-nightly") == ["db-nightly"]
    assert names(emulator, name="db") == []  # exact, not fuzzy as the sharing list's `name`
    assert names(emulator, name="DB-NIGHTLY") == []
    assert names(emulator, status="creating") == ["logs-hourly"]
    assert names(emulator, status="Available") == []
    assert names(emulator, volume_id=DEMO_VOLUME) == ["logs-hourly", "db-nightly"]
    newest = listed(emulator, volume_id=DEMO_VOLUME, status="available", limit=1)
    assert [b["id"] for b in newest] == [BACKUP]
    # The service ignores parameters it does not know: a misspelt filter filters nothing.
    assert len(listed(emulator, volumeid=DEMO_VOLUME)) == 4


def test_sorting(emulator: RunningEmulator) -> None:
    assert names(emulator, sort_key="name", sort_dir="asc") == [
        "db-nightly", "logs-hourly", "vault-encrypted", "web-weekly",
    ]  # fmt: skip
    assert names(emulator, sort_key="size", sort_dir="desc")[0] == "db-nightly"
    assert names(emulator, sort_dir="asc")[0] == "web-weekly"  # the oldest
    ordered = names(emulator, sort_key="disk_format")  # documented, absent on backups: by time
    assert ordered == names(emulator)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"sort_key": "secret"}, "VolumeBackup.0008"),
        ({"sort_dir": "up"}, "VolumeBackup.0008"),
        ({"limit": "-1"}, "VolumeBackup.0009"),
        ({"limit": "x"}, "VolumeBackup.0009"),
        ({"limit": "²"}, "VolumeBackup.0009"),
        ({"offset": "1.5"}, "VolumeBackup.0009"),
        ({"marker": "00000000-0000-4000-8000-000000000000"}, "VolumeBackup.0009"),
    ],
)
def test_invalid_list_parameters_are_400(
    emulator: RunningEmulator, params: dict[str, str], code: str
) -> None:
    response = get(emulator, "/backups/detail", **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def follow(emulator: RunningEmulator, **params: Any) -> tuple[list[str], int]:
    """Every id reached by following `backups_links`, and how many pages it took."""
    response = get(emulator, "/backups/detail", **params)
    ids, pages = [], 0
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [b["id"] for b in body["backups"]]
        pages += 1
        links = body.get("backups_links")
        if not links:
            return ids, pages
        assert [link["rel"] for link in links] == ["next"]
        response = requests.get(links[0]["href"], headers=HEADERS, timeout=5)


def test_full_pages_link_the_next_one(make_emulator: Callable[..., RunningEmulator]) -> None:
    clock = Clock()
    running = make_emulator(backups=seeds(5, clock), clock=clock)
    everything = [b["id"] for b in listed(running)]
    assert len(everything) == 5 and "backups_links" not in get(running, "/backups/detail").json()
    assert follow(running, limit=2) == (everything, 3)  # 2 + 2 + 1: a short page is the last
    assert follow(running, limit=5) == (everything, 2)  # a full last page: one empty page more
    assert follow(running, limit=2, status="available", sort_dir="asc") == (everything[::-1], 3)
    by_offset = [b["id"] for b in listed(running, limit=2, offset=2)]
    assert by_offset == everything[2:4]
    after = [b["id"] for b in listed(running, marker=everything[1])]
    assert after == everything[2:]


def test_the_page_cap_shortens_pages_and_links_the_rest(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    clock = Clock()
    running = make_emulator(backups=seeds(5, clock), clock=clock, page_cap=2)
    body = get(running, "/backups/detail", limit=100).json()
    assert len(body["backups"]) == 2 and body["backups_links"][0]["rel"] == "next"
    ids, pages = follow(running, limit=100)
    assert len(set(ids)) == 5 and pages == 3
    assert len(listed(running)) == 2  # no limit asked: still capped


def test_the_service_caps_pages_at_1000(make_emulator: Callable[..., RunningEmulator]) -> None:
    clock = Clock()
    running = make_emulator(backups=seeds(1001, clock), clock=clock)
    body = get(running, "/backups/detail").json()
    assert len(body["backups"]) == 1000 and "backups_links" in body


# -- one backup -------------------------------------------------------------------------------------
def test_show_one_backup(emulator: RunningEmulator) -> None:
    response = get(emulator, f"/backups/{BACKUP}")
    assert response.status_code == 200
    backup = response.json()["backup"]
    assert set(backup) == FIELDS and backup["name"] == "db-nightly"
    for missing in (PARTNER_BACKUP, "00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        refused = get(emulator, f"/backups/{missing}")
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "VolumeBackup.0204"


def test_cinder_style_errors_on_the_backup_routes(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    running = make_emulator(error_style="cinder")
    response = get(running, f"/backups/{PARTNER_BACKUP}")
    assert response.status_code == 404 and "itemNotFound" in response.json()


def test_another_project_s_url_and_bad_methods(emulator: RunningEmulator) -> None:
    other = requests.get(f"{emulator.url}/v2/{P1}/backups/detail", headers=HEADERS, timeout=5)
    assert other.status_code == 403 and other.json()["error_code"] == "APIG.0302"
    post = requests.post(f"{emulator.url}/v2/{OWN}/backups/detail", headers=HEADERS, timeout=5)
    assert post.status_code == 405
    anonymous = requests.get(f"{emulator.url}/v2/{OWN}/backups/detail", timeout=5)
    assert anonymous.status_code == 401


def test_faults_and_the_log_cover_the_backup_routes(emulator: RunningEmulator) -> None:
    fault(emulator, status=503, method="GET", path="/backups/detail")
    failed = get(emulator, "/backups/detail", limit=3)
    assert failed.status_code == 503 and failed.json()["error"]["code"] == "VolumeBackup.0503"
    assert get(emulator, "/backups/detail").status_code == 200
    entry = emulator.logged("GET", "/backups/detail")[0]
    assert entry["query"] == {"limit": "3"}


# -- backups that become available ------------------------------------------------------------------
def test_a_backup_seeded_to_become_available(make_emulator: Callable[..., RunningEmulator]) -> None:
    clock = Clock()
    seed = BackupSeed(BACKUP, OWN, "soon", available_after=30)
    running = make_emulator(backups=[seed], clock=clock)
    assert get(running, f"/backups/{BACKUP}").json()["backup"]["status"] == "creating"
    body = {"shared": {"backup_id": BACKUP, "to_project_ids": [P1]}}
    url = f"{running.url}/v2/{OWN}/os-vendor-backup-sharing"
    early = requests.post(url, json=body, headers=HEADERS, timeout=5)
    assert early.json()["error"]["code"] == "VolumeBackup.0104"
    clock.advance(29.9)
    assert names(running, status="creating") == ["soon"]
    clock.advance(0.1)
    backup = get(running, f"/backups/{BACKUP}").json()["backup"]
    assert backup["status"] == "available"
    assert backup["updated_at"] == "2026-11-27T01:02:33.000000"  # when it turned
    assert requests.post(url, json=body, headers=HEADERS, timeout=5).status_code == 200


# -- seeding: the option and the admin route --------------------------------------------------------
def test_the_backup_option_takes_name_volume_creation_and_delay() -> None:
    from backupshare.emulator.__main__ import config_from_args, parse

    option = (
        f"{BACKUP.upper()}:creating:name=db: the one:volume={VOLUME}"
        ":created=2026-01-31T12:00:00Z:available-after=2.5:size=7"
    )
    config = config_from_args(parse(["--backup", option, "--backup", BACKUP2]))
    assert config.backups is not None
    first, second = config.backups
    assert (first.id, first.status, first.name, first.volume_id) == (
        BACKUP,
        "creating",
        "db: the one",
        VOLUME,
    )
    assert first.created_at == datetime(2026, 1, 31, 12, tzinfo=timezone.utc)
    assert (first.available_after, first.size, first.project_id) == (2.5, 7, OWN)
    assert (second.id, second.status, second.name, second.volume_id) == (
        BACKUP2,
        "available",
        "backup-2",
        None,
    )
    partner = config_from_args(parse(["--backup", f"{BACKUP}:project={P1}"])).backups
    assert partner is not None and partner[0].project_id == P1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"{BACKUP}:done", "status 'done' is not one of available, creating"),
        (f"{BACKUP}:colour=red", "unknown key 'colour' (known: name, volume, created"),
        (f"{BACKUP}:volume=v1", "'v1' is not a volume id (a UUID)"),
        (f"{BACKUP}:created=yesterday", "created must be an ISO-8601 time"),
        (f"{BACKUP}:available-after=-1", "available-after must be a number of seconds >= 0"),
        (f"{BACKUP}:size=0", "size must be a whole number of GB >= 1"),
        (f"{BACKUP}:creating:oops", "status 'creating:oops' is not one of"),
        (f"{BACKUP}:name=a:b=c", "unknown key 'b'"),
    ],
)
def test_a_bad_backup_option_is_a_usage_error(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from backupshare.emulator.__main__ import parse

    with pytest.raises(SystemExit) as exited:
        parse(["--backup", value])
    assert exited.value.code == 2
    assert capsys.readouterr().err.startswith(f"error: argument --backup: {message}")


def test_the_admin_route_seeds_backups(emulator: RunningEmulator) -> None:
    spec = {
        "backups": [{"id": VOLUME, "name": "late", "status": "error", "volume_id": DEMO_VOLUME}]
    }
    seeded = requests.post(f"{emulator.url}/_emulator/seed", json=spec, timeout=5)
    assert seeded.status_code == 200 and seeded.json() == {"backups": [VOLUME]}
    assert names(emulator, volume_id=DEMO_VOLUME, sort_key="name", sort_dir="asc") == [
        "db-nightly", "late", "logs-hourly",
    ]  # fmt: skip
    for bad in ({"backups": [{"id": "x"}]}, {"backups": {}}, {"colour": 1}, {"shares": True}, []):
        refused = requests.post(f"{emulator.url}/_emulator/seed", json=bad, timeout=5)
        assert refused.status_code == 400, bad
        assert refused.json()["error_code"] == "EMULATOR.0002"


def test_the_banner_lists_the_backups_with_volume_and_time() -> None:
    from backupshare.emulator.__main__ import banner, config_from_args, parse
    from backupshare.emulator.core import Emulator

    config = config_from_args(
        parse(
            ["--backup", f"{BACKUP}:creating:name=db:volume={VOLUME}:created=2026-01-31T12:00:00"]
        )
    )
    emulator = Emulator(config)
    text = banner(config, "http://127.0.0.1:1", emulator.store.backups(OWN))
    assert (
        f"    {BACKUP}  creating   db  (volume {VOLUME}, created 2026-01-31T12:00:00.000000)"
        in text.splitlines()
    )
    emulator.store.close()


def test_empty_and_missing_values_sort_without_failing(
    make_emulator: Callable[..., RunningEmulator],
) -> None:
    running = make_emulator(backups=[BackupSeed(BACKUP, OWN, ""), BackupSeed(BACKUP2, OWN, "b")])
    assert names(running, sort_key="name", sort_dir="asc") == ["", "b"]
    assert names(running, sort_key="name", sort_dir="desc") == ["b", ""]


def test_a_database_from_an_older_emulator_is_upgraded(
    tmp_path: Any, make_emulator: Callable[..., RunningEmulator]
) -> None:
    import sqlite3

    db = tmp_path / "old.sqlite"
    with sqlite3.connect(db) as old:  # the first release's backups table, one backup in it
        old.execute(
            "CREATE TABLE backups (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT,"
            " status TEXT NOT NULL, size INTEGER, volume_id TEXT, availability_zone TEXT,"
            " description TEXT, encrypted INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL,"
            " updated_at TEXT)"
        )
        old.execute(
            "INSERT INTO backups VALUES (?, ?, 'kept', 'available', 1, ?, 'az', '', 0,"
            " '2026-01-01T00:00:00.000000', NULL)",
            (BACKUP, OWN, VOLUME),
        )
    old.close()
    running = make_emulator(db=str(db))
    assert names(running) == ["kept"]
    share = {"shared": {"backup_id": BACKUP, "to_project_ids": [P1]}}
    url = f"{running.url}/v2/{OWN}/os-vendor-backup-sharing"
    assert requests.post(url, json=share, headers=HEADERS, timeout=5).status_code == 200
