"""What a route module gets and gives: one received request, one answer, one refusal.

The HTTP plumbing (server.py) reads the request, and the route modules (iam.py, vbs.py, cbr.py)
decide the answer, each spelling its own paths, fields and error codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl


class Rejected(Exception):
    """A request the service refuses; `status` and `code` say how (the code's prefix also says
    in which body shape: `APIG.`/`IAM.` the gateway's, `BackupService.` CBR's, else VBS's)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Answer:
    """A status, a JSON payload (None: no body) and extra headers."""

    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """One received request, as a route module sees it."""

    method: str
    path: str
    query: str  # raw, as received: the signature covers it
    headers: Message[str, str]  # case-insensitive
    body: bytes
    base_url: str  # scheme://host[:port] the caller used, for links in answers
    # Who sent it: the project its credentials belong to (raises Rejected 401 if none).
    authenticate: Callable[[], str]

    @property
    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        """The first value of a query parameter; None when absent."""
        return next((value for key, value in self.params if key == name), None)

    def values(self, name: str) -> list[str]:
        """Every value of a repeatable query parameter."""
        return [value for key, value in self.params if key == name]

    def caller_for(self, project_id: str) -> str:
        """The caller, who must hold credentials of the project in the path (the gateway's
        check: a token or key of one project does not open another's URLs)."""
        caller = self.authenticate()
        if project_id != caller:
            raise Rejected(
                403, "APIG.0302", "The project in the URL does not match the credentials."
            )
        return caller


def allow(method: str, *allowed: str) -> None:
    """405 in the gateway's terms unless `method` is one of `allowed`."""
    if method not in allowed:
        raise Rejected(405, "APIG.0202", f"Method {method} is not allowed here.")


def json_body(body: bytes, invalid: Callable[[], Rejected]) -> Any:
    """The body as JSON, or the service's own refusal (`invalid()`) when it is not."""
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise invalid() from None
