"""Backup selectors (backupshare/selectors.py), pure: WHEN parsing, the dict form a sharings file
uses, the client-side re-check, and the parameters each service is sent for them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backupshare.cbr import backup_params
from backupshare.models import Backup, BackupQuery
from backupshare.selectors import InvalidSelector, Selectors, parse_duration, parse_time, parse_when

NOW = datetime(2026, 12, 3, 12, 0, 0, tzinfo=timezone.utc)
V1 = "9d2f7f3e-5b5c-4f0e-8d8e-1c2b3a4d5e6f"
V2 = "4c3b2a19-0f8e-4d7c-9b6a-5e4d3c2b1a09"
VAULT = "622e26c0-5db4-56ee-8c9f-9aadf2de88c2"


def backup(**fields: object) -> Backup:
    values: dict[str, object] = {
        "id": "066b1e37-9305-4057-97e5-2e99b21fc71d",
        "name": "db-nightly",
        "status": "available",
        "size": 10,
        "volume_id": V1,
        "availability_zone": "eu-de-01",
        "description": None,
        "created_at": "2026-12-01T08:00:00.123456",
    }
    raw = {"vault_id": fields.pop("vault_id", VAULT)}
    values.update(fields)
    return Backup(**values, raw=raw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("12h", NOW - timedelta(hours=12)),
        ("7d", NOW - timedelta(days=7)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-11-30", datetime(2026, 11, 30, tzinfo=timezone.utc)),
        ("2026-11-30T10:00:00", datetime(2026, 11, 30, 10, tzinfo=timezone.utc)),
        ("2026-11-30T10:00:00Z", datetime(2026, 11, 30, 10, tzinfo=timezone.utc)),
        ("2026-11-30T12:00:00+02:00", datetime(2026, 11, 30, 10, tzinfo=timezone.utc)),
    ],
)
def test_when_is_a_date_a_date_time_or_a_duration_back_from_now(
    text: str, expected: datetime
) -> None:
    assert parse_when(text, NOW) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "7", "7y", "-7d", "2026-13-01", "7 d", "x" * 500]
)
def test_an_unparseable_when_names_the_key_and_the_value(text: str) -> None:
    with pytest.raises(InvalidSelector) as caught:
        parse_when(text, NOW, "created_before")
    assert caught.value.key == "created_before"
    assert caught.value.message.startswith(f"invalid created_before {text[:64]!r}")


@given(st.text(max_size=80))
def test_parse_when_never_raises_anything_but_invalid_selector(text: str) -> None:
    try:
        moment = parse_when(text, NOW)
    except InvalidSelector:
        return
    assert moment.tzinfo is not None


def test_a_duration_and_a_server_time() -> None:
    assert parse_duration("7d") == timedelta(days=7)
    with pytest.raises(InvalidSelector, match="invalid max_pending_age '7'"):
        parse_duration("7")
    assert parse_time("2026-12-01T08:00:00.123456") == datetime(
        2026, 12, 1, 8, 0, 0, 123456, tzinfo=timezone.utc
    )
    assert parse_time("not a time") is None and parse_time(None) is None


def test_every_selector_given_must_hold() -> None:
    record = backup()
    assert Selectors().matches(record) and Selectors().empty
    assert Selectors(volume_ids=(V2, V1)).matches(record)
    assert not Selectors(volume_ids=(V2,)).matches(record)
    assert Selectors(vault_id=VAULT).matches(record)
    assert not Selectors(vault_id=V2).matches(record)
    assert Selectors(name="db-nightly").matches(record)
    assert not Selectors(name="db").matches(record)  # exact
    assert Selectors(name_prefix="db").matches(record)
    assert not Selectors(name_prefix="web").matches(record)
    assert not Selectors(status="error").matches(record)
    created = datetime(2026, 12, 1, 8, 0, 0, 123456, tzinfo=timezone.utc)
    assert Selectors(created_after=created).matches(record)  # inclusive
    assert not Selectors(created_before=created).matches(record)  # exclusive
    assert not Selectors(created_after=NOW).matches(record)
    assert not Selectors(created_after=created).matches(backup(created_at="garbage"))


def test_after_later_than_before_is_refused() -> None:
    with pytest.raises(InvalidSelector, match="later than created_before"):
        Selectors(created_after=NOW, created_before=NOW - timedelta(days=1))


def test_from_dict_takes_a_sharings_files_snake_case_keys() -> None:
    selectors = Selectors.from_dict(
        {"volume_id": [V1, V2.upper()], "name_prefix": "db-", "created_after": "7d",
         "created_before": datetime(2026, 12, 2),  # noqa: DTZ001  (YAML reads a naive time)
         "vault_id": VAULT, "status": "available"},
        now=NOW,
    )  # fmt: skip
    assert selectors == Selectors(
        volume_ids=(V1, V2),
        vault_id=VAULT,
        name_prefix="db-",
        status="available",
        created_after=NOW - timedelta(days=7),
        created_before=datetime(2026, 12, 2, tzinfo=timezone.utc),
    )
    assert Selectors.from_dict({"volume_id": V1}, now=NOW).volume_ids == (V1,)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"volume": V1}, "unknown selector 'volume'"),
        ({"volume_id": "nope"}, "invalid volume_id 'nope': expected a UUID"),
        ({"volume_id": {"a": 1}}, "volume_id: a volume id or a list of them"),
        ({"name": ""}, "invalid name '': expected text"),
        ({"name_prefix": "a\x1b"}, "control characters"),
        ({"created_after": "soon"}, "invalid created_after 'soon'"),
    ],
)
def test_from_dict_refuses_what_it_cannot_use(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidSelector, match=message.replace("[", r"\[")):
        Selectors.from_dict(data, now=NOW)


def test_a_narrow_backup_query_is_selectors_too() -> None:
    assert Selectors.of(BackupQuery(volume_id=V1, status="available")) == Selectors(
        volume_ids=(V1,), status="available"
    )


def test_cbr_is_sent_what_its_backup_list_filters_and_times_widened_to_the_second() -> None:
    selectors = Selectors(
        volume_ids=(V1,),
        vault_id=VAULT,
        name="db",
        status="available",
        created_after=datetime(2026, 12, 1, 8, 0, 0, 500000, tzinfo=timezone.utc),
        created_before=datetime(2026, 12, 2, 8, 0, 0, 500000, tzinfo=timezone.utc),
    )
    assert backup_params(selectors) == {
        "resource_id": V1,
        "vault_id": VAULT,
        "name": "db",
        "status": "available",
        "start_time": "2026-12-01T08:00:00Z",
        "end_time": "2026-12-02T08:00:01Z",
    }
    # two volumes, a prefix: not CBR filters, checked here only
    assert backup_params(Selectors(volume_ids=(V1, V2), name_prefix="db")) == {}
