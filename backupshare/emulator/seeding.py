"""Backups to seed, as a person writes them: `--backup ID[:STATUS][:KEY=VALUE]...` on the command
line, or a JSON object for `POST /_emulator/seed`.

Keys: `name`, `volume` (a UUID), `created` (ISO-8601; UTC unless it says otherwise), `size` (GB),
`available-after` (seconds: the backup is `creating`, or the status given, until then) and
`project` (the owner, when not the emulator's own project).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from .formats import lenient_project_id, lenient_uuid
from .store import BackupSeed

# The backup statuses VBS writes (docs/wire.md "Backups"); CBR's words are derived from these.
SEED_STATUSES = ("available", "creating", "error", "restoring", "deleting", "error_restoring")
SEED_KEYS = ("name", "volume", "created", "size", "available-after", "project")
# A `:` that starts the next KEY=VALUE: a time's own colons (`10:00:00`) are not followed by one.
FIELD_SEPARATOR = re.compile(r":(?=[a-z][a-z_-]*=)")


def parse_backup_option(text: str, project_id: str, default_name: str) -> BackupSeed:
    """One `--backup` value; ValueError names what is wrong."""
    backup_id, _, rest = text.partition(":")
    fields = FIELD_SEPARATOR.split(rest) if rest else []
    status = "available"
    if fields and "=" not in fields[0]:
        status = fields.pop(0)
    values: dict[str, Any] = {"id": backup_id, "status": status}
    for item in fields:  # each holds a `=`: the separator splits only before one
        key, _, value = item.partition("=")
        values[key] = value
    return backup_from_spec(values, project_id, default_name)


def backup_from_spec(spec: Any, project_id: str, default_name: str) -> BackupSeed:
    """A backup from `{"id", "status", "name", "volume", "created", "size", "available-after",
    "project"}` (only `id` required; `volume_id`, `created_at`, `available_after`, `project_id`
    are accepted as spellings too); ValueError names what is wrong."""
    if not isinstance(spec, dict):
        raise ValueError("a backup is an object with at least an 'id'")
    spec = {_key(key): value for key, value in spec.items()}
    unknown = sorted(set(spec) - {"id", "status", *SEED_KEYS})
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (known: {', '.join(SEED_KEYS)})")
    backup_id = _text(spec.get("id"), "id")
    canonical = lenient_uuid(backup_id)
    if canonical is None:
        raise ValueError(f"{backup_id!r} is not a backup id (a UUID)")
    status = _text(spec.get("status", "available"), "status")
    if status not in SEED_STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(SEED_STATUSES)}")
    return BackupSeed(
        canonical,
        _project(spec.get("project"), project_id),
        _text(spec.get("name", default_name), "name"),
        status=status,
        size=_size(spec.get("size", 10)),
        volume_id=_volume(spec.get("volume")),
        created_at=_created(spec.get("created")),
        available_after=_seconds(spec.get("available-after")),
    )


def _key(key: str) -> str:
    aliases = {
        "volume_id": "volume",
        "created_at": "created",
        "available_after": "available-after",
        "project_id": "project",
    }
    return aliases.get(key, key)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty text, got {value!r}")
    return value


def _project(value: Any, default: str) -> str:
    if value is None:
        return default
    project = lenient_project_id(_text(value, "project"))
    if project is None:
        raise ValueError(f"{value!r} is not a project id (32 hex characters)")
    return project


def _size(value: Any) -> int:
    text = str(value)
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ValueError(f"size must be a whole number of GB >= 1, got {value!r}")
    return int(text)


def _volume(value: Any) -> str | None:
    if value is None:
        return None
    volume = lenient_uuid(_text(value, "volume"))
    if volume is None:
        raise ValueError(f"{value!r} is not a volume id (a UUID)")
    return volume


def _created(value: Any) -> datetime | None:
    if value is None:
        return None
    text = _text(value, "created")
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(
            f"created must be an ISO-8601 time such as 2026-01-31T12:00:00, got {text!r}"
        ) from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(value, bool) or not 0 <= seconds <= 10**9:
        raise ValueError(f"available-after must be a number of seconds >= 0, got {value!r}")
    return seconds
