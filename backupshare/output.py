"""What the user sees: the table / json / jsonl / yaml / csv / ids formats and the console policy.

Each `-o` format is one object (Format) chosen once per invocation; each kind of records
(Records: sharings, results, config and doctor records) says what a record is in every
format. The only module that imports rich, and only for tables and progress on a terminal,
and with config.py the only one that imports yaml, only for `-o yaml`. Machine formats are
written directly to stdout, never through rich. Data goes to stdout; notices, warnings,
progress and errors go to stderr (docs/output.md).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar, Generic, TypeVar

from .errors import BackupshareError
from .models import RESULT_CANCELED, RESULT_CREATED, Backup, Result, Share

SHARE_CSV_FIELDS = (
    "id",
    "backup_id",
    "from_project_id",
    "to_project_id",
    "created_at",
    "updated_at",
    "backup_name",
    "backup_status",
    "backup_size",
    "volume_id",
    "availability_zone",
)
RESULT_FIELDS = ("backup_id", "to_project_id", "share_id", "result", "error")
BACKUP_CSV_FIELDS = ("id", "name", "status", "volume_id", "size", "created_at")
# A backups table keeps the id whole; then the name and status a person looks for; the volume last.
BACKUP_ROLES: dict[str, tuple[str, int]] = {
    "ID": ("id", 0),
    "NAME": ("lesser", 1),
    "STATUS": ("key", 2),
    "CREATED (UTC)": ("lesser", 3),
    "VOLUME": ("id", 4),
    "SIZE": ("lesser", 5),
}
# list-shares' columns by name (-c/--column; the csv fields and `status`), each with its table
# header. What a sharing is — its backup and the project — always shows; the share id comes next.
SHARE_HEADERS = {
    "id": "SHARE ID",
    "backup_id": "BACKUP ID",
    "backup_name": "BACKUP NAME",
    "from_project_id": "FROM PROJECT",
    "to_project_id": "TO PROJECT",
    "status": "STATUS",
    "backup_status": "BACKUP STATUS",
    "backup_size": "SIZE",
    "created_at": "CREATED (UTC)",
    "updated_at": "UPDATED (UTC)",
    "volume_id": "VOLUME",
    "availability_zone": "AZ",
}
SHARE_COLUMNS = tuple(SHARE_HEADERS)
# The default table's columns by name (share_row's order; the peer is FROM PROJECT for offers).
TABLE_COLUMNS = ("id", "backup_id", "backup_name", "to_project_id", "status", "backup_size",
                 "created_at")  # fmt: skip
SHARE_ROLES: dict[str, tuple[str, int]] = {
    "BACKUP ID": ("id", 0),
    "TO PROJECT": ("id", 0),
    "FROM PROJECT": ("id", 0),
    "SHARE ID": ("id", 1),
    "STATUS": ("key", 2),
    "BACKUP NAME": ("lesser", 3),
    "CREATED (UTC)": ("lesser", 4),
    "SIZE": ("lesser", 5),
}
PLANNED = {RESULT_CREATED: "would create", RESULT_CANCELED: "would cancel"}  # how a dry run reads
RESULT_STYLES = {
    "created": "green",
    "canceled": "green",
    "existing": "cyan",
    "absent": "dim",
    "failed": "bold red",
    "would create": "yellow",
    "would cancel": "yellow",
    "ok": "green",  # doctor's steps
    "warn": "yellow",
    "fail": "bold red",
}


# C0 and C1 controls, DEL, and the bidirectional overrides that can make text read backwards.
UNPRINTABLE_RE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Free text the service writes (names, descriptions, error messages) is neutralised by
# default when a spreadsheet would run it (`=`, `@`, tab, CR); `+`/`-` (a negative number, an
# id) and the other columns only with --csv-safe, so ordinary data stays as it was.
CSV_FREE_TEXT = frozenset({"name", "backup_name", "description", "error"})
CSV_FREE_TEXT_START = ("=", "@", "\t", "\r")
# What is shown of one server string (a message, a name, a table cell): enough for any real
# one; a longer one is cut, saying so. CUT_MARGIN covers a URL's scheme and user info, so
# masking before the cut sees every URL that starts inside what is shown.
SHOWN_MAX = 1000
CUT_MARGIN = 600
# table, json and yaml hold a whole listing before writing it: this many records at most.
COLLECTED_MAX = 100_000
T = TypeVar("T")


def printable(text: str, limit: int | None = None) -> str:
    """Text from the service made safe for a terminal: every control character shown escaped
    (`\\x1b`, `\\n`, …), so no escape sequence, line break or clipboard write gets through, any
    password inside a URL masked, and no more than `limit` (SHOWN_MAX) characters of it shown:
    a megabyte-long message or name says it was cut instead of flooding the screen."""
    limit = SHOWN_MAX if limit is None else limit
    if len(text) <= limit:
        return escaped(text)
    # Masked before the cut, so a URL whose password straddles the cut is masked, not halved.
    return cut_note(escaped(text[: limit + CUT_MARGIN])[:limit], len(text))


def cut_note(head: str, length: int) -> str:
    return f"{head}… [cut: {length:,} characters in all]"


def escaped(text: str) -> str:
    """`printable` without the length bound: for CSV, whose values stay whole (linear time)."""
    from .config import mask_url

    return mask_url(UNPRINTABLE_RE.sub(_escape_char, text))


def _escape_char(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Holds SIGINT back for the duration (in the main thread), then delivers it."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            if callable(previous):
                previous(signal.SIGINT, None)
            else:
                raise KeyboardInterrupt


def counted(count: int, noun: str) -> str:
    """`1 record`, `2 records`, `0 records`."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def human_time(value: str | None, *, zone: bool = True) -> str:
    """`2017-08-10T12:25:40.480424` (naive UTC) as `2017-08-10 12:25:40 UTC`."""
    if not value:
        return "-"
    return value.replace("T", " ").split(".")[0] + (" UTC" if zone else "")


