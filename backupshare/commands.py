"""What each command does, as plain functions: inputs + a service → results.

No Typer, no rich: the CLI parses and renders, these functions decide and act, and the tests
drive them directly against the emulator.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import (
    AuthError,
    BackupshareError,
    Interrupted,
    NotFoundError,
    PartialFailure,
    RejectedError,
    UnavailableError,
    UnexpectedResponse,
    UsageError,
)
from .models import (
    BACKUP_AVAILABLE,
    BACKUP_FAILED,
    BACKUP_IN_PROGRESS,
    RESULT_ABSENT,
    RESULT_CANCELED,
    RESULT_CREATED,
    RESULT_EXISTING,
    RESULT_FAILED,
    RESULT_SKIPPED,
    Backup,
    BackupQuery,
    ListQuery,
    Result,
    Share,
    newest,
    normalize_project_id,
    normalize_uuid,
)

if TYPE_CHECKING:
    from .service import SharingService


MAX_IDS_FILE_BYTES = 1024 * 1024


# -- ids ---------------------------------------------------------------------------------------
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


def read_ids_file(
    name: str, stdin: Any = None, *, option: str = "--projects-file", what: str = "project id"
) -> list[tuple[str, str]]:
    """(id, where) pairs from a file of ids (`-` = stdin), one a line; `#` comments and blank
    lines ignored. `where` names the line, so a bad id is reported where it was written."""
    label = "standard input" if name == "-" else name
    try:
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            raw = stream.read(MAX_IDS_FILE_BYTES + 1)
        else:
            path = Path(name)
            if path.is_dir():
                raise UsageError(f"{option} {name}: is a directory")
            with path.open("rb") as handle:
                raw = handle.read(MAX_IDS_FILE_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{option} {name}: no such file") from None
    except PermissionError:
        raise UsageError(f"{option} {name}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"{option} {name}: cannot be read: {exc.strerror}") from None
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if len(raw) > MAX_IDS_FILE_BYTES:
        raise UsageError(f"{option} {label}: larger than 1 MiB; is it the right file?")
    if b"\x00" in raw:
        raise UsageError(f"{option} {label}: binary data, expected one {what} a line")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{option} {label}: not UTF-8 text") from None
    ids = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if content:
            ids.append((content, f" (line {number} of {label})"))
    return ids


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


def refuse_own_project(targets: list[str], own_project: str) -> None:
    """Checked once the profile is known, after every id's syntax (a typo is reported first)."""
    if own_project in targets:
        raise UsageError(
            f"project {own_project} is the profile's own project; "
            "a backup cannot be shared with its own project"
        )


# -- outcomes ------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """Per-item results of share or cancel, and the one error they add up to (if any)."""

    results: list[Result]
    client_request_id: str | None = None
    what: ClassVar[str] = "item"

    @property
    def changed(self) -> bool:
        return any(r.result in (RESULT_CREATED, RESULT_CANCELED) for r in self.results)

    def error(self) -> BackupshareError | None:
        error = batch_error(self.results, self.what)
        if error is not None:
            error.client_request_id = self.client_request_id
        return error


@dataclass
class ShareOutcome(Outcome):
    request: str | None = None  # the request that would be sent (dry run) or was sent
    what: ClassVar[str] = "sharing"


@dataclass
class CancelOutcome(Outcome):
    interrupted: bool = False  # by Ctrl-C or SIGTERM: the results say what happened to each
    what: ClassVar[str] = "cancellation"

    def error(self) -> BackupshareError | None:
        if self.interrupted:  # exit 130 whatever the items say: the run did not finish
            return Interrupted(
                "interrupted", hint="the report shows what happened to each; re-run to finish"
            )
        return super().error()


# -- share ---------------------------------------------------------------------------------------


def current_shares(
    service: SharingService, backup_id: str, *, optimistic: bool = False
) -> dict[str, Share]:
    """The backup's sharings made by this project, by target project. `optimistic`: up to the
    first short page, which is the end unless the server caps its pages (the caller settles
    what such a page hid: see `share`)."""
    query = ListQuery(filters=(("backup_id", backup_id),))
    pages = service.iter_pages(query, end_at_short_page=optimistic)
    return {s.to_project_id: s for page in pages for s in page}


