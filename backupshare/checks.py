"""The checks of what a caller asks, shared by the CLI (cli/arguments.py: argv, and the files
its options name) and the library (Client, _api_args.py): values → a typed request (verbs/),
every usage error about them raised here, before anything is sent. No network, no terminal, no
files, nothing of the CLI (a library call must not load it: tests/test_library_layering.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .errors import UsageError, invalid_choice
from .models import ListQuery, normalize_project_id, normalize_uuid
from .registry import sort_keys

# verbs/ and selectors load in the function that builds one: a command loads only its own
if TYPE_CHECKING:
    from .selectors import Selectors
    from .service import SharingService
    from .verbs.audit import AuditRequest
    from .verbs.cancel import CancelRequest
    from .verbs.receive import AnswerRequest
    from .verbs.share import BackupChoice, ShareRequest


def uuid_arg(value: str, what: str, where: str = "") -> str:
    """A backup, sharing or volume id (`what` names which), canonical; else a usage error."""
    canonical = normalize_uuid(value)
    if canonical is None:
        raise _invalid_uuid(value, what, where)
    return canonical


def _invalid_uuid(value: str, what: str, where: str = "") -> UsageError:
    return UsageError(
        f"invalid {what} {value!r}{where}: expected a UUID such as "
        "066b1e37-9305-4057-97e5-2e99b21fc71d"
    )


def project_id_arg(value: str, where: str = "") -> str:
    canonical = normalize_project_id(value)
    if canonical is None:
        raise UsageError(
            f"invalid project id {value!r}{where}: expected 32 hex characters such as "
            "722513ed0a324dadaabe5b2d0fe848c9"
        )
    return canonical


def share_targets(arguments: Iterable[str], file_ids: Iterable[tuple[str, str]]) -> list[str]:
    """Validated, lower-cased, de-duplicated targets in the order given."""
    targets = {
        project_id_arg(value, where): None
        for value, where in [(a, "") for a in arguments] + list(file_ids)
    }
    if not targets:
        raise UsageError(
            "no target projects: give PROJECT_ID arguments or --projects-file",
            hint="example: backupshare share BACKUP_ID 722513ed0a324dadaabe5b2d0fe848c9",
        )
    return list(targets)


CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def backup_name_arg(value: str) -> str:
    """A backup name as given: not empty, no control characters (it names, it is not parsed)."""
    if not value.strip():
        raise UsageError(
            "an empty backup name", hint="a backup's exact name, as `backups` lists it"
        )
    if CONTROL_RE.search(value):
        raise UsageError(f"invalid backup name {value!r}: it holds control characters")
    return value


# Hex digits and dashes (perhaps in braces), as long as an id: a mistyped backup id, not a name.
# (Text: `re` compiles it the first time a backup is not a canonical id.)
MISTYPED_ID = r"[{(]?[0-9a-fA-F]{8}-[0-9a-fA-F-]{8,}[})]?"


def backup_choice(
    backup: str | None, projects: list[str], volume_id: str | None, most_recent: bool
) -> BackupChoice:
    """The checked choice, or a usage error saying what is wrong (nothing is sent)."""
    from .verbs.share import BackupChoice

    if most_recent and volume_id is None:
        raise UsageError("--most-recent needs --volume-id VOLUME_ID")
    if volume_id is not None:
        if not most_recent:
            raise UsageError(
                "--volume-id needs --most-recent (share the volume's newest available backup)"
            )
        volume = uuid_arg(volume_id, "volume id")
        if backup is not None and normalize_project_id(backup) is None:
            raise UsageError(
                f"give BACKUP or --volume-id --most-recent, not both ({backup!r} is not a "
                "project id: with --most-recent every argument is a project)"
            )
        return BackupChoice(None, None, volume, [backup, *projects] if backup else projects)
    if backup is None:
        raise UsageError(
            "no backup to share: give its id or name, or --volume-id VOLUME_ID --most-recent",
            hint="example: backupshare share BACKUP_ID 722513ed0a324dadaabe5b2d0fe848c9",
        )
    if normalize_uuid(backup) is not None or re.fullmatch(MISTYPED_ID, backup.strip()):
        return BackupChoice(uuid_arg(backup, "backup id"), None, None, projects)
    if normalize_project_id(backup) is not None:
        error = _invalid_uuid(backup, "backup id")
        error.hint = "that is a project id's form: the backup comes first, then the projects"
        raise error
    return BackupChoice(None, backup_name_arg(backup), None, projects)


MAX_WAIT = 24 * 3600.0


def wait_arg(seconds: float | None) -> float | None:
    """--wait's seconds: a finite number above 0, a day at most."""
    import math

    if seconds is not None and not (math.isfinite(seconds) and 0 < seconds <= MAX_WAIT):
        raise UsageError(
            f"invalid --wait {seconds:g}: must be more than 0 and at most {MAX_WAIT:g} seconds"
        )
    return seconds


