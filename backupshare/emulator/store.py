"""The emulator's state in SQLite: backups and their sharings, with the service's rules.

One connection guarded by a lock: every statement here takes microseconds, so the lock is never
what limits the emulator (the HTTP handling is), and an in-memory database stays one database.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

MAX_TARGETS = 10

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
"""

# Sort keys of the list call and the column each one orders by.
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


class Rejected(Exception):
    """A request the service refuses; `status` and `code` say how."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def utc_now() -> str:
    """Naive ISO-8601 with microseconds, as the service writes its timestamps."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


@dataclass(frozen=True)
class BackupSeed:
    id: str
    project_id: str
    name: str
    status: str = "available"
    size: int = 10
    encrypted: bool = False
    volume_id: str | None = None
    availability_zone: str = "eu-de-01"
    description: str = ""


class Store:
    """Backups and sharings of every project the emulator knows."""

    def __init__(self, path: str = ":memory:", *, max_targets: int = MAX_TARGETS) -> None:
        self.max_targets = max_targets
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _transaction(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

    # -- backups ---------------------------------------------------------------------------
    def add_backup(self, seed: BackupSeed) -> None:
        now = utc_now()
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO backups (id, project_id, name, status, size, volume_id,"
                " availability_zone, description, encrypted, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seed.id,
                    seed.project_id,
                    seed.name,
                    seed.status,
                    seed.size,
                    seed.volume_id or str(uuid.uuid4()),
                    seed.availability_zone,
                    seed.description,
                    int(seed.encrypted),
                    now,
                    now,
                ),
            )

    def backups(self, project_id: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM backups WHERE project_id = ? ORDER BY created_at, id", (project_id,)
            ).fetchall()
        return [dict(row) for row in rows]

    # -- sharings --------------------------------------------------------------------------
    def share(self, project_id: str, backup_id: str, targets: list[str]) -> list[dict[str, Any]]:
        """Share one backup with every target, all or nothing, under the service's rules."""

        def work(db: sqlite3.Connection) -> list[dict[str, Any]]:
            backup = self._owned_backup(db, project_id, backup_id)
            if backup["encrypted"]:
                raise Rejected(400, "VolumeBackup.0105", "Encrypted backups cannot be shared.")
            if backup["status"] != "available":
                raise Rejected(
                    400,
                    "VolumeBackup.0104",
                    f"Backup {backup_id} is in status {backup['status']}; "
                    "only available backups can be shared.",
                )
            if project_id in targets:
                raise Rejected(
                    400, "VolumeBackup.0106", "A backup cannot be shared with its own project."
                )
            existing = {
                row[0]
                for row in db.execute(
                    "SELECT to_project_id FROM shares WHERE backup_id = ?", (backup_id,)
                )
            }
            already = [target for target in targets if target in existing]
            if already:
                raise Rejected(
                    400,
                    "VolumeBackup.0107",
                    f"Backup {backup_id} is already shared with project {already[0]}.",
                )
            if len(existing) + len(targets) > self.max_targets:
                raise Rejected(
                    400,
                    "VolumeBackup.0108",
                    f"A backup can be shared with at most {self.max_targets} projects "
                    f"({len(existing)} already).",
                )
            now = utc_now()
            created = []
            for target in targets:
                record = {
                    "id": str(uuid.uuid4()),
                    "backup_id": backup_id,
                    "from_project_id": project_id,
                    "to_project_id": target,
                    "created_at": now,
                    "updated_at": now,
                }
                db.execute(
                    "INSERT INTO shares (id, backup_id, from_project_id, to_project_id,"
                    " created_at, updated_at) VALUES (:id, :backup_id, :from_project_id,"
                    " :to_project_id, :created_at, :updated_at)",
                    record,
                )
                created.append({**record, "deleted": False, "deleted_at": None})
            return created

        result: list[dict[str, Any]] = self._transaction(work)
        return result

    def _owned_backup(self, db: sqlite3.Connection, project_id: str, backup_id: str) -> Any:
        backup = db.execute(
            "SELECT * FROM backups WHERE id = ? AND project_id = ?", (backup_id, project_id)
        ).fetchone()
        if backup is None:
            raise Rejected(404, "VolumeBackup.0204", f"Backup {backup_id} could not be found.")
        return backup

    def cancel(self, project_id: str, share_id: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            deleted = db.execute(
                "DELETE FROM shares WHERE id = ? AND from_project_id = ?", (share_id, project_id)
            ).rowcount
            if not deleted:
                raise Rejected(
                    404, "VolumeBackup.0205", f"Backup sharing {share_id} could not be found."
                )

        self._transaction(work)

    def cancel_backup(self, project_id: str, backup_id: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            self._owned_backup(db, project_id, backup_id)
            db.execute(
                "DELETE FROM shares WHERE backup_id = ? AND from_project_id = ?",
                (backup_id, project_id),
            )

        self._transaction(work)

    def show(self, project_id: str, share_id: str) -> dict[str, Any]:
        rows = self._select(
            "s.id = ? AND (s.from_project_id = ? OR s.to_project_id = ?)",
            [share_id, project_id, project_id],
        )
        if not rows:
            raise Rejected(
                404, "VolumeBackup.0205", f"Backup sharing {share_id} could not be found."
            )
        return rows[0]

    def query(
        self,
        project_id: str,
        filters: dict[str, str],
        *,
        to_me: bool = False,
        sort_key: str = "created_at",
        sort_dir: str = "desc",
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        where, args = self._where(project_id, filters, to_me)
        order = f"{SORT_COLUMNS[sort_key]} {sort_dir.upper()}, s.id {sort_dir.upper()}"
        sql_tail = f" ORDER BY {order} LIMIT ? OFFSET ?"
        args += [limit if limit is not None else -1, offset]
        return self._select(where, args, sql_tail)

    def count(self, project_id: str, filters: dict[str, str], *, to_me: bool = False) -> int:
        where, args = self._where(project_id, filters, to_me)
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM shares s JOIN backups b ON b.id = s.backup_id WHERE " + where,
                args,
            ).fetchone()
        return int(row[0])

    def _where(
        self, project_id: str, filters: dict[str, str], to_me: bool
    ) -> tuple[str, list[Any]]:
        clauses = ["s.to_project_id = ?" if to_me else "s.from_project_id = ?"]
        args: list[Any] = [project_id]
        for key, column in EXACT_FILTERS.items():
            if key in filters:
                clauses.append(f"{column} = ?")
                args.append(filters[key])
        if "name" in filters:
            clauses.append("b.name LIKE ? ESCAPE '\\'")
            args.append("%" + _escape_like(filters["name"]) + "%")
        return " AND ".join(clauses), args

    def _select(self, where: str, args: Iterable[Any], tail: str = "") -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT s.id AS s_id, s.backup_id, s.from_project_id, s.to_project_id,"
                " s.created_at AS s_created_at, s.updated_at AS s_updated_at, b.*"
                " FROM shares s JOIN backups b ON b.id = s.backup_id WHERE " + where + tail,
                list(args),
            ).fetchall()
        return [_detail(row) for row in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _detail(row: sqlite3.Row) -> dict[str, Any]:
    """A SHARING_DETAIL record, the nested backup with every documented field."""
    return {
        "id": row["s_id"],
        "backup_id": row["backup_id"],
        "from_project_id": row["from_project_id"],
        "to_project_id": row["to_project_id"],
        "created_at": row["s_created_at"],
        "updated_at": row["s_updated_at"],
        "backup": {
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
            "service_metadata": None,
        },
    }