def human_size(gigabytes: int | None) -> str:
    if gigabytes is None:
        return "-"
    return f"{gigabytes / 1024:.1f} TB" if gigabytes >= 1024 else f"{gigabytes} GB"


def share_row(share: Share, *, shared_with_me: bool = False) -> list[str]:
    backup = share.backup
    peer = share.from_project_id if shared_with_me else share.to_project_id
    return [
        share.id,
        share.backup_id,
        (backup.name if backup else None) or "-",
        peer or "-",
        # a CBR member's own status (pending, accepted, rejected) says more than its backup's
        share.status or (backup.status if backup else None) or "-",
        human_size(backup.size if backup else None),
        human_time(share.created_at, zone=False),  # the header says UTC, once
    ]


def share_headers(shared_with_me: bool = False) -> list[str]:
    peer = "FROM PROJECT" if shared_with_me else "TO PROJECT"
    return ["SHARE ID", "BACKUP ID", "BACKUP NAME", peer, "STATUS", "SIZE", "CREATED (UTC)"]


def share_cells(share: Share) -> dict[str, str]:
    """Every column a sharing can show in a table, by its -c name."""
    flat = share_flat(share)
    backup = share.backup
    cells = {name: _cell(flat.get(name)) for name in SHARE_COLUMNS}
    cells["status"] = share.status or (backup.status if backup else None) or "-"
    cells["backup_size"] = human_size(backup.size if backup else None)
    cells["created_at"] = human_time(share.created_at, zone=False)
    cells["updated_at"] = human_time(share.updated_at, zone=False)
    return cells


def share_flat(share: Share) -> dict[str, Any]:
    backup = share.backup
    return {
        "id": share.id,
        "backup_id": share.backup_id,
        "from_project_id": share.from_project_id,
        "to_project_id": share.to_project_id,
        "created_at": share.created_at,
        "updated_at": share.updated_at,
        "backup_name": backup.name if backup else None,
        "backup_status": backup.status if backup else None,
        "backup_size": backup.size if backup else None,
        "volume_id": backup.volume_id if backup else None,
        "availability_zone": backup.availability_zone if backup else None,
    }


def result_row(result: Result, *, dry_run: bool = False) -> list[str]:
    error = result.error.message if result.error else ""
    shown = PLANNED.get(result.result, result.result) if dry_run else result.result
    return [
        shown,
        result.to_project_id or "-",
        result.share_id or "-",
        result.backup_id or "-",
        error,
    ]


