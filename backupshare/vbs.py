"""VBS, the Volume Backup Service: its backup-sharing paths, query parameters and bodies.

The one module that knows the VBS wire (docs/wire.md's five endpoints); the verbs (verbs/)
speak to it through the service contract (service.py), and client.py carries the calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .errors import BackupshareError, UnexpectedResponse, UsageError
from .models import BACKUP_STATUSES, Backup, BackupQuery, ListQuery, Share, Vault
from .paging import offset_pages
from .service import SharingService, count_in, page_params, record_in, records_in

if TYPE_CHECKING:  # the wire loads only when a call is made: --help and parsing need none of it
    from .client import Client
    from .selectors import Selectors  # loaded by iter_backups: a sharing listing needs none

BASE_PATH = "/v2/{project_id}/os-vendor-backup-sharing"
SORT_KEYS = ("id", "name", "status", "size", "created_at", "updated_at")


def no_acceptance() -> UsageError:
    return UsageError(
        "VBS sharing needs no acceptance: a sharing is usable as soon as it is made",
        hint="accept and reject answer CBR offers: use --service cbr "
        "(or a profile with service: cbr)",
    )


def query_params(query: ListQuery) -> dict[str, str]:
    """The list and count calls' parameters for a query."""
    params = dict(query.filters)
    if query.shared_with_me:
        params["share_to_me"] = "true"  # omitted rather than sent as false
    if query.sort_key:
        params["sort_key"] = query.sort_key
    if query.sort_dir:
        params["sort_dir"] = query.sort_dir
    return params


