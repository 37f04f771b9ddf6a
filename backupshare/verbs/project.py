"""The whole project at once: every sharing the project made (`list-shares` without
`--backup-id`), and the sharings with some projects that `cancel --to-project` ends across it.

VBS lists every sharing of a project in one listing (its filters sent, the selectors
re-checked on each record's backup). CBR has no such list: its sharings are the members of
each backup, so the project's own backups are listed (the selectors sent as CBR's list
filters where it has them) and each one's members read concurrently (verbs/fanout.py), in the
backup listing's order: one request per backup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from ..errors import UsageError
from ..models import Backup, ListQuery, Share
from .fanout import DEFAULT_CONCURRENCY

# cancel's plan, the selectors and the fan-out's threads are imported where they are used: a
# listing on VBS with no selector (list-shares' default) needs none of them.
if TYPE_CHECKING:
    from ..selectors import Selectors
    from ..service import SharingService
    from .batch import Interrupt
    from .cancel import CancelPlan

BACKUP_PAGE = 1000  # the fan-out's own backup listing: the largest page both services send
MAX_PLANNED = 100_000  # sharings a cancel across the project shows and holds, at most


class ProjectQuery(NamedTuple):
    """Which sharings of the project: `query` holds the sharing filters (to a project, the
    sharing's status, the backup name); `selectors` narrow the backups (None: every backup).
    A NamedTuple, not a dataclass: it is made on list-shares' start-up path, where a frozen
    dataclass costs five times as much to define."""

    query: ListQuery = ListQuery()
    selectors: Selectors | None = None
    concurrency: int = DEFAULT_CONCURRENCY


def project_shares(
    service: SharingService,
    asked: ProjectQuery,
    *,
    page_size: int = 100,
    limit: int | None = None,
    stop: Interrupt | None = None,
) -> Iterator[list[Share]]:
    """Pages of every sharing the project made that the query keeps: on VBS pages of its list,
    on CBR one page per backup that has any, in the backup listing's order."""
    vault_id = asked.selectors.vault_id if asked.selectors is not None else None
    if vault_id is not None and not service.has_vaults:
        raise UsageError(f"--vault-id: not available on {service.name.upper()}")
    pages = (
        _listed(service, asked, page_size)
        if service.lists_whole_project
        else _fanned_out(service, asked, stop)
    )
    return _at_most(pages, limit)


def _listed(service: SharingService, asked: ProjectQuery, page_size: int) -> Iterator[list[Share]]:
    selectors, query = asked.selectors, asked.query
    volumes = selectors.volume_ids if selectors is not None else ()
    if len(volumes) == 1 and "volume_id" not in dict(query.filters):
        query = query._replace(filters=(*query.filters, ("volume_id", volumes[0])))
    for page in service.iter_pages(query, page_size=page_size):
        kept = [share for share in page if _backup_selected(selectors, share.backup)]
        if kept:
            yield kept


def _fanned_out(
    service: SharingService, asked: ProjectQuery, stop: Interrupt | None
) -> Iterator[list[Share]]:
    from dataclasses import replace

    from ..selectors import Selectors
    from .fanout import ordered

    filters = dict(asked.query.filters)
    selectors = asked.selectors or Selectors()
    if "name" in filters:  # the backup name: one of CBR's backup list filters
        selectors = replace(selectors, name=filters.pop("name"))
    member_query = ListQuery(filters=tuple(filters.items()))
    backups = (
        backup for page in service.iter_backups(selectors, page_size=BACKUP_PAGE) for backup in page
    )

    def members(backup: Backup) -> list[Share]:
        return service.backup_members(backup, member_query)

    for shares in ordered(backups, members, concurrency=asked.concurrency, stop=stop):
        if shares:
            yield shares


def _backup_selected(selectors: Selectors | None, backup: Backup | None) -> bool:
    if selectors is None or selectors.empty:
        return True
    return backup is not None and selectors.matches(backup)


def _at_most(pages: Iterator[list[Share]], limit: int | None) -> Iterator[list[Share]]:
    left = limit
    for page in pages:
        if left is not None:
            page = page[:left]
            left -= len(page)
        if page:
            yield page
        if left is not None and left <= 0:
            return


def count_project_shares(service: SharingService, asked: ProjectQuery) -> int:
    """How many sharings across the project: VBS's count call when no selector needs the
    records; else the listing (CBR: one request per backup)."""
    if service.lists_whole_project and (asked.selectors is None or asked.selectors.empty):
        return service.count(asked.query)
    return sum(len(page) for page in project_shares(service, asked))


def plan_project_cancel(
    service: SharingService,
    to_projects: list[str],
    selectors: Selectors,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_found: Callable[[int], None] = lambda n: None,
) -> CancelPlan:
    """Every sharing with those projects among the selected backups, as a cancel plan (VBS:
    its list, filtered by each project; CBR: the fan-out, every member of each backup read once
    and kept when it is with one of them)."""
    from .cancel import CancelPlan

    wanted = set(to_projects)
    plan = CancelPlan()
    if service.lists_whole_project:
        queries = [
            ProjectQuery(ListQuery(filters=(("to_project_id", project),)), selectors, concurrency)
            for project in dict.fromkeys(to_projects)
        ]
    else:
        queries = [ProjectQuery(ListQuery(), selectors, concurrency)]
    for asked in queries:
        for page in project_shares(service, asked, page_size=1000):
            found = [share for share in page if share.to_project_id in wanted]
            for share in found:
                if share.id not in plan.known:
                    plan.share_ids.append(share.id)
                    plan.known[share.id] = share
            on_found(len(found))
            if len(plan.share_ids) > MAX_PLANNED:
                raise UsageError(
                    f"more than {MAX_PLANNED:,} sharings would end: narrow it with selectors",
                    hint="--volume-id, --name-prefix, --created-after, …",
                )
    return plan
