"""The client against the emulator: endpoints, paging, error mapping, malformed answers, retries."""

from __future__ import annotations

from typing import Any

import pytest

from backupshare import __version__
from backupshare.emulator import RunningEmulator
from backupshare.errors import (
    AuthError,
    NotFoundError,
    RejectedError,
    UnavailableError,
    UnexpectedResponse,
)
from backupshare.models import ListQuery
from backupshare.responses import extract_error, parse_retry_after
from backupshare.vbs import Vbs

from .helpers import BACKUP, BACKUP2, OWN, P1, P2, P3, fault, token_settings


def all_shares(client: Vbs, query: ListQuery = ListQuery(), **kwargs: Any) -> list[Any]:
    return [share for page in client.iter_pages(query, **kwargs) for share in page]


def test_share_list_count_show_cancel(client: Vbs) -> None:
    created = client.share(BACKUP, [P1, P2])
    assert {s.to_project_id for s in created} == {P1, P2}
    listed = all_shares(client)
    assert {s.id for s in listed} == {s.id for s in created}
    assert client.count(ListQuery()) == 2
    shown = client.show(created[0].id)
    assert shown.backup is not None and shown.backup.name == "db-nightly"
    client.cancel(created[0].id)
    assert client.count(ListQuery()) == 1
    client.cancel_backup(BACKUP)
    assert client.count(ListQuery()) == 0


def test_every_filter_is_sent(client: Vbs, emulator: RunningEmulator) -> None:
    client.share(BACKUP, [P1])
    query = ListQuery(
        filters=(
            ("backup_id", BACKUP),
            ("to_project_id", P1),
            ("from_project_id", OWN),
            ("volume_id", "00000000-0000-4000-8000-000000000000"),
            ("name", "db"),
            ("status", "available"),
            ("availability_zone", "eu-de-01"),
        ),
        sort_key="name",
        sort_dir="asc",
    )
    assert all_shares(client, query) == []  # the volume id matches nothing
    sent = emulator.logged("GET", "/detail")[-1]["query"]
    assert sent == {
        "backup_id": BACKUP, "to_project_id": P1, "from_project_id": OWN,
        "volume_id": "00000000-0000-4000-8000-000000000000", "name": "db",
        "status": "available", "availability_zone": "eu-de-01", "sort_key": "name",
        "sort_dir": "asc", "limit": "100", "offset": "0",
    }  # fmt: skip
    client.count(ListQuery(shared_with_me=True, sort_key="name"))
    counted = emulator.logged("GET", "/count")[-1]["query"]
    assert counted == {"share_to_me": "true"}  # no sort or paging on the count call


def test_paging_across_boundaries_until_an_empty_page(client: Vbs, emulator: Any) -> None:
    emulator.seed_shares(25)
    pages = list(client.iter_pages(ListQuery(), page_size=10))
    assert [len(p) for p in pages] == [10, 10, 5]
    assert len({s.id for p in pages for s in p}) == 25
    offsets = [e["query"]["offset"] for e in emulator.logged("GET", "/detail")]
    assert offsets == ["0", "10", "20", "25"]  # a short page does not prove the end


def test_paging_with_a_server_that_caps_pages(make_emulator: Any) -> None:
    running = make_emulator(page_cap=7)
    running.seed_shares(20)
    api = Vbs.connect(token_settings(running.url))
    pages = list(api.iter_pages(ListQuery(), page_size=100))
    assert [len(p) for p in pages] == [7, 7, 6]
    assert len(all_shares(api, limit=9, page_size=100)) == 9


def test_limit_stops_early(client: Vbs, emulator: Any) -> None:
    emulator.seed_shares(30)
    assert len(all_shares(client, limit=12, page_size=5)) == 12
    limits = [e["query"]["limit"] for e in emulator.logged("GET", "/detail")]
    assert limits == ["5", "5", "2"]


def test_a_server_ignoring_offset_is_detected(client: Vbs, emulator: Any) -> None:
    emulator.seed_shares(3)
    first = client.http.call("GET", f"{client._base}/detail", params={"limit": "2"})
    import json

    fault(emulator, "raw", method="GET", count=5, status=200, body=json.dumps(first))
    with pytest.raises(
        UnexpectedResponse,
        match="listing did not end: the service returned sharings it had already listed",
    ):
        all_shares(client, page_size=2)


def test_headers_identify_the_client(client: Vbs, emulator: Any) -> None:
    client.count(ListQuery())
    headers = emulator.logged("GET")[-1]["headers"]
    assert headers["User-Agent"] == f"backupshare/{__version__}"
    assert headers["X-Client-Request-Id"] == client.invocation_id
    assert headers["X-Auth-Token"] == "emulator-token"


