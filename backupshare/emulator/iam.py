"""Who may call the emulator: tokens it issued or was given, IAM users, and AK/SK signatures.

Tokens are scoped to one project, as IAM's are. An access key is as IAM's: it belongs to a user,
not a project, so the own user's keys (`--aksk`) sign for every project the emulator serves (two
projects of one account, the common prod -> DR case), the project being the one the request
names; a key given for one project (`--credential PROJECT:aksk:…`, a temporary key) stays bound
to it. Signatures are checked by signature.py, the emulator's own reading of docs/wire.md's
algorithm (proved against the official signer in the tests).
"""

from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from .routing import Answer, Call, Rejected, allow, json_body
from .signature import SDK_DATE_FORMAT, parse_authorization, signature_matches

SIGNATURE_WINDOW = timedelta(minutes=15)
# The project a VBS or CBR path names: /v2/{project_id}/… or /v3/{project_id}/…
PATH_PROJECT = re.compile(r"^/v[23]/([0-9a-f]{32})(?:/|$)")


class HoldsIdentity(Protocol):
    """What IAM's routes need of the emulator (core.Emulator, which imports this module)."""

    identity: Identity


def route(emulator: HoldsIdentity, call: Call) -> Answer | None:
    """IAM's two calls: a password login (201 + X-Subject-Token) and temporary AK/SK."""
    identity = emulator.identity
    if call.path in ("/v3/auth/tokens", "/v3/auth/tokens/"):
        allow(call.method, "POST")
        token, record = identity.login(json_body(call.body, _invalid_json))
        return Answer(201, record, {"X-Subject-Token": token})
    if call.path.rstrip("/") == "/v3.0/OS-CREDENTIAL/securitytokens":
        allow(call.method, "POST")
        caller = call.authenticate()
        return Answer(201, identity.temporary_key(caller, json_body(call.body, _invalid_json)))
    return None


def _invalid_json() -> Rejected:
    return Rejected(400, "IAM.0011", "Request body is not valid JSON.")


