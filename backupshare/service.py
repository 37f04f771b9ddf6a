"""The service seam: the protocol commands.py speaks to a backup service, and the plumbing the
two service modules (vbs.py, cbr.py) share. Nothing here knows a path or a field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

if TYPE_CHECKING:  # the wire loads only when a call is made: parsing needs none of it
    from .client import Client
    from .config import Settings
    from .errors import BackupshareError
    from .models import Backup, BackupQuery, ListQuery, Share

S = TypeVar("S", bound="ServiceBase")


class SharingService(Protocol):
    """What the commands need of a backup service (vbs.Vbs): its sharings, read and changed."""

    settings: Settings

    @property
    def invocation_id(self) -> str: ...

    def share(self, backup_id: str, project_ids: list[str]) -> list[Share]: ...

    def share_request(self, backup_id: str, project_ids: list[str]) -> str: ...

    def iter_pages(
        self,
        query: ListQuery,
        *,
        page_size: int = 100,
        limit: int | None = None,
        end_at_short_page: bool = False,  # optimistic: a short page ends it (client.offset_pages)
    ) -> Iterator[list[Share]]: ...

    def count(self, query: ListQuery) -> int: ...

    def show(self, share_id: str) -> Share: ...

    def cancel(self, share_id: str) -> bool: ...

    def cancel_backup(self, backup_id: str) -> None: ...

    def backoff(self, attempt: int, retry_after: str | None, reason: str) -> None: ...

    name: str
    backup_statuses: tuple[str, ...]  # what --status may ask of its backups
    max_projects: int  # a backup is shared with at most this many projects
    addresses_sharings_by_id: bool  # VBS: a sharing has an id; CBR: backup + project
    ends_all_in_one_call: bool  # VBS can end every sharing of a backup with one DELETE

    def remove(self, share: Share) -> bool: ...

    def already_shared(self, error: BackupshareError) -> bool: ...

    def backup_warnings(self, backup_id: str, known: Backup | None = None) -> list[str]: ...

    def iter_backups(
        self, query: BackupQuery, *, page_size: int = 100, limit: int | None = None
    ) -> Iterator[list[Backup]]: ...

    def backup(self, backup_id: str) -> Backup: ...

    def probe(self) -> str: ...

    @property
    def server_date(self) -> str | None: ...

    def answer(self, backup_id: str, status: str, vault_id: str | None = None) -> Share: ...

    def vaults(self) -> list[dict[str, str]]: ...

    def close(self) -> None: ...

    def __enter__(self) -> SharingService: ...

    def __exit__(self, *exc: object) -> None: ...


def service_class(name: str) -> type[ServiceBase]:
    """The module that speaks the `service` setting's `name`, loaded only now: what a command
    may ask of a service (its class attributes) is read here, before anything is sent."""
    if name == "cbr":
        from .cbr import Cbr

        return Cbr
    from .vbs import Vbs

    return Vbs


def connect(settings: Settings, **options: Any) -> SharingService:
    """The profile's service over a new HTTP client (`options` as for client.Client)."""
    return cast("SharingService", service_class(settings.service).connect(settings, **options))


class ServiceBase:
    """One project's calls to one service over one HTTP client (closed with it)."""

    name: str
    addresses_sharings_by_id: bool  # VBS: a sharing has an id; CBR: backup + project
    sharing_statuses: tuple[str, ...]  # what list-shares --status asks of a sharing
    list_filters: tuple[str, ...] | None  # the filters a sharing listing honours (None: all)
    sorts_lists: bool  # whether --sort-key/--sort-dir mean anything

    def __init__(self, http: Client) -> None:
        self.http = http
        self.settings: Settings = http.settings

    @classmethod
    def connect(cls: type[S], settings: Settings, **options: Any) -> S:
        """The service over a new HTTP client (`options` as for client.Client)."""
        from .client import Client

        return cls(Client(settings, **options))

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
