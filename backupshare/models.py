"""Sharings, backups and per-target results: the only place wire field names are spelled.

Parsing is tolerant of nulls and unknown fields (the service adds fields over time) and strict
about the ids a client acts on: a record without them is an unexpected response, not a crash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from .errors import BackupshareError, UnexpectedResponse

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
PROJECT_ID_RE = re.compile(r"^[0-9a-f]{32}$")

RESULT_CREATED = "created"
RESULT_EXISTING = "existing"
RESULT_CANCELED = "canceled"
RESULT_ABSENT = "absent"
RESULT_FAILED = "failed"
RESULT_SKIPPED = "skipped"  # never attempted: the run was interrupted first
# A CBR member's own statuses the owner waits on (share --wait-accepted); `absent`: gone.
MEMBER_ACCEPTED = "accepted"
MEMBER_REJECTED = "rejected"
MEMBER_ABSENT = "absent"
RESULT_ACCEPTED = "accepted"  # accept: the offer is accepted now
RESULT_REJECTED = "rejected"  # reject: the offer is rejected now

BACKUP_STATUSES: tuple[str, ...] = (
    "available",
    "creating",
    "error",
    "restoring",
    "deleting",
    "error_restoring",
)


def normalize_uuid(value: str) -> str | None:
    """The canonical (lower-case) form of a dashed UUID, or None when it is not one."""
    if UUID_RE.fullmatch(value):  # already canonical, as every id a service lists: no copies
        return value
    candidate = value.strip().lower()
    return candidate if UUID_RE.match(candidate) else None


def normalize_project_id(value: str) -> str | None:
    """The canonical (lower-case) form of a 32-hex project id, or None when it is not one."""
    if PROJECT_ID_RE.fullmatch(value):  # already canonical: no copies
        return value
    candidate = value.strip().lower()
    return candidate if PROJECT_ID_RE.match(candidate) else None


def _optional_str(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise UnexpectedResponse(f"unexpected response: field {key!r} is not a scalar")
    return str(value)


def _required_id(record: dict[str, Any], key: str, normalize: Any, what: str = "sharing") -> str:
    """An id the client acts on (puts in a URL, matches, deletes): as strict as a user's."""
    value = record.get(key)
    canonical = normalize(value) if isinstance(value, str) else None
    if canonical is None:
        raise UnexpectedResponse(
            f"unexpected response: {what} without a valid {key!r}",
            hint="the service sent a malformed record; nothing was done with it",
        )
    return str(canonical)


# A size (GB) or other count the service sends: anything outside this range is shown unknown.
# `"²".isdigit()` is true and a 5,000-digit string exceeds int()'s limit: only ASCII digits
# of a sane length are read.
INT_FIELD_MAX = 10**15
INT_TEXT_RE = re.compile(r"[0-9]{1,16}")


def _optional_int(record: dict[str, Any], key: str) -> int | None:
    """A number field, or None (unknown) for anything that is not a sane whole number."""
    value = record.get(key)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = int(value) if value.is_integer() and abs(value) <= INT_FIELD_MAX else None
    elif isinstance(value, str):
        value = int(value) if INT_TEXT_RE.fullmatch(value) else None
    if isinstance(value, int) and 0 <= value <= INT_FIELD_MAX:
        return value
    return None


BACKUP_AVAILABLE = "available"  # the one status a backup can be shared in, on both services
BACKUP_FAILED = "error"  # it will not become available: waiting for it is pointless
# Still being made, on VBS and on CBR: worth waiting for.
BACKUP_IN_PROGRESS = frozenset({"creating", "protecting", "waiting_protect"})