def shares_to(service: SharingService, backup_id: str, projects: list[str]) -> dict[str, Share]:
    """The backup's sharings, read until every one of `projects` is found: to the end only when
    one is missing (a short page does not prove it absent)."""
    wanted, found = set(projects), dict[str, Share]()
    for page in service.iter_pages(ListQuery(filters=(("backup_id", backup_id),))):
        found.update((s.to_project_id, s) for s in page)
        if wanted <= found.keys():
            break
    return found


def check_target_count(service: SharingService, targets: list[str]) -> None:
    """More targets than a backup can ever be shared with: refused before anything is sent."""
    if len(targets) > service.max_projects:
        raise UsageError(
            f"{len(targets)} target projects: a backup can be shared with at most "
            f"{service.max_projects} projects",
            hint="share it with fewer projects (or share another backup)",
        )


def share(
    service: SharingService,
    backup_id: str,
    targets: list[str],
    *,
    dry_run: bool = False,
    warn: Callable[[str], None] = lambda message: None,
    known: Backup | None = None,
) -> ShareOutcome:
    """Converges: lists first, POSTs only what is missing, and never POSTs twice for a project
    whose sharing may already exist (an unknown outcome is resolved by listing again). A dry
    run reads what the real run would and refuses what the real run would refuse. `known`: the
    backup as the caller has just read it (so it is not read again for its warnings)."""
    check_target_count(service, targets)
    # A dry run cannot learn from the service's refusal, so it reads to the end; the real run
    # reads up to the first short page, and pays for the rest only when the service refuses.
    proven = dry_run
    existing = current_shares(service, backup_id, optimistic=not proven)
    missing = [t for t in targets if t not in existing]
    if not proven and len(existing) + len(missing) > service.max_projects:
        existing, proven = current_shares(service, backup_id), True  # the true count to report
        missing = [t for t in targets if t not in existing]
    check_room(service, backup_id, existing, missing)
    for warning in service.backup_warnings(backup_id, known) if missing else []:
        warn(warning)  # said before the request: it may be the reason it fails
    if dry_run:
        settled = Settled()
        settled.created = dict.fromkeys(missing)
    elif proven:
        settled = _post_until_settled(service, backup_id, missing)
    else:
        settled, existing, missing = _post_settling_hidden(
            service, backup_id, targets, existing, missing
        )
    request = service.share_request(backup_id, missing) if missing else None
    existing.update(settled.existing)
    results = []
    for target in targets:
        if target in existing:
            results.append(_share_result(backup_id, target, existing[target], RESULT_EXISTING))
        elif target in settled.created:
            made = settled.created[target]
            results.append(_share_result(backup_id, target, made, RESULT_CREATED))
        else:
            error = settled.failures[target]
            results.append(Result(backup_id, target, None, RESULT_FAILED, error))
    return ShareOutcome(results, service.invocation_id, request)


def _post_settling_hidden(
    service: SharingService,
    backup_id: str,
    targets: list[str],
    existing: dict[str, Share],
    missing: list[str],
) -> tuple[Settled, dict[str, Share], list[str]]:
    """POSTs what an optimistic read found missing. When the service refuses, a capped first
    page may have hidden a sharing it will not repeat (or counts against its limit): a full
    listing settles that, as before the read was optimistic. The settled POSTs, and what is
    known to exist and was missing in the end."""
    try:
        return _post_until_settled(service, backup_id, missing), existing, missing
    except RejectedError:
        everything = current_shares(service, backup_id)
        if everything.keys() <= existing.keys():
            raise  # the page hid nothing: the refusal stands
        missing = [t for t in targets if t not in everything]
        check_room(service, backup_id, everything, missing)
        return _post_until_settled(service, backup_id, missing), everything, missing


def check_room(
    service: SharingService, backup_id: str, existing: dict[str, Share], missing: list[str]
) -> None:
    """Refuses, before anything is sent, what would pass the service's limit of projects."""
    if len(existing) + len(missing) > service.max_projects:
        raise RejectedError(
            f"backup {backup_id} is shared with {len(existing)} projects; {len(missing)} more "
            f"would pass the limit of {service.max_projects}",
            hint="end a sharing first (backupshare cancel), or share with fewer projects",
        )


