"""plan and apply: a sharings file (or a saved plan) → the library's Client (api_policy.py)
→ the plan's rows, or the apply report, in every output format."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..output.records import Records
from .catalog import single_command
from .invocation import Invocation
from .options import with_common_options
from .shares import Concurrency

if TYPE_CHECKING:
    from ..config import Settings
    from ..models import Result
    from ..verbs.plan import Plan, PlanRow

PLAN_EXAMPLES = (
    "Examples:  backupshare plan -f sharings.yaml  ·  "
    "backupshare plan -f sharings.yaml --detailed-exitcode -q  ·  "
    "backupshare plan -f sharings.yaml -o json > plan.json"
)
APPLY_EXAMPLES = (
    "Examples:  backupshare apply -f sharings.yaml  ·  "
    "backupshare apply -f sharings.yaml --yes --max-removals 20  ·  "
    "backupshare apply --plan plan.json --yes"
)
# The spinner while the plan reads: it counts nothing (the rows come only at the end).
PLANNING = "planning: reading backups and sharings"
SHOWN_CHANGES = 50  # rows of the plan apply shows on stderr before it asks

SharingsFileOption = Annotated[
    str | None,
    typer.Option("-f", "--file", metavar="FILE|-", help="The sharings file (- = stdin)."),
]
RevokeAccepted = Annotated[
    bool,
    typer.Option("--revoke-accepted", help="Also end CBR sharings the receiver has accepted."),
]


def command(name: str) -> Any:
    """The click command for `name`, built on demand (see cli.LazyGroup)."""
    if name == "plan":
        return single_command(name, plan, epilog=PLAN_EXAMPLES)
    return single_command(name, apply, epilog=APPLY_EXAMPLES)


@with_common_options
def plan(
    inv: Invocation,
    file: SharingsFileOption = None,
    detailed_exitcode: Annotated[
        bool,
        typer.Option("--detailed-exitcode", help="Exit 10 unless every row is ok (drift check)."),
    ] = False,
    revoke_accepted: RevokeAccepted = False,
    concurrency: Concurrency = 8,
) -> None:
    from ..errors import DifferencesFound
    from . import arguments

    sharings = _sharings_file(inv, file)
    arguments.concurrency_arg(concurrency)
    out = inv.out()
    with (
        inv.client(pool_size=concurrency) as client,
        client._services(_resolver(inv), pool_size=concurrency) as services,
        out.progress(PLANNING, counts=False),
    ):
        made = client._plan(sharings, revoke_accepted=revoke_accepted,
                            concurrency=concurrency, services=services)  # fmt: skip
    write_plan(inv, made)
    out.notice(made.summary_line())
    if detailed_exitcode and not made.holds:
        raise DifferencesFound(
            f"{made.summary_line()}: the policy does not hold",
            hint="`backupshare apply -f FILE` converges it",
        )


@with_common_options
def apply(
    inv: Invocation,
    file: SharingsFileOption = None,
    saved: Annotated[
        str | None,
        typer.Option("--plan", metavar="PLAN.json", help="Execute this saved plan (- = stdin)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    max_removals: Annotated[
        int,
        typer.Option("--max-removals", metavar="N", help="Refuse a plan cancelling more."),
    ] = 10,
    revoke_accepted: RevokeAccepted = False,
    concurrency: Concurrency = 8,
) -> None:
    from ..verbs.apply import check_removals

    sharings, saved_plan = _apply_inputs(inv, file, saved, max_removals, concurrency)
    terminal = inv.can_prompt()
    out = inv.out()
    with (
        inv.client(pool_size=concurrency) as client,
        client._services(_resolver(inv), pool_size=concurrency) as services,
    ):
        with out.progress(PLANNING, counts=False):
            if sharings is not None:
                made = client._plan(sharings, revoke_accepted=revoke_accepted,
                                    concurrency=concurrency, services=services)  # fmt: skip
            else:
                made = client._checked_plan(saved_plan, services, concurrency=concurrency)
        _show_plan(inv, made)
        check_removals(made, max_removals)
        _confirm(inv, made, yes=yes, terminal=terminal)
        # From here on Ctrl-C is a flag: the report is whole.
        with inv.interrupt_latch() as stop:
            with out.progress("applying", total=len(made.rows)) as advance:
                outcome = client._apply(made, services, max_removals=max_removals,
                                        concurrency=concurrency, progress=advance,
                                        stop=stop)  # fmt: skip
            pairs = list(zip(outcome.rows, outcome.results, strict=True))
            out.layout.records(out, ApplyReport(outcome.changed), pairs)
    error = outcome.error()
    if error:
        raise error


def _apply_inputs(
    inv: Invocation, file: str | None, saved: str | None, max_removals: int, concurrency: int
) -> tuple[Any, Plan | None]:
    """apply's arguments checked, and the sharings file or the saved plan read — all before
    anything is sent (a saved plan cancelling too much is refused unread)."""
    from ..errors import UsageError
    from ..verbs.apply import check_removals
    from ..verbs.plan import Plan
    from . import arguments

    if (file is None) == (saved is None):
        raise UsageError("give the sharings file (-f FILE) or a saved plan (--plan PLAN.json)")
    if max_removals < 0:
        raise UsageError(f"invalid --max-removals {max_removals}: must be 0 or more")
    arguments.concurrency_arg(concurrency)
    if saved is None:
        return _sharings_file(inv, file), None
    saved_plan = Plan(_saved_rows(inv, saved))
    check_removals(saved_plan, max_removals)
    return None, saved_plan


def _confirm(inv: Invocation, made: Plan, *, yes: bool, terminal: bool) -> None:
    """Cancels need --yes off a terminal; on one, changes are asked for (no: exit 0)."""
    from ..errors import UsageError

    if made.cancels and not yes and not terminal:
        raise UsageError(
            f"the plan cancels {made.cancels} sharing{'s' if made.cancels != 1 else ''}: "
            "without a terminal to ask, give --yes",
            hint="review it first: backupshare plan -f FILE",
        )
    changes = any(row.changes for row in made.rows)
    if changes and terminal and not yes and not inv.confirm("Apply these changes?"):
        inv.out().notice("nothing was changed")
        raise typer.Exit(0)


def _sharings_file(inv: Invocation, file: str | None) -> Any:
    from datetime import datetime, timezone

    from ..errors import UsageError
    from ..sharings import read_sharings

    if file is None:
        raise UsageError("give the sharings file: -f FILE (- = stdin)")
    return read_sharings(file, inv.stdin_bytes(), now=datetime.now(timezone.utc))


def _saved_rows(inv: Invocation, name: str) -> list[PlanRow]:
    from ..api_policy import read_plan_text
    from ..verbs.apply import load_plan

    shown = "<stdin>" if name == "-" else name
    return load_plan(read_plan_text(name, inv.stdin_bytes()), shown)


def _resolver(inv: Invocation) -> Any:
    """An entry's profile, resolved as `--profile NAME` is (its warnings said once)."""
    from ..resolution import load_settings

    def resolve(profile: str) -> Settings:
        settings = load_settings(replace(inv.flags, profile=profile), inv.env)
        for warning in settings.warnings:
            inv.out().warning(warning)
        return settings

    return resolve


