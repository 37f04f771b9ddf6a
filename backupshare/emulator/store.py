"""The emulator's state in SQLite: disk backups, VBS sharings, CBR share members and vaults.

The state is the services' common ground: the same disk backup is listed by VBS and by CBR (as
CBR's disk backups show on the VBS console), while a VBS sharing and a CBR member are separate
things. The rules every sharing obeys (the owner alone shares, only available and unencrypted
backups, never to the owner, at most N projects) are enforced here, inside one transaction, and
refused with a `Refusal` that names the rule; each service's routes turn it into their own
status, error code and words.

One connection guarded by a lock: every statement here takes microseconds, so the lock is never
what limits the emulator (the HTTP handling is), and an in-memory database stays one database.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from .formats import TIMESTAMP_FORMAT, timestamp
from .schema import (
    ADDED_COLUMNS,
    DISK_VAULT,
    EXACT_FILTERS,
    MAX_TARGETS,
    SCHEMA,
    SETTLE_INDEX,
    SORT_COLUMNS,
    AutoAnswer,
    BackupSeed,
    Clock,
    Reason,
    Refusal,
    utc_now,
)
from .vaults import VaultStore


class Store(VaultStore):
    """Backups, sharings, members and vaults (vaults.py) of every project the emulator knows."""

    def __init__(
        self, path: str = ":memory:", *, max_targets: int = MAX_TARGETS, clock: Clock = utc_now
    ) -> None:
        self.max_targets = max_targets
        self.clock = clock
        # Answers given on a receiving project's behalf, by project (None: every project).
        self.auto_answers: dict[str | None, AutoAnswer] = {}
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        for table, columns in ADDED_COLUMNS.items():
            present = {row["name"] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns.items():
                if name not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        self._db.execute(SETTLE_INDEX)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def now(self) -> str:
        return timestamp(self.clock())

    def _transaction(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._settle(self._db)
                result = work(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

    def _read(self, sql: str, args: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            self._settle(self._db)
            rows = self._db.execute(sql, list(args)).fetchall()
        return [dict(row) for row in rows]

    def _settle(self, db: sqlite3.Connection) -> None:
        """Backups whose time has come become available (checked whenever state is read)."""
        db.execute(
            "UPDATE backups SET status = 'available', updated_at = available_at,"
            " available_at = NULL WHERE available_at IS NOT NULL AND available_at <= ?",
            (self.now(),),
        )
        if self.auto_answers:
            self._answer_due_offers(db)

    def set_auto_answer(self, project_id: str | None, answer: AutoAnswer) -> None:
        """Answer offers made to `project_id` (None: to every project) from now on, on its
        behalf. Offers made earlier (a generated backlog) stay as they are."""
        with self._lock:
            self.auto_answers[project_id] = replace(answer, since=self.now())

    def clear_auto_answers(self) -> None:
        """Answer on nobody's behalf any more."""
        with self._lock:
            self.auto_answers.clear()

    def _answer_due_offers(self, db: sqlite3.Connection) -> None:
        """Pending offers whose auto-answer is due get it, dated when it fell due (so the
        answer does not depend on when someone looked). An offer no vault has room for stays
        pending, as it would with a person who cannot accept it."""
        now = self.clock()
        if now.tzinfo is None:  # a test's clock may be naive: UTC, as everywhere here
            now = now.replace(tzinfo=timezone.utc)
        rules = self.auto_answers.values()
        earliest = min(rule.after_seconds for rule in rules)
        cutoff = timestamp(now - timedelta(seconds=earliest))
        due = db.execute(
            "SELECT m.*, b.size, b.kind FROM members m JOIN backups b ON b.id = m.backup_id"
            " WHERE m.status = 'pending' AND m.created_at >= ? AND m.created_at <= ?"
            " ORDER BY m.created_at, m.id",
            (min(rule.since for rule in rules), cutoff),
        ).fetchall()
        for member in due:
            rule = self.auto_answers.get(member["dest_project_id"]) or self.auto_answers.get(None)
            if rule is None or member["created_at"] < rule.since:
                continue
            answered = _parse_timestamp(member["created_at"]) + timedelta(
                seconds=rule.after_seconds
            )
            if answered > now:
                continue
            vault_id = None
            if rule.status == "accepted":
                vault_id = self._roomiest_fit(
                    db, member["dest_project_id"], member["size"] or 0, member["kind"] or DISK_VAULT
                )
                if vault_id is None:
                    continue
            db.execute(
                "UPDATE members SET status = ?, vault_id = ?, updated_at = ? WHERE id = ?",
                (rule.status, vault_id, timestamp(answered), member["id"]),
            )

    # -- backups ---------------------------------------------------------------------------
    def add_backup(self, seed: BackupSeed) -> None:
        now = self.clock()
        created = timestamp(seed.created_at or now)
        status, ready = seed.status, None
        if seed.available_after is not None:
            status = "creating" if seed.status == "available" else seed.status
            ready = timestamp(now + timedelta(seconds=seed.available_after))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO backups (id, project_id, name, status, size, volume_id,"
                " availability_zone, description, encrypted, created_at, updated_at,"
                " available_at, vault_id, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    seed.id,
                    seed.project_id,
                    seed.name,
                    status,
                    seed.size,
                    seed.volume_id or str(uuid.uuid4()),
                    seed.availability_zone,
                    seed.description,
                    int(seed.encrypted),
                    created,
                    max(created, timestamp(now)),
                    ready,
                    seed.vault_id,
                    seed.kind,
                ),
            )

    def add_many(
        self,
        backups: list[BackupSeed],
        shares: list[dict[str, Any]],
        members: list[dict[str, Any]],
    ) -> None:
        """Bulk seeding in one transaction: backups (all `available` or their status, made at
        their `created_at`), VBS sharing rows and CBR member rows, unchecked (the generator in
        seeding.py makes them consistent)."""
        rows = [
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
                timestamp(seed.created_at or self.clock()),
                timestamp(seed.created_at or self.clock()),
                seed.vault_id,
                seed.kind,
            )
            for seed in backups
        ]

        def work(db: sqlite3.Connection) -> None:
            db.executemany(
                "INSERT OR REPLACE INTO backups (id, project_id, name, status, size, volume_id,"
                " availability_zone, description, encrypted, created_at, updated_at, vault_id,"
                " kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.executemany(
                "INSERT OR REPLACE INTO shares (id, backup_id, from_project_id, to_project_id,"
                " created_at, updated_at) VALUES (:id, :backup_id, :from_project_id,"
                " :to_project_id, :created_at, :updated_at)",
                shares,
            )
            db.executemany(
                "INSERT OR REPLACE INTO members (id, backup_id, dest_project_id, status,"
                " vault_id, image_id, created_at, updated_at) VALUES (:id, :backup_id,"
                " :dest_project_id, :status, :vault_id, :image_id, :created_at, :updated_at)",
                members,
            )

        self._transaction(work)

    def backups(self, project_id: str) -> list[dict[str, Any]]:
        """The project's own backups, oldest first."""
        return self._read(
            "SELECT * FROM backups WHERE project_id = ? ORDER BY created_at, id", (project_id,)
        )

    def backup(self, backup_id: str) -> dict[str, Any] | None:
        """One backup, whoever owns it."""
        rows = self._read("SELECT * FROM backups WHERE id = ?", (backup_id,))
        return rows[0] if rows else None

    def visible_backups(
        self, project_id: str, *, own: bool = True, shared: bool = False
    ) -> list[dict[str, Any]]:
        """The project's own backups and/or those offered to it as a CBR share member; a shared
        one carries its membership as `member_status` and `member_vault_id`."""
        parts, args = [], []
        if own:
            parts.append(
                "SELECT b.*, NULL AS member_status, NULL AS member_vault_id FROM backups b"
                " WHERE b.project_id = ?"
            )
            args.append(project_id)
        if shared:
            parts.append(
                "SELECT b.*, m.status AS member_status, m.vault_id AS member_vault_id"
                " FROM members m JOIN backups b ON b.id = m.backup_id"
                " WHERE m.dest_project_id = ? AND b.project_id != ?"
            )
            args += [project_id, project_id]
        if not parts:
            return []
        return self._read(" UNION ALL ".join(parts), args)

    def _shareable(
        self, db: sqlite3.Connection, project_id: str, backup_id: str, targets: list[str]
    ) -> Any:
        """The backup, if `project_id` may share it with `targets` now; else the rule that says
        no, in the order the services check: whose, encrypted, status, the targets."""
        backup = db.execute("SELECT * FROM backups WHERE id = ?", (backup_id,)).fetchone()
        if backup is None:
            raise Refusal(Reason.NO_BACKUP, backup_id=backup_id)
        if backup["project_id"] != project_id:
            raise Refusal(Reason.NOT_OWNER, backup_id=backup_id)
        if backup["encrypted"]:
            raise Refusal(Reason.ENCRYPTED, backup_id=backup_id)
        if backup["status"] != "available":
            raise Refusal(Reason.NOT_AVAILABLE, backup_id=backup_id, status=backup["status"])
        if project_id in targets:
            raise Refusal(Reason.OWN_PROJECT, backup_id=backup_id, project_id=project_id)
        return backup

    def _room_for(self, backup_id: str, existing: set[str], targets: list[str]) -> None:
        already = [target for target in targets if target in existing]
        if already:
            raise Refusal(Reason.ALREADY_SHARED, backup_id=backup_id, project_id=already[0])
        if len(existing) + len(targets) > self.max_targets:
            raise Refusal(
                Reason.TOO_MANY, backup_id=backup_id, limit=self.max_targets, count=len(existing)
            )

    # -- VBS sharings ----------------------------------------------------------------------
    def share(self, project_id: str, backup_id: str, targets: list[str]) -> list[dict[str, Any]]:
        """Share one backup with every target, all or nothing: the new sharing rows."""

        def work(db: sqlite3.Connection) -> list[dict[str, Any]]:
            kind = db.execute("SELECT kind FROM backups WHERE id = ?", (backup_id,)).fetchone()
            if kind is not None and (kind[0] or DISK_VAULT) != DISK_VAULT:
                raise Refusal(Reason.NO_BACKUP, backup_id=backup_id)  # VBS knows disks alone
            self._shareable(db, project_id, backup_id, targets)
            existing = {
                row[0]
                for row in db.execute(
                    "SELECT to_project_id FROM shares WHERE backup_id = ?", (backup_id,)
                )
            }
            self._room_for(backup_id, existing, targets)
            now = self.now()
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
                created.append(record)
            return created

        result: list[dict[str, Any]] = self._transaction(work)
        return result

    def cancel(self, project_id: str, share_id: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            deleted = db.execute(
                "DELETE FROM shares WHERE id = ? AND from_project_id = ?", (share_id, project_id)
            ).rowcount
            if not deleted:
                raise Refusal(Reason.NO_SHARING, share_id=share_id)

        self._transaction(work)

    def cancel_backup(self, project_id: str, backup_id: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            owned = db.execute(
                "SELECT 1 FROM backups WHERE id = ? AND project_id = ?", (backup_id, project_id)
            ).fetchone()
            if owned is None:
                raise Refusal(Reason.NO_BACKUP, backup_id=backup_id)
            db.execute(
                "DELETE FROM shares WHERE backup_id = ? AND from_project_id = ?",
                (backup_id, project_id),
            )

        self._transaction(work)

    def show(self, project_id: str, share_id: str) -> dict[str, Any]:
        """One sharing made by or to the project, joined with its backup."""
        rows = self._select(
            "s.id = ? AND (s.from_project_id = ? OR s.to_project_id = ?)",
            [share_id, project_id, project_id],
        )
        if not rows:
            raise Refusal(Reason.NO_SHARING, share_id=share_id)
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
        """Sharings made by (or to) the project, joined with their backups: each row has the
        sharing's `id`, `backup_id`, `from_project_id`, `to_project_id`, `created_at`,
        `updated_at` and the backup's columns under `backup`."""
        where, args = self._where(project_id, filters, to_me)
        order = f"{SORT_COLUMNS[sort_key]} {sort_dir.upper()}, s.id {sort_dir.upper()}"
        sql_tail = f" ORDER BY {order} LIMIT ? OFFSET ?"
        args += [limit if limit is not None else -1, offset]
        return self._select(where, args, sql_tail)

    def count(self, project_id: str, filters: dict[str, str], *, to_me: bool = False) -> int:
        where, args = self._where(project_id, filters, to_me)
        rows = self._read(
            "SELECT COUNT(*) AS n FROM shares s JOIN backups b ON b.id = s.backup_id WHERE "
            + where,
            args,
        )
        return int(rows[0]["n"])

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
        rows = self._read(
            "SELECT s.id AS s_id, s.backup_id, s.from_project_id, s.to_project_id,"
            " s.created_at AS s_created_at, s.updated_at AS s_updated_at, b.*"
            " FROM shares s JOIN backups b ON b.id = s.backup_id WHERE " + where + tail,
            args,
        )
        return [_sharing_row(row) for row in rows]

    # -- CBR share members -----------------------------------------------------------------
    def add_members(
        self, project_id: str, backup_id: str, targets: list[str]
    ) -> tuple[list[dict[str, Any]], int]:
        """Offer one backup to every target (status `pending`), all or nothing: the new member
        rows and how many members the backup has now. A member in any status is a member."""

        def work(db: sqlite3.Connection) -> tuple[list[dict[str, Any]], int]:
            self._shareable(db, project_id, backup_id, targets)
            existing = {
                row[0]
                for row in db.execute(
                    "SELECT dest_project_id FROM members WHERE backup_id = ?", (backup_id,)
                )
            }
            self._room_for(backup_id, existing, targets)
            now = self.now()
            created = []
            for target in targets:
                record = {
                    "id": str(uuid.uuid4()),
                    "backup_id": backup_id,
                    "dest_project_id": target,
                    "status": "pending",
                    "vault_id": None,
                    "image_id": None,
                    "created_at": now,
                    "updated_at": None,
                }
                db.execute(
                    "INSERT INTO members (id, backup_id, dest_project_id, status, vault_id,"
                    " image_id, created_at, updated_at) VALUES (:id, :backup_id,"
                    " :dest_project_id, :status, :vault_id, :image_id, :created_at, :updated_at)",
                    record,
                )
                created.append(record)
            return created, len(existing) + len(created)

        result: tuple[list[dict[str, Any]], int] = self._transaction(work)
        return result

    def members(self, backup_id: str) -> list[dict[str, Any]]:
        """Every member of the backup, in the order they were added."""
        return self._read(
            "SELECT * FROM members WHERE backup_id = ? ORDER BY created_at, id", (backup_id,)
        )

    def member(self, backup_id: str, dest_project_id: str) -> dict[str, Any] | None:
        rows = self._read(
            "SELECT * FROM members WHERE backup_id = ? AND dest_project_id = ?",
            (backup_id, dest_project_id),
        )
        return rows[0] if rows else None

    def answer_member(
        self, backup_id: str, dest_project_id: str, status: str, vault_id: str | None
    ) -> dict[str, Any]:
        """The receiving project's answer: `accepted` into its own vault (which must have room
        for the backup), `rejected` or back to `pending` (the vault is let go)."""

        def work(db: sqlite3.Connection) -> dict[str, Any]:
            member = db.execute(
                "SELECT * FROM members WHERE backup_id = ? AND dest_project_id = ?",
                (backup_id, dest_project_id),
            ).fetchone()
            if member is None:
                raise Refusal(Reason.NO_MEMBER, backup_id=backup_id, project_id=dest_project_id)
            kept_vault = None
            if status == "accepted":
                self._check_fits(db, dest_project_id, vault_id, backup_id, member["id"])
                kept_vault = vault_id
            db.execute(
                "UPDATE members SET status = ?, vault_id = ?, updated_at = ? WHERE id = ?",
                (status, kept_vault, self.now(), member["id"]),
            )
            return dict(
                db.execute("SELECT * FROM members WHERE id = ?", (member["id"],)).fetchone()
            )

        result: dict[str, Any] = self._transaction(work)
        return result

    def remove_member(self, project_id: str, backup_id: str, dest_project_id: str) -> None:
        """The owner ends one membership, in whatever status it is."""

        def work(db: sqlite3.Connection) -> None:
            owned = db.execute(
                "SELECT 1 FROM backups WHERE id = ? AND project_id = ?", (backup_id, project_id)
            ).fetchone()
            if owned is None:
                raise Refusal(Reason.NO_BACKUP, backup_id=backup_id)
            deleted = db.execute(
                "DELETE FROM members WHERE backup_id = ? AND dest_project_id = ?",
                (backup_id, dest_project_id),
            ).rowcount
            if not deleted:
                raise Refusal(Reason.NO_MEMBER, backup_id=backup_id, project_id=dest_project_id)

        self._transaction(work)


def _parse_timestamp(text: str) -> datetime:
    """A stored timestamp (naive UTC, formats.TIMESTAMP_FORMAT) as an aware datetime."""
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _sharing_row(row: dict[str, Any]) -> dict[str, Any]:
    """A sharing row with its backup's columns nested under `backup`."""
    sharing_keys = ("backup_id", "from_project_id", "to_project_id")
    backup = {
        key: value
        for key, value in row.items()
        if key not in sharing_keys and not key.startswith("s_")
    }
    return {
        "id": row["s_id"],
        **{key: row[key] for key in sharing_keys},
        "created_at": row["s_created_at"],
        "updated_at": row["s_updated_at"],
        "backup": backup,
    }