@pytest.mark.parametrize(
    ("style", "status", "kind", "code", "message"),
    [
        ("vbs", 404, NotFoundError, "VolumeBackup.0205", "could not be found"),
        ("cinder", 404, NotFoundError, "404", "could not be found"),
        ("apig", 404, NotFoundError, "VolumeBackup.0205", "could not be found"),
    ],
)
def test_error_shapes_are_read(
    make_emulator: Any, style: str, status: int, kind: type, code: str, message: str
) -> None:
    running = make_emulator(error_style=style)
    api = Vbs.connect(token_settings(running.url))
    with pytest.raises(kind) as caught:
        api.show("00000000-0000-4000-8000-000000000000")
    error = caught.value
    assert error.status == status and error.code == code and message in error.message
    assert error.request_ids and len(error.request_ids[0]) == 32


@pytest.mark.parametrize(
    ("status", "body", "content_type", "kind", "expected"),
    [
        (400, '{"error": {"code": "X.1", "message": "bad thing"}}', "application/json",
         RejectedError, "bad thing"),
        (409, '{"conflictingRequest": {"code": 409, "message": "busy"}}', "application/json",
         RejectedError, "busy"),
        (403, '{"error_code": "APIG.0302", "error_msg": "nope", "request_id": "rid-1"}',
         "application/json", AuthError, "nope"),
        (401, "", "text/plain", AuthError, "HTTP 401 Unauthorized"),
        (400, "<html><title>Bad Gateway Page</title></html>", "text/html", RejectedError,
         "Bad Gateway Page"),
        (418, "I am a teapot", "text/plain", RejectedError, "I am a teapot"),
        (400, '{"error": ', "application/json", RejectedError, '{"error":'),
        (400, '{"weird": 1}', "application/json", RejectedError, "HTTP 400 Bad Request"),
        (400, "[1, 2]", "application/json", RejectedError, "HTTP 400 Bad Request"),
        (400, '{"error": {"code": null, "message": null}}', "application/json",
         RejectedError, "HTTP 400"),
    ],
)  # fmt: skip
def test_any_error_body_becomes_a_clear_error(
    emulator: RunningEmulator,
    client: Vbs,
    status: int,
    body: str,
    content_type: str,
    kind: type,
    expected: str,
) -> None:
    fault(emulator, "raw", method="GET", status=status, body=body, content_type=content_type)
    with pytest.raises(kind) as caught:
        client.count(ListQuery())
    assert expected in caught.value.message
    assert caught.value.status == status


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("", "application/json", "empty body"),
        ("<html><title>Portal</title></html>", "text/html", "is not JSON (text/html): Portal"),
        ('{"count": "many"}', "application/json", "no valid 'count'"),
        ('{"shared": 5}', "application/json", "unexpected response"),
        ("null", "application/json", "unexpected response"),
        ('{"count": ', "application/json", "is not JSON"),
        ("\udcff", "application/json", "is not JSON"),
    ],
)
def test_malformed_success_answers_are_unexpected_responses(
    emulator: RunningEmulator, client: Vbs, body: str, content_type: str, expected: str
) -> None:
    fault(emulator, "raw", method="GET", status=200, body=body, content_type=content_type)
    with pytest.raises(UnexpectedResponse) as caught:
        client.count(ListQuery())
    assert expected in caught.value.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"shared": [{"id": null, "backup_id": "066b1e37-9305-4057-97e5-2e99b21fc71d", "to_project_id": "722513ed0a324dadaabe5b2d0fe848c9"}]}', "'id'"),
        ('{"shared": [{"id": "11111111-2222-4333-8444-555555555555", "to_project_id": "722513ed0a324dadaabe5b2d0fe848c9"}]}', "'backup_id'"),
        ('{"shared": [7]}', "not an object"),
        ('{"shared": [{"id": "11111111-2222-4333-8444-555555555555", "backup_id": "066b1e37-9305-4057-97e5-2e99b21fc71d", "to_project_id": "722513ed0a324dadaabe5b2d0fe848c9", "backup": 3}]}',
         "'backup' is not an object"),
        ('{"shared": [{"id": "11111111-2222-4333-8444-555555555555", "backup_id": "066b1e37-9305-4057-97e5-2e99b21fc71d", "to_project_id": "722513ed0a324dadaabe5b2d0fe848c9", "created_at": {}}]}',
         "not a scalar"),
    ],
)  # fmt: skip
def test_records_without_ids_are_rejected(
    emulator: RunningEmulator, client: Vbs, body: str, expected: str
) -> None:
    fault(emulator, "raw", method="GET", status=200, body=body)
    with pytest.raises(UnexpectedResponse, match=expected):
        all_shares(client)


