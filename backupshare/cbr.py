"""CBR, Cloud Backup and Recovery: share members, shared backups and vaults (docs/wire.md).

The one module that knows CBR's paths, parameters and error codes; the verbs (verbs/) speak to it
through the same contract as to VBS (service.SharingService). A CBR sharing is a *member*:
the receiving project, addressed by backup and project id, `pending` until that project
accepts it into one of its vaults (or rejects it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .errors import BackupshareError, UnexpectedResponse, UsageError
from .models import Backup, BackupQuery, ListQuery, Share, Vault
from .paging import offset_pages
from .service import SharingService, count_in, page_params, record_in, records_in

if TYPE_CHECKING:  # the wire loads only when a call is made
    from .client import Client
    from .selectors import Selectors  # loaded by iter_backups: a sharing listing needs none

MEMBERS_PER_REQUEST = 10
MEMBER_PAGE = 100  # a backup has at most 10 members: one page holds them
MAX_MEMBERS = 10_000  # a member listing that runs past this is not one CBR sends
MEMBER_STATUSES = ("pending", "accepted", "rejected")
# A CBR backup's statuses ("protecting" is what VBS calls "creating").
BACKUP_STATUSES: tuple[str, ...] = (
    "available",
    "protecting",
    "deleting",
    "restoring",
    "error",
    "waiting_protect",
    "waiting_delete",
    "waiting_restore",
)
# "Already shared" (6703) and "cannot be shared to the same member again" (6714): the member
# may well be there, which is the state `share` wants; the list says.
ALREADY_MEMBER_CODES = frozenset({"BackupService.6703", "BackupService.6714"})
# An encrypted backup, told the same in the warning before a share and in the hint of the
# refusal (docs/wire.md, CBR's error codes): where sharing it is allowed, the receiving account
# needs a grant on its KMS key; where the region still refuses it, nothing can be done here.
ENCRYPTED_STORY = (
    "an encrypted backup can be used by the receiving account only with a grant on its KMS key, "
    "and regions that still refuse sharing encrypted backups answer BackupService.6709"
)
# What a person can do about the service's refusals (docs/wire.md, CBR error codes).
HINTS = {
    "BackupService.6700": "this region may allow sharing cloud server backups only, "
    "not disk backups",
    "BackupService.6701": "a backup can be shared with at most 10 projects",
    "BackupService.6702": "only backups in status available can be shared; wait for it with "
    "--wait SECONDS",
    "BackupService.6704": "check the project id: 32 hex characters of a project in this region",
    "BackupService.6709": ENCRYPTED_STORY,
    "BackupService.6713": "accept it into a vault of the backup's resource type (--vault)",
    "BackupService.6114": "the vault is full; accept it into another one (--vault)",
    "BackupService.6105": "the vault does not exist in this project (see the vault ids)",
}
NO_PROJECT_LIST = "CBR has no project-wide list of sharings: its sharings are members of one backup"
# Filters of a member listing, by our names → CBR's.
MEMBER_FILTERS = {"to_project_id": "dest_project_id"}


class Cbr(SharingService):
    """The CBR sharing calls of one project, over one HTTP client."""

    name = "cbr"
    addresses_sharings_by_id = False  # members are addressed by backup and project
    max_projects = 10  # per backup, in total (docs/wire.md)
    backup_statuses = BACKUP_STATUSES
    sharing_statuses = MEMBER_STATUSES  # the member's own: pending, accepted, rejected
    list_filters = ("backup_id", "to_project_id", "status")  # members by project and status
    sort_keys = ()  # members and offers come in the service's order
    unsupported_hint = "CBR lists a backup's members by --to-project and --status only"
    ends_all_in_one_call = False  # no "delete every member": list, then delete each
    lists_whole_project = False  # members are listed per backup: a fan-out
    has_vaults = True
    answers_offers = True  # a member is pending until the receiving project accepts it

    def __init__(self, http: Client) -> None:
        super().__init__(http)
        self._base = f"{http.settings.endpoint}/v3/{http.settings.project_id}"

    # -- the sharing side ----------------------------------------------------------------------
    def share(self, backup_id: str, project_ids: list[str]) -> list[Share]:
        """Adds members, at most 10 a request. Never retried here (verbs/share.py settles an
        unknown outcome by listing)."""
        added: list[Share] = []
        for start in range(0, len(project_ids), MEMBERS_PER_REQUEST):
            chunk = project_ids[start : start + MEMBERS_PER_REQUEST]
            url = self._members(backup_id)
            added.extend(
                self._call("POST", url, json_body={"members": chunk}, read=self._members_of)
            )
        return added

    def share_request(self, backup_id: str, project_ids: list[str]) -> str:
        """The POST(s) `share` sends, as a person reads them (for dry runs)."""
        path = f"…/backups/{backup_id}/members"
        chunks = [
            project_ids[start : start + MEMBERS_PER_REQUEST]
            for start in range(0, len(project_ids), MEMBERS_PER_REQUEST)
        ]
        return "; ".join(f"POST {path} {json.dumps({'members': chunk})}" for chunk in chunks)

    def already_shared(self, error: BackupshareError) -> bool:
        """Whether a refusal may mean the member is already there (then a list settles it)."""
        return error.code in ALREADY_MEMBER_CODES

    def iter_pages(
        self,
        query: ListQuery,
        *,
        page_size: int = 100,
        limit: int | None = None,
        end_at_short_page: bool = False,
    ) -> Iterator[list[Share]]:
        """A backup's members (offers, with --shared-with-me, are always read to the end)."""
        if query.shared_with_me:
            return self._offers(query, page_size=page_size, limit=limit)
        backup_id = dict(query.filters).get("backup_id")
        if backup_id is None:
            raise UsageError(
                NO_PROJECT_LIST,
                hint="give --backup-id BACKUP_ID, or --shared-with-me for offers to this project",
            )
        return self._member_pages(
            backup_id, query, page_size=page_size, limit=limit, end_at_short_page=end_at_short_page
        )

    def count(self, query: ListQuery) -> int:
        if query.shared_with_me:
            url = f"{self._base}/backups"
            return sum(
                self._call("GET", url, params={**p, "limit": "1"}, read=count_in)
                for p in self._offer_params(query)
            )
        backup_id = dict(query.filters).get("backup_id")
        if backup_id is None:
            raise UsageError(NO_PROJECT_LIST, hint="give --backup-id BACKUP_ID")
        params = {**_member_params(query), "limit": "1"}
        return int(self._call("GET", self._members(backup_id), params=params, read=count_in))

    def show(self, share_id: str) -> Share:
        raise UsageError(
            "CBR sharings have no ids of their own",
            hint="list a backup's members: backupshare list-shares --backup-id BACKUP_ID",
        )

    def cancel(self, share_id: str) -> bool:
        raise UsageError(
            "CBR sharings are ended by backup and project, not by id",
            hint="backupshare cancel --backup-id BACKUP_ID [--to-project PROJECT_ID]",
        )

    def remove(self, share: Share) -> bool:
        """Deletes one member (204); a member that is not there is NotFoundError."""
        url = self._members(share.backup_id, share.to_project_id)
        with _hinted():
            return self.http.delete(url)

    def cancel_backup(self, backup_id: str) -> None:
        raise UsageError("CBR cannot end every sharing of a backup in one call")

    def probe(self) -> str:
        """`GET …/backups?limit=1` and its count."""
        count = int(
            self._call("GET", f"{self._base}/backups", params={"limit": "1"}, read=count_in)
        )
        return f"{count} backup{'' if count == 1 else 's'}"

    def backup_warnings(self, backup_id: str, known: Backup | None = None) -> list[str]:
        """What to know before sharing: an encrypted backup needs its key shared too. The
        backup is read unless the caller has just read it (`known`)."""
        if (known or self.backup(backup_id)).encrypted:
            return [f"backup {backup_id} is encrypted: {ENCRYPTED_STORY}"]
        return []

    # -- backups -------------------------------------------------------------------------------
    def iter_backups(
        self,
        query: BackupQuery | Selectors,
        *,
        page_size: int = 100,
        limit: int | None = None,
    ) -> Iterator[list[Backup]]:
        """This project's own backups, newest first; shared-in backups and replicas are left
        out here too, whatever the service's filters did. CBR's list filters carry what they
        can of the selectors (one volume, vault, exact name, status, the creation times);
        every selector is re-checked on each record."""
        from .selectors import Selectors

        selectors = Selectors.of(query)
        params = {"own_type": "private", "sort": "created_at:desc", **backup_params(selectors)}
        own = self.settings.project_id

        def fetch(want: int, offset: int) -> list[Backup]:
            page = page_params(params, want, offset)

            def read(body: Any) -> list[Backup]:
                return [Backup.listed_cbr(record) for record in records_in(body, "backups")]

            return list(self._call("GET", f"{self._base}/backups", params=page, read=read))

        def counted() -> int:
            url = f"{self._base}/backups"
            return int(self._call("GET", url, params={**params, "limit": "1"}, read=count_in))

        def ours(backup: Backup) -> bool:
            replica = backup.raw.get("image_type") not in (None, "backup")
            return selectors.matches(backup) and backup.project_id in (None, own) and not replica

        return offset_pages(
            fetch,
            count=counted,
            keep=ours,
            page_size=page_size,
            limit=limit,
            what="backups",
            log=self.http.debug,
            body_bytes=self.http.byte_counter(),
        )

    def backup(self, backup_id: str) -> Backup:
        url = f"{self._base}/backups/{backup_id}"
        backup: Backup = self._call(
            "GET", url, read=lambda body: Backup.listed_cbr(record_in(body, "backup"))
        )
        return backup

    # -- the receiving side --------------------------------------------------------------------
    def offer(self, backup_id: str) -> Share:
        """This project's member record of the backup (GET …/members/{this project}): how it
        has answered so far; not offered to it: NotFoundError (6705 or 6200)."""
        own = self.settings.project_id
        member: Share = self._call("GET", self._members(backup_id, own), read=_member_in)
        return member

    def answer(self, backup_id: str, status: str, vault_id: str | None = None) -> Share:
        """Accepts (into `vault_id`) or rejects an offer, as this (the receiving) project."""
        own = self.settings.project_id
        body: dict[str, str] = {"status": status}
        if vault_id is not None:
            body["vault_id"] = vault_id

        def read(answer: Any) -> Share:
            return _answered(_member_in(answer), status)

        member: Share = self._call("PUT", self._members(backup_id, own), json_body=body, read=read)
        return member

    def vaults(self, page_size: int = 1000) -> list[Vault]:
        """Every vault of this project, every page read (CBR pages them by limit and offset)."""

        def fetch(want: int, offset: int) -> list[Vault]:
            page = page_params({}, want, offset)

            def read(body: Any) -> list[Vault]:
                return [Vault.from_cbr(record) for record in records_in(body, "vaults")]

            return list(self._call("GET", f"{self._base}/vaults", params=page, read=read))

        def counted() -> int:
            url = f"{self._base}/vaults"
            return int(self._call("GET", url, params={"limit": "1"}, read=count_in))

        pages = offset_pages(
            fetch, count=counted, keep=lambda vault: True, page_size=page_size,
            what="vaults", log=self.http.debug,
        )  # fmt: skip
        return [vault for page in pages for vault in page]

    def backup_members(self, backup: Backup, query: ListQuery) -> list[Share]:
        """Every member of one backup (the fan-out's call): one request when the service's
        count says the first page holds them all (members are at most 10 a backup), else
        paged on. Each carries the backup as listed, for its name and size."""
        assert backup.id is not None  # a listed backup's id is checked (models.Backup)
        backup_id = backup.id
        params = _member_params(query)
        found: list[Share] = []
        while True:
            page = page_params(params, MEMBER_PAGE, len(found))
            members, count = self._call(
                "GET", self._members(backup_id), params=page,
                read=lambda body: (self._members_of(body), count_in(body)),
            )  # fmt: skip
            found.extend(members)
            if not members or len(found) >= count or len(found) > MAX_MEMBERS:
                break
        wanted = {s.id: s for s in found if _member_matches(s, backup_id, query)}
        return [replace(share, backup=backup) for share in wanted.values()]

    # -- paging --------------------------------------------------------------------------------
    def _member_pages(
        self,
        backup_id: str,
        query: ListQuery,
        *,
        page_size: int,
        limit: int | None,
        end_at_short_page: bool,
    ) -> Iterator[list[Share]]:
        params = _member_params(query)

        def fetch(want: int, offset: int) -> list[Share]:
            page = page_params(params, want, offset)
            return list(
                self._call("GET", self._members(backup_id), params=page, read=self._members_of)
            )

        return offset_pages(
            fetch,
            count=lambda: self.count(query),
            keep=lambda share: _member_matches(share, backup_id, query),
            page_size=page_size,
            limit=limit,
            what="members",
            log=self.http.debug,
            body_bytes=self.http.byte_counter(),
            end_at_short_page=end_at_short_page,
        )

    def _offers(
        self, query: ListQuery, *, page_size: int, limit: int | None
    ) -> Iterator[list[Share]]:
        """Backups shared with this project, one listing per member status asked about."""
        own = self.settings.project_id
        backup_id = dict(query.filters).get("backup_id")

        def wanted(share: Share) -> bool:
            return backup_id is None or share.backup_id == backup_id

        left = limit
        listed_bytes = self.http.byte_counter()  # one bound over every status's listing
        for params in self._offer_params(query):
            status = params["member_status"]

            def fetch(
                want: int, offset: int, params: dict[str, str] = params, status: str = status
            ) -> list[Share]:
                page = page_params(params, want, offset)

                def read(body: Any) -> list[Share]:
                    records = records_in(body, "backups")
                    return [Share.from_cbr_offer(r, own, status) for r in records]

                return list(self._call("GET", f"{self._base}/backups", params=page, read=read))

            def counted(params: dict[str, str] = params) -> int:
                url = f"{self._base}/backups"
                return int(self._call("GET", url, params={**params, "limit": "1"}, read=count_in))

            pages = offset_pages(
                fetch,
                count=counted,
                keep=lambda share: share.from_project_id != own and wanted(share),
                page_size=page_size,
                limit=left,
                what="backups",
                log=self.http.debug,
                body_bytes=listed_bytes,
            )
            for page in pages:
                if left is not None:
                    left -= len(page)
                yield page
            if left is not None and left <= 0:
                return

    def _offer_params(self, query: ListQuery) -> list[dict[str, str]]:
        filters = dict(query.filters)
        statuses = [filters["status"]] if "status" in filters else list(MEMBER_STATUSES)
        # a backup_id filter is not a parameter of the backup list: it is checked client-side
        return [{"own_type": "shared", "member_status": status} for status in statuses]

    # -- one call ------------------------------------------------------------------------------
    def _members(self, backup_id: str, member: str | None = None) -> str:
        url = f"{self._base}/backups/{backup_id}/members"
        return f"{url}/{member}" if member else url

    def _members_of(self, body: Any) -> list[Share]:
        return [Share.from_cbr_member(member) for member in records_in(body, "members")]

    def _call(self, method: str, url: str, **options: Any) -> Any:
        with _hinted():
            return self.http.call(method, url, **options)


