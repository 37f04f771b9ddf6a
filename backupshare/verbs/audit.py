"""audit: every sharing of the project (and, asked, every offer made to it) against an
allowlist of projects. Read-only: it needs no write permission.

A finding is one record (`Finding.to_dict()`, the shape docs/output.md gives):
- `not-allowed`: a sharing to a project that is not allowed;
- `pending-too-long`: a CBR member still `pending` longer than `max_pending_age` after its
  `created_at`;
- `rejected`: a CBR member the receiving project rejected, still listed;
- `offer-from-unknown` (with `incoming`): a sharing made to this project by a project that is
  not allowed.
A sharing that is two findings is two records. `audit` yields each sharing read with its
findings (none for a clean one), so that `-o dot` can draw every sharing and mark the findings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..errors import DifferencesFound
from ..models import ListQuery, Share
from ..selectors import Selectors, parse_time
from .batch import Interrupt
from .fanout import DEFAULT_CONCURRENCY
from .project import ProjectQuery, project_shares

if TYPE_CHECKING:
    from ..service import SharingService

NOT_ALLOWED = "not-allowed"
PENDING_TOO_LONG = "pending-too-long"
REJECTED = "rejected"
OFFER_FROM_UNKNOWN = "offer-from-unknown"
DEFAULT_MAX_PENDING_AGE = timedelta(days=7)


@dataclass(frozen=True)
class Finding:
    """One thing wrong with one sharing."""

    finding: str
    backup_id: str
    to_project_id: str
    from_project_id: str | None
    status: str | None
    since: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding": self.finding,
            "backup_id": self.backup_id,
            "to_project_id": self.to_project_id,
            "from_project_id": self.from_project_id,
            "status": self.status,
            "since": self.since,
        }


@dataclass(frozen=True)
class AuditRequest:
    allowed: frozenset[str]
    incoming: bool = False
    max_pending_age: timedelta = DEFAULT_MAX_PENDING_AGE
    concurrency: int = DEFAULT_CONCURRENCY
    selectors: Selectors | None = None


@dataclass(frozen=True)
class Audited:
    """One sharing as read, whether made by this project (`incoming` False) or to it."""

    share: Share
    incoming: bool
    findings: tuple[Finding, ...]


def audit(
    service: SharingService, request: AuditRequest, *, now: datetime, stop: Interrupt | None = None
) -> Iterator[Audited]:
    """Every outgoing sharing, then (with `incoming`) every offer made to this project, each
    with its findings, streamed as read."""
    own = service.settings.project_id
    outgoing = ProjectQuery(ListQuery(), request.selectors or Selectors(), request.concurrency)
    for page in project_shares(service, outgoing, page_size=1000, stop=stop):
        for share in page:
            yield Audited(share, False, tuple(_outgoing_findings(share, own, request, now)))
    if request.incoming:
        for page in service.iter_pages(ListQuery(shared_with_me=True), page_size=1000):
            for share in page:
                yield Audited(share, True, tuple(_incoming_findings(share, own, request)))


def _outgoing_findings(
    share: Share, own: str, request: AuditRequest, now: datetime
) -> Iterator[Finding]:
    def finding(kind: str, since: str | None) -> Finding:
        return Finding(kind, share.backup_id, share.to_project_id, own, share.status, since)

    if share.to_project_id not in request.allowed:
        yield finding(NOT_ALLOWED, share.created_at)
    if share.status == "pending":
        made = parse_time(share.created_at)
        if made is not None and now - made > request.max_pending_age:
            yield finding(PENDING_TOO_LONG, share.created_at)
    if share.status == "rejected":
        yield finding(REJECTED, share.updated_at or share.created_at)


def _incoming_findings(share: Share, own: str, request: AuditRequest) -> Iterator[Finding]:
    if share.from_project_id not in request.allowed:
        yield Finding(
            OFFER_FROM_UNKNOWN,
            share.backup_id,
            own,
            share.from_project_id,
            share.status,
            share.created_at,
        )


def findings_error(findings: list[str]) -> DifferencesFound | None:
    """Exit 10 when there are findings, with how many of each kind."""
    if not findings:
        return None
    kinds = {kind: findings.count(kind) for kind in dict.fromkeys(findings)}
    summary = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    plural = "s" if len(findings) != 1 else ""
    return DifferencesFound(
        f"audit: {len(findings)} finding{plural} ({summary})",
        hint="the records on stdout name each sharing; `backupshare cancel --to-project P` "
        "ends a project's sharings everywhere",
    )
