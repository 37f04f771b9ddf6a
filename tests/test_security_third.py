"""Issue 25, security third pass: each finding reproduced over loopback, and the defence shown.

Like tests/test_security.py (whose hostile server this reuses): only loopback addresses, real
HTTP, exit codes and messages checked. Nothing asserts a duration: where linear time is the
point, the bound is orders of magnitude above the linear time and below the quadratic one.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from backupshare import config, output
from backupshare.config import mask_url

from .conftest import BACKUP, OWN, P1, CliResult
from . import test_security as first
from .test_security import Handler, Hostile, Seen, endpoint_env, record, send

bs = first.bs  # the fixtures of the earlier passes: the CLI in-process, a hostile server
hostile = first.hostile

LONG = 200_000  # characters: quadratic masking took minutes on this, linear takes milliseconds
FAR_ABOVE_LINEAR = 30.0  # seconds: a hang bound only, never an expectation


# == 1. one long server string cannot hang the CLI ==================================================
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
    if result.code == 6:
        assert "characters in all]" in result.err
        assert len(result.err) < 5 * output.SHOWN_MAX  # the headline, the JSON error, no more
    elif "csv" in argv:  # CSV keeps the value whole (masked)
        assert "B" * LONG in result.out and "p" * 300 not in result.out
    else:
        assert "B" * output.SHOWN_MAX in result.out and "B" * (output.SHOWN_MAX + 1) not in result.out
        assert "characters in all]" in result.out


# == 2. listings bounded in bytes, and collect-then-print formats in records =======================
def backup_record(description: str = "") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": "nightly",
        "status": "available",
        "size": 40,
        "volume_id": "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
        "availability_zone": "eu-de-01",
        "description": description,
        "created_at": "2024-05-01T09:00:00.000000",
    }


def many(pages: int, *, filler: int = 0, count: int | None = None) -> Callable[[Handler, Seen], None]:
    """`pages` full pages of fresh backups or sharings (each with `filler` characters of
    description), then an empty page; a count that says `count` (default: the truth)."""
    served = {"pages": 0}

    def respond(h: Handler, seen: Seen) -> None:
        limit = int(seen.query.get("limit", "100"))
        if seen.path.endswith("/count"):
            send(h, 200, {"count": pages * limit if count is None else count})
            return
        served["pages"] += 1
        more = served["pages"] <= pages
        if "/backups" in seen.path:
            send(h, 200, {"backups": [backup_record("d" * filler) for _ in range(limit)] if more else []})
        else:
            items = [record(to=uuid.uuid4().hex, description="d" * filler) for _ in range(limit)]
            send(h, 200, {"shared": items if more else []})

    return respond


@pytest.mark.parametrize(
    "argv",
    [("backups", "-o", "jsonl"), ("backups", "-o", "ids"), ("list-shares", "-o", "csv")],
    ids=["backups-without-count", "backups-ids", "shares-trusting-a-count"],
)
def test_a_listing_is_bounded_in_bytes(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    from backupshare import client

    monkeypatch.setattr(client, "LISTING_MAX_BYTES", 1024 * 1024)
    # 100 records of 3 kB a page: the bound is passed on the fourth page, long before the 50th;
    # the sharings' count claims a million, as a hostile server's would.
    server = hostile(many(50, filler=3000, count=1_000_000))
    result = bs(*argv, env=endpoint_env(server.url))
    assert result.code == 8, result.err
    assert result.err.startswith("error: unexpected response: the listing exceeds 1 MiB ("), result.err
    assert "hint: " in result.err
    assert len([s for s in server.requests("GET") if "/detail" in s.path]) <= 5
    assert 0 < result.out.count("\n") <= 400  # what streamed before the bound stays written


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
@pytest.mark.parametrize("command", ["backups", "list-shares"])
def test_collecting_formats_stop_past_the_record_bound(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    command: str,
) -> None:
    monkeypatch.setattr(output, "COLLECTED_MAX", 250)
    server = hostile(many(10))
    result = bs(command, "-o", fmt, env=endpoint_env(server.url))
    assert result.code == 8, result.err
    assert result.err.startswith(
        f"error: the listing has more than 250 records, too many to hold for -o {fmt}"
    ), result.err
    assert "hint: use -o jsonl, csv or ids, which stream" in result.err
    assert result.out == ""
    assert len([s for s in server.requests("GET") if "/detail" in s.path]) == 3  # counted while listing


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "ids"])
def test_streaming_formats_are_not_held_to_the_record_bound(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    monkeypatch.setattr(output, "COLLECTED_MAX", 250)
    server = hostile(many(4))
    result = bs("backups", "-o", fmt, env=endpoint_env(server.url))
    assert result.code == 0, result.err
    assert result.out.count("\n") == 400 + (fmt == "csv")