# -- what is shown: one kind of records, as every format sees it ---------------------------------
class Records(Generic[T]):
    """One kind of records (sharings, results, config and doctor records) and how each format
    sees one: the data of json/jsonl/yaml, a csv row, an id, a table row. The formats lay
    them out; this says what a record is."""

    csv_header: Sequence[str] = ()
    headers: Sequence[str] = ()  # the table's
    empty = "nothing"  # said on stderr by a table with no rows
    roles: dict[str, tuple[str, int]] | None = None  # how the table's columns fit a terminal

    def data(self, item: T) -> Any:
        """The record for json, jsonl and yaml."""
        raise NotImplementedError

    def document(self, records: list[Any]) -> Any:
        """What json and yaml print for the whole list: the list itself, unless wrapped."""
        return records

    def csv_row(self, item: T) -> Iterable[Any]:
        raise NotImplementedError

    def id(self, item: T) -> str | None:
        """The record's line in `ids`; None: the record has none and gets no line."""
        raise NotImplementedError

    def row(self, item: T) -> list[str]:
        raise NotImplementedError

    def pairs(self, item: T) -> list[tuple[str, str]]:
        """A record shown alone in a table: `key  value` lines."""
        raise NotImplementedError

    def title(self, item: T) -> str:
        raise NotImplementedError


class Sharings(Records[Share]):
    """list-shares and show: the API's own records in json/jsonl/yaml, flat rows in csv."""

    csv_header: Sequence[str] = SHARE_CSV_FIELDS
    empty = "no sharings"

    roles = SHARE_ROLES

    def __init__(
        self, shared_with_me: bool = False, columns: Sequence[str] = (), share_ids: bool = True
    ) -> None:
        self.shared_with_me = shared_with_me
        self.columns = tuple(columns)  # -c: exactly these, in this order (table and csv)
        self.headers = share_headers(shared_with_me)
        self.table_columns: tuple[str, ...] = ()
        if not share_ids and not self.columns:
            # CBR's offers have no id of their own (the "share id" is the backup's): the table
            # shows the backup id once. csv keeps its fixed header.
            self.table_columns = tuple(TABLE_COLUMNS[1:])
            self.headers = [SHARE_HEADERS[name] for name in self.table_columns]
            if shared_with_me:
                self.headers[self.table_columns.index("to_project_id")] = "FROM PROJECT"
        if self.columns:
            self.headers = [SHARE_HEADERS[name] for name in self.columns]
            self.csv_header = self.columns
            # Asked for by name: every one shows, or the records go in blocks.
            self.roles = {header: ("id", 0) for header in self.headers}

    def data(self, item: Share) -> Any:
        return item.raw

    def csv_row(self, item: Share) -> Iterable[Any]:
        if self.columns:
            flat = share_flat(item)
            own_status = item.status or (item.backup.status if item.backup else None)
            return [own_status if name == "status" else flat[name] for name in self.columns]
        return share_flat(item).values()

    def id(self, item: Share) -> str:
        return item.id

    def row(self, item: Share) -> list[str]:
        if self.columns or self.table_columns:
            cells = share_cells(item)
            if self.table_columns:
                cells["to_project_id"] = item.from_project_id or "-"  # offers: who made them
            return [cells[name] for name in self.columns or self.table_columns]
        return share_row(item, shared_with_me=self.shared_with_me)

    def pairs(self, item: Share) -> list[tuple[str, str]]:
        return detail_pairs(item)

    def title(self, item: Share) -> str:
        return f"Sharing {item.id}"


class Backups(Records[Backup]):
    """backups: the service's own records in json/jsonl/yaml, flat rows in csv, newest first."""

    csv_header = BACKUP_CSV_FIELDS
    headers = ("NAME", "STATUS", "VOLUME", "SIZE", "CREATED (UTC)", "ID")
    empty = "no backups"
    roles = BACKUP_ROLES

    def data(self, item: Backup) -> Any:
        return item.raw

    def csv_row(self, item: Backup) -> Iterable[Any]:
        return [item.id, item.name, item.status, item.volume_id, item.size, item.created_at]

    def id(self, item: Backup) -> str | None:
        return item.id

    def row(self, item: Backup) -> list[str]:
        # Where the service says so (CBR), an encrypted backup is marked: sharing it needs a
        # grant on its KMS key too.
        marker = " (encrypted)" if item.encrypted else ""
        return [
            (item.name or "-") + marker,
            item.status or "-",
            item.volume_id or "-",
            human_size(item.size),
            human_time(item.created_at, zone=False),
            item.id or "-",
        ]


