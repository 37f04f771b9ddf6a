"""audit: flags → an AuditRequest (arguments.py) → Client (verbs/audit.py) → findings or a graph."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..registry import service_class
from .catalog import single_command
from .invocation import Invocation
from .options import with_common_options
from .shares import (
    BackupName,
    BackupStatus,
    Concurrency,
    CreatedAfter,
    CreatedBefore,
    NamePrefix,
    VaultId,
    VolumeIds,
)

if TYPE_CHECKING:
    from ..verbs.audit import Audited, Finding

AUDIT_EXAMPLES = (
    "Examples:  backupshare audit --allowed allowed-projects.txt  ·  "
    "backupshare audit --allowed 722513ed0a324dadaabe5b2d0fe848c9 --incoming -o jsonl  ·  "
    "backupshare audit --allowed allowed.txt -o dot | dot -Tsvg > sharing.svg"
)


def command(name: str) -> Any:
    """The click command for `name`, built on demand (see cli.LazyGroup)."""
    return single_command(name, audit, epilog=AUDIT_EXAMPLES)


@with_common_options
def audit(
    inv: Invocation,
    allowed: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed",
            metavar="FILE|-|PROJECT_ID",
            help="Allowed projects: an id (32 hex), or a file of them, one a line (- = stdin); "
            "repeatable.",
        ),
    ] = None,
    incoming: Annotated[
        bool, typer.Option("--incoming", help="Also the offers made to this project.")
    ] = False,
    max_pending_age: Annotated[
        str,
        typer.Option(
            "--max-pending-age", metavar="DURATION", help="A CBR offer pending longer: a finding."
        ),
    ] = "7d",
    volume_ids: VolumeIds = None,
    vault_id: VaultId = None,
    name: BackupName = None,
    name_prefix: NamePrefix = None,
    status: BackupStatus = None,
    created_after: CreatedAfter = None,
    created_before: CreatedBefore = None,
    concurrency: Concurrency = 8,
) -> None:
    from ..verbs.audit import findings_error
    from . import arguments

    selectors = arguments.selectors_arg(
        lambda: service_class(inv.settings().service), volume_ids=volume_ids,
        vault_id=vault_id, name=name, name_prefix=name_prefix, status=status,
        created_after=created_after, created_before=created_before,
    )  # fmt: skip
    request = arguments.audit_request(
        allowed or [], inv.stdin_bytes(), incoming=incoming, max_pending_age=max_pending_age,
        concurrency=concurrency, selectors=selectors,
    )  # fmt: skip
    out = inv.out()
    with inv.client(pool_size=concurrency) as client:
        audited = client._audit(request)
        if inv.wants_graph():
            kinds = out.audit_graph(client.project_id, audited)
        else:
            kinds = []
            out.findings(_finding_pages(audited, kinds))
    error = findings_error(kinds)
    if error:
        raise error


def _finding_pages(audited: Iterator[Audited], kinds: list[str]) -> Iterator[list[Finding]]:
    """The findings as pages for the listing formats, their kinds noted for the exit code."""
    for item in audited:
        if item.findings:
            kinds.extend(finding.finding for finding in item.findings)
            yield list(item.findings)
