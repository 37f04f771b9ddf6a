"""What is shown: each kind of records (sharings, backups, results, documents) as every
format sees it — the data of json/jsonl/yaml, a csv row, an id, a table row — and the
human forms of times and sizes. Pure: no rich, no terminal."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

from ..models import (
    RESULT_ACCEPTED,
    RESULT_CANCELED,
    RESULT_CREATED,
    RESULT_REJECTED,
    Backup,
    Result,
    Share,
)
from .escaping import cell, printable

T = TypeVar("T")

SHARE_CSV_FIELDS = (
    "id",
    "backup_id",
    "from_project_id",
    "to_project_id",
    "created_at",
    "updated_at",
    "backup_name",
    "backup_status",
    "backup_size",
    "volume_id",
    "availability_zone",
)
RESULT_FIELDS = ("backup_id", "to_project_id", "share_id", "result", "error")
BACKUP_CSV_FIELDS = ("id", "name", "status", "volume_id", "size", "created_at")
# A backups table keeps the id whole; then the name and status a person looks for; the volume last.
BACKUP_ROLES: dict[str, tuple[str, int]] = {
    "ID": ("id", 0),
    "NAME": ("lesser", 1),
    "STATUS": ("key", 2),
    "CREATED (UTC)": ("lesser", 3),
    "VOLUME": ("id", 4),
    "SIZE": ("lesser", 5),
}
# list-shares' columns by name (-c/--column; the csv fields and `status`), each with its table
# header. What a sharing is — its backup and the project — always shows; the share id comes next.
SHARE_HEADERS = {
    "id": "SHARE ID",
    "backup_id": "BACKUP ID",
    "backup_name": "BACKUP NAME",
    "from_project_id": "FROM PROJECT",
    "to_project_id": "TO PROJECT",
    "status": "STATUS",
    "backup_status": "BACKUP STATUS",
    "backup_size": "SIZE",
    "created_at": "CREATED (UTC)",
    "updated_at": "UPDATED (UTC)",
    "volume_id": "VOLUME",
    "availability_zone": "AZ",
}
SHARE_COLUMNS = tuple(SHARE_HEADERS)
# The default table's columns by name (share_row's order; the peer is FROM PROJECT for offers).
TABLE_COLUMNS = ("id", "backup_id", "backup_name", "to_project_id", "status", "backup_size",
                 "created_at")  # fmt: skip
SHARE_ROLES: dict[str, tuple[str, int]] = {
    "BACKUP ID": ("id", 0),
    "TO PROJECT": ("id", 0),
    "FROM PROJECT": ("id", 0),
    "SHARE ID": ("id", 1),
    "STATUS": ("key", 2),
    "BACKUP NAME": ("lesser", 3),
    "CREATED (UTC)": ("lesser", 4),
    "SIZE": ("lesser", 5),
}
# how a dry run reads
PLANNED = {
    RESULT_CREATED: "would create",
    RESULT_CANCELED: "would cancel",
    RESULT_ACCEPTED: "would accept",
    RESULT_REJECTED: "would reject",
}


def counted(count: int, noun: str) -> str:
    """`1 record`, `2 records`, `0 records`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def human_time(value: str | None, *, zone: bool = True) -> str:
    """`2017-08-10T12:25:40.480424` (naive UTC) as `2017-08-10 12:25:40 UTC`."""
    if not value:
        return "-"
    return value.replace("T", " ").split(".")[0] + (" UTC" if zone else "")


def human_size(gigabytes: int | None) -> str:
    if gigabytes is None:
        return "-"
    return f"{gigabytes / 1024:.1f} TB" if gigabytes >= 1024 else f"{gigabytes} GB"


def share_row(share: Share, *, shared_with_me: bool = False) -> list[str]:
    backup = share.backup
    peer = share.from_project_id if shared_with_me else share.to_project_id
    return [
        share.id,
        share.backup_id,
        (backup.name if backup else None) or "-",
        peer or "-",
        # a CBR member's own status (pending, accepted, rejected) says more than its backup's
        share.status or (backup.status if backup else None) or "-",
        human_size(backup.size if backup else None),
        human_time(share.created_at, zone=False),  # the header says UTC, once
    ]