@dataclass(frozen=True)
class Backup:
    """A backup: nested in a sharing's record (every field may be null), or listed on its own
    (then its id is checked as strictly as a user's, and `raw` keeps the service's record)."""

    id: str | None
    name: str | None
    status: str | None
    size: int | None
    volume_id: str | None
    availability_zone: str | None
    description: str | None
    created_at: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    project_id: str | None = None  # the owner (CBR lists say; VBS lists hold only our own)
    encrypted: bool | None = None  # CBR's extend_info.encrypted

    @classmethod
    def listed_vbs(cls, record: Any) -> Backup:
        """A record of VBS's backup list or show call."""
        backup = cls._listed(record, VBS_BACKUP_FIELDS)
        return replace(backup, raw=record)

    @classmethod
    def listed_cbr(cls, record: Any) -> Backup:
        """A record of CBR's backup list or show call."""
        backup = cls._listed(record, CBR_BACKUP_FIELDS)
        owner = record.get("project_id")
        extend = record.get("extend_info")
        encrypted = extend.get("encrypted") if isinstance(extend, dict) else None
        return replace(
            backup,
            raw=record,
            project_id=normalize_project_id(owner) if isinstance(owner, str) else None,
            encrypted=encrypted if isinstance(encrypted, bool) else None,
        )

    @classmethod
    def _listed(cls, record: Any, names: dict[str, str]) -> Backup:
        if not isinstance(record, dict):
            raise UnexpectedResponse("unexpected response: a backup is not an object")
        backup_id = _required_id(record, "id", normalize_uuid, "backup")
        return replace(cls._from(record, names), id=backup_id)

    @classmethod
    def from_api(cls, record: Any) -> Backup | None:
        """The backup nested in a VBS sharing's detail record."""
        if record is None:
            return None
        if not isinstance(record, dict):
            raise UnexpectedResponse("unexpected response: 'backup' is not an object")
        return cls._from(record, VBS_BACKUP_FIELDS)

    @classmethod
    def from_cbr(cls, record: dict[str, Any]) -> Backup:
        """A CBR backup record (`resource_id` is the disk, `resource_size` its GB)."""
        return cls._from(record, CBR_BACKUP_FIELDS)

    @classmethod
    def _from(cls, record: dict[str, Any], names: dict[str, str]) -> Backup:
        def text(key: str) -> str | None:
            return _optional_str(record, names[key])

        return cls(
            id=text("id"),
            name=text("name"),
            status=text("status"),
            size=_optional_int(record, names["size"]),
            volume_id=text("volume_id"),
            availability_zone=text("availability_zone"),
            description=text("description"),
            created_at=text("created_at"),
        )


# Our field: the service's name for it.
TEXT_FIELDS = (
    "id",
    "name",
    "status",
    "volume_id",
    "availability_zone",
    "description",
    "created_at",
)
VBS_BACKUP_FIELDS = {key: key for key in (*TEXT_FIELDS, "size")}
CBR_BACKUP_FIELDS = {
    **VBS_BACKUP_FIELDS,
    "size": "resource_size",
    "volume_id": "resource_id",
    "availability_zone": "resource_az",
}


@dataclass(frozen=True)
class Share:
    """One sharing of a backup with a project. `raw` keeps the API's record for JSON output."""

    id: str
    backup_id: str
    to_project_id: str
    from_project_id: str | None
    created_at: str | None
    updated_at: str | None
    backup: Backup | None
    raw: dict[str, Any] = field(repr=False, compare=False)
    status: str | None = None  # CBR: the member's pending, accepted or rejected
    vault_id: str | None = None  # CBR: the receiving project's vault, once accepted

    @classmethod
    def from_api(cls, record: Any) -> Share:
        if not isinstance(record, dict):
            raise UnexpectedResponse("unexpected response: a sharing is not an object")
        from_project = _optional_str(record, "from_project_id")
        return cls(
            id=_required_id(record, "id", normalize_uuid),
            backup_id=_required_id(record, "backup_id", normalize_uuid),
            to_project_id=_required_id(record, "to_project_id", normalize_project_id),
            from_project_id=(
                _required_id(record, "from_project_id", normalize_project_id)
                if from_project
                else None
            ),
            created_at=_optional_str(record, "created_at"),
            updated_at=_optional_str(record, "updated_at"),
            backup=Backup.from_api(record.get("backup")),
            raw=record,
        )

    @classmethod
    def from_cbr_member(cls, record: Any) -> Share:
        """A CBR share member: the sharing of `backup_id` with `dest_project_id`. Who made it
        (the backup's owner) the member does not say."""
        if not isinstance(record, dict):
            raise UnexpectedResponse("unexpected response: a share member is not an object")
        return cls(
            id=_required_id(record, "id", normalize_uuid),
            backup_id=_required_id(record, "backup_id", normalize_uuid),
            to_project_id=_required_id(record, "dest_project_id", normalize_project_id),
            from_project_id=None,
            created_at=_optional_str(record, "created_at"),
            updated_at=_optional_str(record, "updated_at"),
            backup=None,
            raw=record,
            status=_optional_str(record, "status"),
            vault_id=_optional_str(record, "vault_id"),
        )

    @classmethod
    def from_cbr_offer(cls, record: Any, own_project: str, status: str) -> Share:
        """A CBR backup another project shared with this one (`own_type=shared`), as the
        sharing it stands for; `status` is the member status it was listed under."""
        if not isinstance(record, dict):
            raise UnexpectedResponse("unexpected response: a backup is not an object")
        backup_id = _required_id(record, "id", normalize_uuid)
        owner = record.get("project_id")
        return cls(
            id=backup_id,
            backup_id=backup_id,
            to_project_id=own_project,
            from_project_id=normalize_project_id(owner) if isinstance(owner, str) else None,
            created_at=_optional_str(record, "created_at"),
            updated_at=_optional_str(record, "updated_at"),
            backup=Backup.from_cbr(record),
            raw={**record, "member_status": status},
            status=status,
        )


