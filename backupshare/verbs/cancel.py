"""cancel: a CancelRequest → plan_cancel (what will end) → cancel (end it, each item reported)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

from ..errors import (
    AuthError,
    BackupshareError,
    NotFoundError,
)
from ..models import (
    RESULT_ABSENT,
    RESULT_CANCELED,
    RESULT_FAILED,
    Result,
    Share,
)
from .batch import Interrupt, Outcome, cancel_result, run_batch
from .find import current_shares, look_up_share, shares_to

if TYPE_CHECKING:
    from ..selectors import Selectors
    from ..service import SharingService


@dataclass
class CancelOutcome(Outcome):
    what: ClassVar[str] = "cancellation"


@dataclass(frozen=True)
class CancelRequest:
    """What `cancel` was asked to end: sharings by id, or a backup's (with some projects)."""

    share_ids: list[str]
    backup_id: str | None
    to_projects: list[str]
    by_id: bool  # SHARE_IDs or --ids-file (which may hold none: nothing to do)
    selectors: Selectors | None = None  # across the project: which backups

    @property
    def every_sharing(self) -> bool:
        return self.backup_id is not None and not self.to_projects

    @property
    def across_project(self) -> bool:
        """`--to-project P…` without a backup: every sharing with them (verbs/project.py)."""
        return not self.by_id and self.backup_id is None and bool(self.to_projects)


@dataclass
class CancelPlan:
    """What `cancel` will end: sharings by id, or every sharing of one backup at once."""

    share_ids: list[str] = field(default_factory=list)
    known: dict[str, Share] = field(default_factory=dict)  # what listing told us about them
    absent: list[Result] = field(default_factory=list)
    whole_backup: str | None = None
    projects: list[str] = field(default_factory=list)  # --to-project, in the order given

    def in_given_order(self, results: list[Result]) -> list[Result]:
        """Results in the order the person gave (the absent ones in their place, not first)."""
        if not self.projects:
            return results
        place = {project: index for index, project in enumerate(self.projects)}
        return sorted(results, key=lambda r: place.get(r.to_project_id or "", len(place)))

    @property
    def empty(self) -> bool:
        return not self.share_ids and self.whole_backup is None


def plan_cancel(service: SharingService, request: CancelRequest) -> CancelPlan:
    backup_id, to_projects = request.backup_id, request.to_projects
    if backup_id is None:  # by id (perhaps none at all: an empty --ids-file is nothing to do)
        return CancelPlan(share_ids=list(dict.fromkeys(request.share_ids)))
    if to_projects:
        shares = shares_to(service, backup_id, to_projects)
    else:
        shares = current_shares(service, backup_id)
    if not to_projects:
        plan = CancelPlan(known={s.id: s for s in shares.values()})
        plan.share_ids = list(plan.known)
        if shares and service.ends_all_in_one_call:
            plan.whole_backup = backup_id
        return plan
    plan = CancelPlan(projects=list(dict.fromkeys(to_projects)))
    for project in plan.projects:
        if project in shares:
            plan.share_ids.append(shares[project].id)
            plan.known[shares[project].id] = shares[project]
        else:
            plan.absent.append(Result(backup_id, project, None, RESULT_ABSENT))
    return plan


def identify(
    service: SharingService, plan: CancelPlan, *, at_most: int, concurrency: int = 8
) -> None:
    """Looks up the first `at_most` sharings the plan knows only by id, so a person asked to
    confirm sees each one's backup and project rather than bare ids."""
    from concurrent.futures import ThreadPoolExecutor

    unknown = [sid for sid in plan.share_ids[:at_most] if sid not in plan.known]
    if not unknown:
        return
    with ThreadPoolExecutor(max_workers=min(concurrency, len(unknown))) as pool:
        found = pool.map(lambda share_id: look_up_share(service, share_id), unknown)
        for share_id, share in zip(unknown, found, strict=True):
            if share is not None:
                plan.known[share_id] = share


