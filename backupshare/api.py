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
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .api_policy import PolicyMethods
from .config import SETTINGS, Flags
from .errors import BackupshareError, UsageError
from .models import Backup, BackupQuery, ListQuery, Share

if TYPE_CHECKING:
    from .config import Settings
    from .service import SharingService
    from .verbs.batch import Interrupt, Outcome
    from .verbs.cancel import CancelOutcome, CancelPlan, CancelRequest
    from .verbs.share import ShareOutcome, ShareRequest
    from .verbs.wait import Timing, WaitTick

__all__ = ["Client", "Listing"]

LOG = logging.getLogger("backupshare")
T = TypeVar("T")

# Settings a keyword may give: every row of the table but `auth` (its keys are given one by
# one: token=…, access_key=…) and `output` (a library renders nothing).
KEYWORD_SETTINGS = {s.key: s for s in SETTINGS if s.key not in ("auth", "output")}


class Listing(Generic[T]):
    """Every record of a listing, page after page, each page read when iteration reaches it
    (iterating again reads again). `pages()` gives the pages themselves."""

    def __init__(self, pages: Callable[[], Iterator[list[T]]]) -> None:
        self._pages = pages

    def __iter__(self) -> Iterator[T]:
        for page in self._pages():
            yield from page

    def pages(self) -> Iterator[list[T]]:
        return self._pages()