def write_plan(inv: Invocation, made: Plan) -> None:
    """The plan on stdout: the plan document with -o json, the changed backups with -o ids."""
    out = inv.out()
    if out.format == "ids":
        ids = dict.fromkeys(row.backup_id for row in made.rows if row.changes)
        out.write("".join(f"{backup_id}\n" for backup_id in ids))
        return
    out.layout.records(out, PlanRows(made.summary), made.rows)


def _show_plan(inv: Invocation, made: Plan) -> None:
    """What apply will do, on stderr before it asks: the changes and blocked rows, and the
    summary line."""
    out = inv.out()
    shown = [row for row in made.rows if row.action != "ok"]
    for row in shown[:SHOWN_CHANGES]:
        reason = f"  ({row.reason})" if row.reason else ""
        out.notice(
            f"  {row.action:<8} {row.backup_id} to {row.to_project_id}  [{row.entry}]{reason}"
        )
    if len(shown) > SHOWN_CHANGES:
        out.notice(f"  … and {len(shown) - SHOWN_CHANGES} more (`backupshare plan` lists them)")
    out.notice(made.summary_line())


# -- what is shown ------------------------------------------------------------------------------
PLAN_CSV = ("entry", "profile", "service", "project_id", "backup_id", "backup_name",
            "to_project_id", "action", "reason", "seen_shared", "seen_share_id",
            "seen_member_status")  # fmt: skip


