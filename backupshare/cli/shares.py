"""share, backups, list-shares, show, cancel, accept and reject: flags → a typed request
(arguments.py) → the library's Client (api.py, which runs the verb) → output."""

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
    from ..selectors import Selectors
    from ..verbs.cancel import CancelPlan


# The backup selectors (selectors.py), one set of flags for every command that takes many
# backups; their checks are arguments.selectors_arg's.
WHEN_HELP = "ISO 8601 date or date-time (UTC unless it says), or 30m, 12h, 7d, 2w back from now"
VolumeIds = Annotated[
    list[str] | None,
    typer.Option("--volume-id", metavar="ID", help="Backups of this volume (repeatable)."),
]
VaultId = Annotated[
    str | None, typer.Option("--vault-id", metavar="ID", help="Backups in this vault (CBR).")
]
BackupName = Annotated[
    str | None, typer.Option("--name", metavar="NAME", help="Backups of this exact name.")
]
BackupStatus = Annotated[
    str | None, typer.Option("--status", metavar="STATUS", help="Backups in this status.")
]
NamePrefix = Annotated[
    str | None,
    typer.Option("--name-prefix", metavar="TEXT", help="Backups whose name starts with TEXT."),
]
CreatedAfter = Annotated[
    str | None,
    typer.Option("--created-after", metavar="WHEN", help=f"Backups made at or after: {WHEN_HELP}."),
]
CreatedBefore = Annotated[
    str | None,
    typer.Option("--created-before", metavar="WHEN", help=f"Backups made before: {WHEN_HELP}."),
]
Concurrency = Annotated[
    int, typer.Option("--concurrency", metavar="N", help="Parallel requests (1 to 64).")
]


