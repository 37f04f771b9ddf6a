"""The library: `Client`, the verbs of the CLI as methods (docs/library.md).

A Client resolves its settings exactly as the CLI does (the SETTINGS table, flag > environment >
profile > default, the same checks and errors; keyword arguments rank as flags), checks every
argument as the CLI checks argv (checks.py: the same usage errors, before anything is
sent), and runs the same verbs (verbs/). It never prints: it logs through
`logging.getLogger("backupshare")`, with --debug's redaction, and reports progress through
callbacks. The CLI is its first user: each command parses, calls a Client, renders.

Client keeps its settings, its connection and the listings here; each verb family is a private
mixin it inherits (`_api_share.py`, `_api_cancel.py`, `_api_receive.py`, `_api_project.py`,
sharing `_api_base.py`), and the argument checks are `_api_args.py`'s.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ._api_args import (
    as_flag,
    as_integer,
    as_optional_text,
    as_selectors,
    as_text,
    as_uuid,
    check_paging,
    keyword_settings,
)
from ._api_base import LOG, Listing
from ._api_cancel import CancelMethods
from ._api_project import ProjectMethods
from ._api_receive import ReceiveMethods
from ._api_share import ShareMethods
from .api_policy import PolicyMethods
from .config import Flags
from .errors import UsageError
from .models import Backup, ListQuery, Share

if TYPE_CHECKING:
    from datetime import datetime

    from .config import Settings
    from .selectors import Selectors
    from .service import SharingService
    from .verbs.project import ProjectQuery
    from .verbs.wait import Timing

__all__ = ["Client", "Listing"]


class Client(ShareMethods, CancelMethods, ReceiveMethods, ProjectMethods, PolicyMethods):
    """One project's backup sharing on VBS or CBR (the profile's `service`).

    `Client(profile=None, *, config=None, **settings)`: settings resolve as the CLI's do, from
    the keyword arguments (as flags), the environment, the profile of the config file, then
    defaults; an unknown keyword is a UsageError naming the known ones. Nothing is sent until a
    method needs to. Use it as a context manager (or call `close()`) to close its connections.

    Thread safety: a Client may be shared by threads (its connection pool is; `cancel` itself
    works from several threads); `close()` it once, after they are done.
    """

    def __init__(
        self,
        profile: str | None = None,
        *,
        config: str | os.PathLike[str] | None = None,
        **settings: Any,
    ) -> None:
        from .resolution import load_settings

        if profile is not None:
            as_text(profile, "profile")
        if config is not None and not isinstance(config, (str, os.PathLike)):
            raise UsageError(f"invalid config {config!r}: expected a path")
        keywords = keyword_settings(settings)
        flags = Flags(profile=profile, config=os.fspath(config) if config is not None else None)
        self._setup(load_settings(flags, os.environ, keywords))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **settings: Any) -> Client:
        """A Client from the environment alone (`env`, default os.environ) and keywords: no
        config file is read and no profile chosen — for CI jobs and functions."""
        from .resolution import load_settings

        keywords = keyword_settings(settings)
        source = dict(os.environ if env is None else env)
        for ignored in ("BACKUPSHARE_CONFIG", "BACKUPSHARE_PROFILE"):
            source.pop(ignored, None)
        client = cls.__new__(cls)
        client._setup(load_settings(Flags(), source, keywords, read_file=False))
        return client

    @classmethod
    def _for_settings(
        cls,
        settings: Settings,
        *,
        log: Callable[[str], None] | None = None,
        pool_size: int = 8,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> Client:
        """Internal: the CLI's door, settings resolved (and their warnings said) by it, its
        --debug log, its pool size, and its sleep and waits' clock (tests pass ones that do
        not wait)."""
        client = cls.__new__(cls)
        client._setup(settings, log=log, pool_size=pool_size, sleep=sleep, warn=False)
        if clock is not None:
            client._clock = clock
        return client

    def _setup(
        self,
        settings: Settings,
        *,
        log: Callable[[str], None] | None = None,
        pool_size: int = 8,
        sleep: Callable[[float], None] | None = None,
        warn: bool = True,
    ) -> None:
        self._settings = settings
        self._log = log if log is not None else _library_log
        self._pool_size = pool_size
        self._sleep = sleep or time.sleep
        self._clock: Callable[[], float] = lambda: time.monotonic()  # a patched one is seen
        self._service: SharingService | None = None
        self._lock = threading.Lock()
        self._closed = False
        for warning in settings.warnings if warn else ():
            LOG.warning("%s", warning)

    # -- what it is ----------------------------------------------------------------------------
    @property
    def project_id(self) -> str:
        return self._settings.project_id

    @property
    def service_name(self) -> str:
        """`vbs` or `cbr`."""
        return self._settings.service

    @property
    def endpoint(self) -> str:
        return self._settings.endpoint

    def __repr__(self) -> str:
        return f"Client(service={self.service_name!r}, project_id={self.project_id!r})"

    # -- the connection ------------------------------------------------------------------------
    def _connected(self) -> SharingService:
        """The service, connected on first use (requests loads only then)."""
        with self._lock:
            if self._closed:
                raise UsageError("this Client is closed")
            if self._service is None:
                from .registry import connect

                self._service = connect(
                    self._settings, log=self._log, pool_size=self._pool_size, sleep=self._sleep
                )
            return self._service

    def _kind(self) -> type[SharingService]:
        """The service's class: what it can do, known before anything is sent."""
        from .registry import service_class

        return service_class(self._settings.service)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._service is not None:
                self._service.close()
                self._service = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- backups -------------------------------------------------------------------------------
    def backups(
        self,
        *,
        volume_id: str | Iterable[str] | None = None,
        vault_id: str | None = None,
        name: str | None = None,
        name_prefix: str | None = None,
        status: str | None = None,
        created_after: str | datetime | None = None,
        created_before: str | datetime | None = None,
        limit: int | None = None,
        page_size: int = 100,
    ) -> Listing[Backup]:
        """The project's backups that every selector given takes (as `backupshare backups`:
        of the volumes, in the vault (CBR), of an exact name or a prefix, in a status, made
        after or before a WHEN — ISO 8601, `7d` back, or a datetime), every page."""
        selectors = as_selectors(
            self._kind, volume_ids=volume_id, vault_id=vault_id, name=name,
            name_prefix=name_prefix, status=status, created_after=created_after,
            created_before=created_before,
        )  # fmt: skip
        check_paging(limit, page_size)
        return self._list_backups(selectors, page_size=page_size, limit=limit)

    def _list_backups(
        self, selectors: Selectors, *, page_size: int = 100, limit: int | None = None
    ) -> Listing[Backup]:
        """Internal (the CLI's door): checked selectors, listed."""
        from .verbs.find import list_backups

        return Listing(
            lambda: list_backups(self._connected(), selectors, page_size=page_size, limit=limit)
        )

    def backup(self, id_or_name: str) -> Backup:
        """One backup, by its id or its exact name (several of that name: a UsageError)."""
        from . import checks
        from .verbs.find import backup_named, look_up_backup

        choice = checks.backup_choice(as_text(id_or_name, "backup"), [], None, False)
        if choice.backup_id is not None:
            return look_up_backup(self._connected(), choice.backup_id)
        assert choice.name is not None
        return backup_named(self._connected(), choice.name)

    def most_recent(self, volume_id: str) -> Backup:
        """The volume's newest available backup (NotFoundError when it has none)."""
        from .verbs.find import most_recent

        return most_recent(self._connected(), as_uuid(volume_id, "volume id"))

    def _timing(self) -> Timing:
        """How this client's waits pause and read the time (its sleep and clock)."""
        from .verbs.wait import Timing

        return Timing(sleep=self._sleep, clock=self._clock, jitter=lambda: random.random())

    def shares(
        self,
        *,
        shared_with_me: bool = False,
        backup_id: str | None = None,
        to_project: str | None = None,
        from_project: str | None = None,
        volume_id: str | Iterable[str] | None = None,
        vault_id: str | None = None,
        name: str | None = None,
        name_prefix: str | None = None,
        status: str | None = None,
        created_after: str | datetime | None = None,
        created_before: str | datetime | None = None,
        availability_zone: str | None = None,
        sort_key: str | None = None,
        sort_dir: str | None = None,
        limit: int | None = None,
        page_size: int = 100,
        concurrency: int = 8,
    ) -> Listing[Share]:
        """Sharings made by this project (or, `shared_with_me`, to it), filtered as
        `list-shares` filters them; every page. Without `backup_id` (and not
        `shared_with_me`): every sharing the project made, of the backups the selectors
        (`volume_id`, `vault_id`, `name_prefix`, `created_after`, `created_before`) take — on
        CBR the members of each backup, read `concurrency` backups at a time."""
        across, asked = self._shares_query(
            shared_with_me, backup_id=backup_id, to_project_id=to_project,
            from_project_id=from_project, volume_id=volume_id, vault_id=vault_id, name=name,
            name_prefix=name_prefix, status=status, created_after=created_after,
            created_before=created_before, availability_zone=availability_zone,
            sort_key=sort_key, sort_dir=sort_dir, limit=limit, page_size=page_size,
            concurrency=concurrency,
        )  # fmt: skip
        if across:
            return self._project_shares(asked, page_size=page_size, limit=limit)
        return self._list_shares(asked.query, page_size=page_size, limit=limit)

    def offers(
        self, *, status: str | None = None, limit: int | None = None, page_size: int = 100
    ) -> Listing[Share]:
        """Backups shared with this project (on CBR: offered, to accept or reject)."""
        return self.shares(shared_with_me=True, status=status, limit=limit, page_size=page_size)

    def count_shares(
        self,
        *,
        shared_with_me: bool = False,
        backup_id: str | None = None,
        to_project: str | None = None,
        from_project: str | None = None,
        volume_id: str | Iterable[str] | None = None,
        vault_id: str | None = None,
        name: str | None = None,
        name_prefix: str | None = None,
        status: str | None = None,
        created_after: str | datetime | None = None,
        created_before: str | datetime | None = None,
        availability_zone: str | None = None,
        concurrency: int = 8,
    ) -> int:
        """How many sharings `shares` with these filters would give (across the project on
        CBR, or with selectors: by listing them)."""
        across, asked = self._shares_query(
            shared_with_me, backup_id=backup_id, to_project_id=to_project,
            from_project_id=from_project, volume_id=volume_id, vault_id=vault_id, name=name,
            name_prefix=name_prefix, status=status, created_after=created_after,
            created_before=created_before, availability_zone=availability_zone,
            concurrency=concurrency,
        )  # fmt: skip
        if across:
            return self._count_project_shares(asked)
        return self._count_shares(asked.query)

    def _shares_query(
        self,
        shared_with_me: bool,
        *,
        volume_id: Any,
        vault_id: Any,
        name_prefix: Any,
        created_after: Any,
        created_before: Any,
        sort_key: str | None = None,
        sort_dir: str | None = None,
        limit: int | None = None,
        page_size: int = 100,
        concurrency: int = 8,
        **filters: str | None,
    ) -> tuple[bool, ProjectQuery]:
        """list-shares' checks on a caller's keywords: whether the listing is across the
        project, and what it asks (the sharing filters, the backup selectors)."""
        from . import checks
        from .verbs.project import ProjectQuery

        across = filters.get("backup_id") is None and not as_flag(shared_with_me, "shared_with_me")
        selectors = as_selectors(
            self._kind, volume_ids=volume_id, vault_id=vault_id, name_prefix=name_prefix,
            created_after=created_after, created_before=created_before,
        )  # fmt: skip
        checks.check_listing_selectors(selectors, across=across, graph=False)
        one_volume = selectors.volume_ids[0] if len(selectors.volume_ids) == 1 else None
        given: dict[str, str | None] = {
            key: as_text(value, key) for key, value in filters.items() if value is not None
        }
        given["volume_id"] = None if across else one_volume
        check_paging(limit, page_size)
        query = checks.list_query(
            self._kind, {**dict.fromkeys(filters), **given}, shared_with_me=shared_with_me,
            sort_key=as_optional_text(sort_key, "--sort-key"),
            sort_dir=as_optional_text(sort_dir, "--sort-dir"),
            limit=limit, page_size=page_size, across_project=across,
        )  # fmt: skip
        workers = checks.concurrency_arg(as_integer(concurrency, "--concurrency"))
        return across, ProjectQuery(query, selectors, workers)

    def _list_shares(
        self, query: ListQuery, *, page_size: int = 100, limit: int | None = None
    ) -> Listing[Share]:
        """Internal (the CLI's door): a checked query, listed."""
        from .verbs.find import list_shares

        return Listing(
            lambda: list_shares(self._connected(), query, page_size=page_size, limit=limit)
        )

    def _count_shares(self, query: ListQuery) -> int:
        from .verbs.find import count_shares

        return count_shares(self._connected(), query)

    def show(self, share_id: str) -> Share:
        """One sharing by its id (VBS; CBR sharings have no ids: a UsageError)."""
        from .verbs.find import show_share

        return show_share(self._connected(), as_uuid(share_id, "sharing id"))


def _library_log(line: str) -> None:
    """--debug's lines (secrets already redacted by the client), as the logger's debug."""
    if LOG.isEnabledFor(logging.DEBUG):
        from .output.escaping import printable

        LOG.debug("%s", printable(line))