def cancel_request(
    share_ids: list[str],
    backup_id: str | None,
    to_projects: list[str],
    *,
    file_ids: list[tuple[str, str]] | None = None,
    selectors: Selectors | None = None,
) -> CancelRequest:
    """The checked request, or a usage error naming what is wrong (nothing is sent).
    `file_ids`: the (id, where) pairs of an --ids-file (None: none given; an empty one still
    asks to cancel by id)."""
    from .verbs.cancel import CancelRequest

    given = [(share_id, "") for share_id in share_ids] + (file_ids or [])
    ids = [uuid_arg(share_id, "sharing id", where) for share_id, where in given]
    backup = uuid_arg(backup_id, "backup id") if backup_id else None
    projects = [project_id_arg(project) for project in to_projects]
    by_id = bool(ids) or file_ids is not None
    if by_id and backup:
        raise UsageError("give SHARE_IDs (or --ids-file) or --backup-id, not both")
    if projects and by_id:
        raise UsageError("give SHARE_IDs (or --ids-file) or --to-project, not both")
    if not by_id and not backup and not projects:
        raise UsageError(
            "nothing to cancel: give SHARE_IDs, --ids-file, --backup-id or --to-project",
            hint="example: backupshare cancel --backup-id BACKUP_ID --to-project PROJECT_ID",
        )
    if selectors is not None and not selectors.empty and (by_id or backup):
        raise UsageError(
            "backup selectors narrow a cancel across the project: give --to-project "
            "without --backup-id or SHARE_IDs"
        )
    return CancelRequest(ids, backup, projects, by_id, selectors if projects else None)


def share_request(
    backup: str | None,
    projects: list[str],
    *,
    volume_id: str | None,
    most_recent: bool,
    wait: float | None,
    dry_run: bool,
    wait_accepted: float | None = None,
    from_file: Callable[[], list[tuple[str, str]]] = list,
) -> ShareRequest:
    """share's flags, checked in the order a person reads them: the backup, --wait, then the
    targets (arguments, then `from_file`'s: --projects-file read when its turn comes). Nothing
    is sent."""
    from .verbs.share import ShareRequest

    choice = backup_choice(backup, projects, volume_id, most_recent)
    seconds = wait_arg(wait)
    targets = share_targets(choice.projects, from_file())
    return ShareRequest(choice, targets, wait=seconds, dry_run=dry_run, wait_accepted=wait_accepted)


def check_paging(limit: int | None, page_size: int) -> None:
    if limit is not None and limit < 1:
        raise UsageError(f"invalid --limit {limit}: must be at least 1")
    if not 1 <= page_size <= 1000:
        raise UsageError(f"invalid --page-size {page_size}: must be 1 to 1000")


def check_choice(option: str, value: str | None, choices: tuple[str, ...]) -> None:
    if value is not None and value not in choices:
        raise invalid_choice(option, value, choices)


def concurrency_arg(concurrency: int) -> int:
    if not 1 <= concurrency <= 64:
        raise UsageError(f"invalid --concurrency {concurrency}: must be 1 to 64")
    return concurrency


# -- list-shares and cancel: checks that depend on what the profile's service can do -------------
OPTION_OF = {"to_project_id": "--to-project", "from_project_id": "--from-project"}