def _share_result(backup_id: str, target: str, share: Share | None, result: str) -> Result:
    share_id = share.id if share else None
    return Result(backup_id, target, share_id, result, status=share.status if share else None)


@dataclass
class Settled:
    """Where each missing target ended up after the POSTs (and the lists that settled them)."""

    created: dict[str, Share | None] = field(default_factory=dict)
    existing: dict[str, Share] = field(default_factory=dict)  # there all along, it turned out
    failures: dict[str, BackupshareError] = field(default_factory=dict)


def _post_until_settled(service: SharingService, backup_id: str, missing: list[str]) -> Settled:
    """POSTs the missing targets. When the outcome is unknown, the list says what committed;
    only what is certainly missing is sent again, within the retry budget and its backoff.
    A refusal that may mean "already there" (CBR's 6703/6714) is settled by the list too, and
    the targets it was not about are sent again at once (the list showed the request was
    refused for others): that spends no retry, as every such round settles some target."""
    settled = Settled()
    pending, retries = missing, 0
    while pending:
        failure, answer, found = _post_and_read_back(service, backup_id, pending)
        refused = failure is not None and not isinstance(failure, UnavailableError)
        if refused:
            settled.existing.update(found)  # refused as already shared, and it is
        else:
            answer.update(found)
        for target in pending:
            if target in answer:
                settled.created[target] = answer[target]
                settled.failures.pop(target, None)
            elif target in settled.existing:
                continue
            elif failure is not None:
                settled.failures[target] = failure
            else:  # a 2xx that did not create it, and the list agrees: report, do not loop
                settled.failures[target] = UnexpectedResponse(
                    f"unexpected response: the service accepted the request but project "
                    f"{target} is not among the backup's sharings"
                )
        if refused:
            pending = [t for t in pending if t not in settled.existing] if found else []
        elif failure is not None and retries < service.settings.retries:
            # Only an unknown outcome is worth another POST, for what the list lacks.
            retries += 1
            service.backoff(retries, None, "an unsettled share")
            pending = [t for t in pending if t not in answer]
        else:
            pending = []
    return settled


def _post_and_read_back(
    service: SharingService, backup_id: str, pending: list[str]
) -> tuple[BackupshareError | None, dict[str, Share], dict[str, Share]]:
    """One POST: its failure (unknown outcome, or refused as "already shared"), the sharings
    it answered with, and those of `pending` the list shows beyond them (read back only when
    the answer lacks some: the list, not the answer or its absence, says what is there)."""
    answer: dict[str, Share] = {}
    failure: BackupshareError | None = None
    try:
        answer = {s.to_project_id: s for s in service.share(backup_id, pending)}
    except UnavailableError as exc:  # timeout, dropped connection, 5xx: did it commit?
        failure = exc
    except BackupshareError as exc:
        if not service.already_shared(exc):
            raise
        failure = exc
    found: dict[str, Share] = {}
    if failure is not None or any(t not in answer for t in pending):
        now = current_shares(service, backup_id)
        found = {t: now[t] for t in pending if t in now and t not in answer}
    return failure, answer, found


# -- finding the backup to share ----------------------------------------------------------------
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


@dataclass(frozen=True)
class BackupChoice:
    """Which backup `share` shares: an id, an exact name, or a volume's most recent; and the
    projects (every argument is a project when the volume names the backup)."""

    backup_id: str | None
    name: str | None
    volume_id: str | None
    projects: list[str]


def backup_choice(
    backup: str | None, projects: list[str], volume_id: str | None, most_recent: bool
) -> BackupChoice:
    """The checked choice, or a usage error saying what is wrong (nothing is sent)."""
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
    if normalize_uuid(backup) is not None or MISTYPED_ID_RE.fullmatch(backup.strip()):
        return BackupChoice(uuid_arg(backup, "backup id"), None, None, projects)
    if normalize_project_id(backup) is not None:
        error = _invalid_uuid(backup, "backup id")
        error.hint = "that is a project id's form: the backup comes first, then the projects"
        raise error
    return BackupChoice(None, backup_name_arg(backup), None, projects)


