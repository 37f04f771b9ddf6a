"""Redirects are never followed, and no credential moves with one; a password in a Location is masked."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backupshare.emulator.server import DEFAULT_AKSK, DEFAULT_TOKEN, DEFAULT_USER

from .helpers import CliResult
from .hostile import (
    SECRET,
    Hostile,
    Respond,
    aksk_env,
    assert_never_shown,
    endpoint_env,
    password_env,
    send,
)


# -- redirects are never followed ------------------------------------------------------------------
def redirecting(status: int, location: str) -> Respond:
    return lambda h, seen: send(h, status, {"moved": True}, headers=(("Location", location),))


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["token", "aksk", "password"])
def test_redirects_are_not_followed_and_no_credential_moves(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    status: int,
    method: str,
) -> None:
    capture = hostile()
    location = f"http://127.0.0.1:{capture.port}/steal"
    server = hostile(redirecting(status, location))
    env = {
        "token": endpoint_env(server.url),
        "aksk": aksk_env(server.url),
        "password": password_env(server.url, server.url),
    }[method]
    result = bs("list-shares", "--debug", env=env)
    assert result.code == 8, result.err
    assert (
        f"error: 127.0.0.1:{server.port} answered HTTP {status} redirecting to {location}; "
        "redirects are not followed" in result.err
    ), result.err
    # The hostile server did get the credential (the test is real) ...
    [first] = server.requests()
    if method == "token":
        assert first.headers.get("X-Auth-Token") == DEFAULT_TOKEN
    elif method == "aksk":
        assert first.headers.get("Authorization", "").startswith("SDK-HMAC-SHA256 Access=")
    else:
        assert first.method == "POST" and first.path == "/v3/auth/tokens"
        assert DEFAULT_USER[1].encode() in first.body
    # ... and nothing went on to the Location: no token, signature or password re-POST.
    assert capture.connections == 0 and capture.requests() == []
    assert_never_shown(result, DEFAULT_TOKEN, DEFAULT_AKSK[1], DEFAULT_USER[1])


def test_a_password_in_a_redirect_location_is_masked(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile]
) -> None:
    capture = hostile()
    server = hostile(redirecting(302, f"http://user:{SECRET}@127.0.0.1:{capture.port}/"))
    result = bs("list-shares", "--debug", env=endpoint_env(server.url))
    assert result.code == 8, result.err
    assert f"redirecting to http://***@127.0.0.1:{capture.port}/;" in result.err
    assert_never_shown(result, SECRET)
    assert capture.connections == 0