class Vbs(SharingService):
    """The backup-sharing endpoints of one project, over one HTTP client."""

    name = "vbs"
    addresses_sharings_by_id = True
    max_projects = 10  # per backup, in total (docs/wire.md)
    backup_statuses = BACKUP_STATUSES
    sharing_statuses = BACKUP_STATUSES  # a sharing's listing filters on its backup's status
    list_filters = None  # every filter of list-shares
    sort_keys = SORT_KEYS
    ends_all_in_one_call = True  # DELETE …/{backup_id}?is_backup_id=true
    lists_whole_project = True  # …/detail lists every sharing of the project
    has_vaults = False

    def __init__(self, http: Client) -> None:
        super().__init__(http)
        self._backups = f"{http.settings.endpoint}/v2/{http.settings.project_id}/backups"
        self._base = http.settings.endpoint + BASE_PATH.format(project_id=http.settings.project_id)

    # -- the five endpoints ------------------------------------------------------------------
    def share(self, backup_id: str, project_ids: list[str]) -> list[Share]:
        """POST one sharing request. Never retried here: an unknown outcome is the caller's to
        resolve by listing (see verbs/share.py)."""
        body = {"shared": {"backup_id": backup_id, "to_project_ids": project_ids}}
        return list(self.http.call("POST", self._base, json_body=body, read=shares_from_body))

    def share_request(self, backup_id: str, project_ids: list[str]) -> str:
        """The POST `share` sends, as a person reads it (for dry runs)."""
        body = {"shared": {"backup_id": backup_id, "to_project_ids": project_ids}}
        return f"POST …/os-vendor-backup-sharing {json.dumps(body)}"

    def iter_pages(
        self,
        query: ListQuery,
        *,
        page_size: int = 100,
        limit: int | None = None,
        end_at_short_page: bool = False,
    ) -> Iterator[list[Share]]:
        """Pages of sharings (docs/wire.md, Paging: offset on until an empty page, or with
        `end_at_short_page` until a short one)."""
        params = query_params(query)

        def fetch(want: int, offset: int) -> list[Share]:
            page = page_params(params, want, offset)
            url = f"{self._base}/detail"
            return list(self.http.call("GET", url, params=page, read=shares_from_body))

        own = self.settings.project_id
        return offset_pages(
            fetch,
            count=lambda: self.count(query),
            keep=lambda share: query.matches(share, own),
            page_size=page_size,
            limit=limit,
            what="sharings",
            log=self.http.debug,
            body_bytes=self.http.byte_counter(),
            end_at_short_page=end_at_short_page,
        )

    def count(self, query: ListQuery) -> int:
        params = {k: v for k, v in query_params(query).items() if k not in ("sort_key", "sort_dir")}
        return int(self.http.call("GET", f"{self._base}/count", params=params, read=count_in))

    def show(self, share_id: str) -> Share:
        share: Share = self.http.call(
            "GET",
            f"{self._base}/{share_id}",
            read=lambda body: shares_from_body(body, single=True)[0],
        )
        return share

    def cancel(self, share_id: str) -> bool:
        """Ends one sharing. True when a retry found it gone after an attempt whose outcome
        was unknown (that attempt most likely ended it); a 404 otherwise is NotFoundError."""
        return self.http.delete(f"{self._base}/{share_id}")

    def cancel_backup(self, backup_id: str) -> None:
        """Ends every sharing of the backup in one call."""
        self.http.delete(f"{self._base}/{backup_id}", params={"is_backup_id": "true"})

    def remove(self, share: Share) -> bool:
        return self.cancel(share.id)

    def probe(self) -> str:
        """The count of this project's sharings."""
        count = self.count(ListQuery())
        return f"{count} sharing{'' if count == 1 else 's'}"

    def already_shared(self, error: BackupshareError) -> bool:
        return False  # VBS has no such code: the list before the POST is what counts

    def backup_warnings(self, backup_id: str, known: Backup | None = None) -> list[str]:
        return []  # VBS's backup record says nothing worth a warning: nothing is read

    # -- backups -------------------------------------------------------------------------------
    def iter_backups(
        self,
        query: BackupQuery | Selectors,
        *,
        page_size: int = 100,
        limit: int | None = None,
    ) -> Iterator[list[Backup]]:
        """The project's backups, newest first (docs/wire.md, Backups): offset on until an
        empty page (a short page, or one without `backups_links`, is not the end). The list
        filters VBS has are sent (one volume, exact name, status); every selector is
        re-checked on each record."""
        from .selectors import Selectors

        selectors = Selectors.of(query)
        if selectors.vault_id is not None:
            raise UsageError("--vault-id: not available on VBS", hint="vaults are CBR's")
        url = f"{self._backups}/detail"
        params = {key: value for key, value in _backup_filters(selectors) if value}
        params |= {"sort_key": "created_at", "sort_dir": "desc"}

        def fetch(want: int, offset: int) -> list[Backup]:
            page = page_params(params, want, offset)

            def read(body: Any) -> list[Backup]:
                return [Backup.listed_vbs(record) for record in records_in(body, "backups")]

            return list(self.http.call("GET", url, params=page, read=read))

        return offset_pages(
            fetch,
            count=None,  # the v2 list has no count: the hard cap bounds it
            keep=selectors.matches,
            page_size=page_size,
            limit=limit,
            what="backups",
            log=self.http.debug,
            body_bytes=self.http.byte_counter(),
        )

    def backup(self, backup_id: str) -> Backup:
        backup: Backup = self.http.call(
            "GET", f"{self._backups}/{backup_id}",
            read=lambda body: Backup.listed_vbs(record_in(body, "backup")),
        )  # fmt: skip
        return backup

    # -- CBR's receiving side has no VBS counterpart ---------------------------------------
    def offer(self, backup_id: str) -> Share:
        raise no_acceptance()

    def answer(self, backup_id: str, status: str, vault_id: str | None = None) -> Share:
        raise no_acceptance()

    def vaults(self, page_size: int = 1000) -> list[Vault]:
        raise no_acceptance()


def shares_from_body(body: Any, *, single: bool = False) -> list[Share]:
    """Decode `{"shared": [...]}` (or `{"shared": {...}}` for show) into sharings."""
    if not isinstance(body, dict) or "shared" not in body:
        raise UnexpectedResponse("unexpected response: no 'shared' in the body")
    payload = body["shared"]
    if single:
        return [Share.from_api(payload)]
    if not isinstance(payload, list):
        raise UnexpectedResponse("unexpected response: 'shared' is not a list")
    return [Share.from_api(item) for item in payload]


def _backup_filters(selectors: Selectors) -> list[tuple[str, str | None]]:
    volume = selectors.volume_ids[0] if len(selectors.volume_ids) == 1 else None
    return [("volume_id", volume), ("name", selectors.name), ("status", selectors.status)]