def chosen_backup(service: SharingService, choice: BackupChoice, *, waiting: bool = False) -> str:
    """The id of the chosen backup (reading the backup list for a name or a volume)."""
    if choice.backup_id is not None:
        return choice.backup_id
    if choice.name is not None:
        return str(backup_named(service, choice.name).id)
    assert choice.volume_id is not None
    return str(most_recent(service, choice.volume_id, waiting=waiting).id)


MAX_WAIT = 24 * 3600.0
# Hex digits and dashes (perhaps in braces), as long as an id: a mistyped backup id, not a name.
MISTYPED_ID_RE = re.compile(r"[{(]?[0-9a-fA-F]{8}-[0-9a-fA-F-]{8,}[})]?")


def wait_arg(seconds: float | None) -> float | None:
    """--wait's seconds: a finite number above 0, a day at most."""
    import math

    if seconds is not None and not (math.isfinite(seconds) and 0 < seconds <= MAX_WAIT):
        raise UsageError(
            f"invalid --wait {seconds:g}: must be more than 0 and at most {MAX_WAIT:g} seconds"
        )
    return seconds


def list_backups(
    service: SharingService, query: BackupQuery, *, page_size: int = 100, limit: int | None = None
) -> Iterator[list[Backup]]:
    return service.iter_backups(query, page_size=page_size, limit=limit)


def backup_named(service: SharingService, name: str) -> Backup:
    """The one backup with exactly this name: several are a usage error listing each (the
    person must choose), none is not-found. Nothing is sent to share in either case."""
    found = [b for page in service.iter_backups(BackupQuery(name=name)) for b in page]
    if not found:
        raise NotFoundError(f"no backup named {name!r}", hint="`backupshare backups` lists them")
    if len(found) > 1:
        newest_first = sorted(found, key=lambda b: (b.created_at or "", b.id or ""), reverse=True)
        listed = "; ".join(
            f"{b.id} ({b.status or '-'}, created {b.created_at or '-'})" for b in newest_first
        )
        raise UsageError(
            f"{len(found)} backups are named {name!r}: {listed}",
            hint="give the backup id, or --volume-id VOLUME_ID --most-recent",
        )
    return found[0]


def most_recent(service: SharingService, volume_id: str, *, waiting: bool = False) -> Backup:
    """The newest available backup of the volume, chosen here by creation time (then id) among
    records re-checked for volume and status, never by the service's sort alone. `waiting`
    (share --wait): the newest one still being made counts too, and is waited for."""
    if waiting:
        wanted = {BACKUP_AVAILABLE, *BACKUP_IN_PROGRESS}
        query = BackupQuery(volume_id=volume_id)
    else:
        wanted, query = (
            {BACKUP_AVAILABLE},
            BackupQuery(volume_id=volume_id, status=BACKUP_AVAILABLE),
        )
    pages = service.iter_backups(query)
    chosen = newest(b for page in pages for b in page if b.status in wanted)
    if chosen is None:
        usable = "available or coming" if waiting else "available"
        raise NotFoundError(
            f"volume {volume_id} has no {usable} backup",
            hint=f"`backupshare backups --volume-id {volume_id}` lists its backups",
        )
    return chosen


def check_shareable(service: SharingService, backup_id: str) -> Backup:
    """What the real run would meet: a missing backup (not found, exit 5) or one that is not
    available (refused, exit 6). Reads only."""
    backup = look_up_backup(service, backup_id)
    if backup.status != BACKUP_AVAILABLE:
        raise RejectedError(
            f"backup {backup_id} is in status {backup.status}; only available backups can be "
            "shared",
            hint="wait for it with --wait SECONDS" if backup.status != BACKUP_FAILED else None,
        )
    return backup


def look_up_backup(service: SharingService, backup_id: str) -> Backup:
    try:
        return service.backup(backup_id)
    except NotFoundError as exc:
        exc.message = f"backup {backup_id} not found"
        raise


