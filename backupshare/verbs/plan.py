"""plan: a sharings file (sharings.py) against the live state → one row per (backup, project).

Reads only. Per entry, the backups its selector matches (the entry's profile's service); then
every selected backup's current sharings, concurrently (fanout.ordered, one request budget);
then, per backup, what every entry selecting it asks:

- `share`: a project named and not shared with; `ok`: named and shared;
- `cancel`: shared with a project no entry names, when an `exact` entry selects the backup;
- `blocked` with the `reason` the real run would meet: own project, backup not found or not
  available, encrypted on VBS, over the service's project limit, an accepted CBR member without
  `revoke_accepted`.

When the limit leaves no room for the additions unless some removals go first, the first such
cancels carry `reason: "limit: removed first"` (apply runs them before the additions). Two exact
entries selecting one backup with different project sets: a ConfigError (nothing is changed);
an exact entry whose selector matches no backup: NotFoundError — an empty input never means
"remove everything".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, NotFoundError
from ..models import BACKUP_AVAILABLE, MEMBER_ACCEPTED, Backup, ListQuery, Share
from ..selectors import Selectors
from .fanout import DEFAULT_CONCURRENCY, ordered
from .find import look_up_backup

if TYPE_CHECKING:
    from ..service import SharingService
    from ..sharings import Entry, SharingsFile
    from .batch import Interrupt

SHARE, CANCEL, OK, BLOCKED = "share", "cancel", "ok", "blocked"
ACTIONS = (SHARE, CANCEL, OK, BLOCKED)
LIMIT_FIRST = "limit: removed first"
BACKUP_PAGE = 1000
MAX_ROWS = 100_000  # plan/apply hold every row (docs/output.md, the bounds)

# The service of an entry's profile (None: the run's own profile), connected by the caller.
Services = Callable[[str | None], "SharingService"]


@dataclass(frozen=True, slots=True)  # one per row: tens of thousands in a big plan
class Seen:
    """What the plan saw of one pair: apply --plan refuses when the live state differs."""

    shared: bool
    share_id: str | None = None
    member_status: str | None = None

    @classmethod
    def of(cls, share: Share | None) -> Seen:
        if share is None:
            return cls(False)
        return cls(True, share.id, share.status)

    def to_dict(self) -> dict[str, Any]:
        return {"shared": self.shared, "share_id": self.share_id,
                "member_status": self.member_status}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One (backup, project) of the plan document (docs/sharings.md)."""

    entry: str
    profile: str
    service: str
    project_id: str
    backup_id: str
    backup_name: str | None
    to_project_id: str
    action: str
    reason: str | None
    seen: Seen

    @property
    def changes(self) -> bool:
        return self.action in (SHARE, CANCEL)

    @property
    def first(self) -> bool:
        """A removal the project limit forces before the additions."""
        return self.action == CANCEL and self.reason == LIMIT_FIRST

    @property
    def key(self) -> tuple[str, str]:
        return (self.profile, self.backup_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "profile": self.profile,
            "service": self.service,
            "project_id": self.project_id,
            "backup_id": self.backup_id,
            "backup_name": self.backup_name,
            "to_project_id": self.to_project_id,
            "action": self.action,
            "reason": self.reason,
            "seen": self.seen.to_dict(),
        }


@dataclass
class Plan:
    """Every row, in order (per backup: forced removals, the projects named, other removals);
    `live`: each backup's sharings as read, by (profile, backup id) — for apply, not shown."""

    rows: list[PlanRow]
    live: dict[tuple[str, str], dict[str, Share]] = field(default_factory=dict, repr=False)
    backups: dict[tuple[str, str], Backup] = field(default_factory=dict, repr=False)
    # More sharings of one pair than `live` holds (a service should list one): each is ended
    # with the pair's, so an exact entry leaves none behind.
    doubles: dict[tuple[str, str], dict[str, list[Share]]] = field(default_factory=dict, repr=False)

    @property
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(ACTIONS, 0)
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def cancels(self) -> int:
        return sum(1 for row in self.rows if row.action == CANCEL)

    @property
    def holds(self) -> bool:
        """Every row `ok`: the policy holds (plan --detailed-exitcode's 0)."""
        return all(row.action == OK for row in self.rows)

    def to_document(self) -> dict[str, Any]:
        return {"version": 1, "summary": self.summary,
                "changes": [row.to_dict() for row in self.rows]}  # fmt: skip

    def summary_line(self) -> str:
        s = self.summary
        return (
            f"plan: {s[SHARE]} to share, {s[CANCEL]} to cancel, {s[OK]} unchanged, "
            f"{s[BLOCKED]} blocked"
        )


@dataclass
class Selected:
    """A backup some entries select, with those entries (in file order)."""

    service: SharingService
    backup_id: str
    backup: Backup | None  # None: an `id` the service does not know
    entries: list[Entry] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.service.settings.profile, self.backup_id)


