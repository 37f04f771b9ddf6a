"""VBS routes: the five backup-sharing endpoints and the Cinder-style backup list (docs/wire.md).

Paths, query parameters, fields, statuses and error codes are spelled here from docs/wire.md (and
docs/wire.md (CBR) for the backup list), not borrowed from the client.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from .core import Emulator
from .formats import is_project_id, is_uuid
from .routing import Answer, Call, Rejected, allow, json_body
from .schema import Reason, Refusal

SHARING_PATH = re.compile(r"^/v2/(?P<project>[^/]+)/os-vendor-backup-sharing(?:/(?P<id>[^/]+))?/?$")
BACKUPS_PATH = re.compile(r"^/v2/(?P<project>[^/]+)/backups(?:/(?P<id>[^/]+))?/?$")

# docs/wire.md: the sharing list's exact filters (`name` is fuzzy; the store knows which is which).
SHARING_FILTERS = (
    "backup_id",
    "from_project_id",
    "to_project_id",
    "volume_id",
    "name",
    "status",
    "availability_zone",
)
SHARING_SORT_KEYS = (
    "id",
    "created_at",
    "updated_at",
    "backup_id",
    "to_project_id",
    "name",
    "status",
    "size",
)
BACKUP_STATUSES = ("available", "creating", "error", "restoring", "deleting", "error_restoring")

# docs/wire.md "Backups": the backup list's filters (each an exact match), its sort keys
# (the reference lists the image ones too; a backup has neither, so they order by id alone), and
# Cinder's page limit (osapi_max_limit), which the service applies when no lower cap is set.
BACKUP_FILTERS = ("name", "status", "volume_id")
BACKUP_SORT_KEYS = (
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
)
MAX_PAGE = 1000


def route(emulator: Emulator, call: Call) -> Answer | None:
    """The answer to a VBS request, or None when the path is not a VBS one."""
    sharing = SHARING_PATH.match(call.path)
    if sharing:
        caller = call.caller_for(sharing["project"])
        return _sharing(emulator, call, caller, sharing["id"])
    backups = BACKUPS_PATH.match(call.path)
    if backups:
        caller = call.caller_for(backups["project"])
        allow(call.method, "GET")
        return _backups(emulator, call, caller, backups["id"])
    return None


def owns(path: str) -> bool:
    return bool(SHARING_PATH.match(path) or BACKUPS_PATH.match(path))


def internal_error_code() -> str:
    return "VolumeBackup.0001"


def fault_code(status: int) -> str:
    """The code of an injected failure on a VBS path (throttling is the gateway's)."""
    return "APIG.0308" if status == 429 else f"VolumeBackup.{status:04d}"


def refused(refusal: Refusal) -> Rejected:
    """A store refusal in VBS's words."""
    detail, reason = refusal.detail, refusal.reason
    backup = detail.get("backup_id")
    if reason in (Reason.NO_BACKUP, Reason.NOT_OWNER):
        return Rejected(404, "VolumeBackup.0204", f"Backup {backup} could not be found.")
    if reason is Reason.ENCRYPTED:
        return Rejected(400, "VolumeBackup.0105", "Encrypted backups cannot be shared.")
    if reason is Reason.NOT_AVAILABLE:
        return Rejected(
            400,
            "VolumeBackup.0104",
            f"Backup {backup} is in status {detail['status']}; "
            "only available backups can be shared.",
        )
    if reason is Reason.OWN_PROJECT:
        return Rejected(400, "VolumeBackup.0106", "A backup cannot be shared with its own project.")
    if reason is Reason.ALREADY_SHARED:
        return Rejected(
            400,
            "VolumeBackup.0107",
            f"Backup {backup} is already shared with project {detail['project_id']}.",
        )
    if reason is Reason.TOO_MANY:
        return Rejected(
            400,
            "VolumeBackup.0108",
            f"A backup can be shared with at most {detail['limit']} projects "
            f"({detail['count']} already).",
        )
    if reason is Reason.NO_SHARING:
        return Rejected(
            404, "VolumeBackup.0205", f"Backup sharing {detail['share_id']} could not be found."
        )
    return Rejected(400, "VolumeBackup.0001", f"Refused: {reason.value}.")


def _invalid_json() -> Rejected:
    return Rejected(400, "VolumeBackup.0003", "Request body is not valid JSON.")


# -- sharings ----------------------------------------------------------------------------------
def _sharing(emulator: Emulator, call: Call, caller: str, item: str | None) -> Answer:
    store = emulator.store
    try:
        if item is None:
            allow(call.method, "POST")
            return Answer(200, _share(emulator, call, caller))
        if item in ("detail", "count"):
            allow(call.method, "GET")
            return Answer(200, _list(emulator, call, caller, count=item == "count"))
        allow(call.method, "GET", "DELETE")
        if call.method == "GET":
            return Answer(200, {"shared": sharing_detail(store.show(caller, item))})
        if (call.param("is_backup_id") or "false").lower() == "true":
            store.cancel_backup(caller, item)
        else:
            store.cancel(caller, item)
        return Answer(200)
    except Refusal as refusal:
        raise refused(refusal) from None


def _share(emulator: Emulator, call: Call, caller: str) -> dict[str, Any]:
    content_type = call.headers.get("Content-Type", "")
    if not content_type.lower().startswith("application/json"):
        raise Rejected(415, "VolumeBackup.0002", "Content-Type must be application/json.")
    payload = json_body(call.body, _invalid_json)
    shared = payload.get("shared") if isinstance(payload, dict) else None
    if not isinstance(shared, dict):
        raise Rejected(400, "VolumeBackup.0003", "Request body must contain 'shared'.")
    backup_id, targets = shared.get("backup_id"), shared.get("to_project_ids")
    if not is_uuid(backup_id):
        raise Rejected(400, "VolumeBackup.0004", f"Invalid backup_id: {backup_id!r}.")
    if not isinstance(targets, list) or not targets:
        raise Rejected(400, "VolumeBackup.0005", "to_project_ids must be a non-empty list.")
    for target in targets:
        if not is_project_id(target):
            raise Rejected(400, "VolumeBackup.0006", f"Invalid project id: {target!r}.")
    if len(set(targets)) != len(targets):
        raise Rejected(400, "VolumeBackup.0005", "to_project_ids contains duplicates.")
    created = emulator.store.share(caller, backup_id, targets)
    return {"shared": [{**row, "deleted": False, "deleted_at": None} for row in created]}


def _list(emulator: Emulator, call: Call, caller: str, *, count: bool) -> dict[str, Any]:
    params = dict(call.params)
    filters = {key: params[key] for key in SHARING_FILTERS if params.get(key)}
    if params.get("avalilability_zone"):  # the reference's spelling, accepted too
        filters.setdefault("availability_zone", params["avalilability_zone"])
    if "status" in filters and filters["status"] not in BACKUP_STATUSES:
        raise Rejected(400, "VolumeBackup.0007", f"Invalid status: {filters['status']!r}.")
    to_me = _flag(params.get("share_to_me"), "share_to_me")
    store = emulator.store
    if count:
        return {"count": store.count(caller, filters, to_me=to_me)}
    sort_key = params.get("sort_key") or "created_at"
    if sort_key not in SHARING_SORT_KEYS:
        raise Rejected(400, "VolumeBackup.0008", f"Invalid sort_key: {sort_key!r}.")
    sort_dir = _sort_dir(params.get("sort_dir"))
    limit = _non_negative(params.get("limit"), "limit")
    cap = emulator.config.page_cap
    if cap is not None:
        limit = cap if limit is None else min(limit, cap)
    offset = _non_negative(params.get("offset"), "offset") or 0
    rows = store.query(
        caller,
        filters,
        to_me=to_me,
        sort_key=sort_key,
        sort_dir=sort_dir,
        limit=limit,
        offset=offset,
    )
    return {"shared": [sharing_detail(row) for row in rows]}


def sharing_detail(row: dict[str, Any]) -> dict[str, Any]:
    """A SHARING_DETAIL record: the sharing and its backup with every documented field."""
    backup = row["backup"]
    return {
        "id": row["id"],
        "backup_id": row["backup_id"],
        "from_project_id": row["from_project_id"],
        "to_project_id": row["to_project_id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "backup": {**_backup_fields(backup), "service_metadata": None},
    }


# -- backups -----------------------------------------------------------------------------------
def is_disk(row: dict[str, Any]) -> bool:
    """Whether VBS sees the backup: a disk backup (a cloud-server backup is CBR's alone)."""
    return (row.get("kind") or "disk") == "disk"


def _backups(emulator: Emulator, call: Call, caller: str, item: str | None) -> Answer:
    if item is not None and item != "detail":
        backup = emulator.store.backup(item)
        if backup is None or backup["project_id"] != caller or not is_disk(backup):
            raise Rejected(404, "VolumeBackup.0204", f"Backup {item} could not be found.")
        return Answer(200, {"backup": _backup_record(call, caller, backup)})
    rows = [row for row in emulator.store.visible_backups(caller) if is_disk(row)]
    records = [_backup_record(call, caller, row) for row in rows]
    for key in BACKUP_FILTERS:
        wanted = call.param(key)
        if wanted:
            records = [record for record in records if record[key] == wanted]
    sort_key = call.param("sort_key") or "created_at"
    if sort_key not in BACKUP_SORT_KEYS:
        raise Rejected(400, "VolumeBackup.0008", f"Invalid sort_key: {sort_key!r}.")
    sort_dir = _sort_dir(call.param("sort_dir"))
    records.sort(key=lambda record: _order(record, sort_key), reverse=sort_dir == "desc")
    page, full = _page(emulator, call, records)
    if item is None:  # the summary list: ids, names and links only
        page = [{key: record[key] for key in ("id", "name", "links")} for record in page]
    body: dict[str, Any] = {"backups": page}
    if full:  # Cinder links the next page whenever a page is full
        body["backups_links"] = [{"rel": "next", "href": _next_href(call, page[-1]["id"])}]
    return Answer(200, body)


def _order(record: dict[str, Any], key: str) -> tuple[Any, ...]:
    """Sort on `key` (nulls first), then on created_at and id, in the same direction."""
    value = record.get(key)
    return (value is not None, "" if value is None else value, record["created_at"], record["id"])


def _page(
    emulator: Emulator, call: Call, records: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], bool]:
    """One page after `marker` and `offset`, at most `limit` long and never longer than the
    service's cap; and whether it is full (so that more may follow)."""
    limit = _non_negative(call.param("limit"), "limit")
    offset = _non_negative(call.param("offset"), "offset") or 0
    marker = call.param("marker")
    if marker:
        ids = [record["id"] for record in records]
        if marker not in ids:
            raise Rejected(400, "VolumeBackup.0009", f"Marker {marker} could not be found.")
        records = records[ids.index(marker) + 1 :]
    cap = min(emulator.config.page_cap or MAX_PAGE, MAX_PAGE)
    size = cap if limit is None else min(limit, cap)
    page = records[offset : offset + size]
    return page, bool(page) and len(page) == size


def _next_href(call: Call, last_id: str) -> str:
    kept = [(key, value) for key, value in call.params if key not in ("marker", "offset")]
    return f"{call.base_url}{call.path}?{urlencode([*kept, ('marker', last_id)])}"


def _backup_record(call: Call, project_id: str, row: dict[str, Any]) -> dict[str, Any]:
    """A backup as the Cinder-style list and show calls write it, with its links."""
    self_href = f"{call.base_url}/v2/{project_id}/backups/{row['id']}"
    bookmark = f"{call.base_url}/{project_id}/backups/{row['id']}"
    return {
        **_backup_fields(row),
        "links": [{"rel": "self", "href": self_href}, {"rel": "bookmark", "href": bookmark}],
    }


def _backup_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "status": row["status"],
        "size": row["size"],
        "volume_id": row["volume_id"],
        "availability_zone": row["availability_zone"],
        "snapshot_id": None,
        "description": row["description"],
        "container": row["id"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "data_timestamp": row["created_at"],
        "fail_reason": None,
        "is_incremental": False,
        "has_dependent_backups": False,
        "object_count": 0,
    }


# -- parameters --------------------------------------------------------------------------------
def _flag(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise Rejected(400, "VolumeBackup.0009", f"Invalid {name}: {value!r}.")


def _non_negative(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()):
        raise Rejected(400, "VolumeBackup.0009", f"Invalid {name}: {value!r}.")
    return int(value)


def _sort_dir(value: str | None) -> str:
    direction = (value or "desc").lower()
    if direction not in ("asc", "desc"):
        raise Rejected(400, "VolumeBackup.0008", f"Invalid sort_dir: {direction!r}.")
    return direction
