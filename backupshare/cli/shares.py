"""share, list-shares, show and cancel: flags → a typed request → commands.py → output."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import UsageError, invalid_choice
from ..output import SHARE_COLUMNS
from ..service import service_class
from ..vbs import SORT_KEYS
from .common import Invocation, is_terminal, single_command, with_common_options

if TYPE_CHECKING:
    from ..commands import CancelPlan
    from ..models import Backup, ListQuery, Share
    from ..service import SharingService


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
    """Share a backup with one or more projects (safe to re-run: it converges)."""
    import random
    import time

    from .. import commands

    choice = commands.backup_choice(backup, project_ids or [], volume_id, most_recent)
    seconds = commands.wait_arg(wait)
    from_file = commands.read_ids_file(projects_file) if projects_file else []
    targets = commands.share_targets(choice.projects, from_file)
    commands.refuse_own_project(targets, inv.settings().project_id)
    out = inv.out()
    with inv.service() as api:
        commands.check_target_count(api, targets)  # before any lookup or wait: a usage error
        backup_id = commands.chosen_backup(
            api, choice, waiting=seconds is not None, chose=_chosen_notice(inv)
        )
        known = None
        if seconds is not None:
            known = commands.wait_until_available(
                api, backup_id, seconds, sleep=inv.sleep, clock=time.monotonic,
                jitter=random.random, on_wait=_waiting_notice(inv),
            )  # fmt: skip
        elif dry_run:
            known = commands.check_shareable(api, backup_id)  # the real run's refusals, now
        outcome = commands.share(
            api, backup_id, targets, dry_run=dry_run, warn=out.warning, known=known
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
    from ..output import human_time

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
    """List this project's backups, newest first: what there is to share."""
    from .. import commands
    from ..models import BackupQuery

    query = BackupQuery(
        volume_id=commands.uuid_arg(volume_id, "volume id") if volume_id else None,
        name=commands.backup_name_arg(name) if name is not None else None,
        status=status,
    )
    _check_paging(limit, page_size)
    with inv.service() as api:
        _check_choice("--status", status, api.backup_statuses)
        inv.out().backups(commands.list_backups(api, query, page_size=page_size, limit=limit))


def _check_paging(limit: int | None, page_size: int) -> None:
    if limit is not None and limit < 1:
        raise UsageError(f"invalid --limit {limit}: must be at least 1")
    if not 1 <= page_size <= 1000:
        raise UsageError(f"invalid --page-size {page_size}: must be 1 to 1000")


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
    """List sharings made by this project (or, with --shared-with-me, made to it)."""
    from .. import commands
    from ..models import ListQuery

    filters = []
    for option, value, check in (
        ("backup_id", backup_id, lambda v: commands.uuid_arg(v, "backup id")),
        ("to_project_id", to_project, commands.project_id_arg),
        ("from_project_id", from_project, commands.project_id_arg),
        ("volume_id", volume_id, lambda v: commands.uuid_arg(v, "volume id")),
        ("name", name, str),
        ("status", status, lambda v: _status_arg(_statuses(inv))(v)),
        ("availability_zone", availability_zone, str),
    ):
        if value is not None:
            filters.append((option, check(value)))
    _check_choice("--sort-key", sort_key, SORT_KEYS)
    _check_choice("--sort-dir", sort_dir, ("asc", "desc"))
    _check_paging(limit, page_size)
    columns = [_column_arg(value) for value in column or []]
    query = ListQuery(tuple(filters), shared_with_me, sort_key, sort_dir)
    _refuse_unhonoured_options(inv, query)
    out = inv.out()
    with inv.service() as api:
        if count:
            out.count(commands.count_shares(api, query))
            return
        pages = commands.list_shares(api, query, page_size=page_size, limit=limit)
        own_ids = service_class(inv.settings().service).addresses_sharings_by_id
        out.shares(
            pages,
            shared_with_me=shared_with_me,
            columns=columns,
            share_ids=own_ids or not shared_with_me,
        )


def _column_arg(value: str) -> str:
    """A -c name as the csv header spells it (case and dashes forgiven)."""
    name = value.strip().lower().replace("-", "_")
    if name not in SHARE_COLUMNS:
        raise invalid_choice("--column", value, SHARE_COLUMNS)
    return name


OPTION_OF = {"to_project_id": "--to-project", "from_project_id": "--from-project"}


def _refuse_unhonoured_options(inv: Invocation, query: ListQuery) -> None:
    """An option the service cannot honour is refused, never silently dropped."""
    kind = service_class(inv.settings().service)
    honoured = kind.list_filters
    given = [OPTION_OF.get(key, f"--{key.replace('_', '-')}") for key, _ in query.filters
             if honoured is not None and key not in honoured]  # fmt: skip
    if not kind.sorts_lists:
        given += [f"--{name.replace('_', '-')}" for name in ("sort_key", "sort_dir")
                  if getattr(query, name)]  # fmt: skip
    if given:
        raise UsageError(
            f"{', '.join(given)}: not available on {kind.name.upper()}",
            hint="CBR lists a backup's members by --to-project and --status only",
        )


