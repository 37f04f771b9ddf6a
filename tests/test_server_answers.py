"""Whatever a server answers, the CLI stays ours: deeply nested JSON, malformed ids never acted on,
filters re-checked, any JSON in any field, one long string shown bounded and masked (linear time)."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from backupshare import config, output
from backupshare.config import mask_url
from backupshare.emulator import RunningEmulator
from backupshare.errors import UnexpectedResponse
from backupshare.models import Backup, Share
from backupshare.output import escaping

from .helpers import BACKUP, BACKUP2, P1, CliResult, fault
from .hostile import (
    Handler,
    Hostile,
    Seen,
    backup_record,
    cbr_backup,
    endpoint_env,
    password_env,
    record,
    send,
)

# -- deeply nested JSON answers --------------------------------------------------------------------
NESTED = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("argv", "path", "status", "code"),
    [
        (("list-shares",), "/detail", 200, 8),
        (("list-shares", "--count"), "/count", 200, 8),
        (("show", BACKUP), f"/{BACKUP}", 200, 8),
        (("list-shares",), "/detail", 400, 6),
        (("list-shares",), "/v3/auth/tokens", 201, 8),
    ],
    ids=["list", "count", "show", "error-400", "iam"],
)
def test_deeply_nested_json_is_an_unreadable_answer(
    bs: Callable[..., CliResult],
    emulator: RunningEmulator,
    argv: tuple[str, ...],
    path: str,
    status: int,
    code: int,
) -> None:
    method = "POST" if path == "/v3/auth/tokens" else "GET"
    fault(emulator, "raw", method=method, path=path, status=status, body=NESTED)
    env = (
        password_env(emulator.url, emulator.url)
        if path == "/v3/auth/tokens"
        else endpoint_env(emulator.url)
    )
    result = bs(*argv, env=env)
    assert result.code == code, result.err
    assert "internal error" not in result.err and "RecursionError" not in result.err


def test_deeply_nested_json_in_a_5xx_is_unavailable(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile]
) -> None:
    server = hostile(lambda h, seen: send(h, 503, NESTED.encode(), headers=(("Retry-After", "0"),)))
    result = bs("list-shares", env=endpoint_env(server.url))
    assert result.code == 8, result.err
    assert "internal error" not in result.err


# -- server ids validated, filters re-checked ------------------------------------------------------
CANCEL_TO = ("cancel", "--backup-id", BACKUP, "--to-project", P1)


INJECTED = f"{BACKUP}?is_backup_id=true"  # DELETE …/{this} would end every sharing of BACKUP


@pytest.mark.parametrize(
    ("bad_id", "argv"),
    [
        (INJECTED, ("list-shares",)),
        (INJECTED, CANCEL_TO),
        (INJECTED, ("cancel", "--backup-id", BACKUP, "--yes")),
        (INJECTED, ("share", BACKUP, P1)),
        (f"../{BACKUP}", CANCEL_TO),
        (f"{BACKUP}/../../..", CANCEL_TO),
        (f"{BACKUP}%3Fis_backup_id=true", CANCEL_TO),
        ("", CANCEL_TO),
    ],
    ids=[
        "list",
        "cancel-to",
        "cancel-all",
        "share",
        "dotdot",
        "trailing-dotdot",
        "encoded",
        "empty",
    ],
)
def test_a_malformed_server_id_is_never_acted_on(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    bad_id: str,
    argv: tuple[str, ...],
) -> None:
    def respond(h: Handler, seen: Seen) -> None:
        if seen.method == "GET" and seen.path.endswith("/detail"):
            shared = [record(bad_id, BACKUP, P1)] if seen.query.get("offset") == "0" else []
            send(h, 200, {"shared": shared})
        else:
            send(h, 200, {"shared": []})

    server = hostile(respond)
    result = bs(*argv, env=endpoint_env(server.url))
    assert result.code == 8, result.err
    assert result.err.startswith("error: unexpected response: sharing without a valid 'id'"), (
        result.err
    )
    assert [s.method for s in server.requests()] == ["GET"]  # nothing deleted, nothing posted


OTHERS = "0b7c2a3e-1d4f-4a5b-9c6d-7e8f9a0b1c2d"  # another backup's sharing with P1


NEW = "4f1e2d3c-5b6a-4798-8a9b-0c1d2e3f4a5b"


def filter_ignoring(h: Handler, seen: Seen) -> None:
    """Lists another backup's sharing to P1 whatever `backup_id` asks for."""
    if seen.method == "GET" and seen.path.endswith("/detail"):
        shared = [record(OTHERS, BACKUP2, P1)] if seen.query.get("offset") == "0" else []
        send(h, 200, {"shared": shared})
    elif seen.method == "POST":
        send(h, 200, {"shared": [record(NEW, BACKUP, P1)]})
    elif seen.path.endswith("/count"):
        send(h, 200, {"count": 1})
    else:
        send(h, 200, b"")