def list_query(
    service: Callable[[], type[SharingService]],
    filters: dict[str, str | None],
    *,
    shared_with_me: bool,
    sort_key: str | None,
    sort_dir: str | None,
    limit: int | None,
    page_size: int,
    across_project: bool = False,
) -> ListQuery:
    """list-shares' options as a query. `service()` (the profile's service class) is asked
    only when an option needs it: --status (a backup's status on VBS, the member's own on
    CBR), and at the end, to refuse what it cannot honour rather than drop it silently."""
    checks: dict[str, Callable[[str], str]] = {
        "backup_id": lambda value: uuid_arg(value, "backup id"),
        "to_project_id": project_id_arg,
        "from_project_id": project_id_arg,
        "volume_id": lambda value: uuid_arg(value, "volume id"),
        "status": lambda value: choice("--status", value, service().sharing_statuses),
    }
    given = tuple(
        (key, checks.get(key, str)(value)) for key, value in filters.items() if value is not None
    )
    if sort_key is not None:
        check_choice("--sort-key", sort_key, sort_keys())
    check_choice("--sort-dir", sort_dir, ("asc", "desc"))
    check_paging(limit, page_size)
    query = ListQuery(given, shared_with_me, sort_key, sort_dir)
    # across the project CBR reads its backups' list, which has the backup name filter
    refuse_unhonoured_options(service(), query, also=("name",) if across_project else ())
    return query


def choice(option: str, value: str, choices: tuple[str, ...]) -> str:
    check_choice(option, value, choices)
    return value


def refuse_unhonoured_options(
    kind: type[SharingService], query: ListQuery, also: tuple[str, ...] = ()
) -> None:
    """An option the service cannot honour is refused, never silently dropped."""
    honoured = None if kind.list_filters is None else (*kind.list_filters, *also)
    given = [OPTION_OF.get(key, f"--{key.replace('_', '-')}") for key, _ in query.filters
             if honoured is not None and key not in honoured]  # fmt: skip
    if not kind.sort_keys:
        given += [f"--{name.replace('_', '-')}" for name in ("sort_key", "sort_dir")
                  if getattr(query, name)]  # fmt: skip
    if given:
        raise UsageError(
            f"{', '.join(given)}: not available on {kind.name.upper()}",
            hint=kind.unsupported_hint,
        )


def check_sharing_ids(kind: type[SharingService]) -> None:
    """SHARE_IDs (or --ids-file) mean something only to a service whose sharings have ids."""
    if not kind.addresses_sharings_by_id:
        raise UsageError(
            f"{kind.name.upper()} sharings have no ids of their own: they are ended by backup "
            "and project",
            hint="backupshare cancel --backup-id BACKUP_ID [--to-project PROJECT_ID …]",
        )


def check_confirmation(request: CancelRequest, *, yes: bool, dry_run: bool, terminal: bool) -> None:
    """Ending every sharing of a backup, or every sharing with some projects across the
    project, is confirmed: by --yes, or by a person at a terminal."""
    if request.across_project and not yes and not dry_run and not terminal:
        raise UsageError(
            "refusing to end sharings across the project without --yes",
            hint="add --yes to confirm (there is no terminal to ask on), or --dry-run to list "
            "what would end",
        )
    if request.every_sharing and not yes and not dry_run and not terminal:
        raise UsageError(
            f"refusing to end every sharing of backup {request.backup_id} without --yes",
            hint="add --yes to confirm (there is no terminal to ask on)",
        )


# -- accept and reject: one offer, or every pending one (CBR) ------------------------------------
def check_answers_offers(kind: type[SharingService], option: str | None = None) -> None:
    """accept, reject and --wait-accepted mean something only where a sharing waits for the
    receiving project's answer (CBR); elsewhere a usage error before anything is sent."""
    if not kind.answers_offers:
        from .vbs import no_acceptance

        error = no_acceptance()
        if option:
            error.message = f"{option}: {error.message}"
        raise error


def vault_arg(value: str) -> str:
    """--vault: `auto` (choose per backup) or a vault id."""
    from .verbs.receive import VAULT_AUTO

    return VAULT_AUTO if value == VAULT_AUTO else uuid_arg(value, "vault id")


