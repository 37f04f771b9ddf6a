"""Internal: Client's receiving side (CBR) — answering one offer, or every pending one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._api_args import as_backup_id, as_text
from ._api_base import ClientCore

if TYPE_CHECKING:
    from .models import Backup, Share


class ReceiveMethods(ClientCore):
    def accept(self, backup: str | Backup | Share, vault: str | None = None) -> Share:
        """Accepts a backup offered to this project into the vault (a vault id, or None or
        "auto": the roomiest vault of the backup's type that fits). Accepting twice is
        harmless."""
        from .cli import arguments
        from .verbs.receive import VAULT_AUTO, answer_offer

        chosen = VAULT_AUTO if vault is None else arguments.vault_arg(as_text(vault, "vault id"))
        return answer_offer(self._connected(), as_backup_id(backup), "accepted", chosen)

    def reject(self, backup: str | Backup | Share) -> Share:
        """Rejects a backup offered to this project. Rejecting twice is harmless."""
        from .verbs.receive import answer_offer

        return answer_offer(self._connected(), as_backup_id(backup), "rejected")
