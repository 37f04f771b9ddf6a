"""The service contract: what the verbs (verbs/) ask of a backup service, declared once — every
capability a command may check before anything is sent, and every call — with the plumbing
and the body decoding the two service modules (vbs.py, cbr.py) share. Nothing here knows a
path or a field; which module speaks which `service` setting is registry.py's to say."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from .errors import UnexpectedResponse

if TYPE_CHECKING:  # the wire loads only when a call is made: parsing needs none of it
    from .client import Client
    from .config import Settings
    from .errors import BackupshareError
    from .models import Backup, BackupQuery, ListQuery, Share, Vault
    from .selectors import Selectors

S = TypeVar("S", bound="SharingService")


class SharingService:
    """One project's calls to one backup service over one HTTP client (closed with it). The
    class attributes are the service's capabilities, read before anything is sent (the CLI
    reads them from the class, see registry.service_class)."""

    name: ClassVar[str]
    backup_statuses: ClassVar[tuple[str, ...]]  # what `backups --status` may ask
    sharing_statuses: ClassVar[tuple[str, ...]]  # what `list-shares --status` asks of a sharing
    list_filters: ClassVar[
        tuple[str, ...] | None
    ]  # the filters a sharing listing honours (None: all)
    sort_keys: ClassVar[tuple[str, ...]]  # what --sort-key may name; () : listings are not sorted
    max_projects: ClassVar[int]  # a backup is shared with at most this many projects
    addresses_sharings_by_id: ClassVar[bool]  # VBS: a sharing has an id; CBR: backup + project
    ends_all_in_one_call: ClassVar[bool]  # VBS ends every sharing of a backup with one DELETE
    lists_whole_project: ClassVar[bool]  # VBS lists every sharing; CBR fans out per backup
    has_vaults: ClassVar[bool]  # CBR: --vault-id selects backups by vault
    unsupported_hint: ClassVar[str | None] = None  # said when an option is not honoured
    answers_offers: ClassVar[bool] = False  # CBR: a sharing waits for the receiver's answer

    def __init__(self, http: Client) -> None:
        self.http = http
        self.settings: Settings = http.settings

    @classmethod
    def connect(cls: type[S], settings: Settings, **options: Any) -> S:
        """The service over a new HTTP client (`options` as for client.Client)."""
        from .client import Client  # requests loads only when a service is connected

        return cls(Client(settings, **options))

    # -- sharings ------------------------------------------------------------------------------
    def share(self, backup_id: str, project_ids: list[str]) -> list[Share]:
        """One request sharing the backup (never retried: verbs/share.py settles an unknown
        outcome by listing)."""
        raise NotImplementedError

    def share_request(self, backup_id: str, project_ids: list[str]) -> str:
        """The request(s) `share` sends, as a person reads them (for dry runs)."""
        raise NotImplementedError

    def already_shared(self, error: BackupshareError) -> bool:
        """Whether a refusal may mean the sharing is already there (then a list settles it)."""
        raise NotImplementedError

    def backup_warnings(self, backup_id: str, known: Backup | None = None) -> list[str]:
        """What to know before sharing the backup (`known`: as the caller has just read it)."""
        raise NotImplementedError

    def iter_pages(
        self,
        query: ListQuery,
        *,
        page_size: int = 100,
        limit: int | None = None,
        end_at_short_page: bool = False,
    ) -> Iterator[list[Share]]:
        """Pages of sharings; `end_at_short_page`: optimistic, a short page ends the listing
        (paging.offset_pages)."""
        raise NotImplementedError

    def count(self, query: ListQuery) -> int:
        raise NotImplementedError

    def show(self, share_id: str) -> Share:
        raise NotImplementedError

    def cancel(self, share_id: str) -> bool:
        """Ends one sharing by id; True when a retry found it gone after an attempt whose
        outcome was unknown (that attempt most likely ended it)."""
        raise NotImplementedError

    def remove(self, share: Share) -> bool:
        """Ends one sharing as listed (the same answer as `cancel`)."""
        raise NotImplementedError

    def backup_members(self, backup: Backup, query: ListQuery) -> list[Share]:
        """Every sharing of one listed backup that the query's filters keep (CBR's fan-out
        over a project: `lists_whole_project` False)."""
        raise NotImplementedError

    def cancel_backup(self, backup_id: str) -> None:
        """Ends every sharing of the backup in one call (`ends_all_in_one_call`)."""
        raise NotImplementedError

    # -- backups -------------------------------------------------------------------------------
    def iter_backups(
        self,
        query: BackupQuery | Selectors,
        *,
        page_size: int = 100,
        limit: int | None = None,
    ) -> Iterator[list[Backup]]:
        """The project's own backups, newest first, each re-checked against the selectors."""
        raise NotImplementedError

    def backup(self, backup_id: str) -> Backup:
        raise NotImplementedError

    # -- the receiving side --------------------------------------------------------------------
    def offer(self, backup_id: str) -> Share:
        """This project's own member record of a backup offered to it (its answer so far)."""
        raise NotImplementedError

    def answer(self, backup_id: str, status: str, vault_id: str | None = None) -> Share:
        raise NotImplementedError

    def vaults(self, page_size: int = 1000) -> list[Vault]:
        raise NotImplementedError

    # -- doctor, retries and the connection ----------------------------------------------------
    def probe(self) -> str:
        """One cheap authenticated read, for doctor: what it saw, in a few words."""
        raise NotImplementedError

    @property
    def invocation_id(self) -> str:
        return self.http.invocation_id

    @property
    def server_date(self) -> str | None:
        """The Date header of the service's last answer (doctor's clock check)."""
        return self.http.last_date

    def backoff(self, attempt: int, retry_after: str | None, reason: str) -> None:
        self.http.backoff(attempt, retry_after, reason)

    def close(self) -> None:
        self.http.close()

    def __enter__(self: S) -> S:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the body decoding both services share -------------------------------------------------------
def page_params(params: dict[str, str], want: int, offset: int) -> dict[str, str]:
    """A listing's parameters for one page of offset paging (paging.offset_pages)."""
    return {**params, "limit": str(want), "offset": str(offset)}


def record_in(body: Any, key: str) -> Any:
    """`body[key]`, the one record an answer carries; else an unexpected response."""
    record = body.get(key) if isinstance(body, dict) else None
    if record is None:
        raise UnexpectedResponse(f"unexpected response: no '{key}' in the body")
    return record


def records_in(body: Any, key: str) -> list[Any]:
    """`body[key]`, the list of records a listing carries; else an unexpected response."""
    records = body.get(key) if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise UnexpectedResponse(f"unexpected response: no '{key}' list in the body")
    return records


def count_in(body: Any) -> int:
    """`body["count"]`, a count the service reports: a non-negative integer, not a bool."""
    count = body.get("count") if isinstance(body, dict) else None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise UnexpectedResponse("unexpected response: no valid 'count' in the body")
    return count
