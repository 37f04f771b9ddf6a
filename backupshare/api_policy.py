"""The library's policy methods, `Client.plan` and `Client.apply` (a mixin `Client` inherits):
a sharings file (sharings.py) → a plan (verbs/plan.py) → converged (verbs/apply.py).

An entry's `profile` is resolved as `--profile NAME` is (the same config file as the Client's;
its credentials and project id, not the environment's); each profile's service is connected
once per call and closed after it. Nothing is printed: the results are returned.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, UsageError

if TYPE_CHECKING:
    from .config import Settings
    from .service import SharingService
    from .sharings import SharingsFile
    from .verbs.apply import ApplyOutcome
    from .verbs.batch import Interrupt
    from .verbs.plan import Plan, PlanRow

Resolve = Callable[[str], "Settings"]


class ProfileServices:
    """The service of each profile a run names, connected on first use; the Client's own for
    its profile (or an entry without one). `close()` closes those it opened."""

    def __init__(
        self,
        default: SharingService,
        resolve: Resolve,
        connect: Callable[[Settings], SharingService],
    ) -> None:
        self.default = default
        self._resolve, self._connect = resolve, connect
        self._opened: dict[str, SharingService] = {}
        self._lock = threading.Lock()

    def __call__(self, profile: str | None) -> SharingService:
        """No profile: the run's own service. A named one — the run's own name too — is
        resolved as `--profile NAME` is: its own credentials and project, not the environment's
        (the run's own service when that resolves to the very same settings)."""
        if profile is None:
            return self.default
        with self._lock:
            if profile not in self._opened:
                settings = self._resolve(profile)
                same = settings == self.default.settings
                self._opened[profile] = self.default if same else self._connect(settings)
            return self._opened[profile]

    def for_row(self, row: PlanRow) -> SharingService:
        """A saved plan's row: its profile must still be the project and service it was. A row
        of the run's own profile name and identity is the run's own (the plan does not record
        whether its entry named the profile); any other is resolved by name."""
        own = self.default.settings
        if (row.profile, row.project_id, row.service) == (own.profile, own.project_id,
                                                          self.default.name):  # fmt: skip
            return self.default
        try:
            service = self(row.profile)
        except ConfigError:
            if row.profile != own.profile:
                raise
            service = self.default  # the run's own name, not in the file: says how it differs
        if (service.settings.project_id, service.name) != (row.project_id, row.service):
            raise ConfigError(
                f"the plan's profile {row.profile!r} was project {row.project_id} on "
                f"{row.service.upper()}; it is now project {service.settings.project_id} on "
                f"{service.name.upper()}",
                hint="make the plan again with the profiles as they are",
            )
        return service

    def close(self) -> None:
        for service in self._opened.values():
            if service is not self.default:  # the Client's own: the Client closes it
                service.close()
        self._opened.clear()


class PolicyMethods:
    """`plan` and `apply` of a sharings file (docs/sharings.md), for `Client`."""

    if TYPE_CHECKING:
        _settings: Settings
        _log: Callable[[str], None]
        _pool_size: int
        _sleep: Callable[[float], None]

        def _connected(self) -> SharingService: ...

    def plan(
        self,
        file: str | os.PathLike[str] | None = None,
        *,
        text: str | None = None,
        revoke_accepted: bool = False,
        concurrency: int = 8,
    ) -> Plan:
        """The plan of a sharings file (a path, or its `text`): one row per (backup, project)
        with its `action` (`share`, `cancel`, `ok`, `blocked` and a `reason`); reads only.
        `plan.to_document()` is `backupshare plan -o json`'s document."""
        sharings = self._sharings(file, text)
        _options(revoke_accepted, concurrency)
        return self._plan(sharings, revoke_accepted=revoke_accepted, concurrency=concurrency)

    def apply(
        self,
        file: str | os.PathLike[str] | None = None,
        *,
        text: str | None = None,
        plan: Plan | str | os.PathLike[str] | Mapping[str, Any] | None = None,
        max_removals: int = 10,
        revoke_accepted: bool = False,
        concurrency: int = 8,
        raise_on_failure: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> ApplyOutcome:
        """Converges a sharings file (a path, or its `text`), as `backupshare apply --yes`; or
        executes a saved `plan` (a Plan, a plan document, or the path of one), refused with
        StalePlanError (exit 6) when a pair it changes differs from what it saw. More cancels
        than `max_removals`: a UsageError, nothing sent. Returns the report (`results`,
        `changed`, `to_dict()`), or raises the error it adds up to with `raise_on_failure`."""
        from ._api_args import as_callback, as_flag
        from ._api_base import settled
        from .verbs.batch import caught_interrupts

        _options(revoke_accepted, concurrency)
        if isinstance(max_removals, bool) or not isinstance(max_removals, int) or max_removals < 0:
            raise UsageError(f"invalid max_removals {max_removals!r}: a whole number, 0 or more")
        if plan is not None and (file is not None or text is not None):
            raise UsageError("give a sharings file or a saved plan, not both")
        raising = as_flag(raise_on_failure, "raise_on_failure")
        progress = as_callback(progress, "progress")
        with self._services() as services:
            if plan is None:
                sharings = self._sharings(file, text)
                made = self._plan(sharings, revoke_accepted=revoke_accepted,
                                  concurrency=concurrency, services=services)  # fmt: skip
            else:
                made = self._checked_plan(plan, services, concurrency=concurrency)
            # Ctrl-C from here: the rest skipped, a whole report (Interrupted carries it)
            with caught_interrupts() as stop:
                outcome = self._apply(made, services, max_removals=max_removals,
                                      concurrency=concurrency, progress=progress,
                                      stop=stop)  # fmt: skip
        return settled(outcome, raising)

    # -- the CLI's doors -------------------------------------------------------------------------
    def _sharings(self, file: Any, text: Any) -> SharingsFile:
        from .sharings import parse_sharings, read_sharings

        now = datetime.now(timezone.utc)
        if (file is None) == (text is None):
            raise UsageError("give a sharings file's path or its text (one of them)")
        if text is not None:
            if not isinstance(text, str):
                raise UsageError(f"invalid text {type(text).__name__}: expected a string")
            return parse_sharings(text, "<text>", now=now)
        if not isinstance(file, (str, os.PathLike)) or os.fspath(file) == "-":
            raise UsageError(f"invalid file {file!r}: expected a path")
        return read_sharings(os.fspath(file), None, now=now)

    def _services(self, resolve: Resolve | None = None, pool_size: int | None = None) -> Any:
        """A context manager yielding the ProfileServices of one run."""
        from contextlib import contextmanager

        from .registry import connect

        def connected(settings: Settings) -> SharingService:
            return connect(settings, log=self._log, pool_size=pool_size or self._pool_size,
                           sleep=self._sleep)  # fmt: skip

        @contextmanager
        def opened() -> Any:
            services = ProfileServices(
                self._connected(), resolve or self._profile_settings, connected
            )
            try:
                yield services
            finally:
                services.close()

        return opened()

    def _profile_settings(self, profile: str) -> Settings:
        """A profile named by a sharings file, resolved as `--profile NAME` is."""
        from .config import Flags
        from .resolution import load_settings

        path = self._settings.config_path
        return load_settings(Flags(profile=profile, config=str(path) if path else None), os.environ)

    def _plan(
        self,
        sharings: SharingsFile,
        *,
        revoke_accepted: bool,
        concurrency: int,
        services: ProfileServices | None = None,
        stop: Interrupt | None = None,
    ) -> Plan:
        from contextlib import nullcontext

        from .verbs.plan import make_plan

        # the caller's open services (the CLI, apply), else this call's own
        with nullcontext(services) if services is not None else self._services() as opened:
            return make_plan(sharings, opened, revoke_accepted=revoke_accepted,
                             concurrency=concurrency, stop=stop)  # fmt: skip

    def _checked_plan(self, plan: Any, services: ProfileServices, *, concurrency: int) -> Plan:
        """A saved plan, its changed pairs compared with the live state (exit 6 on a change)."""
        from .verbs.apply import check_unchanged, load_plan, plan_rows
        from .verbs.plan import Plan

        if isinstance(plan, Plan):
            rows = plan.rows
        elif isinstance(plan, Mapping):
            rows = plan_rows(plan, "<plan>")  # no JSON round trip: any value judged by type
        elif isinstance(plan, (str, os.PathLike)):
            rows = load_plan(read_plan_text(os.fspath(plan), None), os.fspath(plan))
        else:
            raise UsageError(f"invalid plan {type(plan).__name__}: a Plan, a document or a path")
        for row in rows:
            services.for_row(row)  # every profile checked before anything is read
        return check_unchanged(rows, services.for_row, concurrency=concurrency)

    def _apply(
        self,
        plan: Plan,
        services: ProfileServices,
        *,
        max_removals: int,
        concurrency: int,
        progress: Callable[[int], None] | None = None,
        stop: Interrupt | None = None,
    ) -> ApplyOutcome:
        from .verbs.apply import apply_plan, check_removals

        check_removals(plan, max_removals)
        return apply_plan(plan, services.for_row, concurrency=concurrency,
                          progress=progress or (lambda n: None), stop=stop)  # fmt: skip


def read_plan_text(name: str, stdin: Any) -> str:
    """A saved plan's text (`-`: standard input), bounded; a ConfigError when unreadable."""
    from .sharings import read_bounded
    from .verbs.apply import MAX_PLAN_BYTES

    shown = "<stdin>" if name == "-" else name
    return read_bounded(name, stdin, shown, limit=MAX_PLAN_BYTES, what="plan", flag="--plan")


def _options(revoke_accepted: Any, concurrency: Any) -> None:
    if not isinstance(revoke_accepted, bool):
        raise UsageError(f"invalid revoke_accepted {revoke_accepted!r}: expected True or False")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise UsageError(f"invalid concurrency {concurrency!r}: expected an integer")
    if not 1 <= concurrency <= 64:
        raise UsageError(f"invalid --concurrency {concurrency}: must be 1 to 64")
