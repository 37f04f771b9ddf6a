"""share, backups, list-shares, show, cancel, accept and reject: flags → a typed request
(arguments.py) → a verb (verbs/) → output."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..output.records import SHARE_COLUMNS
from ..registry import service_class, sort_keys
from .catalog import single_command
from .invocation import Invocation
from .options import with_common_options

if TYPE_CHECKING:
    from ..api import Client
    from ..models import Backup, Share
    from ..verbs.cancel import CancelPlan


SORT_KEYS = sort_keys()  # every service's: the profile's service is not known yet


def complete_sort_key(incomplete: str) -> list[str]:
    return [key for key in SORT_KEYS if key.startswith(incomplete)]


def complete_sort_dir(incomplete: str) -> list[str]:
    return [d for d in ("asc", "desc") if d.startswith(incomplete)]


def command(name: str) -> Any:
    """The click command for `name`, built on demand (see cli.LazyGroup)."""
    commands: dict[str, tuple[Callable[..., Any], str]] = {
        "share": (share, SHARE_EXAMPLES),
        "list-shares": (list_shares, LIST_EXAMPLES),
        "show": (show, SHOW_EXAMPLES),
        "cancel": (cancel, CANCEL_EXAMPLES),
        "backups": (backups, BACKUPS_EXAMPLES),
        "accept": (accept, ACCEPT_EXAMPLES),
        "reject": (reject, REJECT_EXAMPLES),
    }
    function, examples = commands[name]
    return single_command(name, function, epilog=examples)


SHARE_EXAMPLES = (
    "Examples:  backupshare share 066b1e37-9305-4057-97e5-2e99b21fc71d "
    "722513ed0a324dadaabe5b2d0fe848c9  ·  "
    "backupshare share BACKUP_ID --projects-file targets.txt --dry-run  ·  "
    "backupshare share db-nightly PROJECT_ID  ·  "
    "backupshare share --volume-id VOLUME_ID --most-recent PROJECT_ID --wait 600"
)
BACKUPS_EXAMPLES = (
    "Examples:  backupshare backups --volume-id VOLUME_ID  ·  "
    "backupshare backups --status available -o ids"
)
LIST_EXAMPLES = (
    "Examples:  backupshare list-shares --backup-id BACKUP_ID  ·  "
    "backupshare list-shares --shared-with-me -o json  ·  backupshare list-shares --count"
)
SHOW_EXAMPLES = "Example:  backupshare show SHARE_ID -o yaml"
ACCEPT_EXAMPLES = (
    "Examples:  backupshare --service cbr accept BACKUP_ID  ·  "
    "backupshare -p receiver accept BACKUP_ID --vault VAULT_ID"
)
REJECT_EXAMPLES = "Example:  backupshare --service cbr reject BACKUP_ID"
CANCEL_EXAMPLES = (
    "Examples:  backupshare cancel SHARE_ID SHARE_ID  ·  "
    "backupshare cancel --backup-id BACKUP_ID --to-project PROJECT_ID  ·  "
    "backupshare cancel --backup-id BACKUP_ID --yes"
)


@with_common_options
def share(
    inv: Invocation,
    backup: Annotated[
        str | None,
        typer.Argument(
            metavar="BACKUP", help="The backup: its id, or its exact name.", show_default=False
        ),
    ] = None,
    project_ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="PROJECT_ID",
            help="Projects to share it with (32 hex each).",
            show_default=False,
        ),
    ] = None,
    projects_file: Annotated[
        str | None,
        typer.Option("--projects-file", metavar="FILE|-", help="One project id a line; - = stdin."),
    ] = None,
    volume_id: Annotated[
        str | None,
        typer.Option("--volume-id", metavar="ID", help="With --most-recent: the backed-up disk."),
    ] = None,
    most_recent: Annotated[
        bool,
        typer.Option("--most-recent", help="Share the newest available backup of --volume-id."),
    ] = False,
    wait: Annotated[
        float | None,
        typer.Option("--wait", metavar="SECONDS", help="Wait for the backup to be available."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and show the plan; change nothing.")
    ] = False,
) -> None:
    from . import arguments

    request = arguments.share_request(
        backup, project_ids or [], projects_file=projects_file, volume_id=volume_id,
        most_recent=most_recent, wait=wait, dry_run=dry_run, stdin=inv.stdin_bytes(),
    )  # fmt: skip
    with inv.client() as client:  # refuses the own project before connecting
        out = inv.out()
        outcome = client._run_share(
            request, warn=out.warning, chose=_chosen_notice(inv), on_wait=_waiting_notice(inv)
        )
    if dry_run:
        out.notice("dry run: nothing was changed")
        if outcome.request:
            out.notice(f"would send: {outcome.request}")
        else:
            out.notice("would send nothing: every target is already shared")
    out.results(outcome.results, outcome.changed, dry_run=dry_run)
    error = outcome.error()
    if error:
        raise error


def _chosen_notice(inv: Invocation) -> Callable[[Backup], None]:
    """Which backup a name or --most-recent picked, on stderr (silent with -q)."""
    from ..output.records import human_time

    def notice(backup: Backup) -> None:
        inv.out().notice(
            f"sharing backup {backup.id} ({backup.name or 'no name'}, "
            f"created {human_time(backup.created_at)})"
        )

    return notice


def _waiting_notice(inv: Invocation) -> Callable[[Backup], None]:
    """Progress while waiting, on a terminal only, once per status seen."""
    seen: set[str | None] = set()

    def notice(backup: Backup) -> None:
        if inv.out().interactive_stderr and backup.status not in seen:
            seen.add(backup.status)
            inv.out().notice(f"waiting for backup {backup.id}: {backup.status}")

    return notice


@with_common_options
def backups(
    inv: Invocation,
    volume_id: Annotated[
        str | None, typer.Option("--volume-id", metavar="ID", help="Backups of this disk.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", metavar="NAME", help="Backups of this exact name.")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", metavar="STATUS", help="Backups in this status.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", metavar="N", help="At most N.")] = None,
    page_size: Annotated[
        int, typer.Option("--page-size", metavar="N", help="Records per request.")
    ] = 100,
) -> None:
    from . import arguments

    volume = arguments.uuid_arg(volume_id, "volume id") if volume_id else None
    exact_name = arguments.backup_name_arg(name) if name is not None else None
    arguments.check_paging(limit, page_size)
    with inv.client() as client:  # checks --status against the profile's service
        found = client.backups(
            volume_id=volume, name=exact_name, status=status, limit=limit, page_size=page_size
        )
        inv.out().backups(found.pages())


@with_common_options
def list_shares(
    inv: Invocation,
    shared_with_me: Annotated[
        bool, typer.Option("--shared-with-me", help="Sharings made to this project.")
    ] = False,
    backup_id: Annotated[
        str | None, typer.Option("--backup-id", metavar="ID", help="Sharings of this backup.")
    ] = None,
    to_project: Annotated[
        str | None, typer.Option("--to-project", metavar="ID", help="Sharings to this project.")
    ] = None,
    from_project: Annotated[
        str | None,
        typer.Option("--from-project", metavar="ID", help="Sharings from this project."),
    ] = None,
    volume_id: Annotated[
        str | None,
        typer.Option("--volume-id", metavar="ID", help="Sharings of this volume's backups."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            metavar="TEXT",
            help="Backup name: the service matches it loosely, the result is re-checked exactly.",
        ),
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", metavar="STATUS", help="Backup status.")
    ] = None,
    availability_zone: Annotated[
        str | None,
        typer.Option("--availability-zone", metavar="AZ", help="Backups in this zone."),
    ] = None,
    sort_key: Annotated[
        str | None,
        typer.Option(
            "--sort-key", metavar="KEY", autocompletion=complete_sort_key, help=", ".join(SORT_KEYS)
        ),
    ] = None,
    sort_dir: Annotated[
        str | None,
        typer.Option(
            "--sort-dir", metavar="asc|desc", autocompletion=complete_sort_dir, help="asc or desc"
        ),
    ] = None,
    column: Annotated[
        list[str] | None,
        typer.Option(
            "--column",
            "-c",
            metavar="NAME",
            help="Show only this column (repeat, in order; table and csv): "
            + ", ".join(SHARE_COLUMNS)
            + ".",
        ),
    ] = None,
    count: Annotated[bool, typer.Option("--count", help="Print only the number.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", metavar="N", help="At most N.")] = None,
    page_size: Annotated[
        int, typer.Option("--page-size", metavar="N", help="Records per request.")
    ] = 100,
) -> None:
    from . import arguments

    filters = {
        "backup_id": backup_id,
        "to_project_id": to_project,
        "from_project_id": from_project,
        "volume_id": volume_id,
        "name": name,
        "status": status,
        "availability_zone": availability_zone,
    }
    query = arguments.list_query(
        lambda: service_class(inv.settings().service),  # read only when an option needs it
        filters, shared_with_me=shared_with_me, sort_key=sort_key, sort_dir=sort_dir,
        limit=limit, page_size=page_size,
    )  # fmt: skip
    columns = [arguments.column_arg(value) for value in column or []]
    out = inv.out()
    with inv.client() as client:
        if count:
            out.count(client._count_shares(query))
            return
        listing = client._list_shares(query, page_size=page_size, limit=limit)
        own_ids = service_class(inv.settings().service).addresses_sharings_by_id
        out.shares(
            listing.pages(),
            shared_with_me=shared_with_me,
            columns=columns,
            share_ids=own_ids or not shared_with_me,
        )


@with_common_options
def show(
    inv: Invocation,
    share_id: Annotated[
        str,
        typer.Argument(
            metavar="SHARE_ID", help="The sharing to show (a UUID).", show_default=False
        ),
    ],
) -> None:
    from . import arguments

    sid = arguments.uuid_arg(share_id, "sharing id")
    with inv.client() as client:
        inv.out().share_detail(client.show(sid))


@with_common_options
def cancel(
    inv: Invocation,
    share_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="SHARE_ID", help="Sharings to end (UUIDs).", show_default=False),
    ] = None,
    ids_file: Annotated[
        str | None,
        typer.Option("--ids-file", metavar="FILE|-", help="One sharing id a line; - = stdin."),
    ] = None,
    backup_id: Annotated[
        str | None, typer.Option("--backup-id", metavar="ID", help="End this backup's sharings.")
    ] = None,
    to_project: Annotated[
        list[str] | None,
        typer.Option("--to-project", metavar="ID", help="With --backup-id: only with these."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would end.")] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", metavar="N", help="Parallel requests.")
    ] = 8,
) -> None:
    from ..verbs.cancel import planned_cancel
    from . import arguments

    request = arguments.cancel_request(
        share_ids or [], ids_file, backup_id, to_project or [], inv.stdin_bytes()
    )
    arguments.concurrency_arg(concurrency)
    if request.by_id:
        arguments.check_sharing_ids(service_class(inv.settings().service))
    terminal = inv.can_prompt()
    arguments.check_confirmation(request, yes=yes, dry_run=dry_run, terminal=terminal)
    out = inv.out()
    with inv.client(pool_size=concurrency) as client:
        plan = client._plan_cancel(request)
        if dry_run:
            out.notice("dry run: nothing was changed")
            out.results(planned_cancel(plan), bool(plan.share_ids), dry_run=True)
            return
        if not plan.empty and not yes and terminal and not _confirm(inv, client, plan):
            out.notice("nothing was ended")  # not `canceled`: that word is a result
            raise typer.Exit(0)
        with inv.interrupt_latch() as stop:  # from here on Ctrl-C is a flag: the report is whole
            with out.progress("canceling sharings", total=len(plan.share_ids)) as advance:
                outcome = client._cancel(plan, concurrency=concurrency, progress=advance, stop=stop)
            out.results(outcome.results, outcome.changed)
    error = outcome.error()
    if error:
        raise error


def _confirm(inv: Invocation, client: Client, plan: CancelPlan) -> bool:
    shown = 20
    client._identify(plan, at_most=shown)
    count = len(plan.share_ids)
    inv.say(f"About to end {count} sharing{'s' if count != 1 else ''}:")
    for line in confirmation_lines(plan, plan.share_ids[:shown], client.project_id):
        inv.say(line)
    if count > shown:
        inv.say(f"  … and {count - shown} more")
    return inv.confirm("Proceed?")


def confirmation_lines(plan: CancelPlan, share_ids: list[str], own_project: str) -> list[str]:
    """What the question lists, within 80 columns: sharings under their backup (`SHARING  to
    PROJECT`, 77 wide), ids the service does not know last."""
    from ..verbs.cancel import made_to_us

    lines: list[str] = []
    by_backup: dict[str, list[Share]] = {}
    for share_id in share_ids:
        share = plan.known.get(share_id)
        if share is not None:
            by_backup.setdefault(share.backup_id, []).append(share)
    for backup_id, shares in by_backup.items():
        lines.append(f"  backup {backup_id}:")
        for share in shares:
            lines.append(f"    {share.id}  to {share.to_project_id}")
            if made_to_us(share, own_project):
                lines.append(f"      from {share.from_project_id}: only that project can end it")
    lines += [
        f"  {share_id}  (not found: nothing to end)"
        for share_id in share_ids
        if share_id not in plan.known
    ]
    return lines


@with_common_options
def accept(
    inv: Invocation,
    backup_id: Annotated[
        str,
        typer.Argument(
            metavar="BACKUP_ID", help="The backup offered to this project.", show_default=False
        ),
    ],
    vault: Annotated[
        str | None,
        typer.Option(
            "--vault", metavar="VAULT_ID", help="Vault to keep it in (default: the only one)."
        ),
    ] = None,
) -> None:
    from . import arguments

    backup = arguments.uuid_arg(backup_id, "backup id")
    vault_id = arguments.uuid_arg(vault, "vault id") if vault else None
    with inv.client() as client:
        member = client.accept(backup, vault_id)
    _member_out(inv, member)


@with_common_options
def reject(
    inv: Invocation,
    backup_id: Annotated[
        str,
        typer.Argument(
            metavar="BACKUP_ID", help="The backup offered to this project.", show_default=False
        ),
    ],
) -> None:
    from . import arguments

    backup = arguments.uuid_arg(backup_id, "backup id")
    with inv.client() as client:
        member = client.reject(backup)
    _member_out(inv, member)


def _member_out(inv: Invocation, member: Share) -> None:
    record = {
        "backup_id": member.backup_id,
        "to_project_id": member.to_project_id,
        "status": member.status,
        "vault_id": member.vault_id,
    }
    inv.out().documents([record], list(record))
