"""The emulator's CBR vaults: each project's vaults with their type and size, what the backups
in them use, and whether an accepted backup fits. Part of the store (store.Store inherits it):
the store supplies the connection, its lock and its transactions.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

from .schema import (
    BACKUP_KINDS,
    DISK_VAULT,
    MB_PER_GB,
    VAULT_SIZE_GB,
    Reason,
    Refusal,
    VaultSeed,
    vault_id_of,
)


class VaultStore:
    """Vaults, their room, and what each backup takes of it."""

    _db: sqlite3.Connection
    _lock: threading.Lock

    def now(self) -> str:
        raise NotImplementedError  # the store's clock

    def _transaction(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        raise NotImplementedError  # the store's: one transaction under its lock

    def add_vault(self, seed: VaultSeed) -> None:
        """A vault for `seed.project_id` (replacing one of the same id). A project given vaults
        before its first use has those alone: the default vault is made only for a project
        that has none."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO cbr_vaults (id, project_id, name, object_type, size,"
                " used_mb, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    seed.id,
                    seed.project_id,
                    seed.name,
                    seed.object_type,
                    seed.size,
                    seed.used_mb,
                    self.now(),
                ),
            )

    def vaults(self, project_id: str) -> list[dict[str, Any]]:
        """The project's vaults in the order they were made (a default one made on first use
        when it has none), each with `used`: MB, its `used_mb` plus the backups it holds (the
        project's own that live there, and the shared ones it accepted), at 1024 MB a GB."""

        def work(db: sqlite3.Connection) -> list[dict[str, Any]]:
            self._ensure_vault(db, project_id)
            rows = [dict(row) for row in self._vault_rows(db, project_id)]
            used = self._usage(db, project_id)
            for row in rows:
                row["used"] = row["used_mb"] + used.get(row["id"], 0) * MB_PER_GB
            return rows

        result: list[dict[str, Any]] = self._transaction(work)
        return result

    def vault(self, project_id: str) -> dict[str, Any]:
        """The project's home vault (see home_vault), with `used` in MB as vaults() has it."""
        home = self.home_vault(project_id)
        return next(row for row in self.vaults(project_id) if row["id"] == home)

    def home_vault(self, project_id: str, kind: str = DISK_VAULT) -> str:
        """Where the project's own backups of `kind` live unless seeded elsewhere."""

        def work(db: sqlite3.Connection) -> str:
            self._ensure_vault(db, project_id)
            return self._home_vault(db, project_id, kind)

        result: str = self._transaction(work)
        return result

    def grow_to_hold(self) -> list[str]:
        """Seeding keeps CBR's rule that a vault holds no more than its size: a vault the
        seeded backups overfill (60 generated backups in a 1000 GB vault, a project's demo
        backup in a 1 GB vault it was given) is grown to hold them, whole GB. Returns a note
        per vault grown, for whoever started the emulator."""

        def work(db: sqlite3.Connection) -> list[str]:
            notes = []
            owners = db.execute(
                "SELECT project_id FROM backups UNION SELECT project_id FROM cbr_vaults ORDER BY 1"
            )
            for (project_id,) in owners.fetchall():  # (no vault yet: its default comes on use)
                held = self._usage(db, project_id)
                for vault in self._vault_rows(db, project_id):
                    need_mb = int(vault["used_mb"]) + held.get(vault["id"], 0) * MB_PER_GB
                    need_gb = -(-need_mb // MB_PER_GB)
                    if need_gb > int(vault["size"]):
                        db.execute(
                            "UPDATE cbr_vaults SET size = ? WHERE id = ?", (need_gb, vault["id"])
                        )
                        notes.append(
                            f"vault {vault['name']} of project {project_id} grown from "
                            f"{vault['size']} GB to {need_gb} GB to hold the backups seeded in it"
                        )
            return notes

        result: list[str] = self._transaction(work)
        return result

    def _vault_rows(self, db: sqlite3.Connection, project_id: str) -> list[sqlite3.Row]:
        return db.execute(
            "SELECT * FROM cbr_vaults WHERE project_id = ? ORDER BY rowid", (project_id,)
        ).fetchall()

    def _home_vault(self, db: sqlite3.Connection, project_id: str, kind: str = DISK_VAULT) -> str:
        """The project's first vault of `kind` (else its first vault; else its default's id)."""
        rows = self._vault_rows(db, project_id)
        alike = [row for row in rows if row["object_type"] == kind]
        chosen = alike or rows
        return str(chosen[0]["id"]) if chosen else vault_id_of(project_id)

    def _ensure_vault(self, db: sqlite3.Connection, project_id: str) -> None:
        if db.execute("SELECT 1 FROM cbr_vaults WHERE project_id = ?", (project_id,)).fetchone():
            return
        db.execute(
            "INSERT INTO cbr_vaults (id, project_id, name, object_type, size, used_mb,"
            " created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
            (
                vault_id_of(project_id),
                project_id,
                f"vault-{project_id[:8]}",
                DISK_VAULT,
                VAULT_SIZE_GB,
                self.now(),
            ),
        )

    def _usage(self, db: sqlite3.Connection, project_id: str, without: str = "") -> dict[str, int]:
        """GB held in each of the project's vaults: its own backups (in their vault, or the home
        vault) and the shared backups it accepted (but the member `without`)."""
        used: dict[str, int] = {}
        homes = {kind: self._home_vault(db, project_id, kind) for kind in BACKUP_KINDS}
        own = [
            (vault_id or homes[kind or DISK_VAULT], gigabytes)
            for vault_id, kind, gigabytes in db.execute(
                "SELECT vault_id, kind, COALESCE(SUM(size), 0) FROM backups"
                " WHERE project_id = ? GROUP BY 1, 2",
                (project_id,),
            )
        ]
        accepted = db.execute(
            "SELECT m.vault_id, COALESCE(SUM(b.size), 0) FROM members m"
            " JOIN backups b ON b.id = m.backup_id WHERE m.dest_project_id = ?"
            " AND m.status = 'accepted' AND m.id != ? GROUP BY 1",
            (project_id, without),
        )
        for vault_id, gigabytes in [*own, *accepted]:
            used[vault_id] = used.get(vault_id, 0) + int(gigabytes)
        return used

    def _free_mb(
        self, db: sqlite3.Connection, project_id: str, vault: sqlite3.Row, without: str = ""
    ) -> int:
        held = self._usage(db, project_id, without).get(vault["id"], 0) * MB_PER_GB
        return int(vault["size"]) * MB_PER_GB - int(vault["used_mb"]) - held

    def _check_fits(
        self,
        db: sqlite3.Connection,
        project_id: str,
        vault_id: str | None,
        backup_id: str,
        member_id: str,
    ) -> None:
        """CBR's checks before it keeps a shared backup: the vault is the project's, takes
        backups of its kind (6713), and its free space (size GB x 1024 - used MB) is at least
        the backup's size in MB (6114)."""
        self._ensure_vault(db, project_id)
        vault = db.execute(
            "SELECT * FROM cbr_vaults WHERE id = ? AND project_id = ?", (vault_id, project_id)
        ).fetchone()
        if vault is None:
            raise Refusal(Reason.NO_VAULT, vault_id=vault_id)
        kind = db.execute("SELECT kind FROM backups WHERE id = ?", (backup_id,)).fetchone()
        if vault["object_type"] != ((kind and kind[0]) or DISK_VAULT):
            raise Refusal(Reason.VAULT_TYPE, vault_id=vault_id, object_type=vault["object_type"])
        needed = self._size(db, backup_id) * MB_PER_GB
        free = self._free_mb(db, project_id, vault, without=member_id)
        if free < needed:
            raise Refusal(Reason.VAULT_FULL, vault_id=vault_id, free_mb=free, needed_mb=needed)

    def _roomiest_fit(
        self, db: sqlite3.Connection, project_id: str, size_gb: int, kind: str
    ) -> str | None:
        """The project's vault of `kind` with the most free space, if that is enough for
        `size_gb` (ties: the smaller id)."""
        self._ensure_vault(db, project_id)
        fits = [
            (-self._free_mb(db, project_id, vault), str(vault["id"]))
            for vault in self._vault_rows(db, project_id)
            if vault["object_type"] == kind
        ]
        fits = [(minus, vid) for minus, vid in fits if -minus >= size_gb * MB_PER_GB]
        return min(fits)[1] if fits else None

    def _size(self, db: sqlite3.Connection, backup_id: str) -> int:
        row = db.execute("SELECT size FROM backups WHERE id = ?", (backup_id,)).fetchone()
        return int(row[0] or 0) if row else 0