def make_plan(
    sharings: SharingsFile,
    services: Services,
    *,
    revoke_accepted: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    stop: Interrupt | None = None,
) -> Plan:
    """The plan of a checked sharings file (see the module's docstring). Reads only."""
    for entry in sharings.entries:
        _refuse_unselective(entry)
    for entry in sharings.entries:
        _check_entry(entry, _entry_service(entry, services))
    selected = _select_all(sharings, services)
    _refuse_conflicts(selected)
    if sum(len(s.entries) for s in selected.values()) > MAX_ROWS:
        raise ConfigError(
            f"{sharings.source}: selects more than {MAX_ROWS:,} (backup, entry) pairs",
            hint="split the file, or narrow its selectors (newest: N)",
        )

    def read(item: Selected) -> tuple[Selected, Sharings]:
        if item.backup is None:
            return item, ({}, {})
        return item, sharings_of(item.service, item.backup_id)

    plan = Plan([])
    for item, (live, doubles) in ordered(
        selected.values(), read, concurrency=concurrency, stop=stop
    ):
        plan.live[item.key] = live
        if doubles:
            plan.doubles[item.key] = doubles
        if item.backup is not None:
            plan.backups[item.key] = item.backup
        plan.rows += backup_rows(item, live, revoke_accepted=revoke_accepted)
        if len(plan.rows) > MAX_ROWS:
            raise ConfigError(f"{sharings.source}: more than {MAX_ROWS:,} rows in the plan")
    return plan


Sharings = tuple[dict[str, Share], dict[str, list[Share]]]


def sharings_of(service: SharingService, backup_id: str) -> Sharings:
    """The backup's sharings by target project, and any more than one a project has (a
    hostile or broken service can list two for one pair: neither may be lost from sight)."""
    query = ListQuery(filters=(("backup_id", backup_id),))
    live: dict[str, Share] = {}
    doubles: dict[str, list[Share]] = {}
    for page in service.iter_pages(query):
        for share in page:
            if share.to_project_id in live:
                doubles.setdefault(share.to_project_id, []).append(share)
            else:
                live[share.to_project_id] = share
    return live, doubles


def _refuse_unselective(entry: Entry) -> None:
    """Defence in depth behind the reader (an Entry built some other way): an exact entry's
    selector that names nothing would select every backup, and cancel every other sharing."""
    chosen = entry.selector
    if entry.exact and chosen.backup_id is None and chosen.filters in (None, Selectors()):
        raise ConfigError(
            f"{entry.where}: {entry.label}: backups: an exact entry's selector must name "
            "something (id, volume_id, name, …): it never means every backup",
            hint="nothing was changed",
        )


def _entry_service(entry: Entry, services: Services) -> SharingService:
    """The entry's profile's service; a profile that cannot be used is the file's error, at
    the line of its `profile:` key."""
    try:
        return services(entry.profile)
    except ConfigError as exc:
        if entry.profile is None:
            raise
        exc.message = f"{entry.profile_where or entry.where}: profile: {exc.message}"
        raise


def _check_entry(entry: Entry, service: SharingService) -> None:
    """What only the entry's service can say, still before any request."""
    filters = entry.selector.filters
    if filters is not None and filters.vault_id is not None and not service.has_vaults:
        raise ConfigError(
            f"{entry.where}: backups: vault_id: the profile {service.settings.profile!r} uses "
            f"{service.name.upper()}, which has no vaults"
        )


def _select_all(sharings: SharingsFile, services: Services) -> dict[tuple[str, str], Selected]:
    selected: dict[tuple[str, str], Selected] = {}
    for entry in sharings.entries:
        service = services(entry.profile)
        for backup_id, backup in select_backups(service, entry):
            key = (service.settings.profile, backup_id)
            item = selected.setdefault(key, Selected(service, backup_id, backup))
            item.entries.append(entry)
    return selected


def select_backups(service: SharingService, entry: Entry) -> list[tuple[str, Backup | None]]:
    """The backups the entry's selector matches, newest first: `id` whatever its status (an
    unknown id is blocked in an additive entry, not found in an exact one); filters among the
    available backups, the newest N per volume (volumes named) or overall."""
    chosen = entry.selector
    if chosen.backup_id is not None:
        try:
            return [(chosen.backup_id, look_up_backup(service, chosen.backup_id))]
        except NotFoundError as exc:
            if entry.exact:
                exc.message = f"{entry.where}: {entry.label}: {exc.message}"
                exc.hint = "an exact entry must select a backup: nothing was changed"
                raise
            return [(chosen.backup_id, None)]
    assert chosen.filters is not None
    filters = replace(chosen.filters, status=BACKUP_AVAILABLE)
    pages = service.iter_backups(filters, page_size=BACKUP_PAGE)
    backups = [backup for page in pages for backup in page if backup.id]
    if chosen.newest is not None:
        backups = _newest(backups, chosen.newest, per_volume=chosen.per_volume)
    if not backups and entry.exact:
        raise NotFoundError(
            f"{entry.where}: {entry.label}: the exact entry's selector matches no available backup",
            hint="an empty selection never means 'remove everything': nothing was changed",
        )
    return [(str(backup.id), backup) for backup in backups]