def test_nulls_and_unknown_fields_are_tolerated(emulator: RunningEmulator, client: Vbs) -> None:
    body = (
        '{"shared": [{"id": "11111111-2222-4333-8444-555555555555", "backup_id": "066b1e37-9305-4057-97e5-2e99b21fc71d", "to_project_id": "722513ed0a324dadaabe5b2d0fe848c9", "from_project_id": null,'
        ' "created_at": null, "new_field": [1], "backup": {"name": null, "size": "12",'
        ' "extra": {}}}]}'
    )
    fault(emulator, "raw", method="GET", status=200, body=body)
    [share] = client.iter_pages(ListQuery(), limit=1).__next__()
    assert share.backup is not None and share.backup.size == 12 and share.backup.name is None
    assert share.raw["new_field"] == [1]  # JSON output keeps what the API said


def test_runaway_bodies_are_bounded(
    emulator: RunningEmulator, client: Vbs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("backupshare.client.MAX_BODY_BYTES", 1000)
    fault(
        emulator, "raw", method="GET", status=200, body='{"count": 1, "pad": "' + "x" * 5000 + '"}'
    )
    with pytest.raises(UnexpectedResponse, match="exceeds"):
        client.count(ListQuery())


# -- retries ---------------------------------------------------------------------------------------
def recording_client(url: str, retries: int = 3, **settings: Any) -> tuple[Vbs, list[float]]:
    sleeps: list[float] = []
    api = Vbs.connect(
        token_settings(url, retries=retries, **settings), sleep=sleeps.append, jitter=lambda: 1.0
    )
    return api, sleeps


# Each safe endpoint: (method, path fragment, requests it makes when all goes well, call).
# The share made first gives show and cancel a real sharing to act on.
ENDPOINTS = {
    "list": ("GET", "/detail", 2, lambda api, sid: list(api.iter_pages(ListQuery()))),
    "count": ("GET", "/count", 1, lambda api, sid: api.count(ListQuery())),
    "show": ("GET", "/os-vendor-backup-sharing/", 1, lambda api, sid: api.show(sid)),
    "cancel": ("DELETE", "/os-vendor-backup-sharing/", 1, lambda api, sid: api.cancel(sid)),
    "cancel-backup": ("DELETE", BACKUP, 1, lambda api, sid: api.cancel_backup(BACKUP)),
}
FAULTS = {
    "429+Retry-After": {"kind": "status", "status": 429, "retry_after": "2"},
    "429": {"kind": "status", "status": 429},
    "500": {"kind": "status", "status": 500},
    "502": {"kind": "status", "status": 502},
    "503": {"kind": "status", "status": 503},
    "504": {"kind": "status", "status": 504},
    "read timeout": {"kind": "delay", "seconds": 0.6},
    "connection reset": {"kind": "reset"},
}


@pytest.mark.parametrize("fault_name", list(FAULTS))
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_fault_matrix_recovers_within_budget(
    emulator: RunningEmulator, endpoint: str, fault_name: str
) -> None:
    method, path, normal, call = ENDPOINTS[endpoint]
    api, sleeps = recording_client(emulator.url, timeout=0.3)
    [share] = api.share(BACKUP, [P1])
    spec = FAULTS[fault_name]
    count = 1 if spec["kind"] == "delay" else 3  # a delayed request still commits
    fault(emulator, method=method, path=path, count=count, **spec)
    call(api, share.id)
    sent = [e for e in emulator.logged(method) if path in e["path"]]
    assert len(sent) == count + normal  # the faults, then what succeeds
    expected = [2.0] * 3 if fault_name == "429+Retry-After" else [0.5, 1.0, 2.0][:count]
    assert sleeps == expected  # Retry-After, or backoff with the jitter pinned at its maximum


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_beyond_the_budget_is_exit_8_with_request_id(
    emulator: RunningEmulator, status: int
) -> None:
    api, _sleeps = recording_client(emulator.url, retries=2)
    fault(emulator, status=status, method="GET", count=10)
    with pytest.raises(UnavailableError) as caught:
        api.count(ListQuery())
    assert caught.value.exit_code == 8 and caught.value.status == status
    assert caught.value.request_id and caught.value.request_id in caught.value.headline()
    assert len(emulator.logged("GET")) == 3


def test_retry_after_is_honoured_and_capped(emulator: RunningEmulator) -> None:
    api, sleeps = recording_client(emulator.url)
    fault(emulator, status=429, method="GET", retry_after="7")
    fault(emulator, status=503, method="GET", retry_after="3600")
    api.count(ListQuery())
    assert sleeps == [7.0, 60.0]


def test_retry_after_http_date() -> None:
    from datetime import timedelta
    from email.utils import format_datetime

    from backupshare.auth import utc_now

    later = format_datetime(utc_now() + timedelta(seconds=30), usegmt=True)
    assert 25 < (parse_retry_after(later) or 0) <= 30
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: now
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("12") == 12.0


def test_backoff_is_capped_and_jittered(emulator: RunningEmulator) -> None:
    sleeps: list[float] = []
    api = Vbs.connect(
        token_settings(emulator.url, retries=8), sleep=sleeps.append, jitter=lambda: 0.5
    )
    fault(emulator, status=503, method="GET", count=8)
    api.count(ListQuery())
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_connection_reset_and_read_timeout_are_retried(emulator: RunningEmulator) -> None:
    api, sleeps = recording_client(emulator.url, timeout=0.3)
    fault(emulator, "reset", method="GET")
    fault(emulator, "delay", method="GET", seconds=1.0)
    assert api.count(ListQuery()) == 0
    assert len(emulator.logged("GET")) == 3
    assert len(sleeps) == 2


def test_timeouts_beyond_budget_name_the_limit(emulator: RunningEmulator) -> None:
    api, _ = recording_client(emulator.url, retries=1, timeout=0.2)
    fault(emulator, "delay", method="GET", seconds=0.6, count=2)
    with pytest.raises(UnavailableError, match=r"no answer from 127\.0\.0\.1:\d+ within 0\.2 s"):
        api.count(ListQuery())


def test_connection_refused_is_unavailable(refused_port: int) -> None:
    api, sleeps = recording_client(f"http://127.0.0.1:{refused_port}", retries=1)
    with pytest.raises(
        UnavailableError, match=rf"cannot reach 127\.0\.0\.1:{refused_port}"
    ) as caught:
        api.count(ListQuery())
    assert caught.value.exit_code == 8 and len(sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_4xx_is_never_retried(emulator: RunningEmulator, status: int) -> None:
    api, sleeps = recording_client(emulator.url)
    fault(emulator, status=status, method="GET", count=5)
    with pytest.raises((RejectedError, AuthError, NotFoundError)):
        api.count(ListQuery())
    assert len(emulator.logged("GET")) == 1 and sleeps == []


def test_post_is_never_blindly_retried(emulator: RunningEmulator) -> None:
    api, sleeps = recording_client(emulator.url)
    fault(emulator, status=503, method="POST")
    with pytest.raises(UnavailableError):
        api.share(BACKUP, [P3])
    assert len(emulator.logged("POST")) == 1 and sleeps == []


def test_delete_404_after_a_retry_counts_as_done(emulator: RunningEmulator) -> None:
    # commit-then-502 for DELETE: the retry finds the sharing gone, which the first attempt did.
    api, _ = recording_client(emulator.url)
    [share] = api.share(BACKUP2, [P1])
    fault(emulator, "commit_then_502", method="DELETE")
    api.cancel(share.id)
    assert [e["method"] for e in emulator.logged("DELETE")] == ["DELETE", "DELETE"]
    with pytest.raises(NotFoundError):  # without a retry, a 404 is still a 404
        api.cancel(share.id)


def test_errors_name_the_client_request_id(emulator: RunningEmulator, client: Vbs) -> None:
    with pytest.raises(NotFoundError) as caught:
        client.show("00000000-0000-4000-8000-000000000000")
    assert caught.value.client_request_id == client.invocation_id
    assert caught.value.headline().endswith(f"client request id {client.invocation_id})")


def test_extract_error_shapes() -> None:
    assert extract_error({"error_code": "A", "error_msg": "m"}) == ("A", "m")
    assert extract_error({"error": {"code": "B", "message": "n"}}) == ("B", "n")
    assert extract_error({"badRequest": {"code": 400, "message": "o"}}) == ("400", "o")
    assert extract_error({"a": {"b": {"code": "deep"}}}) == (None, None)  # one level only
    assert extract_error("text") == (None, None)


def test_the_profiles_proxy_is_used_off_loopback_only(
    emulator: RunningEmulator, refused_port: int
) -> None:
    proxy = f"http://127.0.0.1:{refused_port}"
    remote = Vbs.connect(token_settings("https://vbs.eu-de.example.invalid", proxy=proxy))
    remote.http._sleep = lambda s: None
    with pytest.raises(UnavailableError, match="cannot reach"):
        remote.count(ListQuery())  # the profile's proxy is really used (and here unreachable)
    local = Vbs.connect(token_settings(emulator.url, proxy=proxy))
    assert local.count(ListQuery()) == 0  # loopback goes direct: a token never crosses a proxy
