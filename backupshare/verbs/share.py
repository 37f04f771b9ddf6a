"""share: a ShareRequest → run_share: choose the backup (id, exact name or a volume's most
recent), wait for it or check it, then converge (list, POST only what is missing, settle an
unknown outcome by listing again)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from ..errors import (
    BackupNotAvailableError,
    BackupshareError,
    ProjectLimitError,
    RejectedError,
    UnavailableError,
    UnexpectedResponse,
    UsageError,
    WaitTimeoutError,
)
from ..models import (
    BACKUP_AVAILABLE,
    BACKUP_FAILED,
    MEMBER_ABSENT,
    MEMBER_ACCEPTED,
    MEMBER_REJECTED,
    RESULT_CREATED,
    RESULT_EXISTING,
    RESULT_FAILED,
    Backup,
    Result,
    Share,
)
from .batch import Outcome
from .find import backup_named, current_shares, look_up_backup, most_recent
from .wait import Deadline, Timing, WaitTick, ignore_tick

if TYPE_CHECKING:
    from ..service import SharingService


@dataclass
class ShareOutcome(Outcome):
    request: str | None = None  # the request that would be sent (dry run) or was sent
    warnings: list[str] = field(default_factory=list)  # what to know (an encrypted backup, …)
    answers: BackupshareError | None = None  # --wait-accepted: what the receivers' answers say
    what: ClassVar[str] = "sharing"

    def error(self) -> BackupshareError | None:
        """The share's own failure first (partly failed: 7), then the answers (8 > 6)."""
        own = super().error()
        if own is None and self.answers is not None:
            self.answers.client_request_id = self.client_request_id
        return own or self.answers


# The request types are NamedTuples, not frozen dataclasses: `share` defines them at start-up,
# where each frozen dataclass costs ≈ 0.4 ms (a NamedTuple a fifth of that).
class BackupChoice(NamedTuple):
    """Which backup `share` shares: an id, an exact name, or a volume's most recent; and the
    projects (every argument is a project when the volume names the backup)."""

    backup_id: str | None
    name: str | None
    volume_id: str | None
    projects: list[str]


class ShareRequest(NamedTuple):
    """What `share` was asked: which backup, with which projects (checked, canonical and
    de-duplicated: checks.share_request), whether to wait for it (seconds), and
    whether only to check and show the plan."""

    choice: BackupChoice
    targets: list[str]
    wait: float | None = None
    dry_run: bool = False
    wait_accepted: float | None = None  # CBR: then wait for each target to answer


def run_share(
    service: SharingService,
    request: ShareRequest,
    *,
    warn: Callable[[str], None] = lambda message: None,
    chose: Callable[[Backup], None] | None = None,
    on_wait: Callable[[WaitTick], None] = ignore_tick,
    timing: Timing | None = None,
) -> ShareOutcome:
    """The whole of `share`: refuses the profile's own project and more targets than a backup
    may have (before any lookup or wait), chooses the backup, waits for it (`request.wait`)
    or, on a dry run, checks it as the real run would, then converges (see `share`), then
    waits for the receivers' answers (`request.wait_accepted`), each wait with its own
    deadline. Time is injectable (`timing`); every wait's progress goes to `on_wait`."""
    timing = timing or Timing()
    refuse_own_project(request.targets, service.settings.project_id)
    check_target_count(service, request.targets)
    waiting = request.wait is not None
    backup_id = chosen_backup(service, request.choice, waiting=waiting, chose=chose)
    known = None
    if request.wait is not None:
        known = wait_until_available(service, backup_id, request.wait, timing, on_wait)
    elif request.dry_run:
        known = check_shareable(service, backup_id)  # the real run's refusals, now
    outcome = share(service, backup_id, request.targets, dry_run=request.dry_run, warn=warn,
                    known=known)  # fmt: skip
    if request.wait_accepted is not None and not request.dry_run:
        await_answers(service, outcome, backup_id, request.wait_accepted, timing, on_wait)
    return outcome


