"""The receiving side (CBR): accepting offered backups into vaults that fit, or rejecting them —
one offer, or every pending one (AnswerRequest → plan_answers → answer_all)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

from ..errors import BackupshareError, NotFoundError, RejectedError
from ..models import (
    MB_PER_GB,
    RESULT_ACCEPTED,
    RESULT_EXISTING,
    RESULT_FAILED,
    RESULT_REJECTED,
    RESULT_SKIPPED,
    VAULT_TYPE_OF_RESOURCE,
    Backup,
    ListQuery,
    Result,
    Share,
    Vault,
)
from ..selectors import Selectors
from .batch import Interrupt, Outcome, run_batch

if TYPE_CHECKING:
    from ..service import SharingService

VAULT_AUTO = "auto"  # --vault's default: per backup, the roomiest vault that fits
MEMBER_PENDING = "pending"  # an offer's member status until it is answered
SHOWN_VAULTS = 10  # vaults named one by one when none fits; the rest are counted
SHOWN_NAME = 64  # a vault's name (server text) is cut to this in messages


@dataclass(frozen=True)
class AnswerRequest:
    """What `accept --all-pending` / `reject --all-pending` was asked (checked by
    checks.answer_request): the answer, whose offers (none: anyone's), which backups
    (exact name, and the backup selectors), the vault (`auto` or an id) and whether only to
    show the choices."""

    status: str  # accepted or rejected
    from_projects: tuple[str, ...] = ()
    name: str | None = None
    vault: str = VAULT_AUTO
    dry_run: bool = False
    selectors: Selectors = field(default_factory=Selectors)


@dataclass(frozen=True)
class Offered:
    """A backup offered to this project, as much as choosing a vault needs."""

    backup_id: str
    from_project_id: str | None
    kind: str | None  # the vault type it needs (disk, server); None: a type no vault takes
    resource_type: str | None
    size_gb: int | None

    @classmethod
    def of_backup(cls, backup: Backup) -> Offered:
        return cls._from(str(backup.id), backup.project_id, backup.raw, backup.size)

    @classmethod
    def of_offer(cls, share: Share) -> Offered:
        size = share.backup.size if share.backup else None
        return cls._from(share.backup_id, share.from_project_id, share.raw, size)

    @classmethod
    def _from(cls, backup_id: str, owner: str | None, raw: dict[str, object], size: int | None
              ) -> Offered:  # fmt: skip
        resource_type = raw.get("resource_type")
        resource_type = resource_type if isinstance(resource_type, str) else None
        # A record that names no resource type is a disk backup, the only kind VBS knew.
        kind = VAULT_TYPE_OF_RESOURCE.get(resource_type) if resource_type else "disk"
        return cls(backup_id, owner, kind, resource_type, size)

    @property
    def need_mb(self) -> float:
        return float(self.size_gb or 0) * MB_PER_GB

    def describe(self) -> str:
        size = f"{self.size_gb} GB" if self.size_gb is not None else "size unknown"
        return f"backup {self.backup_id} ({self.kind or self.resource_type}, {size})"


# -- which vault -----------------------------------------------------------------------------
class Room:
    """The vaults of this project and the room left in each as a plan fills them: a backup
    planned into a vault uses its size there, so the next choice sees what is left."""

    def __init__(self, vaults: list[Vault]) -> None:
        self.vaults = vaults
        self.free = {vault.id: vault.free_mb for vault in vaults}
        self.taken = {vault.id: 0.0 for vault in vaults}  # MB this run has planned into each

    def take(self, vault: Vault, offered: Offered) -> None:
        free = self.free[vault.id]
        if free is not None:
            self.free[vault.id] = free - offered.need_mb
            self.taken[vault.id] += offered.need_mb

    def why_not(self, vault: Vault, offered: Offered) -> str | None:
        """None when the vault can take the backup; else why not, in a few words."""
        if offered.kind is None or vault.object_type != offered.kind:
            return f"it takes {_cut(vault.object_type or 'an unknown type of')} backups"
        free = self.free[vault.id]
        if free is None:
            return "its capacity is not known"
        if free < offered.need_mb:
            return f"{self._room(vault, free)}, needs {offered.need_mb:.0f} MB"
        return None

    def _room(self, vault: Vault, free: float) -> str:
        """The vault's room in numbers that add up: free = size - used - what this run took."""
        used, taken = vault.used_mb or 0, self.taken[vault.id]
        if not taken:
            return f"{free:.0f} MB free ({vault.size_gb:g} GB, {used:.0f} MB used)"
        return (
            f"{free:.0f} MB free of {vault.size_gb:g} GB ({used:.0f} MB used, "
            f"{taken:.0f} MB taken by this run)"
        )

    def choose(self, offered: Offered) -> Vault:
        """The roomiest vault that fits (ties: the smaller id); none: exit 6 naming, per
        vault, why not."""
        fits = [vault for vault in self.vaults if self.why_not(vault, offered) is None]
        if fits:
            return min(fits, key=lambda vault: (-(self.free[vault.id] or 0), vault.id))
        if not self.vaults:
            raise NotFoundError(
                "this project has no vault to keep the backup in",
                hint="create a backup vault in this project, then accept again",
            )
        reasons = [f"{label(v)}: {self.why_not(v, offered)}" for v in self.vaults[:SHOWN_VAULTS]]
        if len(self.vaults) > SHOWN_VAULTS:
            reasons.append(f"and {len(self.vaults) - SHOWN_VAULTS} more vaults")
        raise RejectedError(
            f"no vault of this project can take {offered.describe()}: {'; '.join(reasons)}",
            hint="make room in a vault of its type, or create one (then accept again)",
        )

    def check(self, vault_id: str, offered: Offered) -> Vault:
        """--vault V, checked before the PUT as the service would check it."""
        vault = next((v for v in self.vaults if v.id == vault_id), None)
        if vault is None:
            known = ", ".join(label(v) for v in self.vaults[:SHOWN_VAULTS]) or "none"
            if len(self.vaults) > SHOWN_VAULTS:  # counted, as choose() counts them
                known += f" and {len(self.vaults) - SHOWN_VAULTS} more"
            raise NotFoundError(
                f"vault {vault_id} is not one of this project's vaults ({known})",
                hint="the vault does not exist in this project (see the vault ids)",
            )
        reason = self.why_not(vault, offered)
        if reason is not None:
            raise RejectedError(
                f"vault {label(vault)} cannot take {offered.describe()}: {reason}",
                hint="choose another vault with --vault, or let --vault auto choose",
            )
        return vault


def label(vault: Vault) -> str:
    name = _cut(vault.name)
    return f"{vault.id} ({name})" if name else vault.id


def _cut(text: str) -> str:
    """Server text in a message, bounded (the message names many vaults)."""
    return text[:SHOWN_NAME] + ("…" if len(text) > SHOWN_NAME else "")


def vault_for(room: Room, vault: str, offered: Offered) -> Vault:
    """The vault to accept into; a backup whose size the service did not give (missing,
    negative, not a number) is refused first: it would fit anywhere (need 0), and the
    service's own check may not save the vault from filling up."""
    if offered.size_gb is None:
        raise RejectedError(
            f"cannot tell which vault has room for {offered.describe()}: the service gave "
            "no valid size for it",
            hint="nothing was sent: the offer stays pending; accept it once the service "
            "reports the backup's size",
        )
    return room.choose(offered) if vault == VAULT_AUTO else room.check(vault, offered)


# -- one offer ---------------------------------------------------------------------------------
def answer_offer(
    service: SharingService, backup_id: str, status: str, vault: str = VAULT_AUTO
) -> ReceiveOutcome:
    """Accepts (into `vault`: an id, checked first, or `auto`) or rejects one backup shared
    with this project; its report has one result and the member (`member`). An offer already
    answered that way is `existing`: nothing is sent (nor a vault chosen) for it."""
    backup = service.backup(backup_id)
    if backup.project_id == service.settings.project_id:  # a 404 to come would mislead
        raise NotFoundError(
            f"backup {backup_id} is not offered to this project: it is its own",
            hint=_receiver_hint(service, backup_id, status),
        )
    offered = Offered.of_backup(backup)
    member = service.offer(backup_id)
    if member.status == status:
        return _one_answered(service, Planned(offered, member.vault_id), RESULT_EXISTING, member)
    vault_id = None
    if status == RESULT_ACCEPTED:
        vault_id = vault_for(Room(service.vaults()), vault, offered).id
    member = service.answer(backup_id, status, vault_id)
    return _one_answered(service, Planned(offered, vault_id), status, member)


def _one_answered(service: SharingService, item: Planned, result: str, member: Share
                  ) -> ReceiveOutcome:  # fmt: skip
    done = _result(service, item, result, member=member)
    return ReceiveOutcome([done], service.invocation_id, member)


def _receiver_hint(service: SharingService, backup_id: str, status: str) -> str:
    verb = "accept" if status == RESULT_ACCEPTED else "reject"
    return (
        f"{verb} is for the receiving project: backup {backup_id} belongs to this project "
        f"({service.settings.project_id}); run `backupshare -p PROFILE {verb} {backup_id}` "
        "with the profile of a project it was shared with"
    )


# -- every pending offer -----------------------------------------------------------------------
@dataclass
class ReceiveOutcome(Outcome):
    what: ClassVar[str] = "offer"
    member: Share | None = None  # one offer answered: the member, as the service has it now

    @property
    def changed(self) -> bool:
        return any(r.result in (RESULT_ACCEPTED, RESULT_REJECTED) for r in self.results)


@dataclass(frozen=True)
class Planned:
    """One pending offer and what is to be done with it: into which vault (accepting), or
    why it cannot be (a vault error: it fails without a request)."""

    offered: Offered
    vault_id: str | None = None
    refusal: BackupshareError | None = None


def pending_offers(service: SharingService, request: AnswerRequest) -> list[Offered]:
    """Every pending offer to this project, narrowed by owner project, exact name and the
    backup selectors (each offer's backup as listed re-checked here: the offers listing has no
    such filters)."""
    query = ListQuery(filters=(("status", "pending"),), shared_with_me=True)
    offers = [share for page in service.iter_pages(query) for share in page]
    return [
        Offered.of_offer(share)
        for share in offers
        if (not request.from_projects or share.from_project_id in request.from_projects)
        and (request.name is None or (share.backup and share.backup.name == request.name))
        and _selected(request.selectors, share)
    ]


def _selected(selectors: Selectors, offer: Share) -> bool:
    """Whether the offer's backup is one the selectors take (no backup listed: only when
    there are no selectors)."""
    if selectors.empty:
        return True
    # the offer's record is its backup's (`vault_id` among its fields: the owner's vault)
    return offer.backup is not None and selectors.matches(replace(offer.backup, raw=offer.raw))


def plan_answers(service: SharingService, request: AnswerRequest) -> list[Planned]:
    """What each pending offer will get: a rejection, or a vault chosen in the listing's order,
    each choice seeing the room the earlier ones took (vaults are read only when accepting)."""
    offers = pending_offers(service, request)
    if request.status != RESULT_ACCEPTED or not offers:
        return [Planned(offered) for offered in offers]
    room = Room(service.vaults())
    planned = []
    for offered in offers:
        try:
            vault = vault_for(room, request.vault, offered)
        except (RejectedError, NotFoundError) as refusal:
            planned.append(Planned(offered, refusal=refusal))
            continue
        room.take(vault, offered)
        planned.append(Planned(offered, vault.id))
    return planned


def planned_results(service: SharingService, plan: list[Planned], status: str) -> list[Result]:
    """A dry run's report: the same result words the real run would give."""
    return [
        _result(
            service, item, RESULT_FAILED if item.refusal else status, error=item.refusal,
            sent=False,
        )
        for item in plan
    ]  # fmt: skip


def answer_all(
    service: SharingService,
    plan: list[Planned],
    status: str,
    *,
    concurrency: int = 4,
    progress: Callable[[], None] = lambda: None,
    stop: Interrupt | None = None,
) -> ReceiveOutcome:
    """Answers every planned offer, going on past failures; Ctrl-C (`stop`) leaves the rest
    `skipped`, so the report is whole."""
    by_backup = {item.offered.backup_id: item for item in plan}

    def work(backup_id: str) -> Result:
        item = by_backup[backup_id]
        if item.refusal is not None:
            return _result(service, item, RESULT_FAILED, error=item.refusal, sent=False)
        try:
            member = service.answer(backup_id, status, item.vault_id)
        except BackupshareError as exc:
            return _result(service, item, RESULT_FAILED, error=exc)
        return _result(service, item, status, member=member)

    stop = stop or Interrupt()
    results = run_batch(list(by_backup), work, concurrency=concurrency, on_done=progress, stop=stop)
    # an item the batch never ran (skipped, or abandoned) still says whose offer it was
    results = [r if r.receiving else _result(service, by_backup[str(r.share_id)], r.result,
               error=r.error, sent=r.result != RESULT_SKIPPED) for r in results]  # fmt: skip
    return ReceiveOutcome(results, service.invocation_id, interrupted=stop.raised)


def _result(
    service: SharingService,
    item: Planned,
    result: str,
    *,
    error: BackupshareError | None = None,
    member: Share | None = None,
    sent: bool = True,
) -> Result:
    """One offer's result; `status` the member's: as the answer left it, `pending` when nothing
    was sent for it (a dry run, a refusal, skipped), None when a request failed (not known)."""
    status = member.status if member else (None if sent else MEMBER_PENDING)
    return replace(
        Result(
            item.offered.backup_id,
            service.settings.project_id,
            member.id if member else None,
            result,
            error,
            status=status,
        ),
        from_project_id=item.offered.from_project_id,
        vault_id=(member.vault_id if member else item.vault_id),
        receiving=True,
    )