def complete_sort_key(incomplete: str) -> list[str]:
    return [key for key in sort_keys() if key.startswith(incomplete)]


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
    "backupshare share --volume-id VOLUME_ID --most-recent PROJECT_ID --wait 600  ·  "
    "backupshare --service cbr share BACKUP_ID PROJECT_ID --wait-accepted 3600"
)
BACKUPS_EXAMPLES = (
    "Examples:  backupshare backups --volume-id VOLUME_ID  ·  "
    "backupshare backups --status available -o ids"
)
LIST_EXAMPLES = (
    "Examples:  backupshare list-shares --backup-id BACKUP_ID  ·  "
    "backupshare list-shares --shared-with-me -o json  ·  backupshare list-shares --count  ·  "
    "backupshare list-shares --name-prefix db- --created-after 7d -o jsonl"
)
SHOW_EXAMPLES = "Example:  backupshare show SHARE_ID -o yaml"
ACCEPT_EXAMPLES = (
    "Examples:  backupshare --service cbr accept BACKUP_ID  ·  "
    "backupshare -p receiver accept BACKUP_ID --vault VAULT_ID  ·  "
    "backupshare -p receiver accept --all-pending --from-project PROJECT_ID --dry-run"
)
REJECT_EXAMPLES = (
    "Examples:  backupshare --service cbr reject BACKUP_ID  ·  "
    "backupshare -p receiver reject --all-pending --from-project PROJECT_ID"
)
CANCEL_EXAMPLES = (
    "Examples:  backupshare cancel SHARE_ID SHARE_ID  ·  "
    "backupshare cancel --backup-id BACKUP_ID --to-project PROJECT_ID  ·  "
    "backupshare cancel --backup-id BACKUP_ID --yes  ·  "
    "backupshare cancel --to-project PROJECT_ID --dry-run"
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
    wait_accepted: Annotated[
        float | None,
        typer.Option(
            "--wait-accepted",
            metavar="SECONDS",
            help="CBR: then wait for each project to accept or reject it.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and show the plan; change nothing.")
    ] = False,
) -> None:
    from . import arguments
    from .waiting import WaitTalk

    request = arguments.share_request(
        backup, project_ids or [], projects_file=projects_file, volume_id=volume_id,
        most_recent=most_recent, wait=wait, dry_run=dry_run, stdin=inv.stdin_bytes(),
        wait_accepted=arguments.wait_accepted_arg(
            wait_accepted, lambda: service_class(inv.settings().service)
        ),
    )  # fmt: skip
    out = inv.out()
    with inv.client() as client:
        outcome = client._run_share(
            request, warn=out.warning, chose=_chosen_notice(inv), on_wait=WaitTalk(out, inv.now)
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


@with_common_options
def backups(
    inv: Invocation,
    volume_ids: VolumeIds = None,
    vault_id: VaultId = None,
    name: BackupName = None,
    name_prefix: NamePrefix = None,
    status: BackupStatus = None,
    created_after: CreatedAfter = None,
    created_before: CreatedBefore = None,
    limit: Annotated[int | None, typer.Option("--limit", metavar="N", help="At most N.")] = None,
    page_size: Annotated[
        int, typer.Option("--page-size", metavar="N", help="Records per request.")
    ] = 100,
) -> None:
    from . import arguments

    selectors = arguments.selectors_arg(
        lambda: service_class(inv.settings().service),
        volume_ids=volume_ids, vault_id=vault_id, name=name, name_prefix=name_prefix,
        status=status, created_after=created_after, created_before=created_before,
    )  # fmt: skip
    arguments.check_paging(limit, page_size)
    with inv.client() as client:
        listed = client._list_backups(selectors, page_size=page_size, limit=limit)
        inv.out().backups(listed.pages())


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
    volume_ids: VolumeIds = None,
    vault_id: VaultId = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            metavar="TEXT",
            help="Backup name: the service matches it loosely, the result is re-checked exactly.",
        ),
    ] = None,
    name_prefix: NamePrefix = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            metavar="STATUS",
            help="The sharing's status (VBS: its backup's; CBR: the member's).",
        ),
    ] = None,
    created_after: CreatedAfter = None,
    created_before: CreatedBefore = None,
    availability_zone: Annotated[
        str | None,
        typer.Option("--availability-zone", metavar="AZ", help="Backups in this zone."),
    ] = None,
    sort_key: Annotated[
        str | None,
        typer.Option(
            "--sort-key",
            metavar="KEY",
            autocompletion=complete_sort_key,
            # every service's (the profile's is not known yet): read when list-shares is built
            help=", ".join(sort_keys()),
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
    concurrency: Concurrency = 8,
) -> None:
    from ..verbs.project import ProjectQuery
    from . import arguments

    kind = lambda: service_class(inv.settings().service)  # noqa: E731  (read when needed)
    across = backup_id is None and not shared_with_me
    selectors = arguments.selectors_given(
        kind, volume_ids, vault_id=vault_id, name_prefix=name_prefix,
        created_after=created_after, created_before=created_before,
    )  # fmt: skip
    arguments.concurrency_arg(concurrency)
    volumes = selectors.volume_ids if selectors is not None else ()
    one_volume = volumes[0] if len(volumes) == 1 else None
    filters = {
        "backup_id": backup_id,
        "to_project_id": to_project,
        "from_project_id": from_project,
        "volume_id": None if across else one_volume,
        "name": name,
        "status": status,
        "availability_zone": availability_zone,
    }
    query = arguments.list_query(
        kind, filters, shared_with_me=shared_with_me, sort_key=sort_key, sort_dir=sort_dir,
        limit=limit, page_size=page_size, across_project=across,
    )  # fmt: skip
    arguments.check_listing_selectors(
        selectors, across=across, graph=inv.wants_graph(), count=count
    )
    columns = [arguments.column_arg(value) for value in column or []]
    out = inv.out()
    asked = ProjectQuery(query, selectors, concurrency)
    with inv.client(pool_size=concurrency) as client:
        if count:
            out.count(
                client._count_project_shares(asked) if across else client._count_shares(query)
            )
            return
        if across:
            pages = client._project_shares(asked, page_size=page_size, limit=limit).pages()
            if inv.wants_graph():
                out.graph(client.project_id, pages)
                return
        else:
            pages = client._list_shares(query, page_size=page_size, limit=limit).pages()
        own_ids = service_class(inv.settings().service).addresses_sharings_by_id
        out.shares(
            pages,
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
        typer.Option(
            "--to-project",
            metavar="ID",
            help="Only sharings with this project (repeatable); without --backup-id: across "
            "the project.",
        ),
    ] = None,
    volume_ids: VolumeIds = None,
    vault_id: VaultId = None,
    name: BackupName = None,
    name_prefix: NamePrefix = None,
    status: BackupStatus = None,
    created_after: CreatedAfter = None,
    created_before: CreatedBefore = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would end.")] = False,
    concurrency: Concurrency = 8,
) -> None:
    from . import arguments

    selectors = arguments.selectors_arg(
        lambda: service_class(inv.settings().service),
        volume_ids=volume_ids, vault_id=vault_id, name=name, name_prefix=name_prefix,
        status=status, created_after=created_after, created_before=created_before,
    )  # fmt: skip
    request = arguments.cancel_request(
        share_ids or [], ids_file, backup_id, to_project or [], inv.stdin_bytes(), selectors
    )
    arguments.concurrency_arg(concurrency)
    if request.by_id:
        arguments.check_sharing_ids(service_class(inv.settings().service))
    terminal = inv.can_prompt()
    arguments.check_confirmation(request, yes=yes, dry_run=dry_run, terminal=terminal)
    out = inv.out()
    with inv.client(pool_size=concurrency) as client:
        if request.across_project:
            with out.progress("finding sharings") as found:
                plan = client._plan_cancel(request, concurrency=concurrency, on_found=found)
            if plan.empty:  # said plainly, in every format; the run succeeds
                out.notice("nothing to do: no sharing with those projects matches the selectors")
                if out.format != "table":
                    out.results([], False, dry_run=dry_run)
                return
        else:
            plan = client._plan_cancel(request, concurrency=concurrency)
        if dry_run:
            out.notice("dry run: nothing was changed")
            planned = client._planned_cancel(plan)
            out.results(planned.results, bool(plan.share_ids), dry_run=True)
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


