"""Internal: Client's receiving side (CBR) — answering one offer, or every pending one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from ._api_args import (
    as_backup_id,
    as_callback,
    as_flag,
    as_optional_text,
    as_selectors,
    as_text,
    as_texts,
)
from ._api_base import ClientCore, settled

if TYPE_CHECKING:
    from .models import Backup, Share
    from .verbs.batch import Interrupt
    from .verbs.receive import AnswerRequest, Planned, ReceiveOutcome


class ReceiveMethods(ClientCore):
    def accept(self, backup: str | Backup | Share, vault: str | None = None) -> Share:
        """Accepts a backup offered to this project into the vault (a vault id, or None or
        "auto": the roomiest vault of the backup's type that fits). Returns the member; one
        already accepted is returned as it is, nothing sent."""
        from . import checks
        from .verbs.receive import VAULT_AUTO

        chosen = VAULT_AUTO if vault is None else checks.vault_arg(as_text(vault, "vault id"))
        return self._member(self._answer_one(as_backup_id(backup), "accepted", chosen))

    def reject(self, backup: str | Backup | Share) -> Share:
        """Rejects a backup offered to this project. Returns the member; one already rejected
        is returned as it is, nothing sent."""
        from .verbs.receive import VAULT_AUTO

        return self._member(self._answer_one(as_backup_id(backup), "rejected", VAULT_AUTO))

    def accept_all_pending(
        self,
        *,
        from_projects: str | Iterable[str] = (),
        vault: str | None = None,
        dry_run: bool = False,
        raise_on_failure: bool = False,
        progress: Callable[[], None] | None = None,
        volume_ids: str | Iterable[str] = (),
        vault_id: str | None = None,
        name: str | None = None,
        name_prefix: str | None = None,
        created_after: str | datetime | None = None,
        created_before: str | datetime | None = None,
    ) -> ReceiveOutcome:
        """Accepts every pending offer to this project, as `accept --all-pending`: only those
        from `from_projects` (none: anyone's) whose backup the selectors take (`vault_id` is
        the vault the backup is in at its owner's; `vault` the one of this project to accept
        into, or None/"auto": per backup the roomiest that fits). Returns the report (per
        offer `accepted`, `failed`), or raises with it (`raise_on_failure`); `dry_run`: the
        report of the choices, nothing sent. `progress` is called once per offer answered."""
        from . import checks
        from .verbs.receive import VAULT_AUTO

        chosen = VAULT_AUTO if vault is None else checks.vault_arg(as_text(vault, "vault id"))
        request = self._answer_request(
            "accepted", from_projects, name, chosen, dry_run,
            volume_ids=volume_ids, vault_id=vault_id, name_prefix=name_prefix,
            created_after=created_after, created_before=created_before,
        )  # fmt: skip
        return self._answer_pending(request, raise_on_failure, progress)

    def reject_all_pending(
        self,
        *,
        from_projects: str | Iterable[str] = (),
        dry_run: bool = False,
        raise_on_failure: bool = False,
        progress: Callable[[], None] | None = None,
        volume_ids: str | Iterable[str] = (),
        vault_id: str | None = None,
        name: str | None = None,
        name_prefix: str | None = None,
        created_after: str | datetime | None = None,
        created_before: str | datetime | None = None,
    ) -> ReceiveOutcome:
        """Rejects every pending offer to this project (from `from_projects`; none: from
        anyone, as `reject --all-pending --yes`) whose backup the selectors take, as
        `accept_all_pending` accepts them."""
        from .verbs.receive import VAULT_AUTO

        request = self._answer_request(
            "rejected", from_projects, name, VAULT_AUTO, dry_run,
            volume_ids=volume_ids, vault_id=vault_id, name_prefix=name_prefix,
            created_after=created_after, created_before=created_before,
        )  # fmt: skip
        return self._answer_pending(request, raise_on_failure, progress)

    def _answer_request(
        self,
        status: str,
        from_projects: object,
        name: object,
        vault: str,
        dry_run: object,
        **selectors: object,
    ) -> AnswerRequest:
        """The checked request of an --all-pending answer: the CLI's checks, nothing sent."""
        from . import checks

        _, request = checks.answer_request(
            status, None, all_pending=True,
            from_projects=as_texts(from_projects, "project id", allow_none=True),
            name=as_optional_text(name, "backup name"), vault=vault,
            dry_run=as_flag(dry_run, "dry_run"),
            selectors=as_selectors(self._kind, **selectors),
        )  # fmt: skip
        self._check_answers(request)
        return request

    def _check_answers(self, request: AnswerRequest) -> None:
        """Internal (the CLI's door too): answers are CBR's, and never to this project's own
        offers — refused before anything is sent."""
        from . import checks

        checks.check_answers_offers(self._kind())
        checks.refuse_own_offers(request, self.project_id)

    def _answer_pending(
        self,
        request: AnswerRequest,
        raise_on_failure: object,
        progress: Callable[[], None] | None,
    ) -> ReceiveOutcome:
        from .verbs.batch import caught_interrupts

        raising = as_flag(raise_on_failure, "raise_on_failure")
        progress = as_callback(progress, "progress")
        plan = self._plan_answers(request)
        if request.dry_run:
            return settled(self._planned_answers(plan, request.status), raising)
        with caught_interrupts() as stop:  # Ctrl-C from here: the rest skipped, a whole report
            outcome = self._answer_all(plan, request.status, progress=progress, stop=stop)
        return settled(outcome, raising)

    # -- the CLI's doors -----------------------------------------------------------------------
    def _answer_one(self, backup_id: str, status: str, vault: str) -> ReceiveOutcome:
        """Internal: one checked offer answered, as a report (`existing`: nothing sent)."""
        from . import checks
        from .verbs.receive import answer_offer

        checks.check_answers_offers(self._kind())
        return answer_offer(self._connected(), backup_id, status, vault)

    def _plan_answers(self, request: AnswerRequest) -> list[Planned]:
        """Internal: every pending offer the request takes, and what each is to get."""
        from .verbs.receive import plan_answers

        return plan_answers(self._connected(), request)

    def _planned_answers(self, plan: list[Planned], status: str) -> ReceiveOutcome:
        """Internal: a dry run's report, the result words the real run would give."""
        from .verbs.receive import ReceiveOutcome, planned_results

        service = self._connected()
        return ReceiveOutcome(planned_results(service, plan, status), service.invocation_id)

    def _answer_all(
        self,
        plan: list[Planned],
        status: str,
        *,
        progress: Callable[[], None] | None = None,
        stop: Interrupt | None = None,
    ) -> ReceiveOutcome:
        """Internal: the plan carried out, going on past failures; `stop` its Ctrl-C latch."""
        from .verbs.receive import answer_all

        return answer_all(
            self._connected(), plan, status, progress=progress or (lambda: None), stop=stop
        )

    @staticmethod
    def _member(outcome: ReceiveOutcome) -> Share:
        assert outcome.member is not None  # one offer's report always carries its member
        return outcome.member