def answer_request(
    status: str,
    backup_id: str | None,
    *,
    all_pending: bool,
    from_projects: list[str],
    name: str | None,
    vault: str,
    dry_run: bool,
    selectors: Selectors | None = None,
) -> tuple[str | None, AnswerRequest]:
    """accept's or reject's flags: one BACKUP_ID, or --all-pending with its narrowing options
    (owner projects, exact name, the backup selectors). Returns the backup id (None with
    --all-pending) and the request. Nothing is sent."""
    from .verbs.receive import AnswerRequest

    verb = "accept" if status == "accepted" else "reject"
    if all_pending and backup_id is not None:
        raise UsageError(
            f"give BACKUP_ID or --all-pending, not both ({backup_id!r} with --all-pending)"
        )
    if not all_pending:
        given = [flag for flag, on in (("--from-project", bool(from_projects)),
                 ("--name", name is not None), ("--dry-run", dry_run)) if on]  # fmt: skip
        given += selector_options_given(selectors or Selectors())
        if given:
            raise UsageError(f"{given[0]} needs --all-pending")
        if backup_id is None:
            raise UsageError(
                f"nothing to {verb}: give BACKUP_ID or --all-pending",
                hint=f"example: backupshare {verb} --all-pending --from-project PROJECT_ID",
            )
    request = AnswerRequest(
        status,
        tuple(dict.fromkeys(project_id_arg(p, " (--from-project)") for p in from_projects)),
        backup_name_arg(name) if name is not None else None,
        vault_arg(vault),
        dry_run,
        selectors or Selectors(),
    )
    return (uuid_arg(backup_id, "backup id") if backup_id else None), request


def refuse_own_offers(request: AnswerRequest, own_project: str) -> None:
    """Checked once the profile is known: offers never come from this project itself."""
    if own_project in request.from_projects:
        raise UsageError(
            f"invalid --from-project {own_project}: it is the profile's own project; offers to "
            "it come from other projects"
        )


def check_every_offer_confirmed(request: AnswerRequest, *, yes: bool, terminal: bool) -> None:
    """Rejecting every pending offer from anyone is confirmed: by --yes, or at a terminal."""
    every = request.status == "rejected" and not request.from_projects
    if every and not yes and not request.dry_run and not terminal:
        raise UsageError(
            "refusing to reject every pending offer, from any project, without --yes",
            hint="add --from-project PROJECT_ID, or --yes to confirm (there is no terminal "
            "to ask on)",
        )


def wait_accepted_arg(
    seconds: float | None, kind: Callable[[], type[SharingService]]
) -> float | None:
    """--wait-accepted's seconds: like --wait's, and only where sharings wait for an answer."""
    import math

    if seconds is None:
        return None
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_WAIT):
        raise UsageError(
            f"invalid --wait-accepted {seconds:g}: must be more than 0 and at most "
            f"{MAX_WAIT:g} seconds"
        )
    check_answers_offers(kind(), "--wait-accepted")
    return seconds


def demo_service(service: str | None) -> str:
    """demo's --service: the one it tours (VBS unless named)."""
    from .config import SERVICES

    chosen = service or "vbs"
    if chosen not in SERVICES:
        raise UsageError(f"invalid --service {chosen!r}: choose one of {', '.join(SERVICES)}")
    return chosen


# -- backup selectors (selectors.py): the flags of every command that takes many backups ---------
SELECTOR_OPTIONS = {
    "volume_id": "--volume-id",
    "vault_id": "--vault-id",
    "name": "--name",
    "name_prefix": "--name-prefix",
    "status": "--status",
    "created_after": "--created-after",
    "created_before": "--created-before",
}


def selectors_arg(
    service: Callable[[], type[SharingService]],
    *,
    volume_ids: list[str] | None = None,
    vault_id: str | None = None,
    name: str | None = None,
    name_prefix: str | None = None,
    status: str | None = None,
    created_after: str | None = None,
    created_before: str | None = None,
    now: datetime | None = None,
) -> Selectors:
    """The selector flags, checked: a usage error names the option and the value; `service()`
    (the profile's service class) is asked only when --vault-id or --status needs it."""
    from .selectors import InvalidSelector, Selectors

    moment = now or datetime.now(timezone.utc)
    try:
        if vault_id is not None and not service().has_vaults:
            kind = service().name.upper()
            raise UsageError(
                f"--vault-id {vault_id!r}: {kind} has no vaults",
                hint="vaults are CBR's (--service cbr); on VBS select by --volume-id",
            )
        if status is not None:
            check_choice("--status", status, service().backup_statuses)
        return Selectors(
            volume_ids=tuple(dict.fromkeys(uuid_arg(v, "volume id") for v in volume_ids or [])),
            vault_id=uuid_arg(vault_id, "vault id") if vault_id is not None else None,
            name=backup_name_arg(name) if name is not None else None,
            name_prefix=backup_name_arg(name_prefix) if name_prefix is not None else None,
            status=status,
            created_after=_when(created_after, moment, "created_after"),
            created_before=_when(created_before, moment, "created_before"),
        )
    except InvalidSelector as exc:
        raise UsageError(selector_message(exc.message)) from None


