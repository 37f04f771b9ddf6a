"""Reading: sharings (listed, counted, shown, a backup's current ones) and backups (listed, one
by id, one by exact name, a volume's most recent)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import BackupshareError, NotFoundError, UsageError, did_you_mean
from ..models import (
    BACKUP_AVAILABLE,
    BACKUP_IN_PROGRESS,
    Backup,
    BackupQuery,
    ListQuery,
    Share,
    newest,
)

if TYPE_CHECKING:
    from ..selectors import Selectors
    from ..service import SharingService


def current_shares(service: SharingService, backup_id: str) -> dict[str, Share]:
    """The backup's sharings made by this project, by target project."""
    query = ListQuery(filters=(("backup_id", backup_id),))
    return {s.to_project_id: s for page in service.iter_pages(query) for s in page}


def list_shares(
    service: SharingService, query: ListQuery, *, page_size: int = 100, limit: int | None = None
) -> Iterator[list[Share]]:
    pages = service.iter_pages(query, page_size=page_size, limit=limit)
    backup_id = dict(query.filters).get("backup_id")
    if backup_id is None or query.shared_with_me:
        return pages
    return with_backup_details(service, pages, backup_id)


def with_backup_details(
    service: SharingService, pages: Iterator[list[Share]], backup_id: str
) -> Iterator[list[Share]]:
    """A CBR member does not carry its backup: the listing reads the backup once, with the first
    such member, for the name and size it shows (not when `share` or `cancel` list: they need
    neither). Left out when it cannot be read: the listing does not depend on it."""
    details: Backup | None = None
    read = False
    for page in pages:
        if not read and any(share.backup is None for share in page):
            read = True
            try:
                details = service.backup(backup_id)
            except BackupshareError:
                details = None
        if details is not None:
            page = [s if s.backup is not None else replace(s, backup=details) for s in page]
        yield page


def count_shares(service: SharingService, query: ListQuery) -> int:
    return service.count(query)


def show_share(service: SharingService, share_id: str) -> Share:
    try:
        return service.show(share_id)
    except NotFoundError as exc:
        exc.message = f"sharing {share_id} not found"
        raise


def look_up_share(service: SharingService, share_id: str) -> Share | None:
    """The sharing, or None when the service does not know it (any other error is raised)."""
    try:
        return service.show(share_id)
    except NotFoundError:
        return None


def list_backups(
    service: SharingService,
    query: BackupQuery | Selectors,
    *,
    page_size: int = 100,
    limit: int | None = None,
) -> Iterator[list[Backup]]:
    return service.iter_backups(query, page_size=page_size, limit=limit)


def look_up_backup(service: SharingService, backup_id: str) -> Backup:
    try:
        return service.backup(backup_id)
    except NotFoundError as exc:
        exc.message = f"backup {backup_id} not found"
        raise


def backup_named(service: SharingService, name: str) -> Backup:
    """The one backup with exactly this name: several are a usage error listing each (the
    person must choose), none is not-found. Nothing is sent to share in either case."""
    from ..output.records import human_time

    found = [b for page in service.iter_backups(BackupQuery(name=name)) for b in page]
    if not found:
        raise NotFoundError(
            f"no backup named {name!r}",
            hint=did_you_mean(name, backup_names(service)) or "`backupshare backups` lists them",
        )
    if len(found) > 1:
        newest_first = sorted(found, key=lambda b: (b.created_at or "", b.id or ""), reverse=True)
        listed = "; ".join(
            f"{b.id} ({b.status or '-'}, created {human_time(b.created_at)})" for b in newest_first
        )
        raise UsageError(
            f"{len(found)} backups are named {name!r}: {listed}",
            hint="give the backup id, or --volume-id VOLUME_ID --most-recent",
        )
    return found[0]


NAMES_FOR_SUGGESTIONS = 500  # a suggestion reads this many backups at most, never the whole list


def backup_names(service: SharingService) -> set[str]:
    """Names of the project's backups (the first few hundred), to suggest a near miss from."""
    pages = service.iter_backups(BackupQuery(), limit=NAMES_FOR_SUGGESTIONS)
    return {b.name for page in pages for b in page if b.name}


def most_recent(service: SharingService, volume_id: str, *, waiting: bool = False) -> Backup:
    """The newest available backup of the volume, chosen here by creation time (then id) among
    records re-checked for volume and status, never by the service's sort alone. `waiting`
    (share --wait): the newest one still being made counts too, and is waited for."""
    if waiting:
        wanted = {BACKUP_AVAILABLE, *BACKUP_IN_PROGRESS}
        query = BackupQuery(volume_id=volume_id)
    else:
        wanted, query = (
            {BACKUP_AVAILABLE},
            BackupQuery(volume_id=volume_id, status=BACKUP_AVAILABLE),
        )
    pages = service.iter_backups(query)
    chosen = newest(b for page in pages for b in page if b.status in wanted)
    if chosen is None:
        usable = "available or coming" if waiting else "available"
        raise NotFoundError(
            f"volume {volume_id} has no {usable} backup",
            hint=f"`backupshare backups --volume-id {volume_id}` lists its backups",
        )
    return chosen