class PlanRows(Records["PlanRow"]):
    """plan: one row per (backup, project); json and yaml print the plan document."""

    csv_header: Sequence[str] = PLAN_CSV
    headers: Sequence[str] = ("ACTION", "BACKUP ID", "TO PROJECT", "ENTRY", "REASON", "BACKUP NAME")
    empty = "nothing selected: the plan is empty"
    roles = {  # noqa: RUF012  (read only)
        "ACTION": ("key", 0),
        "BACKUP ID": ("id", 0),
        "TO PROJECT": ("id", 0),
        "REASON": ("text", 0),  # why a row is blocked: always shown, as share's ERROR is
        "ENTRY": ("lesser", 2),
        "BACKUP NAME": ("lesser", 3),
    }

    def __init__(self, summary: dict[str, int]) -> None:
        self.summary = summary

    def data(self, item: PlanRow) -> Any:
        return item.to_dict()

    def document(self, records: list[Any]) -> Any:
        return {"version": 1, "summary": self.summary, "changes": records}

    def csv_row(self, item: PlanRow) -> Iterable[Any]:
        seen = item.seen
        flat = item.to_dict()
        flat.pop("seen")
        return [*flat.values(), str(seen.shared).lower(), seen.share_id, seen.member_status]

    def id(self, item: PlanRow) -> str | None:
        return item.backup_id if item.changes else None

    def row(self, item: PlanRow) -> list[str]:
        return [item.action, item.backup_id, item.to_project_id, item.entry,
                item.reason or "", item.backup_name or "-"]  # fmt: skip


REPORT_CSV = ("entry", "action", "backup_id", "to_project_id", "share_id", "result", "error")


class ApplyReport(Records[tuple["PlanRow", "Result"]]):
    """apply: one result per plan row, in `{"changed", "results"}`."""

    csv_header: Sequence[str] = REPORT_CSV
    headers: Sequence[str] = ("RESULT", "ACTION", "PROJECT", "BACKUP ID", "SHARE ID", "ENTRY",
                              "ERROR")  # fmt: skip
    empty = "nothing to do"
    roles = {  # noqa: RUF012  (read only)
        "RESULT": ("key", 0),
        "ACTION": ("key", 1),
        "PROJECT": ("id", 0),
        "BACKUP ID": ("id", 0),
        "SHARE ID": ("id", 2),
        "ENTRY": ("lesser", 3),
        "ERROR": ("text", 0),
    }

    def __init__(self, changed: bool) -> None:
        self.changed = changed

    def data(self, item: tuple[PlanRow, Result]) -> Any:
        from ..verbs.apply import report_record

        return report_record(*item)

    def document(self, records: list[Any]) -> Any:
        return {"changed": self.changed, "results": records}

    def csv_row(self, item: tuple[PlanRow, Result]) -> Iterable[Any]:
        row, result = item
        error = result.error.message if result.error else ""
        return [row.entry, row.action, row.backup_id, row.to_project_id, result.share_id,
                result.result, error]  # fmt: skip

    def id(self, item: tuple[PlanRow, Result]) -> str | None:
        return item[1].share_id or None

    def row(self, item: tuple[PlanRow, Result]) -> list[str]:
        row, result = item
        error = result.error.message if result.error else ""
        return [result.result, row.action, row.to_project_id, row.backup_id,
                result.share_id or "-", row.entry, error]  # fmt: skip
