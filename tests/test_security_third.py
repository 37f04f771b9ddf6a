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