class Results(Records[Result]):
    """share and cancel: one result per target or sharing, in a document saying what changed."""

    csv_header: Sequence[str] = RESULT_FIELDS
    headers: Sequence[str] = ("RESULT", "PROJECT", "SHARE ID", "BACKUP ID", "ERROR")
    empty = "nothing to do"

    def __init__(self, changed: bool, dry_run: bool, with_status: bool = False) -> None:
        self.changed, self.dry_run = changed, dry_run
        # CBR results also say each member's status: a column of its own, after RESULT
        self.with_status = with_status
        if with_status:
            self.headers = ("RESULT", "STATUS", *self.headers[1:])
            self.csv_header = (*RESULT_FIELDS, "status")
        if dry_run:  # every machine-readable row of a plan says so, not only the document
            self.csv_header = (*self.csv_header, "dry_run")

    def data(self, item: Result) -> Any:
        return {**item.to_dict(), "dry_run": True} if self.dry_run else item.to_dict()

    def document(self, records: list[Any]) -> Any:
        document: dict[str, Any] = {"changed": self.changed, "results": records}
        return {"dry_run": True, **document} if self.dry_run else document

    def csv_row(self, item: Result) -> Iterable[Any]:
        error = item.error.message if item.error else ""
        row = [item.backup_id, item.to_project_id, item.share_id, item.result, error]
        row += [item.status] if self.with_status else []
        return [*row, "true"] if self.dry_run else row

    def id(self, item: Result) -> str | None:
        return item.share_id or None

    def row(self, item: Result) -> list[str]:
        row = result_row(item, dry_run=self.dry_run)
        return [row[0], item.status or "-", *row[1:]] if self.with_status else row


class Documents(Records[dict[str, Any]]):
    """Generic records (config profiles and settings, doctor's steps), keyed by `headers`."""

    def __init__(self, records: list[dict[str, Any]], headers: list[str]) -> None:
        self.csv_header = list(records[0]) if records else headers
        # `backup_id` reads `BACKUP ID`, as in every other table
        self.headers = [h.upper().replace("_", " ") for h in headers]
        # The first column names the record and the status says how it went: both stay;
        # values stay whole; explanations wrap; fixes and sources give way last.
        roles = {name: ("text", 0) for name in self.headers}
        roles.update({self.headers[0]: ("key", 0), "STATUS": ("key", 0), "VALUE": ("id", 0)})
        roles.update({"FIX": ("text", 1), "SOURCE": ("text", 1)})
        self.roles = roles

    def data(self, item: dict[str, Any]) -> Any:
        return item

    def csv_row(self, item: dict[str, Any]) -> Iterable[Any]:
        return (item.get(key) for key in self.csv_header)

    def id(self, item: dict[str, Any]) -> str:
        return printable(str(next(iter(item.values()))))

    def row(self, item: dict[str, Any]) -> list[str]:
        return [_cell(value) for value in item.values()]


# -- how it is laid out: one object per -o format -------------------------------------------------
class Format:
    """One `-o` format: how it lays out a list of records (streamed page by page, or whole), a
    record alone, and a count. Machine formats write text; `table` hands rows to the Output."""

    name: ClassVar[str]
    streams: ClassVar[bool] = False  # writes each page as it arrives and keeps nothing
    errors_as_json: ClassVar[bool] = False  # errors also go to stderr as a JSON object

    def head(self, out: Output, kind: Records[Any]) -> str:
        """What a streamed list begins with, before its first page arrives."""
        return ""

    def lines(self, out: Output, kind: Records[Any], items: list[Any]) -> str:
        """A page of a streamed list (streaming formats only)."""
        raise NotImplementedError

    def records(self, out: Output, kind: Records[Any], items: list[Any]) -> None:
        """The whole list; a streaming format writes it as one page."""
        out.write(self.head(out, kind) + self.lines(out, kind, items))

    def record(self, out: Output, kind: Records[Any], item: Any) -> None:
        """One record alone (show)."""
        self.records(out, kind, [item])

    def count(self, out: Output, count: int) -> None:
        out.write(f"{count}\n")


class TableFormat(Format):
    name = "table"

    def records(self, out: Output, kind: Records[Any], items: list[Any]) -> None:
        rows = (kind.row(item) for item in items)
        out.table(list(kind.headers), rows, empty=kind.empty, roles=kind.roles)

    def record(self, out: Output, kind: Records[Any], item: Any) -> None:
        out.key_values(kind.pairs(item), title=kind.title(item))


