"""Backup selectors: which of the project's backups a command that takes many acts on.

One type for every such command (`backups`, `list-shares` and `cancel --to-project` across the
project, `audit`, `accept --all-pending`) and for the sharings files of plan/apply:

    Selectors(volume_ids=(), vault_id=None, name=None, name_prefix=None, status=None,
              created_after=None, created_before=None)

- `Selectors.from_dict({"volume_id": …, "name_prefix": …, "created_after": "7d"}, now=…)`
  builds one from snake-case keys (a sharings file; `volume_id` takes one id or a list);
  an unknown key or a bad value raises InvalidSelector naming the key and the value.
- `parse_when("7d", now)` → an aware UTC datetime: an ISO 8601 date or date-time (UTC unless it
  says otherwise) or a duration back from `now` (`30m`, `12h`, `7d`, `2w`).
- `selectors.matches(backup)` re-checks a listed backup client-side: every selector given must
  hold. The services (vbs.py, cbr.py) send what they can as list filters and keep only what
  `matches`, so a server that ignores a filter never widens a selection.

Pure: no HTTP, no terminal. The CLI's flags are read into it in cli/arguments.py, which turns an
InvalidSelector into a usage error; a sharings file's reader turns it into a configuration error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from .models import normalize_uuid

if TYPE_CHECKING:
    from .models import Backup, BackupQuery

DURATION_RE = re.compile(r"([0-9]{1,6})([mhdw])")
DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_WHEN_LENGTH = 64  # longer than any ISO 8601 time: not worth parsing
MAX_TEXT_LENGTH = 255  # a backup name (or prefix) is at most this long on both services
WHEN_FORMS = "an ISO 8601 date or date-time, or a duration such as 30m, 12h, 7d, 2w"


class InvalidSelector(ValueError):
    """A selector's value that cannot be used; `key` is its snake-case name."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def parse_when(text: str, now: datetime, key: str = "created_after") -> datetime:
    """WHEN as an aware UTC datetime (`now`: the moment a duration counts back from)."""
    value = text.strip()
    if not value or len(value) > MAX_WHEN_LENGTH:
        raise InvalidSelector(key, f"invalid {key} {text[:MAX_WHEN_LENGTH]!r}: {WHEN_FORMS}")
    if DURATION_RE.fullmatch(value):
        return now.astimezone(timezone.utc) - parse_duration(value, key)
    moment = parse_time(value)
    if moment is None:
        raise InvalidSelector(key, f"invalid {key} {value!r}: {WHEN_FORMS}")
    return moment


def parse_duration(text: str, key: str = "max_pending_age") -> timedelta:
    """A duration such as `30m`, `12h`, `7d`, `2w`."""
    duration = DURATION_RE.fullmatch(text.strip())
    if duration is None:
        raise InvalidSelector(
            key, f"invalid {key} {text[:MAX_WHEN_LENGTH]!r}: a duration such as 30m, 12h, 7d, 2w"
        )
    return timedelta(**{DURATION_UNITS[duration.group(2)]: int(duration.group(1))})


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time (a service's `created_at` too) as aware UTC; None when it
    is not one. Naive means UTC, as both services write their times."""
    if not value or len(value) > MAX_WHEN_LENGTH:
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class Selectors:
    """Which backups: every selector given must hold (None or empty: any)."""

    volume_ids: tuple[str, ...] = ()
    vault_id: str | None = None  # CBR only
    name: str | None = None  # exact
    name_prefix: str | None = None
    status: str | None = None  # the backup's, in the service's own words
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive

    def __post_init__(self) -> None:
        after, before = self.created_after, self.created_before
        if after is not None and before is not None and after > before:
            raise InvalidSelector(
                "created_after",
                f"created_after {after.isoformat()} is later than created_before "
                f"{before.isoformat()}: no backup can match both",
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, now: datetime) -> Selectors:
        """From snake-case keys (a sharings file's selector, or a library caller's); WHENs
        are read against `now`. Unknown keys and bad values raise InvalidSelector."""
        known = {"volume_id", "vault_id", "name", "name_prefix", "status"}
        known |= {"created_after", "created_before"}
        for key in data:
            if key not in known:
                raise InvalidSelector(str(key), f"unknown selector {str(key)[:64]!r}")
        volumes = data.get("volume_id")
        if isinstance(volumes, str):
            volumes = [volumes]
        if volumes is not None and not isinstance(volumes, list):
            raise InvalidSelector("volume_id", "volume_id: a volume id or a list of them")
        volume_ids = tuple(uuid_of("volume_id", volume) for volume in volumes or [])
        values: dict[str, Any] = {"volume_ids": volume_ids}
        if data.get("vault_id") is not None:
            values["vault_id"] = uuid_of("vault_id", data["vault_id"])
        for key in ("name", "name_prefix", "status"):
            if data.get(key) is not None:
                values[key] = text_of(key, data[key])
        for key in ("created_after", "created_before"):
            if data.get(key) is not None:
                raw = data[key]
                if isinstance(raw, datetime):  # YAML reads an unquoted time as one
                    when = raw if raw.tzinfo else raw.replace(tzinfo=timezone.utc)
                else:
                    when = parse_when(str(raw), now, key)
                values[key] = when
        return cls(**values)

    @classmethod
    def of(cls, query: BackupQuery | Selectors) -> Selectors:
        """A narrow BackupQuery (one volume, name, status) as selectors."""
        if isinstance(query, Selectors):
            return query
        volumes = (query.volume_id,) if query.volume_id else ()
        return cls(volume_ids=volumes, name=query.name, status=query.status)

    @property
    def empty(self) -> bool:
        """No selector at all: every backup."""
        return all(not getattr(self, f.name) for f in fields(self))

    def matches(self, backup: Backup) -> bool:
        """Whether a listed backup satisfies every selector (the client-side re-check)."""
        if self.volume_ids and backup.volume_id not in self.volume_ids:
            return False
        if self.vault_id is not None and backup.raw.get("vault_id") != self.vault_id:
            return False
        if self.name is not None and backup.name != self.name:
            return False
        if self.name_prefix is not None and not (backup.name or "").startswith(self.name_prefix):
            return False
        if self.status is not None and backup.status != self.status:
            return False
        return self.created_within(backup.created_at)

    def created_within(self, created_at: str | None) -> bool:
        if self.created_after is None and self.created_before is None:
            return True
        created = parse_time(created_at)
        if created is None:  # a time we cannot read is not inside any range
            return False
        if self.created_after is not None and created < self.created_after:
            return False
        return self.created_before is None or created < self.created_before


def uuid_of(key: str, value: Any) -> str:
    canonical = normalize_uuid(value) if isinstance(value, str) else None
    if canonical is None:
        raise InvalidSelector(key, f"invalid {key} {str(value)[:64]!r}: expected a UUID")
    return canonical


def text_of(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSelector(key, f"invalid {key} {str(value)[:64]!r}: expected text")
    if len(value) > MAX_TEXT_LENGTH or re.search(r"[\x00-\x1f\x7f-\x9f]", value):
        raise InvalidSelector(
            key, f"invalid {key} {value[:64]!r}: control characters or longer than 255"
        )
    return value
