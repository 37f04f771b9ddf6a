"""Authentication: the published signing vectors, interop with the official signer, the emulator's
verification, IAM password login with its cache, and secrets that never leak."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backupshare.auth import AkSkAuth, PasswordAuth, Secret, canonical_request, signature
from backupshare.config import AuthSettings
from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_AKSK, DEFAULT_USER
from backupshare.errors import AuthError
from backupshare.models import ListQuery
from backupshare.vbs import Vbs

from .helpers import BACKUP, OWN, P1, token_settings

FIXED = datetime(2026, 11, 27, 1, 2, 3, tzinfo=timezone.utc)


# -- published vectors ---------------------------------------------------------------------------
def test_huawei_signing_guide_vector() -> None:
    import hashlib

    headers = {
        "content-type": "application/json",
        "host": "service.region.example.com",
        "x-sdk-date": "20191115T033655Z",
    }
    canonical = canonical_request(
        "GET",
        "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
        [("limit", "2"), ("marker", "13551d6b-755d-4757-b956-536f674975c0")],
        headers,
        ["content-type", "host", "x-sdk-date"],
        None,
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    assert digest == "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
    sig = signature("MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc", "20191115T033655Z", canonical)
    assert sig == "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"


def test_go_sdk_vector() -> None:
    canonical = canonical_request(
        "GET", "/path", [("limit", "1")], {"x-sdk-date": "20060102T150405Z"}, ["x-sdk-date"], b""
    )
    assert (
        signature("SecretKey", "20060102T150405Z", canonical)
        == "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
    )


# -- interop with the official signer ------------------------------------------------------------
SEGMENT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019-_.~ :@!$&'()*+,;=éü中")), min_size=1, max_size=8
)
QUERY_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019-_.~ :@!$'()*,;/?éü中&=+#")), min_size=0, max_size=8
)


def prepared(method: str, url: str, params: list[tuple[str, str]], body: bytes | None) -> Any:
    headers = {"Content-Type": "application/json"} if body else {}
    return requests.Request(method, url, params=params, data=body, headers=headers).prepare()


def official_authorization(request: Any, ak: str, sk: str, security_token: str | None) -> str:
    from huaweicloudsdkcore.auth.credentials import Credentials
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer.signer import Signer

    parts = urlsplit(request.url)
    from urllib.parse import parse_qsl, unquote

    headers = {
        "Host": request.headers["Host"],
        "X-Sdk-Date": request.headers["X-Sdk-Date"],
        "X-Project-Id": request.headers["X-Project-Id"],
    }
    if request.body:
        headers["Content-Type"] = "application/json"
    if security_token:
        headers["X-Security-Token"] = security_token
    sdk_request = SdkRequest(
        method=request.method,
        schema=parts.scheme,
        host=parts.netloc,
        resource_path=unquote(parts.path),
        query_params=parse_qsl(parts.query, keep_blank_values=True),
        header_params=headers,
        body=request.body or "",
    )
    signed = Signer(Credentials(ak, sk)).sign(sdk_request)
    return str(signed.header_params["Authorization"])


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    segments=st.lists(SEGMENT, min_size=1, max_size=4),
    trailing=st.booleans(),
    params=st.lists(st.tuples(QUERY_TEXT.filter(bool), QUERY_TEXT), max_size=4),
    body=st.one_of(st.none(), st.binary(max_size=64), st.text(max_size=32).map(str.encode)),
    security_token=st.one_of(st.none(), st.text(alphabet="abcXYZ0189+/=", min_size=1, max_size=40)),
    port=st.sampled_from([None, 443, 8443]),
)
def test_our_signature_equals_the_official_signer(
    method: str,
    segments: list[str],
    trailing: bool,
    params: list[tuple[str, str]],
    body: bytes | None,
    security_token: str | None,
    port: int | None,
) -> None:
    host = "vbs.eu-de.otc.t-systems.com" + (f":{port}" if port else "")
    url = f"https://{host}/" + "/".join(segments) + ("/" if trailing else "")
    request = prepared(method, url, params, body)
    token = Secret(security_token) if security_token else None
    AkSkAuth("AKEXAMPLE12345", Secret("sk/with+chars=="), OWN, token, clock=lambda: FIXED)(request)
    expected = official_authorization(request, "AKEXAMPLE12345", "sk/with+chars==", security_token)
    assert request.headers["Authorization"] == expected


def test_our_signer_sends_what_api_md_requires() -> None:
    request = prepared("POST", "https://vbs.example.com:8443/v2/p/x", [], b"{}")
    AkSkAuth("AK", Secret("SK"), OWN, Secret("tmp"), clock=lambda: FIXED)(request)
    assert request.headers["X-Sdk-Date"] == "20261127T010203Z"
    assert request.headers["Host"] == "vbs.example.com:8443"
    assert request.headers["X-Project-Id"] == OWN
    assert request.headers["X-Security-Token"] == "tmp"
    assert (
        "SignedHeaders=content-type;host;x-project-id;x-sdk-date;x-security-token,"
        in (request.headers["Authorization"])
    )


# -- the emulator verifies signatures ------------------------------------------------------------
def signed_by_official(url: str, method: str, body: bytes | None, ak: str, sk: str) -> Any:
    """A request signed by the official SDK alone, ready to send with requests."""
    from huaweicloudsdkcore.auth.credentials import Credentials
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer.signer import Signer

    parts = urlsplit(url)
    from urllib.parse import parse_qsl

    headers = {"X-Project-Id": OWN}
    if body:
        headers["Content-Type"] = "application/json"
    sdk_request = SdkRequest(
        method=method,
        schema=parts.scheme,
        host=parts.netloc,
        resource_path=parts.path,
        query_params=parse_qsl(parts.query),
        header_params=headers,
        body=body or "",
    )
    return Signer(Credentials(ak, sk)).sign(sdk_request)


def send(emulator: RunningEmulator, sdk_request: Any, **change: Any) -> requests.Response:
    headers = dict(sdk_request.header_params)
    headers.update(change.get("headers", {}))
    path = change.get("path", sdk_request.resource_path)
    query = change.get("query", sdk_request.uri.partition("?")[2])
    body = change.get("body", sdk_request.body or None)
    url = f"{emulator.url}{path}" + (f"?{query}" if query else "")
    return requests.request(sdk_request.method, url, headers=headers, data=body, timeout=5)


@pytest.fixture
def official_get(emulator: RunningEmulator) -> Any:
    base = f"{emulator.url}/v2/{OWN}/os-vendor-backup-sharing/detail?limit=5&name=db"
    return signed_by_official(base, "GET", None, *DEFAULT_AKSK)


def test_emulator_accepts_the_official_signer(emulator: RunningEmulator, official_get: Any) -> None:
    assert send(emulator, official_get).status_code == 200
    url = f"{emulator.url}/v2/{OWN}/os-vendor-backup-sharing"
    body = json.dumps({"shared": {"backup_id": BACKUP, "to_project_ids": [P1]}}).encode()
    assert send(emulator, signed_by_official(url, "POST", body, *DEFAULT_AKSK)).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"path": f"/v2/{OWN}/os-vendor-backup-sharing/detaiL"},
        {"query": "limit=6&name=db"},
        {"query": "limit=5&name=dc"},
        {"headers": {"X-Sdk-Date": "20261127T010204Z"}},
        {"headers": {"X-Project-Id": OWN[:-1] + "0"}},
        {"body": b"x"},
    ],
)
def test_emulator_rejects_any_one_character_change(
    emulator: RunningEmulator, official_get: Any, change: dict[str, Any]
) -> None:
    response = send(emulator, official_get, **change)
    assert response.status_code == 401, response.text
    assert response.json()["error_code"] == "APIG.0303"


def test_emulator_rejects_a_changed_signature_and_unknown_key(
    emulator: RunningEmulator, official_get: Any
) -> None:
    auth = official_get.header_params["Authorization"]
    flipped = auth[:-1] + ("0" if auth[-1] != "0" else "1")
    response = send(emulator, official_get, headers={"Authorization": flipped})
    assert response.status_code == 401 and response.json()["error_code"] == "APIG.0303"
    unknown = auth.replace(DEFAULT_AKSK[0], "UNKNOWNKEY")
    response = send(emulator, official_get, headers={"Authorization": unknown})
    assert response.json()["error_code"] == "APIG.0301"


@pytest.mark.parametrize("minutes", [16, -16])
def test_emulator_rejects_dates_outside_15_minutes(emulator: RunningEmulator, minutes: int) -> None:
    api = Vbs.connect(
        token_settings(
            emulator.url,
            auth=AuthSettings(
                "aksk", access_key=DEFAULT_AKSK[0], secret_key=Secret(DEFAULT_AKSK[1])
            ),
            retries=3,
        ),
        clock=lambda: datetime.now(timezone.utc) + timedelta(minutes=minutes),
    )
    with pytest.raises(AuthError) as caught:
        api.count(ListQuery())
    assert caught.value.code == "APIG.0303" and "clock" in (caught.value.hint or "")
    assert len(emulator.logged("GET")) == 1  # a 401 is never retried (key lockout)


def test_aksk_and_temporary_keys_end_to_end(emulator: RunningEmulator) -> None:
    aksk = AuthSettings("aksk", access_key=DEFAULT_AKSK[0], secret_key=Secret(DEFAULT_AKSK[1]))
    api = Vbs.connect(token_settings(emulator.url, auth=aksk))
    assert api.share(BACKUP, [P1])[0].to_project_id == P1
    assert api.count(ListQuery()) == 1
    # temporary credentials from IAM, then signed requests that carry the security token
    temp = requests.post(
        f"{emulator.url}/v3.0/OS-CREDENTIAL/securitytokens",
        json={"auth": {"identity": {"methods": ["token"], "token": {"duration_seconds": 900}}}},
        headers={"X-Auth-Token": "emulator-token"},
        timeout=5,
    ).json()["credential"]
    temporary = AuthSettings(
        "aksk",
        access_key=temp["access"],
        secret_key=Secret(temp["secret"]),
        security_token=Secret(temp["securitytoken"]),
    )
    assert Vbs.connect(token_settings(emulator.url, auth=temporary)).count(ListQuery()) == 1
    without = AuthSettings("aksk", access_key=temp["access"], secret_key=Secret(temp["secret"]))
    with pytest.raises(AuthError):
        Vbs.connect(token_settings(emulator.url, auth=without)).count(ListQuery())


# -- password login ------------------------------------------------------------------------------
def password_settings(url: str, cache: Path | None, **overrides: Any) -> Any:
    auth = AuthSettings(
        "password",
        username=DEFAULT_USER[0],
        password=Secret(overrides.pop("password", DEFAULT_USER[1])),
        domain="acme",
        iam_endpoint=url,
    )
    return token_settings(url, auth=auth, cache_dir=cache, **overrides)


def logins(emulator: RunningEmulator) -> int:
    return len(emulator.logged("POST", "/v3/auth/tokens"))


def test_password_token_is_cached_and_reused(emulator: RunningEmulator, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for _ in range(3):  # three "processes": a new client each time
        with Vbs.connect(password_settings(emulator.url, cache)) as api:
            api.count(ListQuery())
    assert logins(emulator) == 1
    [cached] = list(cache.iterdir())
    assert stat.S_IMODE(cached.stat().st_mode) == 0o600
    text = cached.read_text()
    assert DEFAULT_USER[1] not in text  # never the password
    sent = emulator.logged("POST", "/v3/auth/tokens")[0]
    body = json.loads(sent["body"])
    assert body["auth"]["scope"] == {"project": {"id": OWN}}
    assert body["auth"]["identity"]["password"]["user"]["domain"] == {"name": "acme"}


def test_token_near_expiry_is_fetched_again(make_emulator: Any, tmp_path: Path) -> None:
    running = make_emulator(token_ttl_seconds=240)  # inside the 5-minute margin
    for _ in range(2):
        with Vbs.connect(password_settings(running.url, tmp_path)) as api:
            api.count(ListQuery())
    assert logins(running) == 2


def test_a_401_relogs_once_then_reports(make_emulator: Any, tmp_path: Path) -> None:
    running = make_emulator()
    with Vbs.connect(password_settings(running.url, tmp_path)) as api:
        api.count(ListQuery())
        running.emulator.identity.tokens.clear()  # the service forgets every token
        assert api.count(ListQuery()) == 0  # one re-login, and it works
    assert logins(running) == 2
    expired = make_emulator(token_ttl_seconds=-60)  # every token it issues is already expired
    with (
        Vbs.connect(password_settings(expired.url, None)) as api,
        pytest.raises(AuthError) as caught,
    ):
        api.count(ListQuery())
    assert caught.value.code == "APIG.0307"
    assert logins(expired) == 2 and len(expired.logged("GET")) == 2


@pytest.mark.parametrize(
    "content",
    ["not json", "{}", '{"identity": {}, "token": "x", "expires_at": "2999-01-01"}', "[1]", ""],
)
def test_corrupt_or_foreign_cache_is_replaced(
    emulator: RunningEmulator, tmp_path: Path, content: str
) -> None:
    settings_ = password_settings(emulator.url, tmp_path)
    with Vbs.connect(settings_) as api:
        assert isinstance(api.http.auth, PasswordAuth)
        path = api.http.auth._cache_path()
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        api.count(ListQuery())
    assert logins(emulator) == 1
    assert json.loads(path.read_text())["identity"]["user"] == DEFAULT_USER[0]


def test_wrong_password_is_an_auth_error(emulator: RunningEmulator, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with (
        Vbs.connect(password_settings(emulator.url, cache, password="nope")) as api,
        pytest.raises(AuthError, match="IAM refused the login of user 'emulator-user'") as caught,
    ):
        api.count(ListQuery())
    assert caught.value.exit_code == 4 and caught.value.code == "IAM.0002"
    assert "nope" not in str(caught.value.to_dict())
    assert not cache.exists()  # nothing cached for a failed login


def test_secret_repr_is_masked() -> None:
    secret = Secret("hunter2")
    assert repr(secret) == str(secret) == f"{secret}" == "***"
    assert "hunter2" not in repr(AuthSettings("token", token=secret))


# -- no secret leaks through the CLI -------------------------------------------------------------
SECRETS = {
    "token": "emulator-token",
    "password": DEFAULT_USER[1],
    "aksk": DEFAULT_AKSK[1],
}


def write_profile(home: Path, url: str, method: str, *, secret: str | None = None) -> Path:
    auth = {
        "token": {"method": "token", "token_env": "T_SECRET"},
        "password": {
            "method": "password", "username": DEFAULT_USER[0], "domain": "acme",
            "password_env": "T_SECRET", "iam_endpoint": url,
        },
        "aksk": {"method": "aksk", "access_key": DEFAULT_AKSK[0], "secret_key_env": "T_SECRET"},
    }[method]  # fmt: skip
    path = home / "config.yaml"
    profile = {"endpoint": url, "project_id": OWN, "auth": auth}
    path.write_text(json.dumps({"profiles": {method: profile}}))
    os.environ["T_SECRET"] = secret or SECRETS[method]
    return path


@pytest.mark.parametrize("method", ["token", "password", "aksk"])
@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["list-shares"], 0),
        (["share", BACKUP, P1], 0),
        (["-o", "json", "show", "00000000-0000-4000-8000-000000000000"], 5),
        (["share", "3a9e46f5-2b47-4c0e-9a1d-5f2f8c4e7b10", OWN], 2),
        (["config", "show"], 0),
        (["doctor"], 0),
    ],
)
def test_no_secret_in_any_output_even_with_debug(
    emulator: RunningEmulator,
    isolated: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    argv: list[str],
    code: int,
) -> None:
    from backupshare.cli import run

    config = write_profile(isolated, emulator.url, method)
    monkeypatch.setenv("T_SECRET", SECRETS[method])
    assert run(["--config", str(config), "-p", method, "--debug", *argv]) == code
    captured = capsys.readouterr()
    assert SECRETS[method] not in captured.out + captured.err
    if argv[0] == "list-shares":
        assert "debug: > GET" in captured.err and '"***"' in captured.err


@pytest.mark.parametrize("method", ["token", "password", "aksk"])
def test_no_secret_in_auth_failures(
    emulator: RunningEmulator,
    isolated: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    method: str,
) -> None:
    from backupshare.cli import run

    wrong = "wrong-secret-value-123"
    config = write_profile(isolated, emulator.url, method, secret=wrong)
    monkeypatch.setenv("T_SECRET", wrong)
    assert run(["--config", str(config), "-p", method, "--debug", "-o", "json", "list-shares"]) == 4
    captured = capsys.readouterr()
    assert wrong not in captured.out + captured.err
    assert '"type": "auth"' in captured.err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T01:42:57.527000Z", datetime(2026, 11, 28, 1, 42, 57, 527000, timezone.utc)),
        ("2026-11-28T01:42:57Z", datetime(2026, 11, 28, 1, 42, 57, tzinfo=timezone.utc)),
        ("2026-11-28T01:42:57.5Z", datetime(2026, 11, 28, 1, 42, 57, 500000, timezone.utc)),
        ("2026-11-28T01:42:57.123456789Z", datetime(2026, 11, 28, 1, 42, 57, 123456, timezone.utc)),
        ("2026-11-28T02:42:57+01:00", datetime(2026, 11, 28, 1, 42, 57, tzinfo=timezone.utc)),
        ("2026-11-28T01:42:57", datetime(2026, 11, 28, 1, 42, 57, tzinfo=timezone.utc)),
    ],
)
def test_iam_expiry_formats(text: str, expected: datetime) -> None:
    from backupshare.auth import parse_expiry

    assert parse_expiry(text) == expected


@pytest.mark.parametrize("text", [None, 5, "", "tomorrow", "2026-11-28"])
def test_unreadable_iam_expiry(text: Any) -> None:
    from backupshare.auth import parse_expiry

    with pytest.raises(ValueError):
        parse_expiry(text)