class JsonFormat(Format):
    name = "json"
    errors_as_json = True

    def records(self, out: Output, kind: Records[Any], items: list[Any]) -> None:
        document = kind.document([kind.data(item) for item in items])
        out.write(json.dumps(document, indent=2) + "\n")

    def record(self, out: Output, kind: Records[Any], item: Any) -> None:
        out.write(json.dumps(kind.data(item), indent=2) + "\n")

    def count(self, out: Output, count: int) -> None:
        out.write(json.dumps({"count": count}) + "\n")


class JsonLinesFormat(Format):
    name = "jsonl"
    streams = True
    errors_as_json = True

    def lines(self, out: Output, kind: Records[Any], items: list[Any]) -> str:
        return "".join(json.dumps(kind.data(item)) + "\n" for item in items)

    def count(self, out: Output, count: int) -> None:
        out.write(json.dumps({"count": count}) + "\n")


class YamlFormat(Format):
    name = "yaml"

    def records(self, out: Output, kind: Records[Any], items: list[Any]) -> None:
        out.write(self.dump(kind.document([kind.data(item) for item in items])))

    def record(self, out: Output, kind: Records[Any], item: Any) -> None:
        out.write(self.dump(kind.data(item)))

    def count(self, out: Output, count: int) -> None:
        out.write(self.dump({"count": count}))

    @staticmethod
    def dump(data: Any) -> str:
        """Block style, keys in the API's order (yaml loads only on this path). Non-ASCII
        text is escaped (`\\u202e`), as json's ensure_ascii does: a bidi override or other
        invisible character never reaches a terminal raw."""
        import yaml

        return str(
            yaml.safe_dump(data, sort_keys=False, allow_unicode=False, default_flow_style=False)
        )


class CsvFormat(Format):
    name = "csv"
    streams = True

    def head(self, out: Output, kind: Records[Any]) -> str:
        return csv_line(kind.csv_header, safe=out.csv_safe)

    def lines(self, out: Output, kind: Records[Any], items: list[Any]) -> str:
        header = kind.csv_header
        return "".join(
            csv_line(kind.csv_row(item), safe=out.csv_safe, header=header) for item in items
        )

    def count(self, out: Output, count: int) -> None:
        out.write(csv_line(["count"]) + csv_line([count]))


class IdsFormat(Format):
    name = "ids"
    streams = True

    def lines(self, out: Output, kind: Records[Any], items: list[Any]) -> str:
        ids = (kind.id(item) for item in items)
        return "".join(f"{id_}\n" for id_ in ids if id_ is not None)


FORMATS: dict[str, Format] = {
    layout.name: layout
    for layout in (
        TableFormat(),
        JsonFormat(),
        JsonLinesFormat(),
        YamlFormat(),
        CsvFormat(),
        IdsFormat(),
    )
}


