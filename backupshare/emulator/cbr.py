"""CBR routes: backups (own and shared to the caller), share members, and each project's vault.

Paths, query parameters, fields, statuses, limits and error codes are spelled here from the CBR
section of docs/wire.md (sharing, what the official SDK sends and parses, the backup list). Where
it is silent the choice is the real service's plausible behaviour, modelled on Glance's image
members (the design CBR's members copy): the owner sees and manages every member; a receiving
project sees the backup, and only its own member record, and alone answers the offer.

Errors are CBR's one shape, `{"error_code": "BackupService.NNNN", "error_msg": …}`; the
gateway's own refusals (authentication, unknown path, method) keep the gateway's shape.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from .core import Emulator
from .formats import is_project_id, is_uuid, timestamp
from .routing import Answer, Call, Rejected, allow, json_body
from .schema import Reason, Refusal, vault_id_of

PREFIX = r"^/v3/(?P<project>[^/]+)"
BACKUPS_PATH = re.compile(PREFIX + r"/backups/?$")
BACKUP_PATH = re.compile(PREFIX + r"/backups/(?P<backup>[^/]+)/?$")
MEMBERS_PATH = re.compile(PREFIX + r"/backups/(?P<backup>[^/]+)/members/?$")
MEMBER_PATH = re.compile(PREFIX + r"/backups/(?P<backup>[^/]+)/members/(?P<member>[^/]+)/?$")
VAULTS_PATH = re.compile(PREFIX + r"/vaults(?:/(?P<vault>[^/]+))?/?$")
PATHS = (BACKUPS_PATH, BACKUP_PATH, MEMBERS_PATH, MEMBER_PATH, VAULTS_PATH)

# The backup list: statuses, resource types, own types, sort keys, the page limit.
BACKUP_STATUSES = (
    "available",
    "protecting",
    "deleting",
    "restoring",
    "error",
    "waiting_protect",
    "waiting_delete",
    "waiting_restore",
)
# The emulator's disk backups carry VBS's status words; CBR says these for them.
FROM_VBS_STATUS = {
    "available": "available",
    "creating": "protecting",
    "error": "error",
    "restoring": "restoring",
    "deleting": "deleting",
    "error_restoring": "error",
}
RESOURCE_TYPES = (
    "OS::Nova::Server",
    "OS::Cinder::Volume",
    "OS::Sfs::Turbo",
    "OS::Ironic::BareMetalServer",
    "OS::Native::Server",
    "OS::Workspace::DesktopV2",
)
DISK = "OS::Cinder::Volume"
SERVER = "OS::Nova::Server"
DISK_KIND = "disk"
# What a backup is of (the store's `kind`, also its vault's object_type): its resource_type,
# provider_id and how its resource is named.
DISK_PROVIDER = "d1603440-187d-4516-af25-121250c7cc97"
SERVER_PROVIDER = "0daac4c5-6707-4851-97ba-169e36266b66"
KINDS = {"disk": (DISK, DISK_PROVIDER, "volume"), "server": (SERVER, SERVER_PROVIDER, "ecs")}
OWN_TYPES = ("private", "shared", "all_granted")
MEMBER_STATUSES = ("pending", "accepted", "rejected")
BACKUP_SORT_KEYS = ("created_at", "updated_at", "name", "status", "protected_at", "id")
BACKUP_FILTERS = (  # exact matches on the field of the same name
    "name",
    "resource_id",
    "resource_name",
    "resource_az",
    "vault_id",
    "checkpoint_id",
    "parent_id",
    "image_type",
    "enterprise_project_id",
)
MAX_LIMIT = 1000
TIME_FILTER_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# A member list's sort keys are not documented; these are the member's sortable fields.
MEMBER_SORT_KEYS = ("created_at", "updated_at", "id", "dest_project_id", "status", "vault_id")
MEMBER_FILTERS = ("dest_project_id", "image_id", "status", "vault_id")
MAX_SORT_LENGTH = 255
VAULT_FILTERS = ("id", "name", "object_type", "protect_type", "cloud_type", "status")
# The billing spec of a vault of each object_type (the console's default spec for each kind).
SPEC_CODES = {
    "server": "vault.backup.server.normal",
    "disk": "vault.backup.volume.normal",
    "turbo": "vault.backup.turbo.normal",
}
CHECKPOINT_NAMESPACE = uuid.UUID("5b0c6c53-8f0e-4d5e-9a3b-6f1d2e3c4b5a")


def owns(path: str) -> bool:
    return any(pattern.match(path) for pattern in PATHS)


def internal_error_code() -> str:
    return "BackupService.9910"


def fault_code(status: int) -> str:
    """The code of an injected failure on a CBR path (throttling is the gateway's)."""
    return "APIG.0308" if status == 429 else f"BackupService.{status:04d}"


def route(emulator: Emulator, call: Call) -> Answer | None:
    """The answer to a CBR request, or None when the path is not a CBR one."""
    for pattern, handler in (
        (BACKUPS_PATH, _backups),
        (BACKUP_PATH, _backup),
        (MEMBERS_PATH, _members),
        (MEMBER_PATH, _member),
        (VAULTS_PATH, _vaults),
    ):
        match = pattern.match(call.path)
        if match:
            caller = call.caller_for(match["project"])
            try:
                return handler(emulator, call, caller, match.groupdict())
            except Refusal as refusal:
                raise refused(emulator, refusal) from None
    return None


def invalid(message: str) -> Rejected:
    return Rejected(400, "BackupService.9900", message)


def no_backup(backup_id: str) -> Rejected:
    return Rejected(404, "BackupService.6200", f"The backup does not exist: {backup_id}.")


def no_member(member_id: str) -> Rejected:
    return Rejected(404, "BackupService.6705", f"The share member does not exist: {member_id}.")


def refused(emulator: Emulator, refusal: Refusal) -> Rejected:
    """A store refusal in CBR's words (its error codes)."""
    detail, reason = refusal.detail, refusal.reason
    if reason is Reason.NO_BACKUP:
        return no_backup(detail["backup_id"])
    if reason is Reason.NOT_OWNER:
        return Rejected(400, "BackupService.6707", "Backup sharing is not allowed.")
    if reason is Reason.ENCRYPTED:
        return Rejected(
            400,
            "BackupService.6709",
            "Backup sharing is not allowed for cloud servers using encrypted disks.",
        )
    if reason is Reason.NOT_AVAILABLE:
        return Rejected(
            400, "BackupService.6702", "Only backups in the Available status can be shared."
        )
    if reason is Reason.OWN_PROJECT:
        return Rejected(400, "BackupService.6704", "Invalid project ID of the tenant for sharing.")
    if reason is Reason.ALREADY_SHARED:
        if emulator.config.cbr_duplicate_code == "BackupService.6703":
            return Rejected(400, "BackupService.6703", "The backup has been shared.")
        return Rejected(
            400,
            "BackupService.6714",
            "A shared backup cannot be shared to the same member again.",
        )
    if reason is Reason.TOO_MANY:
        return Rejected(
            400,
            "BackupService.6701",
            "The maximum number of backups that can be shared has been reached.",
        )
    if reason is Reason.NO_MEMBER:
        return no_member(detail["project_id"])
    if reason is Reason.NO_VAULT:
        return Rejected(404, "BackupService.6105", "The vault does not exist.")
    if reason is Reason.VAULT_FULL:
        return Rejected(
            400,
            "BackupService.6114",
            "The used capacity of the vault exceeds the maximum capacity.",
        )
    if reason is Reason.VAULT_TYPE:
        return Rejected(
            400,
            "BackupService.6713",
            "The type of the vault accepting the shared backup and the backup resource type "
            "are different.",
        )
    return Rejected(500, "BackupService.9910", f"Unknown error: {reason.value}.")


# -- backups -----------------------------------------------------------------------------------
def _backups(emulator: Emulator, call: Call, caller: str, path: dict[str, Any]) -> Answer:
    allow(call.method, "GET")
    own_type = call.param("own_type") or "private"
    if own_type not in OWN_TYPES:
        raise invalid(f"Invalid own_type: {own_type!r}.")
    rows = emulator.store.visible_backups(
        caller, own=own_type != "shared", shared=own_type != "private"
    )
    homes: dict[tuple[str, str], str] = {}  # each owner's home vaults, looked up once per list
    by_checkpoint = bool(call.param("checkpoint_id"))
    records = [
        backup_record(row, _home(emulator, homes, row), checkpoint=by_checkpoint) for row in rows
    ]
    member_status = call.param("member_status")
    if member_status is not None:
        if member_status not in MEMBER_STATUSES:
            raise invalid(f"Invalid member_status: {member_status!r}.")
        wanted = {row["id"] for row in rows if row["member_status"] == member_status}
        records = [record for record in records if record["id"] in wanted]
    records = _filter_backups(call, records)
    _sort(records, call.param("sort"), BACKUP_SORT_KEYS)
    limit = _number(call.param("limit"), "limit", low=1, high=MAX_LIMIT) or MAX_LIMIT
    offset = _number(call.param("offset"), "offset", low=0) or 0
    page = _after_marker(records, call.param("marker"))[offset : offset + limit]
    for record in page:
        record["checkpoint_id"] = checkpoint_of(record["id"])
    return Answer(200, {"backups": page, "count": len(records), "offset": offset, "limit": limit})


def _filter_backups(call: Call, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    statuses = call.values("status")
    for status in statuses:
        if status not in BACKUP_STATUSES:
            raise invalid(f"Invalid status: {status!r}.")
    if statuses:
        records = [record for record in records if record["status"] in statuses]
    resource_type = call.param("resource_type")
    if resource_type is not None:
        if resource_type not in RESOURCE_TYPES:
            raise invalid(f"Invalid resource_type: {resource_type!r}.")
        records = [record for record in records if record["resource_type"] == resource_type]
    for key in BACKUP_FILTERS:
        wanted = call.param(key)
        if wanted:
            records = [record for record in records if record[key] == wanted]
    start, end = _time(call.param("start_time")), _time(call.param("end_time"))
    if start is not None:
        records = [record for record in records if record["created_at"] >= start]
    if end is not None:
        records = [record for record in records if record["created_at"] <= end]
    return records


def _backup(emulator: Emulator, call: Call, caller: str, path: dict[str, Any]) -> Answer:
    allow(call.method, "GET")
    row = _visible(emulator, caller, path["backup"])
    return Answer(200, {"backup": backup_record(row, _home(emulator, {}, row))})


def _home(emulator: Emulator, homes: dict[tuple[str, str], str], row: dict[str, Any]) -> str:
    """The home vault of the backup's owner for backups of its kind (cached in `homes`)."""
    key = (row["project_id"], row.get("kind") or DISK_KIND)
    if key not in homes:
        homes[key] = emulator.store.home_vault(*key)
    return homes[key]


def _visible(emulator: Emulator, caller: str, backup_id: str) -> dict[str, Any]:
    """The backup, if the caller owns it or is a member of it (in any status)."""
    row = emulator.store.backup(backup_id) if is_uuid(backup_id) else None
    if row is None:
        raise no_backup(backup_id)
    if row["project_id"] == caller:
        return {**row, "member_status": None, "member_vault_id": None}
    member = emulator.store.member(backup_id, caller)
    if member is None:
        raise no_backup(backup_id)
    return {**row, "member_status": member["status"], "member_vault_id": member["vault_id"]}


def checkpoint_of(backup_id: str) -> str:
    """The id of the backup's checkpoint: stable, derived from the backup's."""
    return str(uuid.uuid5(CHECKPOINT_NAMESPACE, backup_id))


def backup_record(
    row: dict[str, Any], home_vault: str | None = None, *, checkpoint: bool = True
) -> dict[str, Any]:
    """A BackupResp (the SDK's model) for a disk or cloud-server backup; a shared one accepted
    into the caller's vault reads that vault's id (as the Terraform accepter expects), else the
    owner's vault: the one it was seeded into, or the owner's home vault of its kind.
    `checkpoint=False` leaves `checkpoint_id` out (None) of a record only filtered and sorted:
    deriving it is most of a record's cost, and a list needs it on one page only."""
    owner = row["project_id"]
    vault_id = row.get("member_vault_id") or row.get("vault_id") or home_vault or vault_id_of(owner)
    volume = row["volume_id"]
    resource_type, provider, resource_word = KINDS[row.get("kind") or DISK_KIND]
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "status": FROM_VBS_STATUS.get(row["status"], row["status"]),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "protected_at": row["created_at"],
        "expired_at": None,
        "checkpoint_id": checkpoint_of(row["id"]) if checkpoint else None,
        "parent_id": None,
        "project_id": owner,
        "provider_id": provider,
        "resource_id": volume,
        "resource_name": f"{resource_word}-{volume[:8]}" if volume else None,
        "resource_size": row["size"],
        "resource_type": resource_type,
        "resource_az": row["availability_zone"],
        "vault_id": vault_id,
        "image_type": "backup",
        "enterprise_project_id": "0",
        "scheduled_operation_id": None,
        "replication_records": [],
        "children": [],
        "incremental": False,
        "version": None,
        "extend_info": {
            "auto_trigger": False,
            "bootable": False,
            "snapshot_id": None,
            "support_lld": True,
            "supported_restore_mode": "backup",
            "os_images_data": [],
            "contain_system_disk": False,
            "encrypted": bool(row["encrypted"]),
            "system_disk": False,
            "is_multi_az": False,
        },
    }


# -- members -----------------------------------------------------------------------------------
def _members(emulator: Emulator, call: Call, caller: str, path: dict[str, Any]) -> Answer:
    allow(call.method, "GET", "POST")
    backup_id = path["backup"]
    if call.method == "POST":
        return _add_members(emulator, call, caller, backup_id)
    row = _visible(emulator, caller, backup_id)
    members = emulator.store.members(backup_id)
    if row["project_id"] != caller:  # a receiving project sees its own record alone
        members = [m for m in members if m["dest_project_id"] == caller]
    for key in MEMBER_FILTERS:
        wanted = call.param(key)
        if key == "status" and wanted is not None and wanted not in MEMBER_STATUSES:
            raise invalid(f"Invalid status: {wanted!r}.")
        if key == "vault_id" and wanted is not None and not is_uuid(wanted):
            raise invalid(f"Invalid vault_id: {wanted!r}.")
        if wanted:
            members = [m for m in members if m[key] == wanted]
    _sort(members, call.param("sort"), MEMBER_SORT_KEYS)
    limit = _number(call.param("limit"), "limit", low=1)
    offset = _number(call.param("offset"), "offset", low=0) or 0
    after = _after_marker(members, call.param("marker"))
    page = after[offset:] if limit is None else after[offset : offset + limit]
    return Answer(200, {"members": [member_record(m) for m in page], "count": len(members)})


def _add_members(emulator: Emulator, call: Call, caller: str, backup_id: str) -> Answer:
    payload = json_body(call.body, lambda: invalid("The request body is not valid JSON."))
    if not isinstance(payload, dict):
        raise invalid("The request body must be an object.")
    if payload.get("domains"):
        raise invalid("Sharing with accounts (domains) is not available in this region.")
    targets = payload.get("members")
    if not isinstance(targets, list) or not 1 <= len(targets) <= 10:
        raise invalid("members must hold 1 to 10 project ids.")
    for target in targets:
        if not is_project_id(target):
            raise Rejected(
                400,
                "BackupService.6704",
                f"Invalid project ID of the tenant for sharing: {target!r}.",
            )
    if len(set(targets)) != len(targets):
        raise invalid("members contains the same project twice.")
    if caller in targets:
        raise refused(emulator, Refusal(Reason.OWN_PROJECT))
    row = _visible(emulator, caller, backup_id)
    if row["project_id"] != caller:
        raise refused(emulator, Refusal(Reason.NOT_OWNER))
    if emulator.config.cbr_server_backups_only and (row.get("kind") or DISK_KIND) == DISK_KIND:
        raise Rejected(400, "BackupService.6700", "Only cloud server backups can be shared.")
    created, count = emulator.store.add_members(caller, backup_id, targets)
    return Answer(200, {"members": [member_record(m) for m in created], "count": count})


def _member(emulator: Emulator, call: Call, caller: str, path: dict[str, Any]) -> Answer:
    allow(call.method, "GET", "PUT", "DELETE")
    backup_id, member_id = path["backup"], path["member"]
    row = _visible(emulator, caller, backup_id)
    owner = row["project_id"] == caller
    if call.method == "DELETE":
        if not owner:
            raise refused(emulator, Refusal(Reason.NOT_OWNER))
        emulator.store.remove_member(caller, backup_id, member_id)
        return Answer(204)
    if call.method == "PUT":
        if member_id != caller:  # only the receiving project answers, for itself
            if owner:
                raise Rejected(
                    400,
                    "BackupService.6708",
                    "Failed to update the status of a share member: "
                    "only the receiving project can.",
                )
            raise no_member(member_id)
        status, vault_id = _answer(call)
        updated = emulator.store.answer_member(backup_id, caller, status, vault_id)
        return Answer(200, {"member": member_record(updated)})
    if not owner and member_id != caller:
        raise no_member(member_id)
    member = emulator.store.member(backup_id, member_id)
    if member is None:
        raise no_member(member_id)
    return Answer(200, {"member": member_record(member)})


def _answer(call: Call) -> tuple[str, str | None]:
    """The body of an accept/reject: a status, and for `accepted` the vault to keep it in."""
    payload = json_body(call.body, lambda: invalid("The request body is not valid JSON."))
    if not isinstance(payload, dict):
        raise invalid("The request body must be an object.")
    status, vault_id = payload.get("status"), payload.get("vault_id")
    bad = Rejected(
        400, "BackupService.6706", "Invalid update parameter value for the share member."
    )
    if status not in MEMBER_STATUSES:
        raise bad
    if vault_id is not None and not is_uuid(vault_id):
        raise bad
    if status == "accepted" and vault_id is None:
        raise bad
    return str(status), vault_id


def member_record(row: dict[str, Any]) -> dict[str, Any]:
    """A Member, every field present (null where unset, as the Swiss examples show)."""
    return {
        "id": row["id"],
        "backup_id": row["backup_id"],
        "dest_project_id": row["dest_project_id"],
        "status": row["status"],
        "vault_id": row["vault_id"],
        "image_id": row["image_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


# -- vaults ------------------------------------------------------------------------------------
def _vaults(emulator: Emulator, call: Call, caller: str, path: dict[str, Any]) -> Answer:
    """The project's vaults, in the order they were made: one by id, or a page of the list
    (`limit` 1-1000, default 1000, and `offset`), after the exact filters."""
    allow(call.method, "GET")
    vaults = [vault_record(row) for row in emulator.store.vaults(caller)]
    if path.get("vault") is not None:
        chosen = [vault for vault in vaults if vault["id"] == path["vault"]]
        if not chosen:
            raise refused(emulator, Refusal(Reason.NO_VAULT))
        return Answer(200, {"vault": chosen[0]})
    for key in VAULT_FILTERS:
        wanted = call.param(key)
        if wanted:
            vaults = [v for v in vaults if {**v, **v["billing"]}.get(key) == wanted]
    limit = _number(call.param("limit"), "limit", low=1, high=MAX_LIMIT) or MAX_LIMIT
    offset = _number(call.param("offset"), "offset", low=0) or 0
    return Answer(200, {"vaults": vaults[offset : offset + limit], "count": len(vaults)})


def vault_record(row: dict[str, Any]) -> dict[str, Any]:
    """A vault as ListVault and ShowVault write one: billing `size` in GB, `used` in MB."""
    return {
        "id": row["id"],
        "name": row["name"],
        "description": "",
        "project_id": row["project_id"],
        "provider_id": SERVER_PROVIDER if row["object_type"] == "server" else DISK_PROVIDER,
        "created_at": row["created_at"],
        "billing": {
            "allocated": 0,
            "charging_mode": "post_paid",
            "cloud_type": "public",
            "consistent_level": "crash_consistent",
            "object_type": row["object_type"],
            "order_id": None,
            "product_id": None,
            "protect_type": "backup",
            "size": row["size"],
            "spec_code": SPEC_CODES.get(row["object_type"], "vault.backup.volume.normal"),
            "status": "available",
            "storage_unit": None,
            "used": row["used"],
            "frozen_scene": None,
            "is_multi_az": False,
        },
        "resources": [],
        "tags": [],
        "enterprise_project_id": "0",
        "auto_bind": False,
        "bind_rules": {},
        "user_id": None,
        "auto_expand": False,
        "smn_notify": True,
        "threshold": 80,
        "sys_lock_source_service": None,
        "locked": False,
        "availability_zone": None,
    }


# -- parameters --------------------------------------------------------------------------------
def _number(value: str | None, name: str, *, low: int, high: int | None = None) -> int | None:
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or int(value) < low:
        raise invalid(f"Invalid {name}: {value!r}.")
    if high is not None and int(value) > high:
        raise invalid(f"Invalid {name}: {value!r} (at most {high}).")
    return int(value)


def _time(value: str | None) -> str | None:
    """A start_time/end_time filter as a timestamp comparable with the records' own."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.strptime(value, TIME_FILTER_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise invalid(f"Invalid time {value!r}: expected YYYY-MM-DDTHH:MM:SSZ.") from None
    return timestamp(moment)


def _sort(records: list[dict[str, Any]], spec: str | None, keys: tuple[str, ...]) -> None:
    """Sorts in place by `key[:asc|desc],...` (direction default desc; default key
    created_at), ties broken by id in the first key's direction."""
    spec = spec or "created_at"
    if len(spec) > MAX_SORT_LENGTH:
        raise invalid("sort is longer than 255 characters.")
    order: list[tuple[str, bool]] = []
    for part in spec.split(","):
        key, _, direction = part.strip().partition(":")
        direction = direction or "desc"
        if key not in keys or direction not in ("asc", "desc"):
            raise invalid(f"Invalid sort: {part!r}.")
        order.append((key, direction == "desc"))
    order.append(("id", order[0][1]))
    for key, descending in reversed(order):  # stable sorts, least significant key first
        records.sort(key=_sort_key(key), reverse=descending)


def _sort_key(key: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    """Orders on `key`, nulls first."""

    def value(record: dict[str, Any]) -> tuple[bool, str]:
        return record[key] is not None, str(record[key] or "")

    return value


def _after_marker(records: list[dict[str, Any]], marker: str | None) -> list[dict[str, Any]]:
    """The records after the one whose id is `marker` (the last of the previous page)."""
    if marker is None or marker == "":
        return records
    ids = [record["id"] for record in records]
    if not is_uuid(marker) or marker not in ids:
        raise invalid(f"Invalid marker: {marker!r}.")
    return records[ids.index(marker) + 1 :]
