"""Internal: Client's `cancel` — by sharing id, a backup's sharings, or a project's across the
project — and the CLI's doors to its plan."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ._api_args import as_callback, as_flag, as_integer, as_text, as_texts
from ._api_base import ClientCore, ignore, settled

if TYPE_CHECKING:
    from .verbs.batch import Interrupt
    from .verbs.cancel import CancelOutcome, CancelPlan, CancelRequest


class CancelMethods(ClientCore):
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
        from . import checks
        from .verbs.batch import caught_interrupts

        request = checks.cancel_request(
            as_texts(share_ids, "sharing id", allow_none=True),
            as_text(backup_id, "backup id") if backup_id is not None else None,
            as_texts(to_projects, "project id", allow_none=True),
        )
        checks.concurrency_arg(as_integer(concurrency, "--concurrency"))
        dry, raising = as_flag(dry_run, "dry_run"), as_flag(raise_on_failure, "raise_on_failure")
        progress = as_callback(progress, "progress")
        if request.by_id:
            checks.check_sharing_ids(self._kind())
        plan = self._plan_cancel(request, concurrency=concurrency)
        if dry:
            return self._planned_cancel(plan)
        with caught_interrupts() as stop:  # Ctrl-C from here: the rest skipped, a whole report
            outcome = self._cancel(plan, concurrency=concurrency, progress=progress, stop=stop)
        return settled(outcome, raising)

    def _plan_cancel(
        self,
        request: CancelRequest,
        *,
        concurrency: int = 8,
        on_found: Callable[[int], None] | None = None,
    ) -> CancelPlan:
        """Internal: what a checked CancelRequest will end (across the project: every sharing
        with its projects, verbs/project.py; `on_found` hears how many each backup had)."""
        from .selectors import Selectors
        from .verbs.cancel import plan_cancel
        from .verbs.project import plan_project_cancel

        if request.across_project:
            return plan_project_cancel(
                self._connected(), request.to_projects, request.selectors or Selectors(),
                concurrency=concurrency, on_found=on_found or ignore,
            )  # fmt: skip
        return plan_cancel(self._connected(), request)

    def _planned_cancel(self, plan: CancelPlan) -> CancelOutcome:
        """Internal: a dry run's report, the plan in the result words of a real run."""
        from .verbs.cancel import CancelOutcome, planned_cancel

        return CancelOutcome(planned_cancel(plan), self._connected().invocation_id)

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
            self._connected(), plan, concurrency=concurrency, progress=progress or ignore,
            stop=stop,
        )  # fmt: skip