@dataclass
class Output:
    """Renders data for one invocation according to -o, -q, --no-color and the terminal."""

    format: str = "table"
    quiet: bool = False
    no_color: bool = False
    csv_safe: bool = False  # every column's leading = + - @ quoted with ' (free text always)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    layout: Format = field(init=False, repr=False)  # the format's object, chosen once

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown output format {self.format!r}")
        self.layout = FORMATS[self.format]

    # -- console policy ------------------------------------------------------------------------
    @property
    def color(self) -> bool:
        if self.no_color or os.environ.get("NO_COLOR"):
            return False
        return self.terminal

    @property
    def terminal(self) -> bool:
        """A person reads stdout (FORCE_COLOR says so for a pipe that ends at a terminal)."""
        return bool(os.environ.get("FORCE_COLOR")) or self.stdout.isatty()

    @property
    def rich_table(self) -> bool:
        """Tables that fit the terminal, for a person; NO_COLOR removes only their colour."""
        return self.format == "table" and self.terminal

    @property
    def interactive_stderr(self) -> bool:
        """Spinners only for a person: a terminal, not -q."""
        return self.stderr.isatty() and not self.quiet

    def _console(self, stream: IO[str]) -> Any:
        from rich.console import Console

        return Console(
            file=stream,
            color_system="auto" if self.color else None,  # NO_COLOR: no escape codes at all
            highlight=False,
            soft_wrap=False,
            force_terminal=self.terminal or None,
        )

    # -- stderr ----------------------------------------------------------------------------
    def notice(self, message: str) -> None:
        """Informational lines for a person; silent with -q."""
        if not self.quiet:
            print(printable(message), file=self.stderr)

    def warning(self, message: str) -> None:
        print(f"warning: {printable(message)}", file=self.stderr)

    def error(self, error: BackupshareError) -> None:
        print(f"error: {error.headline(printable)}", file=self.stderr)
        if error.hint:
            print(f"hint: {printable(error.hint)}", file=self.stderr)
        if self.layout.errors_as_json:
            document = error.to_dict()
            for key in ("message", "hint"):  # bounded like the lines above (JSON escapes itself)
                text = document.get(key)
                if isinstance(text, str) and len(text) > SHOWN_MAX:
                    document[key] = cut_note(text[:SHOWN_MAX], len(text))
            print(json.dumps({"error": document}), file=self.stderr)
        self.stderr.flush()

    @contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[Any]:
        """A transient progress bar on a terminal; a no-op elsewhere. Yields `advance(n)`."""
        if not self.interactive_stderr:
            yield lambda n=1: None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            ProgressColumn,
            SpinnerColumn,
            TextColumn,
        )
        from rich.text import Text

        class RecordCount(ProgressColumn):
            def render(self, task: Any) -> Text:
                return Text(counted(int(task.completed), "record"))

        columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn()]
        else:
            columns += [RecordCount()]
        with Progress(*columns, console=self._console(self.stderr), transient=True) as bar:
            task = bar.add_task(description, total=total)
            yield lambda n=1: bar.advance(task, n)

    # -- data ----------------------------------------------------------------------------------
    def write(self, text: str) -> None:
        """Data to stdout, whole: Ctrl-C between two halves of a line would cut a record."""
        with interrupts_deferred():
            self.stdout.write(text)
            self.stdout.flush()

    def shares(
        self,
        pages: Iterable[list[Share]],
        *,
        shared_with_me: bool = False,
        columns: Sequence[str] = (),
        share_ids: bool = True,
    ) -> int:
        """Writes a listing of sharings (only `columns`, when given; no share id column when
        the sharings have none of their own); returns the count."""
        kind = Sharings(shared_with_me, columns, share_ids)
        return self.listing(kind, pages, "listing sharings")

    def backups(self, pages: Iterable[list[Backup]]) -> int:
        """Writes a listing of backups; returns the count."""
        return self.listing(Backups(), pages, "listing backups")

    def listing(self, kind: Records[T], pages: Iterable[list[T]], doing: str) -> int:
        """jsonl, ids and csv stream page by page (the data is the progress); json, yaml and
        tables need the whole list (a half-written JSON array is worse than none), so a
        progress line counts the records meanwhile. Returns the count."""
        if self.layout.streams:
            return self._stream(kind, pages)
        records: list[T] = []
        with self.progress(doing) as advance:
            for page in pages:
                records.extend(page)
                advance(len(page))
                if len(records) > COLLECTED_MAX:  # counted while listing, not after
                    raise self._too_many_to_collect()
        self.layout.records(self, kind, records)
        return len(records)

    def _too_many_to_collect(self) -> BackupshareError:
        from .errors import UnavailableError

        return UnavailableError(
            f"the listing has more than {COLLECTED_MAX:,} records, too many to hold for "
            f"-o {self.format}",
            hint="use -o jsonl, csv or ids, which stream, or narrow it with filters or --limit",
        )

    def _stream(self, kind: Records[Any], pages: Iterable[list[Any]]) -> int:
        head = self.layout.head(self, kind)
        if head:  # before the first page: a header even for a listing with nothing in it
            self.write(head)
        count = 0
        for page in pages:
            self.write(self.layout.lines(self, kind, page))
            count += len(page)
        return count

    def share_detail(self, share: Share) -> None:
        self.layout.record(self, Sharings(), share)

    def count(self, count: int) -> None:
        self.layout.count(self, count)

    def results(self, results: list[Result], changed: bool, *, dry_run: bool = False) -> None:
        """share/cancel results. A dry run reports the plan with the same result words (what
        would happen) and `"dry_run": true`; a table says `would create` / `would cancel`."""
        for result in results:
            if result.note:
                self.notice(f"note: sharing {result.share_id}: {result.note}")
        with_status = any(result.status for result in results)
        self.layout.records(self, Results(changed, dry_run, with_status), results)

    def documents(self, records: list[dict[str, Any]], headers: list[str]) -> None:
        """Generic records (config profiles, doctor steps) in every format."""
        self.layout.records(self, Documents(records, headers), records)

    # -- tables --------------------------------------------------------------------------------
    def table(
        self,
        headers: list[str],
        rows: Iterable[list[str]],
        *,
        empty: str,
        roles: dict[str, tuple[str, int]] | None = None,
    ) -> None:
        # The table needs every row to size its columns; text from the service is made safe.
        rows = [[printable(cell) for cell in row] for row in rows]
        if not rows:
            self.notice(empty)
            return
        if not self.rich_table:
            self.write(plain_table(headers, rows))
            return
        console = self._console(self.stdout)
        roles = {**COLUMN_ROLES, **(roles or {})}
        shown = fit_columns(headers, rows, console.width, roles)
        if shown is None:  # not even the ids fit: one record per block, nothing cropped
            self.write(record_blocks(headers, rows, console.width))
            return
        from rich import box
        from rich.table import Table
        from rich.text import Text

        table = Table(
            box=box.SIMPLE_HEAD,
            header_style="bold",
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),  # with the box's blank rule: GAP spaces between columns
        )
        for index, width in shown.items():  # widths fixed here, so rich never crops
            kind, _ = roles.get(headers[index], DEFAULT_ROLE)
            if kind == "text":  # errors and explanations wrap, never vanish
                table.add_column(headers[index], width=width, overflow="fold")
            else:
                table.add_column(headers[index], width=width, no_wrap=True, overflow="ellipsis")
        for row in rows:
            cells = [Text(row[index]) for index in shown]  # Text: data is never markup
            for position, index in enumerate(shown):  # results and doctor's steps: colour
                if headers[index] in ("RESULT", "STATUS"):
                    cells[position].stylize(RESULT_STYLES.get(row[index], ""))
            table.add_row(*cells)
        console.print(table)

    def key_values(self, pairs: list[tuple[str, str]], *, title: str) -> None:
        pairs = [(key, printable(value)) for key, value in pairs]
        if not self.rich_table:
            width = max(len(k) for k, _ in pairs)
            self.write("".join(f"{k:<{width}}  {v}\n" for k, v in pairs))
            return
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        console = self._console(self.stdout)
        key_width = max(len(k) for k, _ in pairs)
        if console.width < key_width + 36 + 8:  # a panel would fold the ids: plain lines
            self.write("".join(f"{k:<{key_width}}  {v}\n" for k, v in pairs))
            return
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for key, value in pairs:
            grid.add_row(key, Text(value))
        panel = Panel(grid, title=Text(printable(title)), expand=False)
        console.print(panel)