class Client(PolicyMethods):
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
            _text(profile, "profile")
        if config is not None and not isinstance(config, (str, os.PathLike)):
            raise UsageError(f"invalid config {config!r}: expected a path")
        keywords = _keyword_settings(settings)
        flags = Flags(profile=profile, config=os.fspath(config) if config is not None else None)
        self._setup(load_settings(flags, os.environ, keywords))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **settings: Any) -> Client:
        """A Client from the environment alone (`env`, default os.environ) and keywords: no
        config file is read and no profile chosen — for CI jobs and functions."""
        from .resolution import load_settings

        keywords = _keyword_settings(settings)
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
            volume_id=_uuid(volume_id, "volume id") if volume_id is not None else None,
            name=arguments.backup_name_arg(_text(name, "backup name"))
            if name is not None
            else None,
            status=_text(status, "--status") if status is not None else None,
        )
        _paging(limit, page_size)
        arguments.check_choice("--status", query.status, self._kind().backup_statuses)
        return Listing(
            lambda: list_backups(self._connected(), query, page_size=page_size, limit=limit)
        )

    def backup(self, id_or_name: str) -> Backup:
        """One backup, by its id or its exact name (several of that name: a UsageError)."""
        from .cli import arguments
        from .verbs.find import backup_named, look_up_backup

        choice = arguments.backup_choice(_text(id_or_name, "backup"), [], None, False)
        if choice.backup_id is not None:
            return look_up_backup(self._connected(), choice.backup_id)
        assert choice.name is not None
        return backup_named(self._connected(), choice.name)

    def most_recent(self, volume_id: str) -> Backup:
        """The volume's newest available backup (NotFoundError when it has none)."""
        from .verbs.find import most_recent

        return most_recent(self._connected(), _uuid(volume_id, "volume id"))

    def wait_available(
        self,
        backup: str | Backup,
        timeout: float,
        interval: float | None = None,
        *,
        progress: Callable[[WaitTick], None] | None = None,
    ) -> Backup:
        """Polls the backup until it is available, for at most `timeout` seconds, every
        `interval` seconds (default: backoff from 1 s to 30 s). Runs out: WaitTimeoutError
        with the `last_status`; the backup failed: BackupNotAvailableError. `progress` is
        called with a WaitTick (`subject`, `status`, `elapsed`, `total`, `ended`) after each
        poll that finds it not ready, and once more (`ended=True`) when the wait ends; not at
        all when the backup is available at the first look."""
        from dataclasses import replace

        from .cli import arguments
        from .verbs.share import wait_until_available
        from .verbs.wait import ignore_tick

        backup_id = _backup_id(backup)
        seconds = arguments.wait_arg(_number(timeout, "--wait"))
        assert seconds is not None
        timing = self._timing()
        if interval is not None:
            every = _number(interval, "interval")
            if not (math.isfinite(every) and 0 < every <= arguments.MAX_WAIT):
                raise UsageError(
                    f"invalid interval {every:g}: must be more than 0 and at most "
                    f"{arguments.MAX_WAIT:g} seconds"
                )
            timing = replace(timing, jitter=lambda: 1.0, first=every, cap=every)
        return wait_until_available(
            self._connected(), backup_id, seconds, timing, on_wait=progress or ignore_tick
        )

    def _timing(self) -> Timing:
        """How this client's waits pause and read the time (its sleep; the real clock)."""
        from .verbs.wait import Timing

        return Timing(sleep=self._sleep, clock=time.monotonic, jitter=random.random)

    # -- sharing -------------------------------------------------------------------------------
    def share(
        self,
        backup: str | Backup | None,
        projects: str | Iterable[str],
        *,
        volume_id: str | None = None,
        dry_run: bool = False,
        wait: float | None = None,
        wait_accepted: float | None = None,
        raise_on_failure: bool = False,
        progress: Callable[[WaitTick], None] | None = None,
    ) -> ShareOutcome:
        """Shares the backup (an id, an exact name, a Backup; or None and `volume_id` for the
        volume's most recent) with the projects, as `backupshare share` does: only what is
        missing is sent. Returns the report (`results`, `changed`, `warnings`); a failure
        of some targets is in it, or raised (carrying it as `.report`) with
        `raise_on_failure`. `wait`: seconds to wait for the backup to be available;
        `wait_accepted` (CBR): seconds to wait for the receivers' answers, written into each
        result's `status` (`answers`: what they add up to, also in `error()`)."""
        from .cli import arguments

        if isinstance(backup, Backup):
            backup = _backup_id(backup)
        request = arguments.share_request(
            _text(backup, "backup") if backup is not None else None,
            _texts(projects, "project id"),
            projects_file=None,
            volume_id=_text(volume_id, "volume id") if volume_id is not None else None,
            most_recent=volume_id is not None,
            wait=_number(wait, "--wait") if wait is not None else None,
            dry_run=_flag(dry_run, "dry_run"),
            wait_accepted=arguments.wait_accepted_arg(
                _number(wait_accepted, "--wait-accepted") if wait_accepted is not None else None,
                self._kind,
            ),
        )
        outcome = self._run_share(request, on_wait=progress)
        return _settled(outcome, _flag(raise_on_failure, "raise_on_failure"))

    def _run_share(
        self,
        request: ShareRequest,
        *,
        warn: Callable[[str], None] | None = None,
        chose: Callable[[Backup], None] | None = None,
        on_wait: Callable[[WaitTick], None] | None = None,
    ) -> ShareOutcome:
        """Internal (the CLI's door): a checked ShareRequest, run; `chose` hears which backup
        a name or a volume picked."""
        from .verbs.share import refuse_own_project, run_share
        from .verbs.wait import ignore_tick

        refuse_own_project(request.targets, self.project_id)  # before connecting
        warnings: list[str] = []

        def warned(message: str) -> None:
            warnings.append(message)
            (warn or _log_warning)(message)

        outcome = run_share(
            self._connected(), request, warn=warned, chose=chose,
            on_wait=on_wait or ignore_tick, timing=self._timing(),
        )  # fmt: skip
        outcome.warnings = warnings
        return outcome

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

        given = {key: _text(value, key) for key, value in filters.items() if value is not None}
        sort_key = _text(sort_key, "--sort-key") if sort_key is not None else None
        sort_dir = _text(sort_dir, "--sort-dir") if sort_dir is not None else None
        _paging(limit, page_size)
        return arguments.list_query(
            self._kind, {**dict.fromkeys(filters), **given},
            shared_with_me=_flag(shared_with_me, "shared_with_me"),
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

        return show_share(self._connected(), _uuid(share_id, "sharing id"))

    def cancel(
        self,
        share_ids: str | Iterable[str] = (),
        *,
        backup_id: str | None = None,
        to_projects: str | Iterable[str] = (),
        dry_run: bool = False,
        concurrency: int = 8,
        raise_on_failure: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> CancelOutcome:
        """Ends sharings, as `backupshare cancel --yes` does: by id (VBS), or a backup's with
        some projects (`to_projects`) or with all, or (`to_projects` without `backup_id`)
        every sharing with those projects across the project, as `cancel --to-project`.
        Nothing to end for a project is `absent`, not an error. Returns the report, or raises
        with it (`raise_on_failure`). `progress` is called with the number of sharings each
        step ended."""
        from .cli import arguments

        request = arguments.cancel_request(
            _texts(share_ids, "sharing id", allow_none=True),
            None,
            _text(backup_id, "backup id") if backup_id is not None else None,
            _texts(to_projects, "project id", allow_none=True),
        )
        arguments.concurrency_arg(_integer(concurrency, "--concurrency"))
        if request.by_id:
            arguments.check_sharing_ids(self._kind())
        plan = self._plan_cancel(request, concurrency=concurrency)
        if _flag(dry_run, "dry_run"):
            from .verbs.cancel import CancelOutcome, planned_cancel

            return CancelOutcome(planned_cancel(plan), self._connected().invocation_id)
        outcome = self._cancel(plan, concurrency=concurrency, progress=progress)
        return _settled(outcome, _flag(raise_on_failure, "raise_on_failure"))

    def _plan_cancel(self, request: CancelRequest, *, concurrency: int = 8) -> CancelPlan:
        """Internal: what a checked CancelRequest will end (across the project: every sharing
        with its projects, verbs/project.py)."""
        from .selectors import Selectors
        from .verbs.cancel import plan_cancel
        from .verbs.project import plan_project_cancel

        if request.across_project:
            return plan_project_cancel(
                self._connected(), request.to_projects, request.selectors or Selectors(),
                concurrency=concurrency,
            )  # fmt: skip
        return plan_cancel(self._connected(), request)

    def _identify(self, plan: CancelPlan, *, at_most: int) -> None:
        """Internal (the CLI's door): who the first sharings known only by id belong to, for
        a person asked to confirm."""
        from .verbs.cancel import identify

        identify(self._connected(), plan, at_most=at_most)

    def _cancel(
        self,
        plan: CancelPlan,
        *,
        concurrency: int = 8,
        progress: Callable[[int], None] | None = None,
        stop: Interrupt | None = None,
    ) -> CancelOutcome:
        """Internal (the CLI's door): the plan carried out, `stop` its Ctrl-C latch."""
        from .verbs.cancel import cancel

        return cancel(
            self._connected(), plan, concurrency=concurrency, progress=progress or _ignore,
            stop=stop,
        )  # fmt: skip

    # -- the receiving side (CBR) --------------------------------------------------------------
    def accept(self, backup: str | Backup | Share, vault: str | None = None) -> Share:
        """Accepts a backup offered to this project into the vault (a vault id, or None or
        "auto": the roomiest vault of the backup's type that fits). Accepting twice is
        harmless."""
        from .cli import arguments
        from .verbs.receive import VAULT_AUTO, answer_offer

        chosen = arguments.vault_arg(_text(vault, "vault id")) if vault is not None else VAULT_AUTO
        return answer_offer(self._connected(), _backup_id(backup), "accepted", chosen)

    def reject(self, backup: str | Backup | Share) -> Share:
        """Rejects a backup offered to this project. Rejecting twice is harmless."""
        from .verbs.receive import answer_offer

        return answer_offer(self._connected(), _backup_id(backup), "rejected")


# -- arguments: the CLI's checks, and the types a caller may get wrong ---------------------------
def _keyword_settings(given: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword settings, each a row of the table with a value of its type (the ranges and
    the rest are resolution's checks, as for a flag)."""
    for key, value in given.items():
        setting = KEYWORD_SETTINGS.get(key)
        if setting is None:
            raise UsageError(
                f"unknown setting {key!r}: the settings are {', '.join(KEYWORD_SETTINGS)}"
            )
        if value is None or setting.number is not None:
            continue  # None: not given; a number's type is checked with its range
        from .auth import Secret

        if setting.secret and isinstance(value, Secret):
            continue
        if not isinstance(value, str):
            shown = f"(a {type(value).__name__})" if setting.secret else _shown(value)
            raise UsageError(f"invalid {key} {shown}: expected a string")  # a secret unshown
    return {key: value for key, value in given.items() if value is not None}


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise UsageError(f"invalid {what} {_shown(value)}: expected a string")
    return value


def _texts(value: Any, what: str, *, allow_none: bool = False) -> list[str]:
    """One string or an iterable of them (never a string's characters)."""
    if value is None and allow_none:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        raise UsageError(f"invalid {what}s {_shown(value)}: expected a string or a list of them")
    return [_text(item, what) for item in value]


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"invalid {what} {_shown(value)}: expected a number of seconds")
    return float(value)


def _integer(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"invalid {what} {_shown(value)}: expected an integer")
    return value


def _flag(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"invalid {what} {_shown(value)}: expected True or False")
    return value


def _paging(limit: Any, page_size: Any) -> None:
    from .cli import arguments

    arguments.check_paging(
        _integer(limit, "--limit") if limit is not None else None,
        _integer(page_size, "--page-size"),
    )


def _uuid(value: Any, what: str) -> str:
    from .cli import arguments

    return arguments.uuid_arg(_text(value, what), what)


def _backup_id(backup: Any) -> str:
    """A backup's id from an id, a Backup or a Share (an offer)."""
    if isinstance(backup, Backup) and backup.id is not None:
        return backup.id
    if isinstance(backup, Share):
        return backup.backup_id
    return _uuid(backup, "backup id")


def _shown(value: Any) -> str:
    """A wrong value as an error shows it: bounded, whatever it is."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


# -- reports, logging and progress -----------------------------------------------------------------
R = TypeVar("R", bound="Outcome")


def _settled(outcome: R, raise_on_failure: bool) -> R:
    """The report, or with `raise_on_failure` the error it adds up to, carrying it."""
    error: BackupshareError | None = outcome.error() if raise_on_failure else None
    if error is not None:
        error.report = outcome
        raise error
    return outcome


def _library_log(line: str) -> None:
    """--debug's lines (secrets already redacted by the client), as the logger's debug."""
    if LOG.isEnabledFor(logging.DEBUG):
        from .output.escaping import printable

        LOG.debug("%s", printable(line))


def _log_warning(message: str) -> None:
    LOG.warning("%s", message)


def _ignore(*args: Any) -> None:
    pass