def share_headers(shared_with_me: bool = False) -> list[str]:
    peer = "FROM PROJECT" if shared_with_me else "TO PROJECT"
    return ["SHARE ID", "BACKUP ID", "BACKUP NAME", peer, "STATUS", "SIZE", "CREATED (UTC)"]


def share_cells(share: Share) -> dict[str, str]:
    """Every column a sharing can show in a table, by its -c name."""
    flat = share_flat(share)
    backup = share.backup
    cells = {name: cell(flat.get(name)) for name in SHARE_COLUMNS}
    cells["status"] = share.status or (backup.status if backup else None) or "-"
    cells["backup_size"] = human_size(backup.size if backup else None)
    cells["created_at"] = human_time(share.created_at, zone=False)
    cells["updated_at"] = human_time(share.updated_at, zone=False)
    return cells


def share_flat(share: Share) -> dict[str, Any]:
    backup = share.backup
    return {
        "id": share.id,
        "backup_id": share.backup_id,
        "from_project_id": share.from_project_id,
        "to_project_id": share.to_project_id,
        "created_at": share.created_at,
        "updated_at": share.updated_at,
        "backup_name": backup.name if backup else None,
        "backup_status": backup.status if backup else None,
        "backup_size": backup.size if backup else None,
        "volume_id": backup.volume_id if backup else None,
        "availability_zone": backup.availability_zone if backup else None,
    }


def result_row(result: Result, *, dry_run: bool = False) -> list[str]:
    error = result.error.message if result.error else ""
    shown = PLANNED.get(result.result, result.result) if dry_run else result.result
    return [
        shown,
        result.to_project_id or "-",
        result.share_id or "-",
        result.backup_id or "-",
        error,
    ]


# -- what is shown: one kind of records, as every format sees it ---------------------------------
class Records(Generic[T]):
    """One kind of records (sharings, results, config and doctor records) and how each format
    sees one: the data of json/jsonl/yaml, a csv row, an id, a table row. The formats lay
    them out; this says what a record is."""

    csv_header: Sequence[str] = ()
    headers: Sequence[str] = ()  # the table's
    empty = "nothing"  # said on stderr by a table with no rows
    roles: dict[str, tuple[str, int]] | None = None  # how the table's columns fit a terminal

    def data(self, item: T) -> Any:
        """The record for json, jsonl and yaml."""
        raise NotImplementedError

    def document(self, records: list[Any]) -> Any:
        """What json and yaml print for the whole list: the list itself, unless wrapped."""
        return records

    def csv_row(self, item: T) -> Iterable[Any]:
        raise NotImplementedError

    def id(self, item: T) -> str | None:
        """The record's line in `ids`; None: the record has none and gets no line."""
        raise NotImplementedError

    def row(self, item: T) -> list[str]:
        raise NotImplementedError

    def pairs(self, item: T) -> list[tuple[str, str]]:
        """A record shown alone in a table: `key  value` lines."""
        raise NotImplementedError

    def title(self, item: T) -> str:
        raise NotImplementedError