def detail_pairs(share: Share) -> list[tuple[str, str]]:
    backup = share.backup
    pairs = [
        ("Share ID", share.id),
        ("Backup ID", share.backup_id),
        ("From project", share.from_project_id or "-"),
        ("To project", share.to_project_id),
        ("Shared at", human_time(share.created_at)),
        ("Updated at", human_time(share.updated_at)),
    ]
    if backup is not None:
        pairs += [
            ("Backup name", backup.name or "-"),
            ("Backup status", backup.status or "-"),
            ("Backup size", human_size(backup.size)),
            ("Volume ID", backup.volume_id or "-"),
            ("Availability zone", backup.availability_zone or "-"),
            ("Backup created", human_time(backup.created_at)),
            ("Description", backup.description or "-"),
        ]
    return pairs


# How a column behaves when the terminal is narrow. Rank 0 always shows (ids whole, outcomes,
# errors); the others give way, highest rank first. Unknown headers count as text.
COLUMN_ROLES: dict[str, tuple[str, int]] = {
    "SHARE ID": ("id", 0),
    "TO PROJECT": ("id", 0),
    "FROM PROJECT": ("id", 0),
    "PROJECT": ("id", 0),
    "RESULT": ("key", 0),
    "ERROR": ("text", 0),
    "STATUS": ("key", 1),  # pending or accepted, available or not: read before the backup id
    "BACKUP ID": ("id", 2),
    "BACKUP NAME": ("lesser", 3),
    "CREATED (UTC)": ("lesser", 4),
    "SIZE": ("lesser", 5),
}
TEXT_MIN_WIDTH = 16
LONGEST_UNBROKEN = 40  # ids (36) and most words stay whole inside a wrapped sentence
GAP = 2  # spaces between columns


