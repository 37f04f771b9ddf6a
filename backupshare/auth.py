"""Credentials on the wire: token, IAM password login with a token cache, and AK/SK signing.

Each method is a callable that requests accepts as `auth=`: it gets the prepared request and adds
headers. This module does not import requests itself, so the emulator can verify signatures with
the very same canonical-request code the client signs with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .private_files import private_dir, read_private, replace_privately

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
# What the signer covers: never a header a proxy may rewrite, always what docs/wire.md requires.
SIGNED_HEADERS = frozenset(
    {"host", "x-sdk-date", "content-type", "x-project-id", "x-security-token"}
)
# A cached token is dropped this long before it expires, so no request races its expiry.
TOKEN_EXPIRY_MARGIN = timedelta(minutes=5)
MAX_CACHE_BYTES = 64 * 1024  # a cached token record is well under 1 KiB

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class PreparedLike(Protocol):
    """What the auth objects need of a `requests.PreparedRequest`."""

    method: str | None
    url: str | None
    headers: Any
    body: Any


# -- SDK-HMAC-SHA256 ---------------------------------------------------------------------------
def _encode(text: str) -> str:
    # Unreserved characters stay; everything else becomes %XX in upper case (space is %20).
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in sorted(pairs))


def body_sha256(body: bytes | str | None) -> str:
    if not body:
        return EMPTY_BODY_SHA256
    data = body.encode("utf-8") if isinstance(body, str) else body
    return hashlib.sha256(data).hexdigest()


def canonical_request(
    method: str,
    path: str,
    query_pairs: Iterable[tuple[str, str]],
    headers: dict[str, str],
    signed_headers: list[str],
    body: bytes | str | None,
) -> str:
    """The six lines of the canonical request (docs/wire.md); `headers` keyed by lower-case name."""
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query_pairs),
            canonical_headers,
            ";".join(signed_headers),
            body_sha256(body),
        ]
    )


def signature(secret_key: str, sdk_date: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{sdk_date}\n{digest}"
    return hmac.new(
        secret_key.encode("utf-8"), string_to_sign.encode("utf-8"), "sha256"
    ).hexdigest()


def host_header(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets in the Host header
        host = f"[{host}]"
    default_port = 443 if parts.scheme == "https" else 80
    return f"{host}:{parts.port}" if parts.port and parts.port != default_port else host


class Secret:
    """A credential whose str and repr are `***`; only the header writers call `reveal`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# The three request signers are plain classes, not dataclasses: every command defines them at