def iam_time(moment: datetime | None) -> str | None:
    """IAM's timestamps: `2026-11-28T01:42:57.527000Z`."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None


def unauthorized(code: str, message: str) -> Rejected:
    return Rejected(401, code, message)


@dataclass
class Credential:
    """An AK/SK pair; temporary ones also need their security token."""

    secret_key: str
    project_id: str | None  # None: a user's key, good for every project served
    security_token: str | None = None
    expires_at: datetime | None = None


@dataclass
class Identity:
    """Every credential the emulator accepts, each bound to a project, and the clock it judges
    them by. `project_id` is the project a credential belongs to when none is named."""

    project_id: str
    token_ttl: timedelta = timedelta(hours=24)
    clock_skew: timedelta = timedelta(0)
    tokens: dict[str, tuple[str, datetime | None]] = field(default_factory=dict)
    users: dict[str, tuple[str, str]] = field(default_factory=dict)  # name: (password, project)
    keys: dict[str, Credential] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.clock_skew

    def add_token(self, token: str, project_id: str | None = None) -> None:
        with self._lock:
            self.tokens[token] = (project_id or self.project_id, None)

    def add_user(self, name: str, password: str, project_id: str | None = None) -> None:
        with self._lock:
            self.users[name] = (password, project_id or self.project_id)

    def add_key(self, access_key: str, secret_key: str, project_id: str | None = None) -> None:
        """A key bound to `project_id`; None: a key of the user, good for every served project."""
        with self._lock:
            self.keys[access_key] = Credential(secret_key, project_id)

    def projects(self) -> list[str]:
        """Every project some credential belongs to, the default one first."""
        with self._lock:
            owners = [project for project, _ in self.tokens.values()]
            owners += [project for _, project in self.users.values()]
            owners += [
                key.project_id
                for key in self.keys.values()
                if key.security_token is None and key.project_id is not None
            ]
        return list(dict.fromkeys([self.project_id, *owners]))

    # -- IAM -------------------------------------------------------------------------------------
    def login(self, body: Any) -> tuple[str, dict[str, Any]]:
        """POST /v3/auth/tokens: a new token scoped to the user's project, and IAM's body."""
        try:
            identity = body["auth"]["identity"]
            user = identity["password"]["user"]
            name, password = user["name"], user["password"]
            domain = user["domain"]["name"]
            scope = body["auth"].get("scope", {}).get("project", {})
        except (KeyError, TypeError, AttributeError):
            raise Rejected(400, "IAM.0011", "Request body is invalid.") from None
        if "password" not in identity.get("methods", []):
            raise Rejected(400, "IAM.0011", "Request body is invalid: unsupported method.")
        with self._lock:
            known = self.users.get(name) if isinstance(name, str) else None
        if known is None or not isinstance(password, str) or known[0] != password:
            raise unauthorized("IAM.0002", "The username or password is incorrect.")
        user_project = known[1]
        project_id = scope.get("id") if isinstance(scope, dict) else None
        if project_id is not None and project_id != user_project:
            raise Rejected(403, "IAM.0004", f"No permission on project {project_id}.")
        token = "emu-" + secrets.token_urlsafe(32)
        expires = self.now() + self.token_ttl
        with self._lock:
            self.tokens[token] = (user_project, expires)
        record = {
            "token": {
                "expires_at": iam_time(expires),
                "issued_at": iam_time(self.now()),
                "methods": ["password"],
                "project": {"id": user_project, "name": "emulator"},
                "user": {"name": name, "domain": {"name": domain}},
            }
        }
        return token, record

    def temporary_key(self, token_project: str, body: Any) -> dict[str, Any]:
        """POST /v3.0/OS-CREDENTIAL/securitytokens: a temporary AK/SK with a security token."""
        try:
            duration = int(body["auth"]["identity"]["token"].get("duration_seconds", 900))
        except (KeyError, TypeError, AttributeError, ValueError):
            raise Rejected(400, "IAM.0011", "Request body is invalid.") from None
        if not 900 <= duration <= 86400:
            raise Rejected(400, "IAM.0011", "duration_seconds must be 900 to 86400.")
        access = "TMP" + secrets.token_hex(8).upper()
        credential = Credential(
            secret_key=secrets.token_urlsafe(30),
            project_id=token_project,
            security_token=secrets.token_urlsafe(48),
            expires_at=self.now() + timedelta(seconds=duration),
        )
        with self._lock:
            self.keys[access] = credential
        return {
            "credential": {
                "access": access,
                "secret": credential.secret_key,
                "securitytoken": credential.security_token,
                "expires_at": iam_time(credential.expires_at),
            }
        }

    # -- verifying requests ----------------------------------------------------------------------
    def authenticate(self, method: str, path: str, query: str, headers: Any, body: bytes) -> str:
        """The caller's project, or Rejected(401) in the gateway's terms."""
        authorization = headers.get("Authorization")
        if authorization:
            return self._verify_signature(authorization, method, path, query, headers, body)
        token = headers.get("X-Auth-Token")
        if not token:
            raise unauthorized("APIG.0301", "Incorrect IAM authentication information: no token.")
        with self._lock:
            entry = self.tokens.get(token)
        if entry is None:
            raise unauthorized("APIG.0301", "Incorrect IAM authentication information.")
        project_id, expires = entry
        if expires is not None and expires <= self.now():
            raise unauthorized("APIG.0307", "The token must be updated.")
        return project_id

    def _verify_signature(
        self, authorization: str, method: str, path: str, query: str, headers: Any, body: bytes
    ) -> str:
        parsed = parse_authorization(authorization)
        if parsed is None:
            raise unauthorized("APIG.0303", "Incorrect app authentication information.")
        with self._lock:
            credential = self.keys.get(parsed.access_key)
        if credential is None:
            raise unauthorized("APIG.0301", "Incorrect IAM authentication information: AK.")
        signed = list(parsed.signed_headers)
        if "x-sdk-date" not in signed or "host" not in signed or signed != sorted(signed):
            raise unauthorized("APIG.0303", "Incorrect app authentication information.")
        lowered = {name.lower(): value for name, value in headers.items()}
        if any(name not in lowered for name in signed):
            raise unauthorized("APIG.0303", "Incorrect app authentication information.")
        self._check_date(lowered["x-sdk-date"])
        if not signature_matches(credential.secret_key, parsed, method, path, query, lowered, body):
            raise unauthorized("APIG.0303", "Incorrect app authentication information.")
        if credential.security_token is not None:
            if "x-security-token" not in signed or (
                lowered.get("x-security-token") != credential.security_token
            ):
                raise unauthorized("APIG.0301", "Incorrect IAM authentication information.")
            if credential.expires_at is not None and credential.expires_at <= self.now():
                raise unauthorized("APIG.0307", "The token must be updated.")
        if credential.project_id is None:
            return self._named_project(path, lowered.get("x-project-id"))
        return credential.project_id

    def _named_project(self, path: str, header: str | None) -> str:
        """The project a user's key acts in: the one X-Project-Id names (the official SDKs send
        it), else the path's; one the emulator does not serve is left to the path's check (403)
        by answering the own project."""
        match = PATH_PROJECT.match(path)
        named = header.strip() if header else (match[1] if match else None)
        if named is not None and named in self.projects():
            return named
        return self.project_id

    def _check_date(self, sdk_date: str) -> None:
        try:
            when = datetime.strptime(sdk_date, SDK_DATE_FORMAT).replace(tzinfo=timezone.utc)
        except ValueError:
            raise unauthorized("APIG.0303", "Incorrect app authentication information.") from None
        if abs(self.now() - when) > SIGNATURE_WINDOW:
            raise unauthorized(
                "APIG.0303", "Incorrect app authentication information: signature expired."
            )