def made_to_us(share: Share, own_project: str) -> bool:
    """A sharing another project made to this one (no project shares with itself): only its
    owner can end it."""
    return share.to_project_id == own_project and share.from_project_id != own_project


def not_ours_to_end(share: Share) -> AuthError:
    owner = share.from_project_id
    if owner is None:  # a CBR member: its owner is the backup's project
        return AuthError(
            f"backup {share.backup_id} was shared with this project by its owner; only the "
            "owner can end the sharing",
            hint=f"to decline it: backupshare reject {share.backup_id}",
        )
    return AuthError(
        f"sharing {share.id} was made to this project by project {owner}; "
        "only that project can end it",
        hint=f"ask project {owner} to run: backupshare cancel {share.id}",
    )


def cancel(
    service: SharingService,
    plan: CancelPlan,
    *,
    concurrency: int = 8,
    progress: Callable[[int], None] = lambda n: None,
    stop: Interrupt | None = None,
) -> CancelOutcome:
    """Ends the planned sharings, each reported on its own. When `stop` is raised (Ctrl-C),
    nothing new starts: what never started is `skipped`, what is in flight is waited for —
    unless it is raised twice, then in-flight items are `failed` with an unknown outcome."""
    stop = stop or Interrupt()
    if plan.whole_backup is not None:
        whole = plan.whole_backup
        [done] = run_batch(
            [whole],
            lambda backup_id: _cancel_backup(service, backup_id),
            concurrency=1,
            on_done=lambda: progress(len(plan.share_ids)),
            stop=stop,
        )
        results = [
            replace(cancel_result(sid, plan.known.get(sid), done.result), error=done.error)
            for sid in plan.share_ids
        ]
        return CancelOutcome(results, service.invocation_id, interrupted=stop.raised)
    results = run_batch(
        plan.share_ids,
        lambda sid: _cancel_one(service, sid, plan.known.get(sid)),
        concurrency=concurrency,
        on_done=lambda: progress(1),
        stop=stop,
        known=plan.known,
    )
    return CancelOutcome(
        plan.in_given_order(plan.absent + results), service.invocation_id, interrupted=stop.raised
    )


def _cancel_backup(service: SharingService, backup_id: str) -> Result:
    try:
        service.cancel_backup(backup_id)
    except BackupshareError as exc:
        return Result(backup_id, None, None, RESULT_FAILED, exc)
    return Result(backup_id, None, None, RESULT_CANCELED)


def planned_cancel(plan: CancelPlan) -> list[Result]:
    """What `cancel --dry-run` reports: the plan, in the result words of a real run."""
    known = [cancel_result(sid, plan.known.get(sid), RESULT_CANCELED) for sid in plan.share_ids]
    return plan.in_given_order(plan.absent + known)


def _canceled(share: Share | None, share_id: str) -> Result:
    return cancel_result(share_id, share, RESULT_CANCELED)


def _cancel_one(service: SharingService, share_id: str, share: Share | None) -> Result:
    if share is not None and made_to_us(share, service.settings.project_id):
        return cancel_result(share_id, share, RESULT_FAILED, not_ours_to_end(share))
    try:
        gone_after_unknown = service.remove(share) if share else service.cancel(share_id)
    except NotFoundError:
        found = share or look_up_share(service, share_id)
        if found is not None and made_to_us(found, service.settings.project_id):
            return cancel_result(share_id, found, RESULT_FAILED, not_ours_to_end(found))
        return cancel_result(share_id, share, RESULT_ABSENT)
    except BackupshareError as exc:
        return cancel_result(share_id, share, RESULT_FAILED, exc)
    result = _canceled(share, share_id)
    if gone_after_unknown:
        result = replace(result, note=UNANSWERED_NOTE)
    return result


UNANSWERED_NOTE = (
    "an attempt got no answer and the retry found the sharing gone: "
    "most likely that attempt ended it"
)
