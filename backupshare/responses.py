"""What the service's answers say beyond their data: its error bodies (three shapes), request
ids, which of our errors a status and code mean (with a hint), Retry-After, and what the debug
log may show of a request (secrets redacted). Pure: no HTTP (client.py sends and receives).
"""

from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from typing import Any

from .auth import utc_now
from .errors import (
    SERVICE_CODES,
    AuthError,
    BackupshareError,
    NotFoundError,
    RejectedError,
    UnavailableError,
)

REQUEST_ID_HEADERS = ("X-Request-Id", "X-Openstack-Request-Id", "X-Compute-Request-Id")
SENSITIVE_HEADERS = frozenset(
    {"x-auth-token", "authorization", "x-security-token", "x-subject-token", "proxy-authorization"}
)
SENSITIVE_FIELDS = frozenset({"password", "secret", "secret_key", "securitytoken", "access"})


def decode_json(raw: bytes) -> Any:
    """The decoded body; nesting too deep to decode is an unreadable answer (ValueError)."""
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def request_ids(headers: Any, body: Any = None) -> tuple[str, ...]:
    ids = [headers[name] for name in REQUEST_ID_HEADERS if headers.get(name)]
    if isinstance(body, dict) and isinstance(body.get("request_id"), str):
        ids.append(body["request_id"])
    return tuple(dict.fromkeys(ids))


def extract_error(body: Any, depth: int = 1) -> tuple[str | None, str | None]:
    """(code, message) from any of the three error shapes, one level of nesting deep."""
    if not isinstance(body, dict):
        return None, None
    for code_key, message_key in (("error_code", "error_msg"), ("code", "message")):
        if code_key in body or message_key in body:
            code, message = body.get(code_key), body.get(message_key)
            return (
                str(code) if code is not None else None,
                str(message) if message is not None else None,
            )
    if depth == 0:
        return None, None
    for value in body.values():
        if isinstance(value, dict):
            code, message = extract_error(value, depth - 1)
            if code is not None or message is not None:
                return code, message
    return None, None


def error_from_response(
    status: int, headers: Any, raw: bytes, *, url: str = ""
) -> BackupshareError:
    """Our exception for a non-2xx answer, whatever shape (or no shape) its body has."""
    try:
        body: Any = decode_json(raw) if raw.strip() else None
    except (UnicodeDecodeError, ValueError):
        body = None
    code, message = extract_error(body)
    if not message:
        shown = snippet(raw) if body is None else ""
        message = shown or _reason_phrase(status)
    ids = request_ids(headers, body)
    kind, hint = _classify(status, code)
    return _refined(kind, code)(message, hint=hint, status=status, code=code, request_ids=ids)


def _refined(kind: type[BackupshareError], code: str | None) -> type[BackupshareError]:
    """The class the service's code names (errors.SERVICE_CODES), when it is a kind of the
    status's class: a code answered with a surprising status is judged by the status."""
    named = SERVICE_CODES.get(code or "")
    return named if named is not None and issubclass(named, kind) else kind


_AUTH_HINTS = {
    "APIG.0301": "the credentials are wrong; check the profile's token, user or keys",
    "APIG.0303": "the AK/SK signature was refused: check access_key/secret_key and the clock "
    "(dates more than 15 min off are rejected); the key locks after 5 failures",
    "APIG.0307": "the token has expired; get a new one",
    "APIG.0302": "these credentials are not allowed to do this; ask for VBS permissions",
}


def _classify(status: int, code: str | None) -> tuple[type[BackupshareError], str | None]:
    if status in (401, 403):
        default = (
            "check the profile's credentials (`backupshare doctor`)"
            if status == 401
            else "these credentials lack permission for this project or action"
        )
        return AuthError, _AUTH_HINTS.get(code or "", default)
    if status == 404:
        return NotFoundError, "check the id and the profile's project"
    if status == 429:
        return UnavailableError, "the service is throttling requests; retry later"
    if status >= 500:
        return UnavailableError, "the service failed; retry later"
    return RejectedError, None


def _reason_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def snippet(raw: bytes, limit: int = 120) -> str:
    text = raw.decode("utf-8", "replace")
    if "<" in text and ">" in text:
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
        text = title.group(1) if title else re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - utc_now()).total_seconds())


def redact_headers(headers: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k.lower() in SENSITIVE_HEADERS else v) for k, v in headers.items()}


def redact_body(body: Any) -> Any:
    if isinstance(body, dict):
        return {
            k: ("***" if k.lower() in SENSITIVE_FIELDS else redact_body(v)) for k, v in body.items()
        }
    if isinstance(body, list):
        return [redact_body(item) for item in body]
    return body