class Sharings(Records[Share]):
    """list-shares and show: the API's own records in json/jsonl/yaml, flat rows in csv."""

    csv_header: Sequence[str] = SHARE_CSV_FIELDS
    empty = "no sharings"

    roles = SHARE_ROLES

    def __init__(
        self, shared_with_me: bool = False, columns: Sequence[str] = (), share_ids: bool = True
    ) -> None:
        self.shared_with_me = shared_with_me
        self.columns = tuple(columns)  # -c: exactly these, in this order (table and csv)
        self.headers = share_headers(shared_with_me)
        self.table_columns: tuple[str, ...] = ()
        if not share_ids and not self.columns:
            # CBR's offers have no id of their own (the "share id" is the backup's): the table
            # shows the backup id once. csv keeps its fixed header.
            self.table_columns = tuple(TABLE_COLUMNS[1:])
            self.headers = [SHARE_HEADERS[name] for name in self.table_columns]
            if shared_with_me:
                self.headers[self.table_columns.index("to_project_id")] = "FROM PROJECT"
        if self.columns:
            self.headers = [SHARE_HEADERS[name] for name in self.columns]
            self.csv_header = self.columns
            # Asked for by name: every one shows, or the records go in blocks.
            self.roles = {header: ("id", 0) for header in self.headers}

    def data(self, item: Share) -> Any:
        return item.raw

    def csv_row(self, item: Share) -> Iterable[Any]:
        if self.columns:
            flat = share_flat(item)
            own_status = item.status or (item.backup.status if item.backup else None)
            return [own_status if name == "status" else flat[name] for name in self.columns]
        return share_flat(item).values()

    def id(self, item: Share) -> str:
        return item.id

    def row(self, item: Share) -> list[str]:
        if self.columns or self.table_columns:
            cells = share_cells(item)
            if self.table_columns:
                cells["to_project_id"] = item.from_project_id or "-"  # offers: who made them
            return [cells[name] for name in self.columns or self.table_columns]
        return share_row(item, shared_with_me=self.shared_with_me)

    def pairs(self, item: Share) -> list[tuple[str, str]]:
        return detail_pairs(item)

    def title(self, item: Share) -> str:
        return f"Sharing {item.id}"


class Backups(Records[Backup]):
    """backups: the service's own records in json/jsonl/yaml, flat rows in csv, newest first."""

    csv_header = BACKUP_CSV_FIELDS
    headers = ("NAME", "STATUS", "VOLUME", "SIZE", "CREATED (UTC)", "ID")
    empty = "no backups"
    roles = BACKUP_ROLES

    def data(self, item: Backup) -> Any:
        return item.raw

    def csv_row(self, item: Backup) -> Iterable[Any]:
        return [item.id, item.name, item.status, item.volume_id, item.size, item.created_at]

    def id(self, item: Backup) -> str | None:
        return item.id

    def row(self, item: Backup) -> list[str]:
        # Where the service says so (CBR), an encrypted backup is marked: sharing it needs a
        # grant on its KMS key too.
        marker = " (encrypted)" if item.encrypted else ""
        return [
            (item.name or "-") + marker,
            item.status or "-",
            item.volume_id or "-",
            human_size(item.size),
            human_time(item.created_at, zone=False),
            item.id or "-",
        ]


class Results(Records[Result]):
    """share and cancel: one result per target or sharing, in a document saying what changed."""

    csv_header: Sequence[str] = RESULT_FIELDS
    headers: Sequence[str] = ("RESULT", "PROJECT", "SHARE ID", "BACKUP ID", "ERROR")
    empty = "nothing to do"

    def __init__(
        self, changed: bool, dry_run: bool, with_status: bool = False, receiving: bool = False
    ) -> None:
        self.changed, self.dry_run = changed, dry_run
        # CBR results also say each member's status: a column of its own, after RESULT
        self.with_status = with_status
        if with_status:
            self.headers = ("RESULT", "STATUS", *self.headers[1:])
            self.csv_header = (*RESULT_FIELDS, "status")
        # accept/reject: whose offer it was and the vault it went (or would go) into
        self.receiving = receiving
        if receiving:
            self.headers = (*self.headers[:-1], "FROM PROJECT", "VAULT", self.headers[-1])
            self.csv_header = (*self.csv_header, "from_project_id", "vault_id")
        if dry_run:  # every machine-readable row of a plan says so, not only the document
            self.csv_header = (*self.csv_header, "dry_run")

    def data(self, item: Result) -> Any:
        return {**item.to_dict(), "dry_run": True} if self.dry_run else item.to_dict()

    def document(self, records: list[Any]) -> Any:
        document: dict[str, Any] = {"changed": self.changed, "results": records}
        return {"dry_run": True, **document} if self.dry_run else document

    def csv_row(self, item: Result) -> Iterable[Any]:
        error = item.error.message if item.error else ""
        row = [item.backup_id, item.to_project_id, item.share_id, item.result, error]
        row += [item.status] if self.with_status else []
        row += [item.from_project_id, item.vault_id] if self.receiving else []
        return [*row, "true"] if self.dry_run else row

    def id(self, item: Result) -> str | None:
        return item.share_id or None

    def row(self, item: Result) -> list[str]:
        row = result_row(item, dry_run=self.dry_run)
        if self.receiving:
            row[-1:-1] = [item.from_project_id or "-", item.vault_id or "-"]
        return [row[0], item.status or "-", *row[1:]] if self.with_status else row