def test_a_list_ignoring_the_backup_filter_does_not_fool_share_or_cancel(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile]
) -> None:
    server = hostile(filter_ignoring)
    shared = bs("share", BACKUP, P1, "-o", "json", env=endpoint_env(server.url))
    assert shared.code == 0, shared.err
    [result] = json.loads(shared.out)["results"]
    assert result["result"] == "created" and result["share_id"] == NEW
    [post] = server.requests("POST")
    assert json.loads(post.body) == {"shared": {"backup_id": BACKUP, "to_project_ids": [P1]}}
    assert all(s.query.get("backup_id") == BACKUP for s in server.requests("GET"))

    for argv in (("--to-project", P1), ("--yes",)):
        canceled = bs("cancel", "--backup-id", BACKUP, *argv, "-o", "json")
        assert canceled.code == 0, canceled.err
        results = json.loads(canceled.out)["results"]
        assert all(r["share_id"] != OTHERS and r["result"] != "canceled" for r in results)
    assert server.requests("DELETE") == []  # the other backup's sharing was left alone


LONG = 200_000  # characters: quadratic masking took minutes on this, linear takes milliseconds


FAR_ABOVE_LINEAR = 30.0  # seconds: a hang bound only, never an expectation


# -- one long server string cannot hang the CLI ----------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ["A" * LONG, "a://" * (LONG // 4), "https://" + "u" * LONG + "@host", "x1+.-" * (LONG // 5)],
    ids=["letters", "schemes", "long-userinfo", "scheme-chars"],
)
def test_masking_a_long_string_takes_linear_time(text: str) -> None:
    started = time.monotonic()
    masked = mask_url(text)
    assert time.monotonic() - started < FAR_ABOVE_LINEAR
    assert len(masked) <= len(text)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("see https://user:p@ss/w@proxy:8080/x", "see https://***@proxy:8080/x"),
        ("a ftp://a:b@c and HTTPS://x:y@z", "a ftp://***@c and HTTPS://***@z"),
        ("A" * 100 + "://u:pw@h", "A" * 100 + "://***@h"),
        ("no url at all: user:pw@host", "no url at all: user:pw@host"),
        ("http://host/path then mail a@b", "http://host/path then mail a@b"),
    ],
)
def test_masking_still_hides_user_info(text: str, masked: str) -> None:
    assert mask_url(text) == masked


class Spy:
    """The masking pattern, recording the length of every text it is tried on."""

    def __init__(self, pattern: Any) -> None:
        self.pattern = pattern
        self.lengths: list[int] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.pattern, name)

        def spied(text: str, *args: Any) -> Any:
            self.lengths.append(len(text))
            return method(text, *args)

        return spied


def long_service(h: Handler, seen: Seen) -> None:
    url = "https://user:" + "p" * 300 + "@evil.example/"
    name = ("B" * LONG) + url
    if seen.path.endswith("/count"):
        send(h, 200, {"count": 1})
    elif seen.path.endswith("/detail"):
        shares = [record(BACKUP, name=name, description=url * 3)]
        send(h, 200, {"shared": shares if seen.query.get("offset") == "0" else []})
    else:
        send(h, 400, {"error_code": "VBS.0001", "error_msg": "E" * LONG + url})


