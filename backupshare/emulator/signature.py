"""SDK-HMAC-SHA256 as the gateway checks it, written from docs/wire.md's six steps.

The emulator is an oracle for the client, so it does not borrow the client's signer: this is a
second implementation of the published algorithm, proved in the tests against docs/wire.md's vectors
and against the official `huaweicloudsdkcore` signer.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote

ALGORITHM = "SDK-HMAC-SHA256"
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# The official signer's marker for a body it did not hash (a non-JSON upload).
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
UNRESERVED = frozenset(string.ascii_letters + string.digits + "-_.~")
AUTHORIZATION_RE = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$"
)


@dataclass(frozen=True)
class Authorization:
    """The three parts of an `Authorization: SDK-HMAC-SHA256 …` header."""

    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> Authorization | None:
    """The header's parts, or None when it is not an SDK-HMAC-SHA256 authorization."""
    match = AUTHORIZATION_RE.match(value.strip())
    if not match:
        return None
    access, signed, given = match.groups()
    return Authorization(access, tuple(signed.split(";")), given)


def percent_encode(text: str) -> str:
    """Every UTF-8 byte outside `A-Za-z0-9-_.~` as `%XX`, upper case (space is `%20`)."""
    return "".join(
        chr(byte) if chr(byte) in UNRESERVED else f"%{byte:02X}" for byte in text.encode("utf-8")
    )


def canonical_path(raw_path: str) -> str:
    """Step 3b: decoded, split on `/`, each segment encoded, re-joined, a trailing `/` added."""
    encoded = "/".join(percent_encode(segment) for segment in unquote(raw_path).split("/"))
    return encoded if encoded.endswith("/") else encoded + "/"


def canonical_query(raw_query: str) -> str:
    """Step 3c: the decoded parameters sorted by key (then value), each side encoded."""
    pairs = sorted(parse_qsl(raw_query, keep_blank_values=True))
    return "&".join(f"{percent_encode(key)}={percent_encode(value)}" for key, value in pairs)


def header_text(value: str) -> str:
    """A header value as the signer saw it: HTTP carries bytes that http.server decodes as
    Latin-1, while a signer hashes the UTF-8 text those bytes spell."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def body_hash(body: bytes, headers: Mapping[str, str], signed: Iterable[str]) -> str:
    """Step 3f: the body's SHA-256, or the signer's UNSIGNED-PAYLOAD marker when it signed one."""
    if not body:
        return EMPTY_SHA256
    marker = headers.get("x-sdk-content-sha256")
    if marker == UNSIGNED_PAYLOAD and "x-sdk-content-sha256" in signed:
        return UNSIGNED_PAYLOAD
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    signed: tuple[str, ...],
    body: bytes,
) -> str:
    """Step 3: the six lines; `headers` keyed by lower-case name, values as received."""
    lines = "".join(f"{name}:{header_text(headers[name]).strip()}\n" for name in signed)
    return "\n".join(
        [
            method.upper(),
            canonical_path(raw_path),
            canonical_query(raw_query),
            lines,
            ";".join(signed),
            body_hash(body, headers, signed),
        ]
    )


def string_to_sign(sdk_date: str, canonical: str) -> str:
    """Step 4."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def expected_signature(secret_key: str, sdk_date: str, canonical: str) -> str:
    """Step 5: hex HMAC-SHA256 keyed with the secret key's bytes."""
    message = string_to_sign(sdk_date, canonical).encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_matches(
    secret_key: str,
    authorization: Authorization,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> bool:
    """Whether the request carries the signature that `secret_key` makes of it (constant time).

    `headers` are keyed by lower-case name and must hold every signed header."""
    canonical = canonical_request(
        method, raw_path, raw_query, headers, authorization.signed_headers, body
    )
    wanted = expected_signature(secret_key, headers["x-sdk-date"], canonical)
    return hmac.compare_digest(wanted, authorization.signature)