def _statuses(inv: Invocation) -> tuple[str, ...]:
    """--status is the backup's status on VBS, the member's (the sharing's own) on CBR."""
    return service_class(inv.settings().service).sharing_statuses


def _status_arg(statuses: tuple[str, ...]) -> Callable[[str], str]:
    def check(value: str) -> str:
        _check_choice("--status", value, statuses)
        return value

    return check


def _check_choice(option: str, value: str | None, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise invalid_choice(option, value, choices)


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
    """Show one sharing with its backup's details."""
    from .. import commands

    sid = commands.uuid_arg(share_id, "sharing id")
    with inv.service() as api:
        inv.out().share_detail(commands.show_share(api, sid))


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
    """End sharings: by sharing id, or every (or some) sharing of one backup."""
    from .. import commands

    request = commands.cancel_request(share_ids or [], ids_file, backup_id, to_project or [])
    if not 1 <= concurrency <= 64:
        raise UsageError(f"invalid --concurrency {concurrency}: must be 1 to 64")
    if request.by_id:
        _needs_sharing_ids(inv)
    terminal = is_terminal()
    if request.every_sharing and not yes and not dry_run and not terminal:
        raise UsageError(
            f"refusing to end every sharing of backup {request.backup_id} without --yes",
            hint="add --yes to confirm (there is no terminal to ask on)",
        )
    inv.settings()
    out = inv.out()
    with inv.service(pool_size=concurrency) as api:
        plan = commands.plan_cancel(api, request)
        if dry_run:
            out.notice("dry run: nothing was changed")
            planned = commands.planned_cancel(plan)
            out.results(planned, bool(plan.share_ids), dry_run=True)
            return
        if not plan.empty and not yes and terminal and not _confirm(api, plan):
            out.notice("nothing was ended")  # not `canceled`: that word is a result
            raise typer.Exit(0)
        with inv.interrupt_latch() as stop:  # from here on Ctrl-C is a flag: the report is whole
            with out.progress("canceling sharings", total=len(plan.share_ids)) as advance:
                outcome = commands.cancel(
                    api, plan, concurrency=concurrency, progress=advance, stop=stop
                )
            out.results(outcome.results, outcome.changed)
    error = outcome.error()
    if error:
        raise error


def _needs_sharing_ids(inv: Invocation) -> None:
    if not service_class(inv.settings().service).addresses_sharings_by_id:
        raise UsageError(
            "CBR sharings have no ids of their own: they are ended by backup and project",
            hint="backupshare cancel --backup-id BACKUP_ID [--to-project PROJECT_ID …]",
        )


def _confirm(api: SharingService, plan: CancelPlan) -> bool:
    from .. import commands

    shown = 20
    commands.identify(api, plan, at_most=shown)
    count = len(plan.share_ids)
    print(f"About to end {count} sharing{'s' if count != 1 else ''}:", file=sys.stderr)
    for line in confirmation_lines(plan, plan.share_ids[:shown], api.settings.project_id):
        print(line, file=sys.stderr)
    if count > shown:
        print(f"  … and {count - shown} more", file=sys.stderr)
    sys.stderr.write("Proceed? [y/N] ")  # the prompt goes to stderr: stdout is data
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def confirmation_lines(plan: CancelPlan, share_ids: list[str], own_project: str) -> list[str]:
    """What the question lists, within 80 columns: sharings under their backup (`SHARING  to
    PROJECT`, 77 wide), ids the service does not know last."""
    from .. import commands

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
            if commands.made_to_us(share, own_project):
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
    """Accept a CBR backup another project shared with this one, into one of its vaults."""
    from .. import commands

    backup = commands.uuid_arg(backup_id, "backup id")
    vault_id = commands.uuid_arg(vault, "vault id") if vault else None
    with inv.service() as api:
        member = commands.answer_offer(api, backup, "accepted", vault_id)
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
    """Reject a CBR backup another project shared with this one."""
    from .. import commands

    backup = commands.uuid_arg(backup_id, "backup id")
    with inv.service() as api:
        member = commands.answer_offer(api, backup, "rejected")
    _member_out(inv, member)


def _member_out(inv: Invocation, member: Share) -> None:
    record = {
        "backup_id": member.backup_id,
        "to_project_id": member.to_project_id,
        "status": member.status,
        "vault_id": member.vault_id,
    }
    inv.out().documents([record], list(record))