DEFAULT_ROLE = ("text", 1)


def natural_width(headers: list[str], rows: list[list[str]], index: int) -> int:
    return max(len(headers[index]), *(len(row[index]) for row in rows))


def text_min_width(headers: list[str], rows: list[list[str]], index: int) -> int:
    """The narrowest a wrapping column may be: wide enough for its longest word (an id or a
    path inside a sentence is never broken), and for TEXT_MIN_WIDTH."""
    longest = max((len(word) for row in rows for word in row[index].split()), default=0)
    longest = min(longest, LONGEST_UNBROKEN)  # a longer word (a path) may fold
    return min(natural_width(headers, rows, index), max(TEXT_MIN_WIDTH, longest))


def fit_columns(
    headers: list[str], rows: list[list[str]], width: int, roles: dict[str, tuple[str, int]]
) -> dict[int, int] | None:
    """Which columns to show in `width`, and how wide: every rank-0 column (an empty ERROR
    column excepted), then the others by rank while they fit; the room left widens the
    wrapping columns. None when not even rank 0 fits."""

    def column_role(header: str) -> tuple[str, int]:
        return roles.get(header, DEFAULT_ROLE)

    def need(index: int) -> int:
        kind, _ = column_role(headers[index])
        if kind == "text":
            return text_min_width(headers, rows, index)
        return natural_width(headers, rows, index)

    def empty(index: int) -> bool:
        return all(row[index] in ("", "-") for row in rows)

    essential = [
        i
        for i, h in enumerate(headers)
        if column_role(h)[1] == 0 and not (empty(i) and h == "ERROR")
    ]
    used = sum(need(i) for i in essential) + GAP * (len(essential) - 1)
    if used > width:
        return None
    shown = set(essential)
    optional = sorted(
        (i for i in range(len(headers)) if i not in shown), key=lambda i: column_role(headers[i])[1]
    )
    for index in optional:
        if empty(index) and headers[index] == "ERROR":
            continue
        cost = need(index) + GAP
        if used + cost > width:
            break  # in rank order: a lesser column never shows where a more important one can't
        shown.add(index)
        used += cost
    widths = {index: need(index) for index in sorted(shown)}
    for index in widths:  # left to right, wrapping columns take what they can use of the rest
        if column_role(headers[index])[0] == "text":
            extra = min(width - used, natural_width(headers, rows, index) - widths[index])
            widths[index] += extra
            used += extra
    return widths


def record_blocks(headers: list[str], rows: list[list[str]], width: int) -> str:
    """Each record as `KEY  value` lines, records apart by a blank line: for a terminal too
    narrow for a row, where a table would crop ids. Long text wraps under its value."""
    import textwrap

    key_width = max(len(h) for h in headers)
    room = max(width - key_width - GAP, LONGEST_UNBROKEN)
    indent = " " * (key_width + GAP)
    blocks = []
    for row in rows:
        lines = []
        for header, cell in zip(headers, row, strict=True):
            if not cell:
                continue
            wrapped = textwrap.wrap(cell, room, break_on_hyphens=False) or [cell]
            lines.append(f"{header:<{key_width}}  {wrapped[0]}")
            lines.extend(indent + more for more in wrapped[1:])
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def plain_table(headers: list[str], rows: list[list[str]]) -> str:
    """Aligned columns without colour, truncation or wrapping: for pipes, grep and awk."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def csv_line(values: Iterable[Any], *, safe: bool = False, header: Sequence[str] = ()) -> str:
    """One RFC 4180 record (CRLF, quotes doubled) without the csv module's writer setup.
    CSV is read line by line (and shown on terminals), so control characters are escaped like
    in tables. A free-text column (by `header`) starting with `=`, `@`, tab or CR is prefixed
    with `'`, as `safe` (--csv-safe) does for every column and `+` and `-` too."""
    cells = []
    for index, value in enumerate(values):
        text = "" if value is None else str(value)
        free_text = index < len(header) and header[index] in CSV_FREE_TEXT
        if text.startswith(CSV_FORMULA_START if safe else ()) or (
            free_text and text.startswith(CSV_FREE_TEXT_START)
        ):
            text = "'" + text
        text = escaped(text)
        if any(c in text for c in ',"') or text != text.strip():
            text = '"' + text.replace('"', '""') + '"'
        cells.append(text)
    return ",".join(cells) + "\r\n"