BACKUP_OFFERED = typer.Argument(
    metavar="BACKUP_ID", help="The backup offered to this project.", show_default=False
)
ALL_PENDING = typer.Option("--all-pending", help="Every pending offer to this project.")
FROM_PROJECT = typer.Option(
    "--from-project", metavar="ID", help="With --all-pending: offers from this project only."
)
OFFER_NAME = typer.Option(
    "--name", metavar="NAME", help="With --all-pending: backups of this exact name only."
)
SHOW_CHOICES = typer.Option("--dry-run", help="With --all-pending: show the choices only.")


@with_common_options
def accept(
    inv: Invocation,
    backup_id: Annotated[str | None, BACKUP_OFFERED] = None,
    vault: Annotated[
        str,
        typer.Option(
            "--vault",
            metavar="VAULT_ID|auto",
            help="Vault to keep it in (auto: the roomiest of its type that fits).",
        ),
    ] = "auto",
    all_pending: Annotated[bool, ALL_PENDING] = False,
    from_project: Annotated[list[str] | None, FROM_PROJECT] = None,
    name: Annotated[str | None, OFFER_NAME] = None,
    volume_ids: VolumeIds = None,
    vault_id: VaultId = None,
    name_prefix: NamePrefix = None,
    created_after: CreatedAfter = None,
    created_before: CreatedBefore = None,
    dry_run: Annotated[bool, SHOW_CHOICES] = False,
) -> None:
    selectors = _offer_selectors(
        inv, volume_ids=volume_ids, vault_id=vault_id, name_prefix=name_prefix,
        created_after=created_after, created_before=created_before,
    )  # fmt: skip
    _answer(inv, "accepted", backup_id, all_pending=all_pending, from_projects=from_project,
            name=name, vault=vault, dry_run=dry_run, yes=True, selectors=selectors)  # fmt: skip


@with_common_options
def reject(
    inv: Invocation,
    backup_id: Annotated[str | None, BACKUP_OFFERED] = None,
    all_pending: Annotated[bool, ALL_PENDING] = False,
    from_project: Annotated[list[str] | None, FROM_PROJECT] = None,
    name: Annotated[str | None, OFFER_NAME] = None,
    volume_ids: VolumeIds = None,
    vault_id: VaultId = None,
    name_prefix: NamePrefix = None,
    created_after: CreatedAfter = None,
    created_before: CreatedBefore = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[bool, SHOW_CHOICES] = False,
) -> None:
    selectors = _offer_selectors(
        inv, volume_ids=volume_ids, vault_id=vault_id, name_prefix=name_prefix,
        created_after=created_after, created_before=created_before,
    )  # fmt: skip
    _answer(inv, "rejected", backup_id, all_pending=all_pending, from_projects=from_project,
            name=name, vault="auto", dry_run=dry_run, yes=yes, selectors=selectors)  # fmt: skip


def _offer_selectors(inv: Invocation, **flags: Any) -> Selectors:
    """--all-pending's backup selectors (its --name is the offer's own option)."""
    from . import arguments

    return arguments.selectors_arg(lambda: service_class(inv.settings().service), **flags)


def _answer(
    inv: Invocation,
    status: str,
    backup_id: str | None,
    *,
    all_pending: bool,
    from_projects: list[str] | None,
    name: str | None,
    vault: str,
    dry_run: bool,
    yes: bool,
    selectors: Selectors,
) -> None:
    from . import arguments

    backup, request = arguments.answer_request(
        status, backup_id, all_pending=all_pending, from_projects=from_projects or [],
        name=name, vault=vault, dry_run=dry_run, selectors=selectors,
    )  # fmt: skip
    out = inv.out()
    with inv.client() as client:
        client._check_answers(request)
        if backup is None:
            terminal = inv.can_prompt()
            arguments.check_every_offer_confirmed(request, yes=yes, terminal=terminal)
        if backup is not None:
            outcome = client._answer_one(backup, status, request.vault)
            out.results(outcome.results, outcome.changed)
            return
        plan = client._plan_answers(request)
        if dry_run:
            out.notice("dry run: nothing was changed")
            outcome = client._planned_answers(plan, status)
            out.results(outcome.results, bool(plan), dry_run=True)
        else:
            asked = request.status == "rejected" and not request.from_projects and not yes
            if plan and asked and not _confirm_answers(inv, plan):
                out.notice("rejected nothing")
                raise typer.Exit(0)
            with inv.interrupt_latch() as stop:  # Ctrl-C is a flag from here: a whole report
                with out.progress("answering offers", total=len(plan)) as advance:
                    outcome = client._answer_all(plan, status, progress=advance, stop=stop)
                out.results(outcome.results, outcome.changed)
    error = outcome.error()
    if error:
        raise error


def _confirm_answers(inv: Invocation, plan: list[Any]) -> bool:
    shown = 20
    count = len(plan)
    inv.say(f"About to reject {count} offer{'s' if count != 1 else ''}:")
    for item in plan[:shown]:
        offered = item.offered
        inv.say(f"  backup {offered.backup_id} from project {offered.from_project_id or '?'}")
    if count > shown:
        inv.say(f"  … and {count - shown} more")
    return inv.confirm("Proceed?")
