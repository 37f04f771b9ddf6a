"""The emulator is an independent oracle: its own signature check (docs/wire.md's vectors, the official
signer), and no import of the client's modules."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backupshare.emulator.signature import (
    Authorization,
    canonical_path,
    canonical_query,
    canonical_request,
    expected_signature,
    parse_authorization,
    percent_encode,
    signature_matches,
)

from .helpers import ROOT

EMULATOR = ROOT / "backupshare" / "emulator"


# -- docs/wire.md's published vectors --------------------------------------------------------------------
def test_the_signing_guide_vector() -> None:
    headers = {
        "content-type": "application/json",
        "host": "service.region.example.com",
        "x-sdk-date": "20191115T033655Z",
    }
    signed = ("content-type", "host", "x-sdk-date")
    canonical = canonical_request(
        "GET",
        "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
        "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
        headers,
        signed,
        b"",
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    assert digest == "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
    secret = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
    assert (
        expected_signature(secret, "20191115T033655Z", canonical)
        == "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
    )


def test_the_go_sdk_vector() -> None:
    headers = {"x-sdk-date": "20060102T150405Z"}
    canonical = canonical_request("GET", "/path", "limit=1", headers, ("x-sdk-date",), b"")
    assert (
        expected_signature("SecretKey", "20060102T150405Z", canonical)
        == "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
    )


@pytest.mark.parametrize(
    ("text", "encoded"),
    [("aZ09-_.~", "aZ09-_.~"), ("a b", "a%20b"), ("a+b", "a%2Bb"), ("é", "%C3%A9"), ("/", "%2F")],
)
def test_percent_encoding_keeps_only_unreserved(text: str, encoded: str) -> None:
    assert percent_encode(text) == encoded


def test_path_gets_a_trailing_slash_and_query_is_sorted() -> None:
    assert canonical_path("/v2/p/os-vendor-backup-sharing/detail") == (
        "/v2/p/os-vendor-backup-sharing/detail/"
    )
    assert canonical_path("/a%20b/") == "/a%20b/"
    assert canonical_query("b=2&a=x+y&a=1&c=") == "a=1&a=x%20y&b=2&c="


def test_authorization_header_is_parsed_strictly() -> None:
    value = "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=00ff"
    assert parse_authorization(value) == Authorization("AK", ("host", "x-sdk-date"), "00ff")
    assert parse_authorization("Basic abc") is None
    assert parse_authorization(value.replace("00ff", "00FF")) is None


# -- the official signer ---------------------------------------------------------------------------
# Dot segments are left out: HTTP clients remove them before sending, so no signer can cover them.
SEGMENT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019-_.~ :@!$&'()*+,;=éü中")), min_size=1, max_size=8
).filter(lambda segment: segment not in (".", ".."))
QUERY_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019-_.~ :@!$'()*,;/?éü中&=+#")), min_size=0, max_size=8
)
AK, SK = "AKEXAMPLE12345", "sk/with+chars=="


def officially_signed(
    method: str, path: str, params: list[tuple[str, str]], body: bytes, extra: dict[str, str]
) -> Any:
    """What a server receives from the official SDK: its signed headers, and the path and query
    as requests puts them on the wire."""
    from huaweicloudsdkcore.auth.credentials import Credentials
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer.signer import Signer

    headers = {"X-Project-Id": "c13f5220dc1949b0b741ea81a7cd5554", **extra}
    if body:
        headers["Content-Type"] = "application/json;charset=utf-8"
    sdk_request = SdkRequest(
        method=method,
        schema="https",
        host="cbr.eu-de.otc.t-systems.com:8443",
        resource_path=path,
        query_params=list(params),
        header_params=headers,
        body=body,
    )
    signed = Signer(Credentials(AK, SK)).sign(sdk_request)
    wire = requests.Request(
        method, f"https://{signed.host}{signed.uri}", headers=signed.header_params, data=body
    ).prepare()
    parts = urlsplit(wire.url)
    received = {name.lower(): str(value) for name, value in wire.headers.items()}
    return parts.path, parts.query, received


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]),
    segments=st.lists(SEGMENT, min_size=1, max_size=4),
    trailing=st.booleans(),
    params=st.lists(st.tuples(QUERY_TEXT.filter(bool), QUERY_TEXT), max_size=4),
    body=st.one_of(st.just(b""), st.binary(max_size=64), st.text(max_size=32).map(str.encode)),
    extra=st.sampled_from([{}, {"X-Security-Token": "tok+/="}, {"User-Agent": "sdk/3.0; x"}]),
)
def test_the_emulator_accepts_exactly_what_the_official_signer_signs(
    method: str,
    segments: list[str],
    trailing: bool,
    params: list[tuple[str, str]],
    body: bytes,
    extra: dict[str, str],
) -> None:
    path = "/" + "/".join(segments) + ("/" if trailing else "")
    raw_path, raw_query, headers = officially_signed(method, path, params, body, extra)
    authorization = parse_authorization(headers["authorization"])
    assert authorization is not None
    assert signature_matches(SK, authorization, method, raw_path, raw_query, headers, body)
    assert not signature_matches(
        SK + "x", authorization, method, raw_path, raw_query, headers, body
    )
    changed = {**headers, "x-sdk-date": "20000101T000000Z"}
    assert not signature_matches(SK, authorization, method, raw_path, raw_query, changed, body)
    assert not signature_matches(
        SK, authorization, method, raw_path + "x", raw_query, headers, body
    )
    assert not signature_matches(
        SK, authorization, method, raw_path, raw_query, headers, body + b"x"
    )


# -- independence ----------------------------------------------------------------------------------
def imported_modules(source: Path) -> list[str]:
    """Absolute names of what `source` (a module of backupshare/emulator) imports."""
    names = []
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names.append(node.module or "")
            else:  # relative: level 1 is backupshare.emulator, level 2 backupshare
                base = ["backupshare", "emulator"][: 3 - node.level]
                names.append(".".join([*base, node.module] if node.module else base))
    return names


def test_the_emulator_imports_nothing_of_the_client() -> None:
    """An oracle that borrowed the client's filters, statuses, id checks or signer would agree with
    the client's mistakes; the emulator spells the service's rules itself."""
    sources = sorted(EMULATOR.glob("*.py"))
    assert len(sources) > 5
    borrowed = {
        f"{source.name}: {name}"
        for source in sources
        for name in imported_modules(source)
        if name.split(".")[0] == "backupshare" and not name.startswith("backupshare.emulator")
    }
    assert borrowed == set()


def test_the_import_scan_sees_a_borrowed_module(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "from ..models import LIST_FILTERS\nfrom . import store\nimport backupshare.auth\n"
    )
    assert imported_modules(module) == [
        "backupshare.models",
        "backupshare.emulator",
        "backupshare.auth",
    ]