def wait_until_available(
    service: SharingService,
    backup_id: str,
    seconds: float,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    jitter: Callable[[], float],
    on_wait: Callable[[Backup], None] = lambda backup: None,
) -> Backup:
    """Polls the backup until it is available: backoff with jitter (base 1 s, cap 30 s), never
    past the deadline. `error` stops at once (exit 6); running out is exit 8 with the last
    status. (A throttled poll is retried by the client, Retry-After honoured.)"""
    deadline = clock() + seconds
    delay = WAIT_FIRST
    while True:
        backup = look_up_backup(service, backup_id)
        if backup.status == BACKUP_AVAILABLE:
            return backup
        if backup.status == BACKUP_FAILED:
            raise RejectedError(
                f"backup {backup_id} is in status error: it will not become available",
                hint="share another backup (`backupshare backups` lists them)",
            )
        left = deadline - clock()
        if left <= 0:
            raise UnavailableError(
                f"backup {backup_id} is still {backup.status} after {seconds:g} s",
                hint="wait longer with a larger --wait",
            )
        on_wait(backup)
        sleep(min(left, delay * (0.5 + jitter() / 2)))
        delay = min(WAIT_CAP, delay * 2)


WAIT_FIRST = 1.0
WAIT_CAP = 30.0


# -- list, count, show ---------------------------------------------------------------------------
def list_shares(
    service: SharingService, query: ListQuery, *, page_size: int = 100, limit: int | None = None
) -> Iterator[list[Share]]:
    return service.iter_pages(query, page_size=page_size, limit=limit)


def count_shares(service: SharingService, query: ListQuery) -> int:
    return service.count(query)


def show_share(service: SharingService, share_id: str) -> Share:
    try:
        return service.show(share_id)
    except NotFoundError as exc:
        exc.message = f"sharing {share_id} not found"
        raise


# -- the receiving side (CBR) ---------------------------------------------------------------------
def answer_offer(
    service: SharingService, backup_id: str, status: str, vault_id: str | None = None
) -> Share:
    """Accepts (into a vault: the given one, else the project's only one) or rejects a backup
    shared with this project. Answering the same way twice is harmless."""
    if status == "accepted" and vault_id is None:
        vault_id = only_vault(service)
    return service.answer(backup_id, status, vault_id)


def only_vault(service: SharingService) -> str:
    vaults = service.vaults()
    if len(vaults) == 1:
        return vaults[0]["id"]
    if not vaults:
        raise NotFoundError(
            "this project has no vault to keep the backup in",
            hint="create a backup vault in this project, then accept again",
        )
    listed = ", ".join(f"{v['id']} ({v['name']})" if v["name"] else v["id"] for v in vaults)
    raise UsageError(
        f"this project has {len(vaults)} vaults: {listed}",
        hint="choose one with --vault VAULT_ID",
    )


# -- cancel --------------------------------------------------------------------------------------
@dataclass
class CancelPlan:
    """What `cancel` will end: sharings by id, or every sharing of one backup at once."""

    share_ids: list[str] = field(default_factory=list)
    known: dict[str, Share] = field(default_factory=dict)  # what listing told us about them
    absent: list[Result] = field(default_factory=list)
    whole_backup: str | None = None

    @property
    def empty(self) -> bool:
        return not self.share_ids and self.whole_backup is None

    def describe(self) -> list[Share | str]:
        return [self.known.get(share_id, share_id) for share_id in self.share_ids]


def look_up_share(service: SharingService, share_id: str) -> Share | None:
    """The sharing, or None when the service does not know it (any other error is raised)."""
    try:
        return service.show(share_id)
    except NotFoundError:
        return None


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


@dataclass(frozen=True)
class CancelRequest:
    """What `cancel` was asked to end: sharings by id, or a backup's (with some projects)."""

    share_ids: list[str]
    backup_id: str | None
    to_projects: list[str]
    by_id: bool  # SHARE_IDs or --ids-file (which may hold none: nothing to do)

    @property
    def every_sharing(self) -> bool:
        return self.backup_id is not None and not self.to_projects


