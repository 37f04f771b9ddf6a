"""Golden outputs: every format of every kind of output, from fixed records; --quiet and NO_COLOR,
list-shares -c/--column, and progress counts.

Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/test_output.py` and review
the diff of tests/golden/.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_TOKEN
from backupshare.errors import RejectedError
from backupshare.models import Result, Share
from backupshare.output import Output
from backupshare.output.records import human_size, human_time
from backupshare.output.tables import plain_table

from .helpers import BACKUP, OWN, P1, share_ids


def test_quiet_and_no_color(three: Any) -> None:
    result = three("share", BACKUP, P1, "-q", "--dry-run")
    assert result.err == "" and "existing" in result.out
    assert "\x1b[" not in three("list-shares", "--no-color").out


# -- list-shares -c/--column -------------------------------------------------------------------------
def test_columns_select_and_order_csv(cli: Any, emulator: RunningEmulator) -> None:
    emulator.store.share(OWN, BACKUP, [P1])  # the state to show, not under test
    [share_id] = share_ids(emulator)
    result = cli(
        "list-shares", "-o", "csv", "-c", "to_project_id", "--column", "backup-id", "-c", "id"
    )
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == ["to_project_id,backup_id,id", f"{P1},{BACKUP},{share_id}"]


def test_columns_select_and_order_a_plain_table(cli: Any, emulator: RunningEmulator) -> None:
    emulator.store.share(OWN, BACKUP, [P1])  # the state to show, not under test
    result = cli("list-shares", "-c", "backup_id", "-c", "status")
    assert result.code == 0
    header, row = result.out.splitlines()
    assert header.split() == ["BACKUP", "ID", "STATUS"]
    assert row.split() == [BACKUP, "available"]


def test_an_unknown_column_lists_the_valid_ones(cli: Any) -> None:
    result = cli("list-shares", "-c", "backup_nmae")
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == [
        "error: invalid --column 'backup_nmae': choose one of id, backup_id, backup_name, "
        "from_project_id, to_project_id, status, backup_status, backup_size, created_at, "
        "updated_at, volume_id, availability_zone",
        "hint: did you mean 'backup_name' or 'backup_size'?",
    ]


# -- progress counts -------------------------------------------------------------------------------
class TerminalText:
    """A stderr that says it is a terminal and keeps what was written."""

    def __init__(self) -> None:
        import io

        self.buffer = io.StringIO()

    def write(self, text: str) -> int:
        return self.buffer.write(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_the_listing_progress_says_one_record_not_one_records() -> None:
    from backupshare.output import Output

    stderr = TerminalText()
    out = Output(stderr=stderr)  # type: ignore[arg-type]
    with out.progress("listing sharings") as advance:
        advance(1)
    shown = stderr.buffer.getvalue()
    assert "listing sharings 1 record" in shown and "1 records" not in shown


GOLDEN = Path(__file__).parent / "golden"


FORMATS = ["table", "json", "jsonl", "yaml", "csv", "ids"]


def record(n: int, name: str | None, size: int | None) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-00000000000{n}",
        "backup_id": "066b1e37-9305-4057-97e5-2e99b21fc71d",
        "from_project_id": "c13f5220dc1949b0b741ea81a7cd5554",
        "to_project_id": f"722513ed0a324dadaabe5b2d0fe848c{n}",
        "created_at": "2026-11-27T01:02:03.456789",
        "updated_at": None,
        "backup": {
            "id": "066b1e37-9305-4057-97e5-2e99b21fc71d",
            "name": name,
            "status": "available",
            "size": size,
            "volume_id": "9d2f7f3e-5b5c-4f0e-8d8e-1c2b3a4d5e6f",
            "availability_zone": "eu-de-01",
            "description": 'nightly, "full"',
            "created_at": "2026-11-26T23:00:00.000001",
        },
    }


SHARES = [Share.from_api(record(1, "db-nightly", 40)), Share.from_api(record(2, None, 2048))]


RESULTS = [
    Result("066b1e37-9305-4057-97e5-2e99b21fc71d", "722513ed0a324dadaabe5b2d0fe848c1",
           "00000000-0000-4000-8000-000000000001", "created"),
    Result("066b1e37-9305-4057-97e5-2e99b21fc71d", "722513ed0a324dadaabe5b2d0fe848c2",
           None, "failed", RejectedError('quota, "exceeded"', status=400, code="VolumeBackup.0108",
                                         request_ids=("r1",))),
]  # fmt: skip


HOSTILE = Share.from_api(record(3, '=HYPERLINK("x")\x1b[31m ü\u202e', 1))


def render(fmt: str, kind: str) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(fmt, stdout=stdout, stderr=stderr, csv_safe=kind == "hostile")
    if kind == "list-shares":
        out.shares(iter([SHARES[:1], SHARES[1:]]))
    elif kind == "show":
        out.share_detail(SHARES[0])
    elif kind == "count":
        out.count(2)
    elif kind == "results":
        out.results(RESULTS, True)
    elif kind == "documents":
        out.documents(
            [{"check": "tcp", "status": "ok", "detail": "a, b"}], ["check", "status", "detail"]
        )
    elif kind == "shared-with-me":
        out.shares(iter([SHARES]), shared_with_me=True)
    elif kind == "dry-run":
        planned = [Result(RESULTS[0].backup_id, RESULTS[0].to_project_id, None, "created"),
                   Result(None, None, RESULTS[0].share_id, "canceled"),
                   Result(RESULTS[0].backup_id, RESULTS[1].to_project_id, None, "absent")]  # fmt: skip
        out.results(planned, True, dry_run=True)
    elif kind == "hostile":  # text that must not reach a terminal or a spreadsheet as it is
        out.shares(iter([[HOSTILE]]))
        out.share_detail(HOSTILE)
        out.documents([{"key": None, "value": "-1", "on": True}], ["key", "value", "on"])
    elif kind == "empty":  # each kind of output with nothing in it, one after the other
        out.shares(iter([]))
        out.results([], False)
        out.documents([], ["profile", "default"])
    return stdout.getvalue()


KINDS = ["list-shares", "show", "count", "results", "documents", "shared-with-me", "dry-run"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", [*KINDS, "hostile", "empty"])
def test_golden(kind: str, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    text = render(fmt, kind)
    path = GOLDEN / f"{kind}.{fmt}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(text.encode())
    assert text == path.read_bytes().decode()


def test_machine_formats_parse_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    listed = json.loads(render("json", "list-shares"))
    assert listed == [s.raw for s in SHARES]  # the API's own records, untouched
    assert [json.loads(line) for line in render("jsonl", "list-shares").splitlines()] == listed
    assert yaml.safe_load(render("yaml", "list-shares")) == listed
    rows = list(csv.DictReader(io.StringIO(render("csv", "list-shares"), newline="")))
    assert [r["id"] for r in rows] == [s.id for s in SHARES]
    results = list(csv.DictReader(io.StringIO(render("csv", "results"), newline="")))
    assert results[1]["error"] == 'quota, "exceeded"'  # RFC 4180 quoting survives a round trip
    assert (
        json.loads(render("json", "results"))["results"][1]["error"]["code"] == "VolumeBackup.0108"
    )
    assert json.loads(render("json", "count")) == {"count": 2}


def test_a_terminal_gets_a_rich_table() -> None:
    stdout = io.StringIO()
    out = Output("table", stdout=stdout, stderr=io.StringIO(), force_color=True)
    out.results(RESULTS, True)
    text = stdout.getvalue()
    assert "\x1b[" in text and "─" in text
    assert "00000000-0000-4000-8000-000000000001" in text  # ids stay whole


@pytest.mark.parametrize("fmt", FORMATS)
def test_only_a_table_says_on_stderr_that_there_is_nothing(fmt: str) -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    out = Output(fmt, stdout=stdout, stderr=stderr)
    out.shares(iter([]))
    out.results([], False)
    out.documents([], ["profile", "default"])
    said = "no sharings\nnothing to do\nnothing\n" if fmt == "table" else ""
    assert stderr.getvalue() == said


def test_empty_results_say_so_on_stderr() -> None:
    stdout, stderr = io.StringIO(), io.StringIO()
    Output("table", stdout=stdout, stderr=stderr).shares(iter([[]]))
    assert (stdout.getvalue(), stderr.getvalue()) == ("", "no sharings\n")
    Output("table", stdout=stdout, stderr=stderr, quiet=True).results([], False)
    assert stdout.getvalue() == ""


def test_human_formats() -> None:
    assert human_time("2017-08-10T12:25:40.480424") == "2017-08-10 12:25:40 UTC"
    assert human_time(None) == "-"
    assert human_size(40) == "40 GB" and human_size(1536) == "1.5 TB" and human_size(None) == "-"
    assert plain_table(["A", "B"], [["x", "yy"]]) == "A  B\nx  yy\n"


def test_every_format_is_one_object_and_the_settings_know_them_all() -> None:
    from backupshare.config import GRAPH_FORMAT, OUTPUT_FORMATS
    from backupshare.output import FORMATS as OBJECTS
    from backupshare.output import GRAPH

    assert tuple(OBJECTS) == OUTPUT_FORMATS == tuple(FORMATS)
    assert Output(GRAPH_FORMAT).layout is GRAPH  # dot: list-shares and audit only
    assert all(Output(name).layout is OBJECTS[name] for name in FORMATS)  # chosen once
    with pytest.raises(ValueError, match="unknown output format 'xml'"):
        Output("xml")


@pytest.mark.parametrize("fmt", FORMATS)
def test_streaming_formats_write_each_page_before_the_next_is_fetched(fmt: str) -> None:
    stdout = io.StringIO()
    seen_before_each_page: list[str] = []

    def pages() -> Any:
        for page in (SHARES[:1], SHARES[1:]):
            seen_before_each_page.append(stdout.getvalue())
            yield page

    Output(fmt, stdout=stdout, stderr=io.StringIO()).shares(pages())
    first_page_written = SHARES[0].id in seen_before_each_page[1]
    assert first_page_written == (fmt in ("jsonl", "csv", "ids"))
    header_first = seen_before_each_page[0].startswith("id,backup_id,")
    assert header_first == (fmt == "csv")  # before the first page, even an empty listing's


@pytest.mark.parametrize(
    ("argv", "loads_yaml"),
    [(["list-shares", "-o", "json"], False), (["list-shares", "-o", "yaml"], True),
     (["show", "-o", "yaml", "SHARE_ID"], True),
     (["list-shares", "--count", "-o", "yaml"], True), (["list-shares", "-o", "csv"], False)],
)  # fmt: skip
def test_yaml_loads_only_for_yaml_and_rich_never_off_a_terminal(
    argv: list[str], loads_yaml: bool, emulator: Any
) -> None:
    from .test_imports import imported

    [shared] = emulator.store.share(OWN, BACKUP, [P1])
    argv = [shared["id"] if word == "SHARE_ID" else word for word in argv]
    env = {"BACKUPSHARE_ENDPOINT": emulator.url, "BACKUPSHARE_PROJECT_ID": OWN,
           "BACKUPSHARE_TOKEN": DEFAULT_TOKEN}  # fmt: skip
    loaded = {name.split(".")[0] for name in imported(argv, **env)}
    assert "requests" in loaded  # the probe saw a real run
    assert ("yaml" in loaded) == loads_yaml
    assert "rich" not in loaded