def selector_options_given(selectors: Selectors) -> list[str]:
    """The selector options a Selectors was given, as a person typed them."""
    keys = {"volume_id": "volume_ids"}
    return [
        option
        for key, option in SELECTOR_OPTIONS.items()
        if getattr(selectors, keys.get(key, key)) not in (None, ())
    ]


def selectors_given(
    service: Callable[[], type[SharingService]], volume_ids: list[str] | None, **flags: str | None
) -> Selectors | None:
    """As selectors_arg, or None when no selector flag is given: a listing without one (the
    usual case) does not load the selectors."""
    if volume_ids or any(value is not None for value in flags.values()):
        return selectors_arg(service, volume_ids=volume_ids, **flags)  # type: ignore[arg-type]
    return None


def selector_message(message: str) -> str:
    """A selector's message with its keys named as the options a person typed."""
    for key in sorted(SELECTOR_OPTIONS, key=len, reverse=True):
        message = re.sub(rf"(?<![-\w]){key}\b", SELECTOR_OPTIONS[key], message)
    return message


def _when(value: str | None, now: datetime, key: str) -> datetime | None:
    from .selectors import parse_when

    return None if value is None else parse_when(value, now, key)


def check_listing_selectors(
    selectors: Selectors | None, *, across: bool, graph: bool, count: bool = False
) -> None:
    """list-shares: backup selectors (but one --volume-id, a filter of its own) and `-o dot`
    are for the listing across the project, not for one backup's or the offers made to us."""
    if graph and count:
        raise UsageError("-o dot draws a graph; --count prints a number (use -o json)")
    if across:
        return
    if graph:
        raise UsageError(
            "-o dot draws the project's sharings: give it without --backup-id and "
            "--shared-with-me (or use `audit -o dot`)"
        )
    if selectors is None:
        return
    narrowing = {
        "--volume-id": len(selectors.volume_ids) > 1,
        "--vault-id": selectors.vault_id is not None,
        "--name-prefix": selectors.name_prefix is not None,
        "--created-after": selectors.created_after is not None,
        "--created-before": selectors.created_before is not None,
    }
    given = [option for option, set_ in narrowing.items() if set_]
    if given:
        raise UsageError(
            f"{', '.join(given)}: backup selectors narrow a listing across the project; "
            "give them without --backup-id and --shared-with-me"
        )


def audit_request(
    allowed: list[str],
    read_allowlist: Callable[[str], list[tuple[str, str]]] | None,
    *,
    incoming: bool,
    max_pending_age: str,
    concurrency: int,
    selectors: Selectors,
) -> AuditRequest:
    """--allowed: a 32-hex value is a project id, anything else a file of them that
    `read_allowlist` reads (the CLI's; None: ids only, as the library takes them); an allowlist
    that names no project is refused (it would make every sharing a finding)."""
    from .selectors import InvalidSelector, parse_duration
    from .verbs.audit import AuditRequest

    if not allowed:
        raise UsageError(
            "audit needs the allowed projects: --allowed FILE|- or --allowed PROJECT_ID …",
            hint="example: backupshare audit --allowed allowed-projects.txt",
        )
    projects: dict[str, None] = {}
    for value in allowed:
        if normalize_project_id(value) is not None or read_allowlist is None:
            projects[project_id_arg(value)] = None
            continue
        listed = read_allowlist(value)
        if not listed:
            label = "standard input" if value == "-" else value
            raise UsageError(f"--allowed {label}: an empty allowlist (no project id in it)")
        for project, where in listed:
            projects[project_id_arg(project, where)] = None
    try:
        age = parse_duration(max_pending_age, "max_pending_age")
    except InvalidSelector as exc:
        raise UsageError(exc.message.replace("max_pending_age", "--max-pending-age", 1)) from None
    return AuditRequest(frozenset(projects), incoming, age, concurrency_arg(concurrency), selectors)