@pytest.mark.parametrize(
    "argv",
    [
        ("list-shares",),
        ("list-shares", "-o", "csv"),
        ("show", BACKUP),
        ("show", BACKUP, "-o", "json"),
        ("cancel", "00000000-0000-4000-8000-000000000000", "-o", "json"),
        ("cancel", "00000000-0000-4000-8000-000000000000", "--debug"),
    ],
    ids=["table", "csv", "show", "show-json-error", "error-json", "error-debug"],
)
def test_a_long_server_string_is_shown_bounded_and_masked(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    spy = Spy(config.URL_PASSWORD_RE)
    monkeypatch.setattr(config, "URL_PASSWORD_RE", spy)
    server = hostile(long_service)
    started = time.monotonic()
    result = bs(*argv, env=endpoint_env(server.url))
    assert time.monotonic() - started < FAR_ABOVE_LINEAR
    assert result.code in (0, 6), result.err
    assert "p" * 300 not in result.err
    assert spy.lengths and max(spy.lengths) <= config.URL_WINDOW_MAX  # the structural bound
    if result.code == 6:  # the message is cut, never the status and request ids after it
        assert "characters in all] (HTTP 400, VBS.0001, client request id" in result.err
        assert len(result.err) < 5 * escaping.SHOWN_MAX  # the headline, the JSON error, no more
    elif "csv" in argv:  # CSV keeps the value whole (masked)
        assert "B" * LONG in result.out and "p" * 300 not in result.out
    else:
        assert (
            "B" * escaping.SHOWN_MAX in result.out
            and "B" * (escaping.SHOWN_MAX + 1) not in result.out
        )
        assert "characters in all]" in result.out


# -- any field may be any JSON ---------------------------------------------------------------------
# Values a parser has tripped on, drawn often: digits int() refuses, numbers too long to print.
STRANGE = ["²", "9" * 5000, "-1", " 12", "1e3", 10**4200, -(10**30), "٣", float("nan")]


JSON_SCALARS = (
    st.sampled_from(STRANGE)
    | st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(STRANGE)
)


JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def vbs_share() -> dict[str, Any]:
    return record(str(uuid.uuid4()), description="d")


def cbr_member() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "backup_id": BACKUP,
        "dest_project_id": P1,
        "status": "pending",
        "vault_id": None,
        "created_at": "2024-05-01T09:00:00.000000",
        "updated_at": "2024-05-01T09:00:00.000000",
    }


RECORD_TYPES: dict[str, tuple[Callable[[], dict[str, Any]], Callable[[Any], Any]]] = {
    "vbs-share": (vbs_share, lambda r: Share.from_api(r)),
    "vbs-backup": (backup_record, lambda r: Backup.listed_vbs(r)),
    "cbr-backup": (cbr_backup, lambda r: Backup.listed_cbr(r)),
    "cbr-member": (cbr_member, lambda r: Share.from_cbr_member(r)),
    "cbr-offer": (cbr_backup, lambda r: Share.from_cbr_offer(r, P1, "pending")),
}


def field_paths(value: dict[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every field of a record, nested ones (a sharing's backup) too."""
    paths = []
    for key, inner in value.items():
        paths.append((*prefix, key))
        if isinstance(inner, dict):
            paths.extend(field_paths(inner, (*prefix, key)))
    return paths


def render_everywhere(parsed: Any) -> None:
    """The parsed record through every format, as a listing and (a sharing) shown alone."""
    for fmt in output.FORMATS:
        out = output.Output(format=fmt, stdout=io.StringIO(), stderr=io.StringIO())
        if isinstance(parsed, Share):
            out.shares([[parsed]])
            out.shares([[parsed]], shared_with_me=True)
            out.share_detail(parsed)
        else:
            out.backups([[parsed]])


@given(kind=st.sampled_from(sorted(RECORD_TYPES)), field=st.integers(0, 50), value=JSON_VALUES)
@example(kind="vbs-backup", field=3, value="²")  # 3: size
@example(kind="cbr-backup", field=3, value="9" * 5000)  # 3: resource_size
@example(kind="vbs-share", field=10, value=10**4200)  # 10: backup.size
def test_any_json_in_any_field_is_unreadable_or_unknown_never_a_crash(
    kind: str, field: int, value: Any
) -> None:
    make, parse = RECORD_TYPES[kind]
    base = make()
    paths = field_paths(base)
    path = paths[field % len(paths)]
    target = base
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        parsed = parse(base)
    except UnexpectedResponse:
        return  # an unreadable answer: exit 8
    render_everywhere(parsed)


def test_the_examples_name_the_size_fields() -> None:
    assert field_paths(backup_record())[3] == ("size",)
    assert field_paths(cbr_backup())[3] == ("resource_size",)
    assert field_paths(vbs_share())[10] == ("backup", "size")


@pytest.mark.parametrize("size", ["²", "9" * 5000, "٣", 10**4000, 1e300, -5])
@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_a_strange_size_is_shown_unknown(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], size: Any, fmt: str
) -> None:
    def respond(h: Handler, seen: Seen) -> None:
        item = {**backup_record(), "size": size}
        send(h, 200, {"backups": [item] if seen.query.get("offset") == "0" else []})

    server = hostile(respond)
    result = bs("backups", "-o", fmt, env=endpoint_env(server.url))
    assert result.code == 0, result.err
    if fmt == "table":
        assert "nightly" in result.out and " GB" not in result.out
    elif fmt == "csv":
        assert result.out.splitlines()[1].split(",")[4] == ""  # the size column: unknown