class ListQuery(NamedTuple):
    """What a listing asks for: exact filters (by our field names), direction and sorting;
    each service turns it into its own query parameters. (Immutable records that need no
    dataclass machinery are NamedTuples: a fifth of the import cost, paid by every run.)"""

    filters: tuple[tuple[str, str], ...] = ()
    shared_with_me: bool = False
    sort_key: str | None = None
    sort_dir: str | None = None

    def matches(self, share: Share, own_project: str) -> bool:
        """Whether a listed sharing satisfies the exact filters and is made by, or to, this
        project as asked. The service matches a name loosely; it is re-checked exactly here, as
        `backups --name` and `share NAME` match it."""
        backup = share.backup
        actual = {
            "name": backup.name if backup else None,
            "backup_id": share.backup_id,
            "to_project_id": share.to_project_id,
            "from_project_id": share.from_project_id,
            "volume_id": backup.volume_id if backup else None,
            "status": backup.status if backup else None,
            "availability_zone": backup.availability_zone if backup else None,
        }
        for key, wanted in self.filters:
            if key in actual and actual[key] is not None and actual[key] != wanted:
                return False
        if self.shared_with_me:
            return share.to_project_id == own_project
        return share.from_project_id in (None, own_project)


class BackupQuery(NamedTuple):
    """What a backup listing asks for (None: any); re-checked on every record received."""

    volume_id: str | None = None
    name: str | None = None  # exact
    status: str | None = None

    def matches(self, backup: Backup) -> bool:
        return all(
            wanted is None or getattr(backup, key) == wanted
            for key, wanted in (("volume_id", self.volume_id), ("name", self.name),
                                ("status", self.status))
        )  # fmt: skip


def newest(backups: Iterable[Backup]) -> Backup | None:
    """The newest by creation time, then id: never the service's sort order alone."""
    return max(backups, key=lambda b: (b.created_at or "", b.id or ""), default=None)


@dataclass(frozen=True)
class Result:
    """What happened to one target of `share` or one sharing of `cancel`."""

    backup_id: str | None
    to_project_id: str | None
    share_id: str | None
    result: str
    error: BackupshareError | None = None
    note: str | None = None  # for the person reading: said on stderr, not part of the record
    status: str | None = None  # CBR: the member's status (pending until the project accepts)
    # accept and reject: whose offer it was and the vault it went (or would go) into
    from_project_id: str | None = None
    vault_id: str | None = None
    receiving: bool = False

    def to_dict(self) -> dict[str, Any]:
        record = {
            "backup_id": self.backup_id,
            "to_project_id": self.to_project_id,
            "share_id": self.share_id,
            "result": self.result,
            "error": self.error.to_dict() if self.error else None,
        }
        if self.status is not None or self.receiving:  # CBR only: VBS records keep their shape
            record["status"] = self.status  # an answer's always (null: not known)
        if self.receiving:
            record.update(from_project_id=self.from_project_id, vault_id=self.vault_id)
        return record


# What a CBR backup is of (its resource_type) → the vault type (billing.object_type) it goes in.
VAULT_TYPE_OF_RESOURCE = {"OS::Cinder::Volume": "disk", "OS::Nova::Server": "server"}
MB_PER_GB = 1024


class Vault(NamedTuple):
    """A CBR vault of this project and its room, in CBR's units (docs/wire.md):
    `billing.size` is GB, `billing.used` MB. A number the service left out is None. (A
    NamedTuple, as ListQuery: every command loads this module, and a frozen dataclass costs
    five times as much to define.)"""

    id: str
    name: str
    object_type: str | None
    size_gb: float | None
    used_mb: float | None

    @classmethod
    def from_cbr(cls, record: Any) -> Vault:
        if not isinstance(record, dict):
            raise UnexpectedResponse("unexpected response: a vault is not an object")
        vault_id = record.get("id")
        if not isinstance(vault_id, str) or not vault_id or len(vault_id) > 64:
            raise UnexpectedResponse("unexpected response: a vault without a valid id")
        billing = record.get("billing")
        billing = billing if isinstance(billing, dict) else {}
        object_type = billing.get("object_type")
        return cls(
            id=vault_id,
            name=_optional_str(record, "name") or "",
            object_type=object_type if isinstance(object_type, str) else None,
            size_gb=_amount(billing.get("size")),
            used_mb=_amount(billing.get("used")),
        )

    @property
    def free_mb(self) -> float | None:
        if self.size_gb is None:
            return None
        return self.size_gb * MB_PER_GB - (self.used_mb or 0)


def _amount(value: Any) -> float | None:
    """A size the service reports: a finite number, not negative, not a bool; else None."""
    import math

    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None
