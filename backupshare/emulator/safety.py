"""Who may reach the emulator and what it shows them: loopback checks and a redacted request log.

The emulator's credentials are public test values and its admin API can inject faults and read
every request it received, so it serves this machine alone unless told otherwise, its admin API
answers loopback clients only, and the log it hands out over HTTP hides credentials unless the
caller proves it holds the admin key the emulator was started with.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
import socket
from typing import Any

REDACTED = "***"
ADMIN_KEY_HEADER = "X-Emulator-Admin-Key"
# Headers that carry a credential: a token, a signature, a temporary key's security token.
SECRET_HEADERS = frozenset(
    ("x-auth-token", "authorization", "x-security-token", "x-subject-token", "x-emulator-admin-key")
)
# Body keys whose values are credentials: user.password, secret keys, security tokens, and
# IAM's {"token": {"id": ...}}. A body that is not JSON is shown only if it names none of them.
SECRET_WORD_RE = re.compile(r"passw(or)?d|secret|token", re.IGNORECASE)


def is_loopback(address: str) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.0.0.1); False otherwise.

    Only addresses count: a name (even `localhost`) is not an address and answers False.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # a scope id (fe80::1%eth0) is not ours
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def serves_loopback_only(host: str) -> bool:
    """Whether binding `host` serves this machine alone: a loopback address, or a name all of
    whose addresses are loopback. An empty host, 0.0.0.0, any other address, or a name that does
    not resolve answers False."""
    if not host:
        return False
    if is_loopback(host):
        return True
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return False  # an address, and not a loopback one
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return False
    return bool(infos) and all(is_loopback(str(info[4][0])) for info in infos)


def admin_key_matches(given: str, configured: str | None) -> bool:
    """Whether `given` is the admin key; in constant time, and never with no key configured."""
    if not configured:
        return False
    return hmac.compare_digest(given.encode("utf-8"), configured.encode("utf-8"))


def redact_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A copy of one request-log entry with credential headers and body fields replaced by ***."""
    headers = {
        name: REDACTED if name.lower() in SECRET_HEADERS else value
        for name, value in entry.get("headers", {}).items()
    }
    return {**entry, "headers": headers, "body": redact_body(entry.get("body", ""))}


def redact_body(body: str) -> str:
    """The body with password, secret and token values replaced; JSON stays JSON.

    A body that is not JSON cannot be redacted field by field, so it is shown only when it
    mentions none of those words.
    """
    if not body:
        return body
    try:
        parsed = json.loads(body)
    except ValueError:
        return REDACTED if SECRET_WORD_RE.search(body) else body
    return json.dumps(_redact_value(parsed, secret=False))


def _redact_value(value: Any, *, secret: bool) -> Any:
    if isinstance(value, list):
        return [_redact_value(item, secret=secret) for item in value]
    if not isinstance(value, dict):
        # Numbers and booleans (duration_seconds) are no secret.
        return REDACTED if secret and isinstance(value, str) else value
    redacted: dict[str, Any] = {}
    for key, item in value.items():
        named = bool(SECRET_WORD_RE.search(str(key)))
        if isinstance(item, dict | list):
            # IAM's {"password": {"user": {...}}} is a method block that names the user (its
            # user.password is caught one level down); under any other such key, such as
            # {"token": {"id": ...}}, all text is secret.
            inherit = secret or (named and str(key).lower() != "password")
            redacted[key] = _redact_value(item, secret=inherit)
        else:
            redacted[key] = _redact_value(item, secret=secret or named)
    return redacted