FINDING_FIELDS = ("finding", "backup_id", "to_project_id", "from_project_id", "status", "since")


class Findings(Records[Any]):
    """audit: one record per finding (verbs/audit.Finding), in the shape docs/output.md gives."""

    csv_header = FINDING_FIELDS
    headers = ("FINDING", "BACKUP ID", "TO PROJECT", "FROM PROJECT", "STATUS", "SINCE (UTC)")
    empty = "no findings"
    roles = {  # noqa: RUF012  (read only, as BACKUP_ROLES is)
        "FINDING": ("key", 0),
        "BACKUP ID": ("id", 0),
        "TO PROJECT": ("id", 1),
        "FROM PROJECT": ("id", 3),
        "STATUS": ("key", 2),
        "SINCE (UTC)": ("lesser", 4),
    }

    def data(self, item: Any) -> Any:
        return item.to_dict()

    def csv_row(self, item: Any) -> Iterable[Any]:
        return list(item.to_dict().values())

    def id(self, item: Any) -> str | None:
        return str(item.backup_id)

    def row(self, item: Any) -> list[str]:
        return [
            item.finding,
            item.backup_id,
            item.to_project_id,
            item.from_project_id or "-",
            item.status or "-",
            human_time(item.since, zone=False),
        ]


class Documents(Records[dict[str, Any]]):
    """Generic records (config profiles and settings, doctor's steps), keyed by `headers`."""

    def __init__(self, records: list[dict[str, Any]], headers: list[str]) -> None:
        self.csv_header = list(records[0]) if records else headers
        # `backup_id` reads `BACKUP ID`, as in every other table
        self.headers = [h.upper().replace("_", " ") for h in headers]
        # The first column names the record and the status says how it went: both stay;
        # values stay whole; explanations wrap; fixes and sources give way last.
        roles = {name: ("text", 0) for name in self.headers}
        roles.update({self.headers[0]: ("key", 0), "STATUS": ("key", 0), "VALUE": ("id", 0)})
        roles.update({"FIX": ("text", 1), "SOURCE": ("text", 1)})
        self.roles = roles

    def data(self, item: dict[str, Any]) -> Any:
        return item

    def csv_row(self, item: dict[str, Any]) -> Iterable[Any]:
        return (item.get(key) for key in self.csv_header)

    def id(self, item: dict[str, Any]) -> str:
        return printable(str(next(iter(item.values()))))

    def row(self, item: dict[str, Any]) -> list[str]:
        return [cell(value) for value in item.values()]


def detail_pairs(share: Share) -> list[tuple[str, str]]:
    backup = share.backup
    pairs = [
        ("Share ID", share.id),
        ("Backup ID", share.backup_id),
        ("From project", share.from_project_id or "-"),
        ("To project", share.to_project_id),
        ("Shared at", human_time(share.created_at)),
        ("Updated at", human_time(share.updated_at)),
    ]
    if backup is not None:
        pairs += [
            ("Backup name", backup.name or "-"),
            ("Backup status", backup.status or "-"),
            ("Backup size", human_size(backup.size)),
            ("Volume ID", backup.volume_id or "-"),
            ("Availability zone", backup.availability_zone or "-"),
            ("Backup created", human_time(backup.created_at)),
            ("Description", backup.description or "-"),
        ]
    return pairs