def _newest(backups: list[Backup], count: int, *, per_volume: bool) -> list[Backup]:
    """The newest `count` (by creation time, then id: never the service's order alone), per
    volume or overall, newest first."""

    def order(b: Backup) -> tuple[str, str]:
        return (b.created_at or "", b.id or "")

    if not per_volume:
        return sorted(backups, key=order, reverse=True)[:count]
    by_volume: dict[str | None, list[Backup]] = {}
    for backup in backups:
        by_volume.setdefault(backup.volume_id, []).append(backup)
    kept = [
        b for group in by_volume.values() for b in sorted(group, key=order, reverse=True)[:count]
    ]
    return sorted(kept, key=order, reverse=True)


def _refuse_conflicts(selected: dict[tuple[str, str], Selected]) -> None:
    for item in selected.values():
        exact = [entry for entry in item.entries if entry.exact]
        sets = {frozenset(entry.to) for entry in exact}
        if len(sets) > 1:
            named = "; ".join(f"{e.label} ({e.where})" for e in exact)
            raise ConfigError(
                f"backup {item.backup_id} is selected by exact entries with different projects: "
                f"{named}",
                hint="give one exact entry per backup, or make the project lists the same; "
                "nothing was changed",
            )


def backup_rows(item: Selected, live: dict[str, Share], *, revoke_accepted: bool) -> list[PlanRow]:
    """One backup's rows: the projects the entries name, then the removals of exact mode."""
    service, backup = item.service, item.backup
    own = service.settings.project_id
    wanted: dict[str, Entry] = {}
    for entry in item.entries:
        for project in entry.to:
            wanted.setdefault(project, entry)

    def row(entry: Entry, project: str, action: str, reason: str | None = None) -> PlanRow:
        return PlanRow(
            entry.label, service.settings.profile, service.name, own, item.backup_id,
            backup.name if backup else None, project, action, reason, Seen.of(live.get(project)),
        )  # fmt: skip

    named: list[PlanRow] = []
    for project, entry in wanted.items():
        blocked = None if project in live else _share_blocked(service, backup, project)
        action = OK if project in live else (BLOCKED if blocked else SHARE)
        named.append(row(entry, project, action, blocked))
    removals: list[PlanRow] = []
    exact = next((entry for entry in item.entries if entry.exact), None)
    if exact is not None:
        for project, share in sorted(live.items()):  # the same order every run: plans diff
            if project in wanted:
                continue
            if share.status == MEMBER_ACCEPTED and not revoke_accepted:
                reason = "accepted by the receiving project (--revoke-accepted ends it)"
                removals.append(row(exact, project, BLOCKED, reason))
            else:
                removals.append(row(exact, project, CANCEL))
    return _within_limit(service.max_projects, len(live), named, removals)


def _share_blocked(service: SharingService, backup: Backup | None, project: str) -> str | None:
    """Why sharing the backup with the project would be refused, as the real run would say."""
    if project == service.settings.project_id:
        return "own project: a backup cannot be shared with its own project"
    if backup is None:
        return "backup not found"
    if backup.status != BACKUP_AVAILABLE:
        status = (backup.status or "unknown")[:64]  # the service's text: bounded
        return f"backup not available (status {status})"
    if service.name == "vbs" and encrypted(backup):
        return "encrypted: VBS does not share encrypted backups"
    return None


def encrypted(backup: Backup) -> bool:
    """Where the service's record says so (CBR's extend_info; a Cinder-style `encrypted` or
    `encryption_key_id` on VBS)."""
    raw = backup.raw
    return (
        bool(backup.encrypted)
        or raw.get("encrypted") is True
        or bool(isinstance(raw.get("encryption_key_id"), str) and raw.get("encryption_key_id"))
    )


def _within_limit(
    limit: int, shared: int, named: list[PlanRow], removals: list[PlanRow]
) -> list[PlanRow]:
    """Additions past the project limit are blocked; when additions fit only once some
    removals are done, those removals are marked to go first (and are listed first)."""
    cancels = [r for r in removals if r.action == CANCEL]
    room = limit - (shared - len(cancels))
    fitted: list[PlanRow] = []
    for entry_row in named:
        if entry_row.action == SHARE:
            if room <= 0:
                reason = f"over the project limit: a backup can be shared with at most {limit}"
                entry_row = replace(entry_row, action=BLOCKED, reason=reason)
            else:
                room -= 1
        fitted.append(entry_row)
    additions = sum(1 for r in fitted if r.action == SHARE)
    forced = max(0, shared + additions - limit)
    first = [replace(r, reason=LIMIT_FIRST) for r in cancels[:forced]]
    rest = [r for r in removals if r not in cancels[:forced]]
    return [*first, *fitted, *rest]


def changed_pairs(rows: list[PlanRow]) -> Iterator[PlanRow]:
    return (row for row in rows if row.changes)