def await_answers(
    service: SharingService,
    outcome: ShareOutcome,
    backup_id: str,
    seconds: float,
    timing: Timing,
    on_wait: Callable[[WaitTick], None],
) -> None:
    """Waits for every target the backup is now shared with (not those whose sharing failed)
    and writes each one's final status into its result."""
    shared = [r.to_project_id for r in outcome.results
              if r.result != RESULT_FAILED and r.to_project_id]  # fmt: skip
    if not shared:
        return
    statuses = wait_until_answered(service, backup_id, shared, seconds, timing, on_wait)
    outcome.results = [
        replace(r, status=statuses[r.to_project_id]) if r.to_project_id in statuses else r
        for r in outcome.results
    ]
    outcome.answers = answer_error(statuses, seconds, backup_id)


def refuse_own_project(targets: list[str], own_project: str) -> None:
    """Checked once the profile is known, after every id's syntax (a typo is reported first)."""
    if own_project in targets:
        raise UsageError(
            f"project {own_project} is the profile's own project; "
            "a backup cannot be shared with its own project"
        )


def check_target_count(service: SharingService, targets: list[str]) -> None:
    """More targets than a backup can ever be shared with: refused before anything is sent."""
    if len(targets) > service.max_projects:
        raise UsageError(
            f"{len(targets)} target projects: a backup can be shared with at most "
            f"{service.max_projects} projects",
            hint="share it with fewer projects (or share another backup)",
        )


def chosen_backup(
    service: SharingService,
    choice: BackupChoice,
    *,
    waiting: bool = False,
    chose: Callable[[Backup], None] | None = None,
) -> str:
    """The id of the chosen backup (reading the backup list for a name or a volume); `chose`
    hears of a backup picked by name or volume, since picking is what the person asked for."""
    if choice.backup_id is not None:
        return choice.backup_id
    if choice.name is not None:
        picked = backup_named(service, choice.name)
    else:
        assert choice.volume_id is not None
        picked = most_recent(service, choice.volume_id, waiting=waiting)
    if chose is not None:
        chose(picked)
    return str(picked.id)


def check_shareable(service: SharingService, backup_id: str) -> Backup:
    """What the real run would meet: a missing backup (not found, exit 5) or one that is not
    available (refused, exit 6). Reads only."""
    backup = look_up_backup(service, backup_id)
    if backup.status != BACKUP_AVAILABLE:
        raise BackupNotAvailableError(
            f"backup {backup_id} is in status {backup.status}; only available backups can be "
            "shared",
            hint="wait for it with --wait SECONDS" if backup.status != BACKUP_FAILED else None,
        )
    return backup


def wait_until_available(
    service: SharingService,
    backup_id: str,
    seconds: float,
    timing: Timing,
    on_wait: Callable[[WaitTick], None] = ignore_tick,
) -> Backup:
    """Polls the backup until it is available, with backoff (wait.Deadline). `error` stops at
    once (exit 6); running out is exit 8 with the last status. (A throttled poll is retried by
    the client, Retry-After honoured.) Says nothing when it is available at the first look."""
    deadline = Deadline(seconds, timing)
    subject = f"backup {backup_id}"
    looked = False
    while True:
        backup = look_up_backup(service, backup_id)
        status = backup.status or "unknown"
        if backup.status == BACKUP_AVAILABLE:
            if looked:
                on_wait(deadline.tick(subject, status, ended=True))
            return backup
        if backup.status == BACKUP_FAILED:
            on_wait(deadline.tick(subject, status, ended=True))
            raise BackupNotAvailableError(
                f"backup {backup_id} is in status error: it will not become available",
                hint="share another backup (`backupshare backups` lists them)",
            )
        if deadline.passed:
            on_wait(deadline.tick(subject, status, ended=True))
            raise WaitTimeoutError(
                f"backup {backup_id} is still {backup.status} after {seconds:g} s",
                hint="wait longer with a larger --wait",
                last_status=backup.status,
            )
        on_wait(deadline.tick(subject, status))
        looked = True
        deadline.pause()


ANSWERED = (MEMBER_ACCEPTED, MEMBER_REJECTED)