@contextmanager
def _hinted() -> Iterator[None]:
    """A refusal with a known CBR code says what to do about it."""
    try:
        yield
    except BackupshareError as exc:
        if exc.code in HINTS:  # the code's own advice beats the generic one of its status
            exc.hint = HINTS[exc.code]
        elif exc.code == "APIG.0302":  # the client's hint names VBS: this is CBR
            exc.hint = "these credentials are not allowed to do this; ask for CBR permissions"
        raise


def _member_params(query: ListQuery) -> dict[str, str]:
    params = {}
    for key, value in query.filters:
        if key in MEMBER_FILTERS:
            params[MEMBER_FILTERS[key]] = value
        elif key == "status":
            params["status"] = value
    return params


def _member_matches(share: Share, backup_id: str, query: ListQuery) -> bool:
    """The exact filters, re-checked: a server that ignores one must not widen a cancel."""
    filters = dict(query.filters)
    return (
        share.backup_id == backup_id
        and filters.get("to_project_id", share.to_project_id) == share.to_project_id
        and filters.get("status", share.status) == share.status
    )


TIME_FILTER_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # CBR's start_time/end_time: UTC, to the second


def backup_params(selectors: Selectors) -> dict[str, str]:
    """The backup list's filters for what CBR can filter on. Times are widened to whole
    seconds (CBR's are inclusive): the list is a superset, and the re-check is exact."""
    params: dict[str, str] = {}
    if len(selectors.volume_ids) == 1:
        params["resource_id"] = selectors.volume_ids[0]
    for key, value in (("vault_id", selectors.vault_id), ("name", selectors.name),
                       ("status", selectors.status)):  # fmt: skip
        if value:
            params[key] = value
    if selectors.created_after is not None:
        params["start_time"] = selectors.created_after.strftime(TIME_FILTER_FORMAT)
    if selectors.created_before is not None:
        before = selectors.created_before
        if before.microsecond:
            before += timedelta(seconds=1)
        params["end_time"] = before.strftime(TIME_FILTER_FORMAT)
    return params


def _member_in(body: Any) -> Share:
    return Share.from_cbr_member(record_in(body, "member"))


def _answered(member: Share, status: str) -> Share:
    """The member a PUT answered with must have the status it set: anything else (a status
    no client knows, or the old one) would be reported as done when it is not known to be."""
    if member.status != status:
        given = "no status" if member.status is None else f"{member.status[:40]!r}"
        raise UnexpectedResponse(
            f"unexpected response: the member's 'status' is {given}, not {status!r} as asked"
        )
    return member
