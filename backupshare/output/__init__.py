"""What the user sees: the table / json / jsonl / yaml / csv / ids formats and the console policy.

Each `-o` format is one object (Format) chosen once per invocation; each kind of records
(Records: sharings, results, config and doctor records) says what a record is in every
format (records.py). The only package that imports rich, and only here, for tables and
progress on a terminal (the column fitting in tables.py and the escaping in escaping.py are
pure); with config_file.py the only one that imports yaml, only for `-o yaml`. Machine formats are
written directly to stdout, never through rich. Data goes to stdout; notices, warnings,
progress and errors go to stderr (docs/output.md).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, ClassVar, TypeVar

from ..errors import BackupshareError, UsageError
from ..models import Backup, Result, Share
from .escaping import SHOWN_MAX, csv_line, cut_note, printable
from .records import Backups, Documents, Findings, Records, Results, Sharings, counted
from .tables import COLUMN_ROLES, DEFAULT_ROLE, fit_columns, plain_table, record_blocks

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


# table, json and yaml hold a whole listing before writing it: this many records at most.
COLLECTED_MAX = 100_000
T = TypeVar("T")


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


class DotFormat(Format):
    """`-o dot`: only list-shares across the project and audit draw (Output.graph); the CLI
    refuses it elsewhere before anything is sent, and this refuses anything that slips by."""

    name = "dot"

    def records(self, out: Output, kind: Records[Any], items: list[Any]) -> None:
        raise UsageError("-o dot draws the sharing graph of list-shares and audit only")

    def count(self, out: Output, count: int) -> None:
        raise UsageError("-o dot draws a graph: --count prints a number (use -o json)")


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
# `-o dot` is not a record format: only Output.graph and Output.audit_graph draw with it.
GRAPH = DotFormat()
GRAPH_MAX = 100_000  # sharings a graph holds before it is written, at most


class Output:
    """Renders data for one invocation according to -o, -q, --no-color and the terminal; it
    reads no environment (the Invocation hands it NO_COLOR and FORCE_COLOR as plain values).
    (A plain class: a dataclass costs ≈ 0.5 ms to define, on every command.)"""

    layout: Format  # the format's object, chosen once

    def __init__(
        self,
        format: str = "table",
        quiet: bool = False,
        no_color: bool = False,  # --no-color or NO_COLOR
        force_color: bool = False,  # FORCE_COLOR: a pipe that ends at a terminal
        csv_safe: bool = False,  # every column's leading = + - @ quoted with ' (free text always)
        stdout: IO[str] | None = None,  # sys.stdout when None
        stderr: IO[str] | None = None,  # sys.stderr when None
    ) -> None:
        self.quiet, self.no_color, self.force_color, self.csv_safe = (
            quiet, no_color, force_color, csv_safe,
        )  # fmt: skip
        self.stdout: IO[str] = stdout if stdout is not None else sys.stdout
        self.stderr: IO[str] = stderr if stderr is not None else sys.stderr
        self.use_format(format)

    def use_format(self, name: str) -> None:
        """Lays out in the `-o` format `name` from now on (the profile's, once the settings are
        known: whoever holds this Output follows)."""
        layout = GRAPH if name == GRAPH.name else FORMATS.get(name)
        if layout is None:
            raise ValueError(f"unknown output format {name!r}")
        self.format, self.layout = name, layout

    # -- console policy ------------------------------------------------------------------------
    @property
    def color(self) -> bool:
        if self.no_color:
            return False
        return self.terminal

    @property
    def terminal(self) -> bool:
        """A person reads stdout (FORCE_COLOR says so for a pipe that ends at a terminal)."""
        return self.force_color or self.stdout.isatty()

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
    def progress(
        self, description: str, total: int | None = None, *, counts: bool = True
    ) -> Iterator[Any]:
        """A transient progress bar on a terminal; a no-op elsewhere. Yields `advance(n)`.
        Without `total`, it counts the records advanced, unless `counts` is False (a spinner
        for work whose records are not counted as they come)."""
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
        elif counts:
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
        from ..errors import UnavailableError

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

    def findings(self, findings: Iterable[list[Any]]) -> int:
        """audit's findings (verbs/audit.Finding), in every record format; returns the count."""
        return self.listing(Findings(), findings, "auditing sharings")

    def graph(self, own_project: str, pages: Iterable[list[Share]]) -> int:
        """`-o dot`: the sharings as a Graphviz graph, written once whole (a graph is one
        statement). Returns how many sharings it drew."""
        from .graph import Graph

        drawn = Graph(own_project)
        count = 0
        with self.progress("reading sharings") as advance:
            for page in pages:
                for share in page:
                    drawn.add(share)
                count += len(page)
                advance(len(page))
                self._check_graph_size(count)
        self.write(drawn.text())
        return count

    def audit_graph(self, own_project: str, audited: Iterable[Any]) -> list[str]:
        """audit `-o dot`: every sharing read, findings in a warning style. Returns the
        findings' kinds (for the exit code)."""
        from .graph import Graph

        drawn = Graph(own_project)
        kinds: list[str] = []
        with self.progress("auditing sharings") as advance:
            for count, item in enumerate(audited, start=1):
                found = [finding.finding for finding in item.findings]
                drawn.add(item.share, incoming=item.incoming, findings=found)
                kinds += found
                advance(1)
                self._check_graph_size(count)
        self.write(drawn.text())
        return kinds

    def _check_graph_size(self, count: int) -> None:
        if count > GRAPH_MAX:
            from ..errors import UnavailableError

            raise UnavailableError(
                f"more than {GRAPH_MAX:,} sharings, too many to draw with -o dot",
                hint="use -o jsonl, csv or ids, which stream, or narrow it with selectors",
            )

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
        receiving = any(result.receiving for result in results)
        self.layout.records(self, Results(changed, dry_run, with_status, receiving), results)

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
