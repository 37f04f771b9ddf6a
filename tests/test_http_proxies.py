"""Proxies: their passwords masked everywhere, loopback never through a proxy, scheme-less
environment proxies used as http and checked like configured ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_TOKEN

from .helpers import BACKUP, OWN, P1, CliResult
from .hostile import SECRET, Hostile, assert_never_shown, endpoint_env, password_env, write_config

# -- passwords in proxy URLs -----------------------------------------------------------------------
VIA_PROXY = "https://vbs.eu-de.example.invalid"  # not loopback: the proxy is used, nothing resolved


PROXY = f"http://user:{SECRET}@127.0.0.1:{{port}}"  # the refused port: every attempt is refused


# doctor resolves the endpoint itself; this is loopback (no DNS query, no packet leaves) yet not
# on the CLI's loopback list, so doctor still reports the proxy it would use.
DOCTOR_VIA_PROXY = "https://127.1:{port}"


@pytest.mark.parametrize("source", ["profile", "HTTPS_PROXY", "https_proxy"])
@pytest.mark.parametrize(
    "command", ["config-show", "list-shares", "share", "doctor", "doctor-json"]
)
def test_proxy_passwords_are_masked(
    bs: Callable[..., CliResult], tmp_path: Path, refused_port: int, source: str, command: str
) -> None:
    proxy = PROXY.format(port=refused_port)
    doctor_endpoint = DOCTOR_VIA_PROXY.format(port=refused_port)
    endpoint = doctor_endpoint if command.startswith("doctor") else VIA_PROXY
    in_profile = f"    proxy: '{proxy}'\n" if source == "profile" else ""
    config = write_config(
        tmp_path / "conf",
        f"profiles:\n  default:\n    endpoint: {endpoint}\n    project_id: {OWN}\n    retries: 0\n"
        f"{in_profile}    auth: {{method: token, token_env: T}}\n",
    )
    env: dict[str, str | None] = {
        "BACKUPSHARE_CONFIG": str(config),
        "T": DEFAULT_TOKEN,
        "BACKUPSHARE_TOKEN": None,
    }
    if source != "profile":
        env[source] = proxy
    argv = {
        "config-show": ("config", "show"),
        "list-shares": ("list-shares", "--debug"),
        "share": ("share", BACKUP, P1, "--debug", "-o", "json"),
        "doctor": ("doctor", "--debug"),
        "doctor-json": ("doctor", "-o", "json"),
    }[command]
    result = bs(*argv, env=env)
    assert_never_shown(result, SECRET)
    if command == "config-show":
        assert result.code == 0, result.err
        if source == "profile":
            assert f"http://***@127.0.0.1:{refused_port}" in result.out
    elif command.startswith("doctor"):
        assert result.code == 8, result.out + result.err
        assert (
            f"http://***@127.0.0.1:{refused_port}" in result.out
        )  # the proxy step names it, masked
    else:
        assert result.code == 8, result.err
        # refused by the proxy at the refused port (had it been bypassed: a DNS failure instead)
        assert "error: cannot reach vbs.eu-de.example.invalid: [Errno 111] Connection refused" in (
            result.err
        )


@pytest.mark.parametrize(
    "proxy",
    [
        f"http://john@corp.example:{SECRET}@127.0.0.1:9",
        f"http://user:pw@{SECRET}@127.0.0.1:9",
        f"http://user:pw/{SECRET}@127.0.0.1:9",
    ],
    ids=["at-in-user", "at-in-password", "slash-in-password"],
)
def test_proxy_passwords_with_at_or_slash_are_masked(
    bs: Callable[..., CliResult], tmp_path: Path, proxy: str
) -> None:
    config = write_config(
        tmp_path / "conf",
        f"profiles:\n  default:\n    endpoint: {VIA_PROXY}\n    project_id: {OWN}\n    retries: 0\n"
        f"    proxy: '{proxy}'\n    auth: {{method: token, token_env: T}}\n",
    )
    result = bs("config", "show", env={"BACKUPSHARE_CONFIG": str(config), "T": DEFAULT_TOKEN})
    assert_never_shown(result, SECRET)


# -- loopback never through a proxy ----------------------------------------------------------------
PROXY_VARS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("method", ["token", "password"])
def test_loopback_never_goes_through_a_proxy(
    bs: Callable[..., CliResult],
    emulator: RunningEmulator,
    hostile: Callable[..., Hostile],
    host: str,
    method: str,
) -> None:
    capture = hostile()
    proxies: dict[str, str | None] = dict.fromkeys(PROXY_VARS, capture.url)
    proxies.update(NO_PROXY=None, no_proxy=None)
    url = emulator.url.replace("127.0.0.1", host)
    env = endpoint_env(url) if method == "token" else password_env(url, url)
    result = bs("list-shares", "-o", "json", env={**env, **proxies})
    assert result.code == 0, result.err
    assert emulator.logged("GET", "/detail")  # reached directly ...
    if method == "password":
        assert emulator.logged("POST", "/v3/auth/tokens")
    assert capture.connections == 0  # ... and never through the proxy
    doctor = bs("doctor", "-o", "json")
    assert doctor.code == 0, doctor.out + doctor.err
    [proxy_step] = [step for step in json.loads(doctor.out) if step["check"] == "proxy"]
    assert proxy_step["detail"] == "none (loopback is never proxied)"
    assert capture.connections == 0


def test_the_same_proxy_settings_do_carry_other_hosts(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], tmp_path: Path
) -> None:
    """The control for the test above: its capture proxy is one the CLI would use."""
    capture = hostile()
    proxies: dict[str, str | None] = dict.fromkeys(PROXY_VARS, capture.url)
    proxies.update(NO_PROXY=None, no_proxy=None)
    config = write_config(tmp_path / "conf", "profiles:\n  default:\n    retries: 0\n")
    env = {**endpoint_env(VIA_PROXY), **proxies, "BACKUPSHARE_CONFIG": str(config)}
    result = bs("list-shares", env=env)
    assert result.code == 8, result.err
    [connect] = capture.requests()
    assert connect.method == "CONNECT" and connect.target == "vbs.eu-de.example.invalid:443"
    assert "X-Auth-Token" not in connect.headers  # the token stays inside the tunnel


def proxy_profile(tmp_path: Path, endpoint: str) -> dict[str, str | None]:
    path = write_config(
        tmp_path / "conf",
        f"profiles:\n  default:\n    endpoint: {endpoint}\n    project_id: {OWN}\n    retries: 0\n"
        "    auth: {method: token, token_env: T}\n",
    )
    return {"BACKUPSHARE_CONFIG": str(path), "T": DEFAULT_TOKEN, "BACKUPSHARE_TOKEN": None}


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy"])
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_doctor_masks_a_scheme_less_proxy_password(
    bs: Callable[..., CliResult], tmp_path: Path, refused_port: int, variable: str, fmt: str
) -> None:
    env = proxy_profile(tmp_path, DOCTOR_VIA_PROXY.format(port=refused_port))
    env[variable] = f"user:{SECRET}@127.0.0.1:{refused_port}"
    result = bs("doctor", "-o", fmt, env=env)
    assert_never_shown(result, SECRET)
    assert result.code == 8, result.out + result.err
    assert f"http://***@127.0.0.1:{refused_port} (environment)" in result.out
    assert f"cannot connect to the proxy 127.0.0.1:{refused_port}" in result.out  # it was used


def test_a_scheme_less_environment_proxy_is_used_as_http(
    bs: Callable[..., CliResult], tmp_path: Path, refused_port: int
) -> None:
    env = proxy_profile(tmp_path, VIA_PROXY)
    env["HTTPS_PROXY"] = f"user:{SECRET}@127.0.0.1:{refused_port}"
    result = bs("list-shares", "--debug", env=env)
    assert_never_shown(result, SECRET)
    assert result.code == 8, result.err
    # refused by the proxy (had requests read `user:` as the scheme: "not supported proxy scheme")
    assert "error: cannot reach vbs.eu-de.example.invalid: [Errno 111] Connection refused" in (
        result.err
    )


@pytest.mark.parametrize(
    "value",
    [f"user:{SECRET}@127.0.0.1:9/?q=1", f"socks5://user:{SECRET}@127.0.0.1:9", f"u:{SECRET}@:9"],
    ids=["query", "scheme", "no-host"],
)
@pytest.mark.parametrize("command", ["list-shares", "doctor", "doctor-json"])
def test_an_environment_proxy_is_checked_like_a_configured_one(
    bs: Callable[..., CliResult], tmp_path: Path, value: str, command: str
) -> None:
    env = proxy_profile(tmp_path, DOCTOR_VIA_PROXY.format(port=9))
    env["HTTPS_PROXY"] = value
    argv = {
        "list-shares": ("list-shares",),
        "doctor": ("doctor",),
        "doctor-json": ("doctor", "-o", "json"),
    }
    result = bs(*argv[command], env=env)
    assert_never_shown(result, SECRET)
    assert result.code == 3, result.out + result.err
    assert "proxy (env HTTPS_PROXY): " in result.out + result.err
    assert "***@" in result.out + result.err