# start-up (a dataclass costs ≈ 0.4 ms to define on Python 3.11), and none is compared or copied.
class AkSkAuth:
    """Signs every request with SDK-HMAC-SHA256 (temporary keys add X-Security-Token)."""

    __slots__ = ("access_key", "clock", "project_id", "secret_key", "security_token")

    def __init__(
        self,
        access_key: str,
        secret_key: Secret,
        project_id: str,
        security_token: Secret | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.access_key, self.secret_key, self.project_id = access_key, secret_key, project_id
        self.security_token, self.clock = security_token, clock

    def __call__(self, request: PreparedLike) -> PreparedLike:
        url = request.url or ""
        headers = request.headers
        headers["X-Sdk-Date"] = self.clock().strftime(DATE_FORMAT)
        headers["Host"] = host_header(url)
        headers["X-Project-Id"] = self.project_id
        if self.security_token is not None:
            headers["X-Security-Token"] = self.security_token.reveal()
        if not request.body:
            headers.pop("Content-Type", None)
        signed = sorted(name.lower() for name in headers if name.lower() in SIGNED_HEADERS)
        lowered = {name.lower(): str(value) for name, value in headers.items()}
        parts = urlsplit(url)
        canonical = canonical_request(
            request.method or "GET",
            parts.path or "/",
            parse_qsl(parts.query, keep_blank_values=True),
            lowered,
            signed,
            request.body,
        )
        sig = signature(self.secret_key.reveal(), headers["X-Sdk-Date"], canonical)
        headers["Authorization"] = (
            f"{ALGORITHM} Access={self.access_key}, SignedHeaders={';'.join(signed)}, "
            f"Signature={sig}"
        )
        return request


# -- token and password --------------------------------------------------------------------------
class TokenAuth:
    """A token the user already holds, sent as X-Auth-Token."""

    __slots__ = ("token",)

    def __init__(self, token: Secret) -> None:
        self.token = token

    def __call__(self, request: PreparedLike) -> PreparedLike:
        request.headers["X-Auth-Token"] = self.token.reveal()
        return request


class IssuedToken(NamedTuple):  # not a frozen dataclass: a fifth of its cost at import
    value: Secret
    expires_at: datetime


# Called with the IAM login body; returns the token IAM issued (the client does the HTTP).
TokenFetcher = Callable[[dict[str, Any]], IssuedToken]


class PasswordAuth:
    """A project-scoped token from IAM, cached on disk until shortly before it expires."""

    def __init__(
        self,
        iam_endpoint: str,
        domain: str,
        username: str,
        password: Secret,
        project_id: str,
        fetch: TokenFetcher,
        cache_dir: Path | None,
        clock: Clock = utc_now,
        _token: IssuedToken | None = None,
    ) -> None:
        self.iam_endpoint, self.domain, self.username = iam_endpoint, domain, username
        self.password, self.project_id, self.fetch = password, project_id, fetch
        self.cache_dir, self.clock = cache_dir, clock
        self._token = _token
        # One login at a time: a Client shared by many threads fetches one token on first use,
        # the others wait for it (IAM rate-limits logins, and each one is a password sent).
        self._login_lock = threading.Lock()

    def __call__(self, request: PreparedLike) -> PreparedLike:
        request.headers["X-Auth-Token"] = self.current().value.reveal()
        return request

    def current(self) -> IssuedToken:
        # A token IAM just gave this process is used until the service refuses it (then one
        # re-login); the expiry margin guards tokens from the cache, which may be hours old.
        token = self._token
        if token is not None:
            return token
        with self._login_lock:
            if self._token is None:  # not fetched by a thread that held the lock before us
                cached = self._read_cache()
                self._token = cached if cached and self._fresh(cached) else self._login()
            return self._token

    def renew(self) -> None:
        """Forget the token (the service refused it) and log in again on the next request."""
        with self._login_lock:
            self._token = self._login()

    def _fresh(self, token: IssuedToken) -> bool:
        return token.expires_at - TOKEN_EXPIRY_MARGIN > self.clock()

    def _login(self) -> IssuedToken:
        body = login_body(self.username, self.password.reveal(), self.domain, self.project_id)
        token = self.fetch(body)
        self._write_cache(token)
        return token

    # The cache key names whose token it is; a file for someone else is ignored, not trusted.
    def _cache_identity(self) -> dict[str, str]:
        return {
            "iam_endpoint": self.iam_endpoint,
            "domain": self.domain,
            "user": self.username,
            "project_id": self.project_id,
        }

    def _cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        key = json.dumps(self._cache_identity(), sort_keys=True).encode()
        return self.cache_dir / f"token-{hashlib.sha256(key).hexdigest()[:32]}.json"

    def _read_cache(self) -> IssuedToken | None:
        path = self._cache_path()
        if path is None or not private_dir(path.parent):
            return None
        try:
            data = json.loads(read_private(path, MAX_CACHE_BYTES))
            if data.get("identity") != self._cache_identity():
                return None
            expires = datetime.fromisoformat(data["expires_at"])
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=timezone.utc)
            token = data["token"]
            if not isinstance(token, str) or not token:
                return None
            return IssuedToken(Secret(token), expires)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None  # missing, corrupt, foreign or unsafe: log in again and replace it

    def _write_cache(self, token: IssuedToken) -> None:
        path = self._cache_path()
        if path is None:
            return
        record = {
            "identity": self._cache_identity(),
            "token": token.value.reveal(),
            "expires_at": token.expires_at.isoformat(),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not private_dir(path.parent):
                return  # someone else could read or swap it: no cache rather than a leak
            replace_privately(path, json.dumps(record), prefix=".token-")
        except OSError:
            pass  # a cache we cannot write only costs a login next time


TOKEN_FILES = ("token-*.json", ".token-*")  # cached tokens, and a write cut short


def forget_tokens(cache_dir: Path) -> int:
    """Deletes every cached IAM token (the next command logs in again); how many there were."""
    removed = 0
    for pattern in TOKEN_FILES:
        for path in cache_dir.glob(pattern):
            if path.is_symlink() or path.is_file():  # a link is removed, never followed
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def login_body(username: str, password: str, domain: str, project_id: str | None) -> dict[str, Any]:
    """IAM's password login, scoped to one project (docs/wire.md)."""
    auth: dict[str, Any] = {
        "identity": {
            "methods": ["password"],
            "password": {
                "user": {"name": username, "password": password, "domain": {"name": domain}}
            },
        }
    }
    if project_id is not None:
        auth["scope"] = {"project": {"id": project_id}}
    return {"auth": auth}


# Text, not a compiled pattern: only a password login reads an expiry (`re` compiles it then).
EXPIRY_PATTERN = r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$"


def parse_expiry(text: Any) -> datetime:
    """IAM's `expires_at` (`2026-11-28T01:42:57.527000Z`) as an aware datetime; any number of
    fraction digits and `Z` or an offset (Python 3.10's fromisoformat takes neither)."""
    match = re.match(EXPIRY_PATTERN, text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"unreadable expires_at {text!r}")
    whole, fraction, zone = match.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    offset = "+00:00" if zone in (None, "Z") else zone[:3] + ":" + zone[-2:]
    return datetime.fromisoformat(f"{whole}.{micro}{offset}")
