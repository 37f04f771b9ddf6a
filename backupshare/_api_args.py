"""Internal: the library's argument checks — the CLI's checks (checks.py) and the types a
caller may get wrong — each failing with the UsageError the CLI prints, before anything is sent."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .config import SETTINGS
from .errors import UsageError
from .models import Backup, Share

if TYPE_CHECKING:
    from .selectors import Selectors
    from .service import SharingService

# Settings a keyword may give: every row of the table but `auth` (its keys are given one by
# one: token=…, access_key=…) and `output` (a library renders nothing).
KEYWORD_SETTINGS = {s.key: s for s in SETTINGS if s.key not in ("auth", "output")}


def keyword_settings(given: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword settings, each a row of the table with a value of its type (the ranges and
    the rest are resolution's checks, as for a flag)."""
    for key, value in given.items():
        setting = KEYWORD_SETTINGS.get(key)
        if setting is None:
            raise UsageError(
                f"unknown setting {key!r}: the settings are {', '.join(KEYWORD_SETTINGS)}"
            )
        if value is None or setting.number is not None:
            continue  # None: not given; a number's type is checked with its range
        from .auth import Secret

        if setting.secret and isinstance(value, Secret):
            continue
        if not isinstance(value, str):
            what = f"(a {type(value).__name__})" if setting.secret else shown(value)
            raise UsageError(f"invalid {key} {what}: expected a string")  # a secret unshown
    return {key: value for key, value in given.items() if value is not None}


def as_text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"invalid {what} {shown(value)}: expected a string")
    return value


def as_optional_text(value: Any, what: str) -> str | None:
    return None if value is None else as_text(value, what)


def as_texts(value: Any, what: str, *, allow_none: bool = False) -> list[str]:
    """One string or an iterable of them (never a string's characters)."""
    if value is None and allow_none:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        raise UsageError(f"invalid {what}s {shown(value)}: expected a string or a list of them")
    return [as_text(item, what) for item in value]


def as_seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"invalid {what} {shown(value)}: expected a number of seconds")
    return float(value)


def as_integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"invalid {what} {shown(value)}: expected an integer")
    return value


def as_flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"invalid {what} {shown(value)}: expected True or False")
    return value


def as_callback(value: Any, what: str) -> Any:
    """A callback (None: none) checked when given, not when first called: by then a request
    may have gone out and the work would stop halfway."""
    if value is not None and not callable(value):
        raise UsageError(f"invalid {what} {shown(value)}: expected a function (or None)")
    return value


def check_paging(limit: Any, page_size: Any) -> None:
    from . import checks

    checks.check_paging(
        as_integer(limit, "--limit") if limit is not None else None,
        as_integer(page_size, "--page-size"),
    )


def as_uuid(value: Any, what: str) -> str:
    from . import checks

    return checks.uuid_arg(as_text(value, what), what)


def as_backup_id(backup: Any) -> str:
    """A backup's id from an id, a Backup or a Share (an offer)."""
    if isinstance(backup, Backup) and backup.id is not None:
        return backup.id
    if isinstance(backup, Share):
        return backup.backup_id
    return as_uuid(backup, "backup id")


def shown(value: Any) -> str:
    """A wrong value as an error shows it: bounded, whatever it is."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def as_selectors(
    kind: Callable[[], type[SharingService]],
    *,
    volume_ids: Any = (),
    vault_id: Any = None,
    name: Any = None,
    name_prefix: Any = None,
    status: Any = None,
    created_after: Any = None,
    created_before: Any = None,
) -> Selectors:
    """The backup selectors as keywords (a WHEN: the CLI's text, or a datetime, naive meaning
    UTC), checked as the CLI checks its selector flags."""
    from . import checks

    return checks.selectors_arg(
        kind,
        volume_ids=as_texts(volume_ids, "volume id", allow_none=True),
        vault_id=as_optional_text(vault_id, "vault id"),
        name=as_optional_text(name, "backup name"),
        name_prefix=as_optional_text(name_prefix, "name prefix"),
        status=as_optional_text(status, "--status"),
        created_after=_when(created_after, "created_after"),
        created_before=_when(created_before, "created_before"),
    )


def _when(value: Any, what: str) -> str | None:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.isoformat()
    return as_optional_text(value, what)
