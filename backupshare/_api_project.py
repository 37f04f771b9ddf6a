"""Internal: Client's verbs over the whole project — every sharing it made (on CBR, the members
of each of its backups, read concurrently) and `audit` against an allowlist."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ._api_args import as_flag, as_integer, as_selectors, as_text, as_texts, shown
from ._api_base import ClientCore, Listing
from .errors import UsageError

if TYPE_CHECKING:
    from .models import Share
    from .verbs.audit import Audited, AuditRequest
    from .verbs.project import ProjectQuery


class ProjectMethods(ClientCore):
    def audit(
        self,
        allowed: str | Iterable[str],
        *,
        incoming: bool = False,
        max_pending_age: str | timedelta = "7d",
        concurrency: int = 8,
        volume_ids: str | Iterable[str] = (),
        vault_id: str | None = None,
        name: str | None = None,
        name_prefix: str | None = None,
        status: str | None = None,
        created_after: str | datetime | None = None,
        created_before: str | datetime | None = None,
    ) -> Iterator[Audited]:
        """`backupshare audit`, read-only: every sharing the project made (of the backups the
        selectors take) and, with `incoming`, every offer made to it, each as an Audited
        (`share`, `incoming`, `findings`: not-allowed, pending-too-long, rejected,
        offer-from-unknown), streamed as read. `allowed`: project ids (a caller reads its own
        files). The arguments are checked now; nothing is sent until iteration."""
        from . import checks

        ids = as_texts(allowed, "project id")
        for project in ids:
            checks.project_id_arg(project)  # a file name is the CLI's: here, ids only
        given_age = isinstance(max_pending_age, timedelta)
        request = checks.audit_request(
            ids, None, incoming=as_flag(incoming, "incoming"),
            max_pending_age="7d" if given_age else as_text(max_pending_age, "max_pending_age"),
            concurrency=as_integer(concurrency, "--concurrency"),
            selectors=as_selectors(
                self._kind, volume_ids=volume_ids, vault_id=vault_id, name=name,
                name_prefix=name_prefix, status=status, created_after=created_after,
                created_before=created_before,
            ),
        )  # fmt: skip
        if isinstance(max_pending_age, timedelta):
            if max_pending_age <= timedelta(0):
                raise UsageError(
                    f"invalid max_pending_age {shown(max_pending_age)}: must be more than 0"
                )
            request = replace(request, max_pending_age=max_pending_age)
        return self._audit(request)

    def _audit(self, request: AuditRequest, *, now: datetime | None = None) -> Iterator[Audited]:
        """Internal (the CLI's door): a checked AuditRequest, read as iteration goes."""
        from .verbs.audit import audit

        moment = now or datetime.now(timezone.utc)
        yield from audit(self._connected(), request, now=moment)

    def _project_shares(
        self, asked: ProjectQuery, *, page_size: int = 100, limit: int | None = None
    ) -> Listing[Share]:
        """Internal (the CLI's door): every sharing the project made that a checked query
        keeps (CBR: the members of each selected backup, fanned out)."""
        from .verbs.project import project_shares

        return Listing(
            lambda: project_shares(self._connected(), asked, page_size=page_size, limit=limit)
        )

    def _count_project_shares(self, asked: ProjectQuery) -> int:
        from .verbs.project import count_project_shares

        return count_project_shares(self._connected(), asked)
