"""Service text is escaped wherever it is shown (plain, rich, errors; JSON keeps exact values),
CSV neutralises formulas (by default and with --csv-safe), YAML escapes bidi overrides."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable

import pytest
import yaml

from backupshare.emulator import RunningEmulator
from backupshare.emulator.schema import BackupSeed

from .helpers import BACKUP2, OWN, P2, CliResult
from .hostile import Handler, Hostile, Respond, Seen, backup_record, endpoint_env, record, send

# -- terminal injection ----------------------------------------------------------------------------
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"  # writes the clipboard


OSC8 = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"  # a disguised link


CLEAR = "\x1b[2J\x1b[H"


EVIL = f"db{CLEAR}{OSC52}{OSC8}\x9b31m[/bold][red]x\r\nerror: fake"


EVIL_DESCRIPTION = f"desc{OSC52}\rerror: fake too\n[link=http://evil.example]y[/link]"


EVIL_HEADER = "req-\x1b]52;c;eA==\x07-\x9b0m"


RICH_SGR = re.compile(r"\x1b\[[0-9;]*m")


SHOWN_ESCAPED = "\\x1b]52;c;cm0gLXJmIH4=\\x07"


def assert_inert(text: str, *, rich: bool = False, csv: bool = False) -> None:
    """No control character from the service reached the terminal, and no forged line."""
    if rich:
        text = RICH_SGR.sub("", text)  # rich's own colours are not the service's
    if csv:
        text = text.replace("\r\n", "\n")  # RFC 4180's own line ends
    for char in ("\x1b", "\x07", "\r", "\x9b"):
        assert char not in text, f"raw {char!r} in {text!r}"
    assert not [line for line in text.splitlines() if line.lstrip().startswith("error: fake")]


def evil_service(h: Handler, seen: Seen) -> None:
    share = record(BACKUP2, name=EVIL, description=EVIL_DESCRIPTION)
    headers = (("X-Request-Id", EVIL_HEADER),)
    if seen.path.endswith("/detail"):
        send(
            h, 200, {"shared": [share] if seen.query.get("offset") == "0" else []}, headers=headers
        )
    else:
        send(h, 200, {"shared": share}, headers=headers)


@pytest.mark.parametrize(
    "argv",
    [
        ("list-shares",),
        ("list-shares", "-o", "csv"),
        ("show", BACKUP2),
        ("show", BACKUP2, "-o", "csv"),
        ("list-shares", "--debug"),
    ],
    ids=["table", "csv", "show", "show-csv", "debug"],
)
def test_service_text_is_escaped_in_plain_output(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], argv: tuple[str, ...]
) -> None:
    server = hostile(evil_service)
    result = bs(*argv, env=endpoint_env(server.url))
    assert result.code == 0, result.err
    assert_inert(result.out, csv="csv" in argv)
    assert_inert(result.err)
    assert SHOWN_ESCAPED in result.out and "\\r\\nerror: fake" in result.out
    assert "[/bold][red]x" in result.out  # markup shown as text
    if argv[0] == "show" and "csv" not in argv:
        assert "\\rerror: fake too\\n[link=http://evil.example]y[/link]" in result.out
    if "--debug" in argv:
        assert "request id req-\\x1b]52;c;eA==\\x07-\\x9b0m" in result.err


@pytest.mark.parametrize("argv", [("show", BACKUP2), ("list-shares",)], ids=["panel", "table"])
def test_service_text_is_escaped_in_rich_output(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], argv: tuple[str, ...]
) -> None:
    server = hostile(evil_service)
    result = bs(*argv, env={**endpoint_env(server.url), "FORCE_COLOR": "1", "COLUMNS": "1000"})
    assert result.code == 0, result.err
    assert "\x1b[" in result.out  # rich did style it: this is the rich path
    assert_inert(result.out, rich=True)
    plain = RICH_SGR.sub("", result.out)
    assert SHOWN_ESCAPED in plain and "[/bold][red]x" in plain
    if argv[0] == "show":
        assert "[link=http://evil.example]y[/link]" in plain
        assert "\x1b]8;" not in result.out  # no hyperlink made from the markup


def test_json_keeps_the_exact_values(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile]
) -> None:
    server = hostile(evil_service)
    listed = bs("list-shares", "-o", "json", env=endpoint_env(server.url))
    shown = bs("show", BACKUP2, "-o", "json")
    lines = bs("list-shares", "-o", "jsonl")
    for result in (listed, shown, lines):
        assert result.code == 0, result.err
        assert_inert(result.out)  # JSON escapes control characters itself
    assert json.loads(listed.out)[0]["backup"]["name"] == EVIL
    assert json.loads(shown.out)["backup"]["description"] == EVIL_DESCRIPTION
    assert json.loads(lines.out.splitlines()[0])["backup"]["name"] == EVIL


def evil_errors(kind: str) -> Respond:
    def respond(h: Handler, seen: Seen) -> None:
        headers = (("X-Request-Id", EVIL_HEADER),)
        if kind == "html":
            page = f"<html><title>Portal{OSC52}\r\nerror: fake</title></html>".encode()
            send(h, 400, page, headers=headers, content_type="text/html")
        elif kind == "redirect":
            send(h, 302, b"", headers=(("Location", f"http://127.0.0.1:1/{OSC52}"),))
        else:
            body = {"error": {"code": f"VBS{CLEAR}.0001", "message": EVIL}}
            send(h, 400, body, headers=headers)

    return respond


@pytest.mark.parametrize("kind", ["json", "html", "redirect", "cancel"])
@pytest.mark.parametrize(
    "extra", [(), ("--debug",), ("-o", "json")], ids=["plain", "debug", "json"]
)
def test_service_text_is_escaped_in_errors(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], kind: str, extra: tuple[str, ...]
) -> None:
    server = hostile(evil_errors(kind))
    argv = ("cancel", BACKUP2) if kind == "cancel" else ("list-shares",)
    result = bs(*argv, *extra, env=endpoint_env(server.url))
    assert result.code == (8 if kind == "redirect" else 6), result.err
    assert_inert(result.out)
    assert_inert(result.err)
    assert len([line for line in result.err.splitlines() if line.startswith("error:")]) == 1
    assert "\\x1b]52;c;" in result.err
    if kind in ("json", "cancel"):
        assert "[/bold][red]x\\r\\nerror: fake" in result.err
        assert "VBS\\x1b[2J\\x1b[H.0001" in result.err
    if kind != "redirect":
        assert "request id req-\\x1b]52;c;eA==\\x07-\\x9b0m" in result.err
    if kind == "cancel" and extra != ("-o", "json"):  # the message in the result table too
        assert re.search(rf"^failed\s+-\s+{BACKUP2}", result.out, re.M), result.out
        assert SHOWN_ESCAPED in result.out
    if extra == ("-o", "json") and kind == "json":
        error = json.loads(result.err.splitlines()[-1])["error"]
        assert error["message"] == EVIL and error["request_id"] == EVIL_HEADER


# -- --csv-safe ------------------------------------------------------------------------------------
FORMULAS = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "db-nightly"]


def test_csv_safe_quotes_formulas(
    bs: Callable[..., CliResult], make_emulator: Callable[..., RunningEmulator]
) -> None:
    ids = [str(uuid.uuid4()) for _ in FORMULAS]
    running = make_emulator(
        backups=[BackupSeed(i, OWN, name) for i, name in zip(ids, FORMULAS, strict=True)]
    )
    for backup in ids:
        running.store.share(OWN, backup, [P2])
    names = dict(zip(ids, FORMULAS, strict=True))
    plain = bs("list-shares", "-o", "csv", env=endpoint_env(running.url))
    safe = bs("list-shares", "-o", "csv", "--csv-safe")
    for result in (plain, safe):
        assert result.code == 0, result.err
    for row in csv.DictReader(io.StringIO(plain.out)):  # by default: free text's = and @ only
        name = names[row["backup_id"]]
        assert row["backup_name"] == ("'" + name if name.startswith(("=", "@")) else name)
    rows = list(csv.DictReader(io.StringIO(safe.out)))
    assert len(rows) == len(FORMULAS)
    for row in rows:
        name = names[row["backup_id"]]
        assert row["backup_name"] == (name if name == "db-nightly" else "'" + name)
    [hyperlink] = [row["id"] for row in rows if row["backup_id"] == ids[0]]
    for extra, expected in (((), "'" + FORMULAS[0]), (("--csv-safe",), "'" + FORMULAS[0])):
        shown = bs("show", hyperlink, "-o", "csv", *extra)
        assert shown.code == 0, shown.err
        [row] = list(csv.DictReader(io.StringIO(shown.out)))
        assert row["backup_name"] == expected


CSV_NAMES = ["=cmd|' /C calc'!A0", "@SUM(A1)", "\tlead", "\rlead", "+1", "-2", "plain"]


def named_backups(names: list[str]) -> Callable[[Handler, Seen], None]:
    def respond(h: Handler, seen: Seen) -> None:
        first_page = seen.query.get("offset") == "0"
        if "/backups" in seen.path:
            items = [{**backup_record(), "name": name} for name in names]
            send(h, 200, {"backups": items if first_page else []})
        else:
            items = [record(to=uuid.uuid4().hex, name=name) for name in names]
            send(h, 200, {"shared": items if first_page else []})

    return respond


@pytest.mark.parametrize(
    ("command", "column"), [("backups", "name"), ("list-shares", "backup_name")]
)
def test_csv_neutralises_free_text_formulas_by_default(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], command: str, column: str
) -> None:
    server = hostile(named_backups(CSV_NAMES))
    plain = bs(command, "-o", "csv", env=endpoint_env(server.url))
    safe = bs(command, "-o", "csv", "--csv-safe")
    assert plain.code == 0 and safe.code == 0, plain.err + safe.err
    plain_names = [row[column] for row in csv.DictReader(io.StringIO(plain.out))]
    safe_names = [row[column] for row in csv.DictReader(io.StringIO(safe.out))]
    assert plain_names == [
        "'=cmd|' /C calc'!A0",
        "'@SUM(A1)",
        "'\\tlead",
        "'\\rlead",
        "+1",
        "-2",
        "plain",
    ]
    assert safe_names == [*plain_names[:4], "'+1", "'-2", "plain"]


def test_csv_neutralises_a_service_error_message(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile]
) -> None:
    def respond(h: Handler, seen: Seen) -> None:
        if seen.method == "GET":
            send(h, 200, {"shared": []})
        else:
            send(h, 400, {"error_code": "VBS.1", "error_msg": '=HYPERLINK("http://evil")'})

    server = hostile(respond)
    ids = [str(uuid.uuid4()) for _ in range(2)]
    result = bs("cancel", *ids, "--yes", "-o", "csv", env=endpoint_env(server.url))
    assert result.code in (6, 7), result.out + result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert len(rows) == 2, result.out + result.err
    assert all(row["error"].startswith("'=HYPERLINK") for row in rows)


def test_yaml_escapes_bidi_overrides_and_other_non_ascii(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile]
) -> None:
    name = "invoice\u202egpj.exe ü"
    server = hostile(named_backups([name]))
    result = bs("backups", "-o", "yaml", env=endpoint_env(server.url))
    assert result.code == 0, result.err
    assert "\u202e" not in result.out and "ü" not in result.out
    assert "\\u202E" in result.out
    assert result.out.isascii()
    assert yaml.safe_load(result.out)[0]["name"] == name  # still the exact value
