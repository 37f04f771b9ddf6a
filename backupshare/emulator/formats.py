"""The id and time formats both services use, as docs/wire.md and docs/wire.md (CBR) spell them.

The emulator checks what it receives against these, not against the client's own validators,
so a client that sends a malformed id is caught here rather than agreed with.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TypeGuard

# docs/wire.md: project ids are 32 lower-case hex characters; backup, sharing and volume ids are
# dashed UUIDs.
PROJECT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Naive ISO-8601 with microseconds, UTC: `2017-08-10T12:25:40.480424`.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def is_project_id(value: object) -> TypeGuard[str]:
    """A project id exactly as the service writes one (lower case, no spaces)."""
    return isinstance(value, str) and PROJECT_ID_RE.match(value) is not None


def is_uuid(value: object) -> TypeGuard[str]:
    """A dashed UUID exactly as the service writes one (lower case, no spaces)."""
    return isinstance(value, str) and UUID_RE.match(value) is not None


def lenient_uuid(value: str) -> str | None:
    """What a person typed as a UUID (spaces, upper case), in the service's form; else None."""
    candidate = value.strip().lower()
    return candidate if is_uuid(candidate) else None


def lenient_project_id(value: str) -> str | None:
    """What a person typed as a project id, in the service's form; else None."""
    candidate = value.strip().lower()
    return candidate if is_project_id(candidate) else None


def timestamp(moment: datetime) -> str:
    """`moment` (aware, or naive meaning UTC) as the services write timestamps."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime(TIMESTAMP_FORMAT)
