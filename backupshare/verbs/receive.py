"""The receiving side (CBR): accepting an offered backup into a vault, or rejecting it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import BackupshareError, NotFoundError, UsageError
from ..models import (
    Share,
)

if TYPE_CHECKING:
    from ..service import SharingService


def answer_offer(
    service: SharingService, backup_id: str, status: str, vault_id: str | None = None
) -> Share:
    """Accepts (into a vault: the given one, else the project's only one) or rejects a backup
    shared with this project. Answering the same way twice is harmless."""
    if status == "accepted" and vault_id is None:
        vault_id = only_vault(service)
    try:
        return service.answer(backup_id, status, vault_id)
    except NotFoundError as exc:
        if own_backup(service, backup_id):  # "member does not exist" misleads: it is ours
            verb = "accept" if status == "accepted" else "reject"
            exc.hint = (
                f"{verb} is for the receiving project: backup {backup_id} belongs to this "
                f"project ({service.settings.project_id}); run `backupshare -p PROFILE {verb} "
                f"{backup_id}` with the profile of a project it was shared with"
            )
        raise


def own_backup(service: SharingService, backup_id: str) -> bool:
    """Whether the backup is the profile's project's own (False when it cannot be read)."""
    try:
        backup = service.backup(backup_id)
    except BackupshareError:
        return False
    return backup.project_id in (None, service.settings.project_id)


def only_vault(service: SharingService) -> str:
    vaults = service.vaults()
    if len(vaults) == 1:
        return vaults[0]["id"]
    if not vaults:
        raise NotFoundError(
            "this project has no vault to keep the backup in",
            hint="create a backup vault in this project, then accept again",
        )
    listed = ", ".join(f"{v['id']} ({v['name']})" if v["name"] else v["id"] for v in vaults)
    raise UsageError(
        f"this project has {len(vaults)} vaults: {listed}",
        hint="choose one with --vault VAULT_ID",
    )