def cancel_request(
    share_ids: list[str], ids_file: str | None, backup_id: str | None, to_projects: list[str]
) -> CancelRequest:
    """The checked request, or a usage error naming what is wrong (nothing is sent)."""
    given = [(share_id, "") for share_id in share_ids]
    if ids_file:
        given += read_ids_file(ids_file, option="--ids-file", what="sharing id")
    ids = [uuid_arg(share_id, "sharing id", where) for share_id, where in given]
    backup = uuid_arg(backup_id, "backup id") if backup_id else None
    projects = [project_id_arg(project) for project in to_projects]
    by_id = bool(ids or ids_file)
    if by_id and backup:
        raise UsageError("give SHARE_IDs (or --ids-file) or --backup-id, not both")
    if projects and not backup:
        raise UsageError("--to-project needs --backup-id")
    if not by_id and not backup:
        raise UsageError(
            "nothing to cancel: give SHARE_IDs, --ids-file or --backup-id",
            hint="example: backupshare cancel --backup-id BACKUP_ID --to-project PROJECT_ID",
        )
    return CancelRequest(ids, backup, projects, by_id)


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
    plan = CancelPlan()
    for project in dict.fromkeys(to_projects):
        if project in shares:
            plan.share_ids.append(shares[project].id)
            plan.known[shares[project].id] = shares[project]
        else:
            plan.absent.append(Result(backup_id, project, None, RESULT_ABSENT))
    return plan


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
    return CancelOutcome(plan.absent + results, service.invocation_id, interrupted=stop.raised)


def _cancel_backup(service: SharingService, backup_id: str) -> Result:
    try:
        service.cancel_backup(backup_id)
    except BackupshareError as exc:
        return Result(backup_id, None, None, RESULT_FAILED, exc)
    return Result(backup_id, None, None, RESULT_CANCELED)


def cancel_result(
    share_id: str, share: Share | None, result: str, error: BackupshareError | None = None
) -> Result:
    """One sharing's result; whose it was is known only when listing found it."""
    return Result(
        share.backup_id if share else None,
        share.to_project_id if share else None,
        share_id,
        result,
        error,
    )


def planned_cancel(plan: CancelPlan) -> list[Result]:
    """What `cancel --dry-run` reports: the plan, in the result words of a real run."""
    known = [cancel_result(sid, plan.known.get(sid), RESULT_CANCELED) for sid in plan.share_ids]
    return plan.absent + known


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


class Interrupt:
    """Ctrl-C (or SIGTERM) as a flag a batch polls, instead of an exception that could land
    anywhere — so the report is always complete. Raised once: finish what is in flight;
    twice: stop waiting."""

    def __init__(self) -> None:
        self.count = 0
        self.abandoned = False  # requests left running after a second interrupt

    def raise_(self) -> None:
        self.count += 1

    @property
    def raised(self) -> bool:
        return self.count > 0


def run_batch(
    items: list[str],
    work: Callable[[str], Result],
    *,
    concurrency: int,
    on_done: Callable[[], None],
    stop: Interrupt,
    known: dict[str, Share] | None = None,
) -> list[Result]:
    """Runs `work` over items with bounded concurrency; results in input order, every item
    accounted for: done, `skipped` (never started because of an interrupt) or, after a second
    interrupt, `failed` with an unknown outcome (abandoned in flight)."""
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    known = known or {}
    results: dict[str, Result] = {}

    def guarded(item: str) -> Result:
        if stop.raised:
            return cancel_result(item, known.get(item), RESULT_SKIPPED)
        return work(item)

    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="batch")
    futures: dict[Future[Result], str] = {pool.submit(guarded, item): item for item in items}
    pending = set(futures)
    while pending and stop.count < 2:
        done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
        for future in done:
            results[futures[future]] = future.result()
            on_done()
    for future in pending:  # abandoned after a second interrupt
        item = futures[future]
        if future.cancel() or not future.running():
            results[item] = cancel_result(item, known.get(item), RESULT_SKIPPED)
        else:
            unknown = Interrupted("interrupted while in flight; its outcome is unknown")
            results[item] = cancel_result(item, known.get(item), RESULT_FAILED, unknown)
    stop.abandoned = bool(pending)
    pool.shutdown(wait=not pending, cancel_futures=True)
    return [results[item] for item in items]


def batch_error(results: list[Result], what: str) -> BackupshareError | None:
    """None when nothing failed; the failure's own class when everything did; else partial."""
    failed = [r for r in results if r.result == RESULT_FAILED]
    if not failed:
        return None
    if len(failed) < len(results):
        return PartialFailure(
            f"{len(failed)} of {len(results)} {what}s failed",
            hint="the results show each item; re-running retries only what is missing",
        )
    first = failed[0].error or BackupshareError("no reason given")
    return replace(first, message=f"every {what} failed: {first.message}")
