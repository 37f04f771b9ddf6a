"""What to seed, as a person writes it: `--backup ID[:STATUS][:KEY=VALUE]...`, `--vault
KEY=VALUE...` and `--auto-answer` on the command line, or JSON objects for the admin API; and
the generator of many backups (`--seed-backups N`), deterministic for a given random seed.

Backup keys: `name`, `volume` (a UUID), `created` (ISO-8601; UTC unless it says otherwise),
`size` (GB), `available-after` (seconds: the backup is `creating`, or the status given, until
then), `project` (the owner, when not the emulator's own project), `vault` (the CBR vault it
lives in; default: the owner's home vault) and `type` (`disk`, the default, or `server`: a
cloud-server backup, which CBR alone lists).
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .formats import lenient_project_id, lenient_uuid, timestamp
from .schema import (
    BACKUP_KINDS,
    DISK_VAULT,
    MB_PER_GB,
    VAULT_SIZE_GB,
    VAULT_TYPES,
    AutoAnswer,
    BackupSeed,
    VaultSeed,
    vault_id_of,
)

# The backup statuses VBS writes (docs/wire.md "Backups"); CBR's words are derived from these.
SEED_STATUSES = ("available", "creating", "error", "restoring", "deleting", "error_restoring")
SEED_KEYS = ("name", "volume", "created", "size", "available-after", "project", "vault", "type")
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
        vault_id=_vault(spec.get("vault")),
        kind=_kind(spec.get("type", "disk")),
    )


def _key(key: str) -> str:
    aliases = {
        "volume_id": "volume",
        "created_at": "created",
        "available_after": "available-after",
        "project_id": "project",
        "vault_id": "vault",
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


def _kind(value: Any) -> str:
    if value not in BACKUP_KINDS:
        raise ValueError(f"type must be disk or server, got {value!r}")
    return str(value)


def _vault(value: Any) -> str | None:
    if value is None:
        return None
    vault = lenient_uuid(_text(value, "vault"))
    if vault is None:
        raise ValueError(f"{value!r} is not a vault id (a UUID)")
    return vault


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


# -- vaults ----------------------------------------------------------------------------------------
VAULT_ID_ROOT = "backupshare-emulator:vault:"  # + project + ":" + name: a seeded vault's id
VAULT_KEYS = ("id", "name", "project", "type", "size", "used", "count")
MAX_VAULTS_AT_ONCE = 1000


def parse_vault_option(text: str, project_id: str) -> list[VaultSeed]:
    """One `--vault KEY=VALUE[:KEY=VALUE]...` value; ValueError names what is wrong."""
    values: dict[str, Any] = {}
    for item in text.split(":") if text else []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"expected KEY=VALUE, got {item!r} (keys: {', '.join(VAULT_KEYS)})")
        values[key.strip()] = value.strip()
    return vaults_from_spec(values, project_id)


def vaults_from_spec(spec: Any, project_id: str) -> list[VaultSeed]:
    """`count` alike vaults from `{"id", "name", "project", "type", "size", "used", "count"}`
    (all optional; `object_type`, `used_mb` and `project_id` are accepted as spellings too).
    A vault's id, unless given, derives from its project and name, so it reads the same after a
    restart; alike vaults are named NAME-1, NAME-2, …"""
    if not isinstance(spec, dict):
        raise ValueError("a vault is an object such as {'size': 100, 'used': 2048}")
    aliases = {"object_type": "type", "used_mb": "used", "project_id": "project"}
    spec = {aliases.get(key, key): value for key, value in spec.items()}
    unknown = sorted(set(spec) - set(VAULT_KEYS))
    if unknown:
        raise ValueError(f"unknown vault key {unknown[0]!r} (known: {', '.join(VAULT_KEYS)})")
    project = _project(spec.get("project"), project_id)
    object_type = _text(spec.get("type", DISK_VAULT), "type")
    if object_type not in VAULT_TYPES:
        raise ValueError(f"type {object_type!r} is not one of {', '.join(VAULT_TYPES)}")
    size = _whole(spec.get("size", VAULT_SIZE_GB), "size (GB)", low=1)
    used = _whole(spec.get("used", 0), "used (MB)", low=0)
    count = _whole(spec.get("count", 1), "count", low=1)
    if count > MAX_VAULTS_AT_ONCE:
        raise ValueError(f"count must be at most {MAX_VAULTS_AT_ONCE}, got {count}")
    if used > size * MB_PER_GB:
        raise ValueError(f"used ({used} MB) is more than the size ({size} GB = {size * 1024} MB)")
    name = _text(spec.get("name", f"{object_type}-{size}gb"), "name")
    names = [name] if count == 1 else [f"{name}-{i + 1}" for i in range(count)]
    given_id = spec.get("id")
    if given_id is not None:
        if count != 1:
            raise ValueError("give either an id or a count above 1, not both")
        canonical = lenient_uuid(_text(given_id, "id"))
        if canonical is None:
            raise ValueError(f"{given_id!r} is not a vault id (a UUID)")
        ids = [canonical]
    else:
        ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{VAULT_ID_ROOT}{project}:{n}")) for n in names]
    return [
        VaultSeed(vault_id, project, vault_name, object_type, size, used)
        for vault_id, vault_name in zip(ids, names, strict=True)
    ]


def _whole(value: Any, what: str, *, low: int) -> int:
    text = str(value)
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or int(text) < low:
        raise ValueError(f"{what} must be a whole number >= {low}, got {value!r}")
    return int(text)


def seed_extras(spec: dict[str, Any], project_id: str) -> tuple[list[VaultSeed], int, int]:
    """What `POST /_emulator/seed` asks for besides sharings and backups: the vaults of its
    `vaults`, and its `backup_count` and `random_seed`; ValueError names what is wrong."""
    generated, random_seed = spec.get("backup_count", 0), spec.get("random_seed", 0)
    for value in (generated, random_seed):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("backup_count and random_seed are whole numbers >= 0.")
    if generated > MAX_GENERATED_BACKUPS:
        raise ValueError(f"backup_count is at most {MAX_GENERATED_BACKUPS}.")
    specs = spec.get("vaults", [])
    if not isinstance(specs, list):
        raise ValueError("'vaults' must be a list.")
    try:
        vaults = [vault for item in specs for vault in vaults_from_spec(item, project_id)]
    except ValueError as exc:
        raise ValueError(f"Invalid vault: {exc}") from None
    return vaults, generated, random_seed


# -- answering offers on the receiver's behalf -----------------------------------------------------
AUTO_ANSWER_STATUSES = ("accepted", "rejected")
DEFAULT_AUTO_ANSWER_SECONDS = 10.0
MAX_AUTO_ANSWER_SECONDS = 7 * 86400.0


def parse_auto_answer_option(text: str) -> tuple[str | None, AutoAnswer]:
    """One `--auto-answer [PROJECT:]STATUS[:SECONDS]` value; ValueError names what is wrong."""
    parts = text.split(":")
    project = None
    if parts and lenient_project_id(parts[0]) is not None:
        project = lenient_project_id(parts.pop(0))
    if not 1 <= len(parts) <= 2:
        raise ValueError(f"expected [PROJECT:]accepted|rejected[:SECONDS], got {text!r}")
    spec: dict[str, Any] = {"status": parts[0], "project": project}
    if len(parts) == 2:
        spec["after"] = parts[1]
    return auto_answer_from_spec(spec)


def auto_answer_from_spec(spec: Any) -> tuple[str | None, AutoAnswer]:
    """`{"status": "accepted"|"rejected", "after": SECONDS, "project": ID}` (`after` default 10,
    `project` default every project); ValueError names what is wrong."""
    if not isinstance(spec, dict) or set(spec) - {"status", "after", "project"}:
        raise ValueError("give {'status': 'accepted'|'rejected', 'after': SECONDS, 'project': ID}")
    status = spec.get("status")
    if status not in AUTO_ANSWER_STATUSES:
        raise ValueError(f"status must be accepted or rejected, got {status!r}")
    project = spec.get("project")
    if project is not None:
        project = lenient_project_id(_text(project, "project"))
        if project is None:
            raise ValueError(f"{spec['project']!r} is not a project id (32 hex characters)")
    after = spec.get("after", DEFAULT_AUTO_ANSWER_SECONDS)
    try:
        seconds = float(after)
    except (TypeError, ValueError):
        seconds = -1.0
    if isinstance(after, bool) or not 0 <= seconds <= MAX_AUTO_ANSWER_SECONDS:
        raise ValueError(f"after must be 0 to {MAX_AUTO_ANSWER_SECONDS:.0f} seconds, got {after!r}")
    return project, AutoAnswer(str(status), seconds)


# -- many backups ----------------------------------------------------------------------------------
MAX_GENERATED_BACKUPS = 200_000
BACKUPS_PER_VOLUME = 10  # about: a volume's nightly backups share its name
SPREAD_DAYS = 90  # backups are made over this many days before now
OUTSIDERS = 3  # projects without credentials that backups are shared with too
KINDS = ("db-nightly", "web-daily", "logs-hourly", "app-weekly", "files-monthly")
SIZES_GB = (5, 10, 20, 40, 80, 100)


@dataclass
class Generated:
    """What generate_backups makes: backups, VBS sharing rows and CBR member rows."""

    backups: list[BackupSeed]
    shares: list[dict[str, Any]]
    members: list[dict[str, Any]]


def generate_backups(
    count: int,
    random_seed: int,
    owner: str,
    vaults: list[str],
    partners: dict[str, PartnerVault],
    now: datetime,
) -> Generated:
    """`count` backups of `owner`, the same for the same arguments: spread over count/10 volumes
    (named after them), over `vaults` (the owner's disk vaults) and over the last 90 days; about
    85% available, 5% creating, 5% error, 5% encrypted. About a third of the available ones are
    shared with 1-3 projects (the `partners`, each with the vault it accepts into, and 3
    outsiders without credentials), on VBS and as CBR members pending (40%), accepted (40%) or
    rejected (20%). A partner accepts only what the room it is given holds (the rest stays
    pending)."""
    rng = random.Random(random_seed)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    volumes = [
        (new_id(), f"{KINDS[i % len(KINDS)]}-{i:04d}")
        for i in range(max(1, count // BACKUPS_PER_VOLUME))
    ]
    outsiders = [f"{rng.getrandbits(128):032x}" for _ in range(OUTSIDERS)]
    targets = [*partners, *outsiders]
    made = Generated([], [], [])
    for _ in range(count):
        volume, name = rng.choice(volumes)
        created = now - timedelta(seconds=rng.randrange(1, SPREAD_DAYS * 86400))
        roll = rng.random()
        status = "creating" if roll < 0.05 else "error" if roll < 0.10 else "available"
        backup = BackupSeed(
            new_id(),
            owner,
            name,
            status=status,
            size=rng.choice(SIZES_GB),
            encrypted=0.10 <= roll < 0.15,
            volume_id=volume,
            created_at=created,
            vault_id=rng.choice(vaults) if vaults else None,
        )
        made.backups.append(backup)
        if status == "available" and not backup.encrypted and rng.random() < 1 / 3:
            for target in rng.sample(targets, rng.randint(1, min(3, len(targets)))):
                _share(made, rng, backup, target, partners.get(target), new_id, now)
    return made


@dataclass
class PartnerVault:
    """The vault a partner accepts generated offers into, and its room left (MB)."""

    vault_id: str
    free_mb: int

    def take(self, size_gb: int) -> bool:
        """Whether the backup fits; if so it now takes its room."""
        if size_gb * MB_PER_GB > self.free_mb:
            return False
        self.free_mb -= size_gb * MB_PER_GB
        return True


def _accepted_into(target: str, vault: PartnerVault | None) -> str:
    """The vault a generated accepted member names: the partner's, or for a project without
    credentials the id its default vault would have."""
    return vault.vault_id if vault is not None else vault_id_of(target)


def _share(
    made: Generated,
    rng: random.Random,
    backup: BackupSeed,
    target: str,
    target_vault: PartnerVault | None,
    new_id: Callable[[], str],
    now: datetime,
) -> None:
    """One backup shared with one project, on VBS and as a CBR member, some time after it was
    made (never after now)."""
    assert backup.created_at is not None
    shared = timestamp(min(now, backup.created_at + timedelta(seconds=rng.randrange(60, 86400))))
    made.shares.append(
        {
            "id": new_id(),
            "backup_id": backup.id,
            "from_project_id": backup.project_id,
            "to_project_id": target,
            "created_at": shared,
            "updated_at": shared,
        }
    )
    roll = rng.random()
    status = "pending" if roll < 0.4 else "accepted" if roll < 0.8 else "rejected"
    if status == "accepted" and target_vault is not None and not target_vault.take(backup.size):
        status = "pending"  # no room left: the partner could not accept it
    made.members.append(
        {
            "id": new_id(),
            "backup_id": backup.id,
            "dest_project_id": target,
            "status": status,
            "vault_id": _accepted_into(target, target_vault) if status == "accepted" else None,
            "image_id": None,
            "created_at": shared,
            "updated_at": None if status == "pending" else shared,
        }
    )
