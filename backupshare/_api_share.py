"""Internal: Client's sharing verbs — `share` (with its waits) and `wait_available`."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ._api_args import as_backup_id, as_callback, as_flag, as_seconds, as_text, as_texts
from ._api_base import ClientCore, log_warning, settled
from .errors import UsageError
from .models import Backup

if TYPE_CHECKING:
    from .verbs.share import ShareOutcome, ShareRequest
    from .verbs.wait import WaitTick


class ShareMethods(ClientCore):
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
        from . import checks

        if isinstance(backup, Backup):
            backup = as_backup_id(backup)
        request = checks.share_request(
            as_text(backup, "backup") if backup is not None else None,
            as_texts(projects, "project id"),
            volume_id=as_text(volume_id, "volume id") if volume_id is not None else None,
            most_recent=volume_id is not None,
            wait=as_seconds(wait, "--wait") if wait is not None else None,
            dry_run=as_flag(dry_run, "dry_run"),
            wait_accepted=checks.wait_accepted_arg(
                as_seconds(wait_accepted, "--wait-accepted") if wait_accepted is not None else None,
                self._kind,
            ),
        )
        raising = as_flag(raise_on_failure, "raise_on_failure")
        outcome = self._run_share(request, on_wait=as_callback(progress, "progress"))
        return settled(outcome, raising)

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
            (warn or log_warning)(message)

        outcome = run_share(
            self._connected(), request, warn=warned, chose=chose,
            on_wait=on_wait or ignore_tick, timing=self._timing(),
        )  # fmt: skip
        outcome.warnings = warnings
        return outcome

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

        from . import checks
        from .verbs.share import wait_until_available
        from .verbs.wait import ignore_tick

        backup_id = as_backup_id(backup)
        progress = as_callback(progress, "progress")
        seconds = checks.wait_arg(as_seconds(timeout, "--wait"))
        assert seconds is not None
        timing = self._timing()
        if interval is not None:
            every = as_seconds(interval, "interval")
            if not (math.isfinite(every) and 0 < every <= checks.MAX_WAIT):
                raise UsageError(
                    f"invalid interval {every:g}: must be more than 0 and at most "
                    f"{checks.MAX_WAIT:g} seconds"
                )
            timing = replace(timing, jitter=lambda: 1.0, first=every, cap=every)
        return wait_until_available(
            self._connected(), backup_id, seconds, timing, on_wait=progress or ignore_tick
        )
