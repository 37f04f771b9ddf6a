"""The emulator's data, declared: its SQLite schema, what can be seeded (backups, vaults,
auto-answers), and the reasons a change is refused (`Refusal`, which each service's routes
turn into their own status, code and words). The state itself is store.py's.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

MAX_TARGETS = 10
VAULT_SIZE_GB = 1000  # a project's default vault; room for the demo backups many times over
MB_PER_GB = 1024
VAULT_TYPES = ("server", "disk", "turbo", "workspace", "vmware", "rds", "file")
DISK_VAULT = "disk"  # the object_type a disk backup must go into (a server backup: "server")
BACKUP_KINDS = ("disk", "server")  # what a backup is of: its vault's object_type

SCHEMA = """
CREATE TABLE IF NOT EXISTS backups (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT,
    status TEXT NOT NULL,
    size INTEGER,
    volume_id TEXT,
    availability_zone TEXT,
    description TEXT,
    encrypted INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT
);
CREATE TABLE IF NOT EXISTS shares (
    id TEXT PRIMARY KEY,
    backup_id TEXT NOT NULL REFERENCES backups(id),
    from_project_id TEXT NOT NULL,
    to_project_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (backup_id, to_project_id)
);
CREATE INDEX IF NOT EXISTS shares_from ON shares (from_project_id, created_at);
CREATE INDEX IF NOT EXISTS shares_to ON shares (to_project_id, created_at);
CREATE INDEX IF NOT EXISTS shares_backup ON shares (backup_id);
CREATE TABLE IF NOT EXISTS members (
    id TEXT PRIMARY KEY,
    backup_id TEXT NOT NULL REFERENCES backups(id),
    dest_project_id TEXT NOT NULL,
    status TEXT NOT NULL,
    vault_id TEXT,
    image_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    UNIQUE (backup_id, dest_project_id)
);
CREATE INDEX IF NOT EXISTS members_dest ON members (dest_project_id);
CREATE INDEX IF NOT EXISTS members_status ON members (status, created_at);
-- Several vaults per project (an older file's one-per-project `vaults` table is left unused):
-- `size` is the capacity in GB, `used_mb` the usage beyond the backups it holds, in MB (CBR's
-- billing units, docs/wire.md (CBR) 1.9a); rowid is the order they were made in.
CREATE TABLE IF NOT EXISTS cbr_vaults (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    object_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    used_mb INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cbr_vaults_project ON cbr_vaults (project_id);
"""
# Columns added after the first release, for --db files an older emulator wrote. A backup's
# `vault_id` is null when it lives in its owner's home vault (see Store.home_vault).
# `kind` is what the backup is of, `disk` (when null) or `server`: VBS sees disk backups alone.
ADDED_COLUMNS = {"backups": {"available_at": "TEXT", "vault_id": "TEXT", "kind": "TEXT"}}
# Every read settles the backups whose time has come: an index keeps that cheap at any size.
SETTLE_INDEX = (
    "CREATE INDEX IF NOT EXISTS backups_ready ON backups (available_at)"
    " WHERE available_at IS NOT NULL"
)

# Sort keys of the VBS sharing list and the column each one orders by.
SORT_COLUMNS = {
    "id": "s.id",
    "created_at": "s.created_at",
    "updated_at": "s.updated_at",
    "backup_id": "s.backup_id",
    "to_project_id": "s.to_project_id",
    "name": "b.name",
    "status": "b.status",
    "size": "b.size",
}

EXACT_FILTERS = {
    "backup_id": "s.backup_id",
    "from_project_id": "s.from_project_id",
    "to_project_id": "s.to_project_id",
    "volume_id": "b.volume_id",
    "status": "b.status",
    "availability_zone": "b.availability_zone",
}

Clock = Callable[[], datetime]


class Reason(enum.Enum):
    """Why the store refused: one per rule, worded by each service in its own terms."""

    NO_BACKUP = "no such backup"
    NOT_OWNER = "not the owner's"
    ENCRYPTED = "encrypted"
    NOT_AVAILABLE = "not available"
    OWN_PROJECT = "its own project"
    ALREADY_SHARED = "already shared"
    TOO_MANY = "too many projects"
    NO_SHARING = "no such sharing"
    NO_MEMBER = "no such member"
    NO_VAULT = "no such vault"
    VAULT_FULL = "vault full"
    VAULT_TYPE = "vault of another type"


class Refusal(Exception):
    """A rule of the service said no; `detail` holds what a message needs (ids, counts)."""

    def __init__(self, reason: Reason, **detail: Any) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.detail = detail


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class BackupSeed:
    """One disk backup to seed. `created_at` defaults to the moment it is seeded;
    `available_after` (seconds) keeps it `creating` (or the status given) until then."""

    id: str
    project_id: str
    name: str
    status: str = "available"
    size: int = 10
    encrypted: bool = False
    volume_id: str | None = None
    availability_zone: str = "eu-de-01"
    description: str = ""
    created_at: datetime | None = None
    available_after: float | None = None
    vault_id: str | None = None  # None: the owner's home vault
    kind: str = DISK_VAULT  # or "server": a cloud-server backup, which CBR alone sees


@dataclass(frozen=True)
class VaultSeed:
    """One CBR vault to seed: `size` is its capacity in GB, `used_mb` what it holds besides the
    backups the emulator knows of, in MB; `object_type` the kind of backup it takes."""

    id: str
    project_id: str
    name: str
    object_type: str = DISK_VAULT
    size: int = VAULT_SIZE_GB
    used_mb: int = 0


@dataclass(frozen=True)
class AutoAnswer:
    """The receiving project's answer given on its behalf `after_seconds` (emulator time) after
    an offer is made: `accepted` (into its roomiest vault that fits) or `rejected`."""

    status: str
    after_seconds: float
    since: str = ""  # offers made before this moment are left alone (set when it is given)


def vault_id_of(project_id: str) -> str:
    """The id of a project's one vault: stable, so it survives a restart and reads the same in
    every answer."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"backupshare-emulator:vault:{project_id}"))