def wait_until_answered(
    service: SharingService,
    backup_id: str,
    targets: list[str],
    seconds: float,
    timing: Timing,
    on_wait: Callable[[WaitTick], None] = ignore_tick,
) -> dict[str, str]:
    """Polls the backup's members until each target has accepted or rejected it, or time runs
    out; returns each target's last status (`absent`: no longer a member). Never raises for
    an answer: what the statuses add up to is the caller's (answer_error)."""
    deadline = Deadline(seconds, timing)
    waiting: set[str] = set()  # told to the listener, so it hears how each one ended
    while True:
        members = current_shares(service, backup_id)
        statuses = {t: (members[t].status or "unknown") if t in members else MEMBER_ABSENT
                    for t in targets}  # fmt: skip
        open_ = [t for t in targets if statuses[t] not in (*ANSWERED, MEMBER_ABSENT)]
        out_of_time = deadline.passed
        for target in targets:
            ended = target not in open_ or out_of_time
            if target in waiting and ended:
                on_wait(deadline.tick(_accepting(target, backup_id), statuses[target], ended=True))
                waiting.discard(target)
            elif not ended:
                on_wait(deadline.tick(_accepting(target, backup_id), statuses[target]))
                waiting.add(target)
        if not open_ or out_of_time:
            return statuses
        deadline.pause()


def _accepting(project: str, backup_id: str) -> str:
    return f"project {project} to accept backup {backup_id}"


def answer_error(
    statuses: dict[str, str], seconds: float, backup_id: str
) -> BackupshareError | None:
    """What the receivers' answers add up to: any still pending when time ran out is exit 8
    (it outranks a rejection: the run could not learn everything), any rejected exit 6."""
    pending = [t for t, status in statuses.items() if status not in (*ANSWERED, MEMBER_ABSENT)]
    refused = [t for t, status in statuses.items() if status in (MEMBER_REJECTED, MEMBER_ABSENT)]
    if pending:
        return UnavailableError(
            f"backup {backup_id}: {_projects(pending)} did not answer in {seconds:g} s "
            "(still pending)",
            hint="wait longer with a larger --wait-accepted, or ask the receiving project to "
            "run `backupshare accept --all-pending`",
        )
    if refused:
        return RejectedError(
            f"backup {backup_id}: {_projects(refused)} rejected it (or left)",
            hint="ask the receiving project why; `backupshare list-shares --backup-id "
            f"{backup_id}` shows each member",
        )
    return None


def _projects(projects: list[str]) -> str:
    return f"project{'s' if len(projects) > 1 else ''} {', '.join(projects)}"


def share(
    service: SharingService,
    backup_id: str,
    targets: list[str],
    *,
    dry_run: bool = False,
    warn: Callable[[str], None] = lambda message: None,
    known: Backup | None = None,
    existing: dict[str, Share] | None = None,
) -> ShareOutcome:
    """Converges: lists first, POSTs only what is missing, and never POSTs twice for a project
    whose sharing may already exist (an unknown outcome is resolved by listing again). A dry
    run reads what the real run would and refuses what the real run would refuse. `known`: the
    backup as the caller has just read it (so it is not read again for its warnings);
    `existing`: its whole list of sharings, just read by the caller (apply's plan), so it is
    not listed again before the POST."""
    check_target_count(service, targets)
    # A dry run cannot learn from the service's refusal, so it reads to the end; the real run
    # reads up to the first short page, and pays for the rest only when the service refuses.
    proven = dry_run or existing is not None
    if existing is None:
        existing = current_shares(service, backup_id, optimistic=not proven)
    else:
        existing = dict(existing)
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
        raise ProjectLimitError(
            f"backup {backup_id} is shared with {len(existing)} projects; {len(missing)} more "
            f"would pass the limit of {service.max_projects}",
            hint="end a sharing first (backupshare cancel), or share with fewer projects",
        )


def _share_result(backup_id: str, target: str, share: Share | None, result: str) -> Result:
    share_id = share.id if share else None
    return Result(backup_id, target, share_id, result, status=share.status if share else None)


class Settled:
    """Where each missing target ended up after the POSTs (and the lists that settled them).
    A plain class: a dataclass would cost ≈ 0.3 ms to define on every `share`."""

    def __init__(self) -> None:
        self.created: dict[str, Share | None] = {}
        self.existing: dict[str, Share] = {}  # there all along, it turned out
        self.failures: dict[str, BackupshareError] = {}


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
