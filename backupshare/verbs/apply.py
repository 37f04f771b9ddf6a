"""apply: a plan (verbs/plan.py, fresh or saved) → converge, each row reported.

Per backup: the removals the project limit forces first, then the additions (verbs/share.share:
list-free, since the plan has just read the sharings; an unknown outcome settled by listing),
then the other removals (verbs/cancel.cancel) — so no receiver loses access mid-change. Backups
concurrently (fanout.ordered, one request budget). Every row is reported with today's words
(`existing` for an `ok` row, `failed` with its reason for a `blocked` one, `skipped` for what an
interrupt kept from starting). A saved plan (`load_plan`) is checked against the live state
first (`check_unchanged`: the compare-and-swap of "review, then apply").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import (
    BackupNotAvailableError,
    BackupshareError,
    ConfigError,
    EncryptedBackupError,
    NotFoundError,
    ProjectLimitError,
    RejectedError,
    UsageError,
)
from ..models import (
    RESULT_EXISTING,
    RESULT_FAILED,
    RESULT_SKIPPED,
    Backup,
    Result,
    Share,
    normalize_project_id,
    normalize_uuid,
)
from .batch import Interrupt, Outcome
from .cancel import CancelPlan, cancel
from .fanout import DEFAULT_CONCURRENCY, ordered
from .plan import (
    ACTIONS,
    BLOCKED,
    CANCEL,
    MAX_ROWS,
    OK,
    SHARE,
    Plan,
    PlanRow,
    Seen,
    Sharings,
    sharings_of,
)
from .share import share

if TYPE_CHECKING:
    from ..service import SharingService

DEFAULT_MAX_REMOVALS = 10
MAX_PLAN_BYTES = 64 * 1024 * 1024  # 100,000 rows of a plan document fit in far less
MAX_TEXT = 1000
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class StalePlanError(RejectedError):
    """A saved plan whose pairs changed since it was made (exit 6): nothing was sent."""


@dataclass
class ApplyOutcome(Outcome):
    """The report: one Result per plan row (`rows`, in the same order)."""

    rows: list[PlanRow] = field(default_factory=list)
    what: ClassVar[str] = "change"

    def records(self) -> list[dict[str, Any]]:
        return [
            report_record(row, result) for row, result in zip(self.rows, self.results, strict=True)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {"changed": self.changed, "results": self.records()}


def report_record(row: PlanRow, result: Result) -> dict[str, Any]:
    return {
        "entry": row.entry,
        "action": row.action,
        "backup_id": row.backup_id,
        "to_project_id": row.to_project_id,
        "share_id": result.share_id,
        "result": result.result,
        "error": result.error.to_dict() if result.error else None,
    }


def check_removals(plan: Plan, max_removals: int) -> None:
    """More cancels than allowed: refused before anything is sent (exit 2)."""
    if plan.cancels > max_removals:
        raise UsageError(
            f"the plan cancels {plan.cancels} sharings, more than --max-removals {max_removals}",
            hint="review the plan (backupshare plan), then raise --max-removals to allow it",
        )


def apply_plan(
    plan: Plan,
    services: Callable[[PlanRow], SharingService],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Callable[[int], None] = lambda n: None,
    stop: Interrupt | None = None,
) -> ApplyOutcome:
    """Converges every backup of the plan (see the module's docstring); `plan.live` holds
    each backup's sharings as just read. `progress` hears how many rows each backup settled."""
    stop = stop or Interrupt()
    groups: dict[tuple[str, str], list[int]] = {}
    for index, row in enumerate(plan.rows):
        groups.setdefault(row.key, []).append(index)
    results: list[Result | None] = [None] * len(plan.rows)

    def work(key: tuple[str, str]) -> tuple[list[int], list[Result]]:
        indexes = groups[key]
        rows = [plan.rows[i] for i in indexes]
        live = plan.live.get(key, {})
        known = plan.backups.get(key)
        doubles = plan.doubles.get(key, {})
        return indexes, converge_backup(services(rows[0]), rows, live, stop, known, doubles)

    for indexes, done in ordered(list(groups), work, concurrency=concurrency, stop=stop):
        for index, result in zip(indexes, done, strict=True):
            results[index] = result
        progress(len(indexes))
    final = [
        result if result is not None else _not_started(row)
        for row, result in zip(plan.rows, results, strict=True)
    ]
    return ApplyOutcome(final, rows=plan.rows, interrupted=stop.raised)


def _not_started(row: PlanRow) -> Result:
    """A row of a backup an interrupt kept from starting: `skipped`, unless it needed nothing
    (an `ok` row was seen shared: `existing`, as if its backup had been reached)."""
    if row.action == OK:
        return _result(row, RESULT_EXISTING, row.seen.share_id)
    return _result(row, RESULT_SKIPPED)


def converge_backup(
    service: SharingService,
    rows: list[PlanRow],
    live: dict[str, Share],
    stop: Interrupt,
    known: Backup | None = None,
    doubles: dict[str, list[Share]] | None = None,
) -> list[Result]:
    """One backup's rows: forced removals, additions, then removals; each row its result.
    A removal ends every sharing the pair has (`doubles`: those past the one in `live`)."""
    by_project: dict[str, Result] = {}
    for row in rows:
        if row.action == OK:
            by_project[row.to_project_id] = _result(row, RESULT_EXISTING, row.seen.share_id)
        elif row.action == BLOCKED:
            by_project[row.to_project_id] = _result(row, RESULT_FAILED, error=blocked_error(row))
    current = dict(live)
    extra = doubles or {}
    first = [row for row in rows if row.first]
    by_project.update(_remove(service, first, current, stop, extra))
    additions = [row for row in rows if row.action == SHARE]
    by_project.update(_add(service, rows[0].backup_id, additions, current, stop, known))
    later = [row for row in rows if row.action == CANCEL and not row.first]
    by_project.update(_remove(service, later, current, stop, extra))
    return [by_project[row.to_project_id] for row in rows]


def _add(
    service: SharingService,
    backup_id: str,
    rows: list[PlanRow],
    live: dict[str, Share],
    stop: Interrupt,
    known: Backup | None,
) -> dict[str, Result]:
    if not rows:
        return {}
    if stop.raised:
        return {row.to_project_id: _result(row, RESULT_SKIPPED) for row in rows}
    targets = [row.to_project_id for row in rows]
    try:
        outcome = share(service, backup_id, targets, existing=live, known=known)
    except BackupshareError as exc:
        return {row.to_project_id: _result(row, RESULT_FAILED, error=exc) for row in rows}
    return {r.to_project_id or "": r for r in outcome.results}


def _remove(
    service: SharingService,
    rows: list[PlanRow],
    live: dict[str, Share],
    stop: Interrupt,
    doubles: dict[str, list[Share]],
) -> dict[str, Result]:
    """Ends the rows' sharings through the cancel verb, as `cancel --backup-id B --to-project
    P…` would — every sharing each pair has; a sharing already gone is `absent`. A row's result
    is its pair's first failure, else its first sharing's. What is ended leaves `live`."""
    if not rows:
        return {}
    if stop.raised:
        return {row.to_project_id: _result(row, RESULT_SKIPPED) for row in rows}
    found = [
        share
        for row in rows
        if row.to_project_id in live
        for share in (live[row.to_project_id], *doubles.get(row.to_project_id, ()))
    ]
    plan = CancelPlan(share_ids=[s.id for s in found], known={s.id: s for s in found})
    outcome = cancel(service, plan, concurrency=1, stop=stop)
    done: dict[str, Result] = {}
    for result in outcome.results:
        project = result.to_project_id
        if project and (project not in done or _first_failure(done[project], result)):
            done[project] = result
    results: dict[str, Result] = {}
    for row in rows:
        result = done.get(row.to_project_id) or _result(row, "absent")
        if result.result in ("canceled", "absent"):
            live.pop(row.to_project_id, None)
        results[row.to_project_id] = result
    return results


def _first_failure(kept: Result, new: Result) -> bool:
    return new.result == RESULT_FAILED and kept.result != RESULT_FAILED


def _result(
    row: PlanRow, word: str, share_id: str | None = None, error: BackupshareError | None = None
) -> Result:
    return Result(row.backup_id, row.to_project_id, share_id or row.seen.share_id, word, error)


def blocked_error(row: PlanRow) -> BackupshareError:
    """A blocked row as the error the real run would meet (its class, hence its exit code)."""
    reason = row.reason or "blocked"
    message = f"backup {row.backup_id} to project {row.to_project_id}: {reason}"
    if reason.startswith("backup not found"):
        return NotFoundError(message)
    if reason.startswith("backup not available"):
        return BackupNotAvailableError(message)
    if reason.startswith("encrypted"):
        return EncryptedBackupError(message)
    if reason.startswith("over the project limit"):
        return ProjectLimitError(message)
    return RejectedError(message)


# -- saved plans ----------------------------------------------------------------------------------
PLAN_KEYS = ("version", "summary", "changes")
CHANGE_KEYS = ("entry", "profile", "service", "project_id", "backup_id", "backup_name",
               "to_project_id", "action", "reason", "seen")  # fmt: skip
SEEN_KEYS = ("shared", "share_id", "member_status")


def load_plan(text: str, source: str) -> list[PlanRow]:
    """A plan document (`plan -o json`), every field checked: bounded, typed; a ConfigError
    (exit 3) names the change and the field that is wrong."""
    if len(text) > MAX_PLAN_BYTES:
        raise ConfigError(f"{source}: larger than {MAX_PLAN_BYTES // 2**20} MiB: not a plan")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(
            f"{source}: not a plan document (invalid JSON: {str(exc)[:100]})"
        ) from None
    return plan_rows(document, source)


def plan_rows(document: Any, source: str) -> list[PlanRow]:
    """The rows of a plan document already parsed (JSON's, or a library caller's mapping: no
    JSON round trip, so any value is judged by its type), checked as load_plan says; one
    change per (backup, project), no key the format does not have."""
    version = document.get("version") if isinstance(document, Mapping) else None
    if isinstance(version, bool) or not isinstance(version, int) or version != 1:
        raise ConfigError(
            f"{source}: not a plan document of version 1 (`backupshare plan -o json`)"
        )
    _known_keys(document, PLAN_KEYS, source)
    _check_summary(document.get("summary"), source)
    changes = document.get("changes")
    if not isinstance(changes, list):
        raise ConfigError(f"{source}: changes: missing or not a list")
    if len(changes) > MAX_ROWS:
        raise ConfigError(f"{source}: changes: more than {MAX_ROWS:,}")
    rows: list[PlanRow] = []
    first: dict[tuple[str, str], int] = {}
    for index, change in enumerate(changes):
        row = _plan_row(change, f"{source}: changes[{index}]")
        pair = (row.backup_id, row.to_project_id)
        if pair in first:
            raise ConfigError(
                f"{source}: changes[{index}]: backup {row.backup_id} to project "
                f"{row.to_project_id} is changes[{first[pair]}] already: one change per pair",
                hint="a plan made by `backupshare plan -o json` has one; make it again",
            )
        first[pair] = index
        rows.append(row)
    return rows


def _known_keys(mapping: Mapping[Any, Any], known: tuple[str, ...], where: str) -> None:
    for key in mapping:
        if key not in known:
            raise ConfigError(
                f"{where}: {_shown(key)}: unknown key (known: {', '.join(known)})",
                hint="a plan document is `backupshare plan -o json`'s, unchanged",
            )


def _check_summary(summary: Any, source: str) -> None:
    """Informational (apply counts the rows itself), but of the format's shape."""
    if summary is None:
        return
    if not isinstance(summary, dict):
        raise ConfigError(f"{source}: summary: expected an object of counts")
    _known_keys(summary, ACTIONS, f"{source}: summary")
    for key, count in summary.items():
        if isinstance(count, bool) or not isinstance(count, int):
            raise ConfigError(f"{source}: summary.{key}: expected a count, got {_shown(count)}")


def _plan_row(change: Any, where: str) -> PlanRow:
    if not isinstance(change, dict):
        raise ConfigError(f"{where}: not an object")
    _known_keys(change, CHANGE_KEYS, where)

    def text(key: str, optional: bool = False) -> Any:
        value = change.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
            raise ConfigError(f"{where}.{key}: expected text, got {_shown(value)}")
        if CONTROL_RE.search(value):
            raise ConfigError(f"{where}.{key}: control characters are not allowed")
        return value

    def canonical(key: str, normalize: Callable[[str], str | None], optional: bool = False) -> Any:
        value = text(key, optional)
        if value is None:
            return None
        fixed = normalize(value)
        if fixed is None:
            raise ConfigError(f"{where}.{key}: invalid id {_shown(value)}")
        return fixed

    action = text("action")
    if action not in ACTIONS:
        raise ConfigError(f"{where}.action: {_shown(action)} is not one of {', '.join(ACTIONS)}")
    service = text("service")
    if service not in ("vbs", "cbr"):
        raise ConfigError(f"{where}.service: {_shown(service)} is not vbs or cbr")
    seen = change.get("seen")
    if not isinstance(seen, dict) or not isinstance(seen.get("shared"), bool):
        raise ConfigError(f'{where}.seen: expected {{"shared": true|false, …}}')
    _known_keys(seen, SEEN_KEYS, f"{where}.seen")
    share_id = seen.get("share_id")
    if share_id is not None and (not isinstance(share_id, str) or normalize_uuid(share_id) is None):
        raise ConfigError(f"{where}.seen.share_id: invalid id {_shown(share_id)}")
    status = seen.get("member_status")
    if status is not None and (not isinstance(status, str) or len(status) > 64):
        raise ConfigError(f"{where}.seen.member_status: expected text, got {_shown(status)}")
    return PlanRow(
        entry=text("entry"),
        profile=text("profile"),
        service=service,
        project_id=canonical("project_id", normalize_project_id),
        backup_id=canonical("backup_id", normalize_uuid),
        backup_name=text("backup_name", optional=True),
        to_project_id=canonical("to_project_id", normalize_project_id),
        action=action,
        reason=text("reason", optional=True),
        seen=Seen(seen["shared"], normalize_uuid(share_id) if share_id else None, status),
    )


def check_unchanged(
    rows: list[PlanRow],
    services: Callable[[PlanRow], SharingService],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> Plan:
    """Re-reads every backup with a change or an `ok` row and refuses (StalePlanError, exit 6,
    naming each pair) when any such pair's live state differs from what the plan saw: an `ok`
    pair whose sharing was ended since is not reported `existing`. The plan, with the sharings
    just read, to apply."""
    checked = [row for row in rows if row.changes or row.action == OK]
    keys = list(dict.fromkeys(row.key for row in checked))
    first_row = {row.key: row for row in reversed(rows)}

    def read(key: tuple[str, str]) -> tuple[tuple[str, str], Sharings]:
        return key, sharings_of(services(first_row[key]), key[1])

    read_now = dict(ordered(keys, read, concurrency=concurrency))
    live = {key: shares for key, (shares, _) in read_now.items()}
    stale = [row for row in checked if Seen.of(live[row.key].get(row.to_project_id)) != row.seen]
    if stale:
        shown = "; ".join(f"backup {r.backup_id} to {r.to_project_id}" for r in stale[:20])
        more = f" and {len(stale) - 20} more" if len(stale) > 20 else ""
        raise StalePlanError(
            f"the live state differs from the saved plan for {len(stale)} pair"
            f"{'s' if len(stale) != 1 else ''}: {shown}{more}",
            hint="nothing was sent; make a new plan (backupshare plan -o json) and review it",
        )
    doubles = {key: extra for key, (_, extra) in read_now.items() if extra}
    return Plan(rows, live, doubles=doubles)


def _shown(value: Any) -> str:
    from ..sharings import shown_value  # bounded: a document's value can be huge

    return shown_value(value)
