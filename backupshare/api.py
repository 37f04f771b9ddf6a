"""The library: `Client`, the verbs of the CLI as methods (docs/library.md).

A Client resolves its settings exactly as the CLI does (the SETTINGS table, flag > environment >
profile > default, the same checks and errors; keyword arguments rank as flags), checks every
argument as the CLI checks argv (cli/arguments.py: the same usage errors, before anything is
sent), and runs the same verbs (verbs/). It never prints: it logs through
`logging.getLogger("backupshare")`, with --debug's redaction, and reports progress through
callbacks. The CLI is its first user: each command parses, calls a Client, renders.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._api_args import as_flag, as_text, as_uuid, check_paging, keyword_settings
from ._api_base import LOG, Listing
from ._api_cancel import CancelMethods
from ._api_receive import ReceiveMethods
from ._api_share import ShareMethods
from .config import Flags
from .errors import UsageError
from .models import Backup, BackupQuery, ListQuery, Share

if TYPE_CHECKING:
    from .config import Settings
    from .service import SharingService
    from .verbs.wait import Timing

__all__ = ["Client", "Listing"]


class Client(ShareMethods, CancelMethods, ReceiveMethods):
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
    ) -> Client:
        """Internal: the CLI's door, settings resolved (and their warnings said) by it, its
        --debug log, its pool size and its sleep (tests pass one that does not wait)."""
        client = cls.__new__(cls)
        client._setup(settings, log=log, pool_size=pool_size, sleep=sleep, warn=False)
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
        volume_id: str | None = None,
        name: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        page_size: int = 100,
    ) -> Listing[Backup]:
        """The project's backups (of a volume, of an exact name, in a status), every page."""
        from .cli import arguments
        from .verbs.find import list_backups

        query = BackupQuery(
            volume_id=as_uuid(volume_id, "volume id") if volume_id is not None else None,
            name=arguments.backup_name_arg(as_text(name, "backup name"))
            if name is not None
            else None,
            status=as_text(status, "--status") if status is not None else None,
        )
        check_paging(limit, page_size)
        arguments.check_choice("--status", query.status, self._kind().backup_statuses)
        return Listing(
            lambda: list_backups(self._connected(), query, page_size=page_size, limit=limit)
        )

    def backup(self, id_or_name: str) -> Backup:
        """One backup, by its id or its exact name (several of that name: a UsageError)."""
        from .cli import arguments
        from .verbs.find import backup_named, look_up_backup

        choice = arguments.backup_choice(as_text(id_or_name, "backup"), [], None, False)
        if choice.backup_id is not None:
            return look_up_backup(self._connected(), choice.backup_id)
        assert choice.name is not None
        return backup_named(self._connected(), choice.name)

    def most_recent(self, volume_id: str) -> Backup:
        """The volume's newest available backup (NotFoundError when it has none)."""
        from .verbs.find import most_recent

        return most_recent(self._connected(), as_uuid(volume_id, "volume id"))

    def _timing(self) -> Timing:
        """How this client's waits pause and read the time (its sleep; the real clock)."""
        from .verbs.wait import Timing

        return Timing(sleep=self._sleep, clock=time.monotonic, jitter=random.random)

    def shares(
        self,
        *,
        shared_with_me: bool = False,
        backup_id: str | None = None,
        to_project: str | None = None,
        from_project: str | None = None,
        volume_id: str | None = None,
        name: str | None = None,
        status: str | None = None,
        availability_zone: str | None = None,
        sort_key: str | None = None,
        sort_dir: str | None = None,
        limit: int | None = None,
        page_size: int = 100,
    ) -> Listing[Share]:
        """Sharings made by this project (or, `shared_with_me`, to it), filtered as
        `list-shares` filters them; every page."""
        query = self._query(
            shared_with_me, backup_id=backup_id, to_project_id=to_project,
            from_project_id=from_project, volume_id=volume_id, name=name, status=status,
            availability_zone=availability_zone, sort_key=sort_key, sort_dir=sort_dir,
            limit=limit, page_size=page_size,
        )  # fmt: skip
        return self._list_shares(query, page_size=page_size, limit=limit)

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
        volume_id: str | None = None,
        name: str | None = None,
        status: str | None = None,
        availability_zone: str | None = None,
    ) -> int:
        """How many sharings `shares` with these filters would give."""
        from .verbs.find import count_shares

        query = self._query(
            shared_with_me, backup_id=backup_id, to_project_id=to_project,
            from_project_id=from_project, volume_id=volume_id, name=name, status=status,
            availability_zone=availability_zone,
        )  # fmt: skip
        return count_shares(self._connected(), query)

    def _query(
        self,
        shared_with_me: bool,
        *,
        sort_key: str | None = None,
        sort_dir: str | None = None,
        limit: int | None = None,
        page_size: int = 100,
        **filters: str | None,
    ) -> ListQuery:
        from .cli import arguments

        given = {key: as_text(value, key) for key, value in filters.items() if value is not None}
        sort_key = as_text(sort_key, "--sort-key") if sort_key is not None else None
        sort_dir = as_text(sort_dir, "--sort-dir") if sort_dir is not None else None
        check_paging(limit, page_size)
        return arguments.list_query(
            self._kind, {**dict.fromkeys(filters), **given},
            shared_with_me=as_flag(shared_with_me, "shared_with_me"),
            sort_key=sort_key, sort_dir=sort_dir, limit=limit, page_size=page_size,
        )  # fmt: skip

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
