"""Endpoints and regions are checked strictly before any request: bad endpoints, passwords in
them never printed, regions that are not one, derived URLs checked like configured ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backupshare import resolution
from backupshare.emulator.server import DEFAULT_TOKEN, DEFAULT_USER
from backupshare.errors import ConfigError

from .helpers import OWN, CliResult
from .hostile import SECRET, Hostile, assert_never_shown, endpoint_env, password_env, write_config


# -- endpoints parsed strictly ---------------------------------------------------------------------
def bad_endpoints(port: int) -> list[tuple[str, str]]:
    return [
        (f"http://evil.example\\@127.0.0.1:{port}", "a backslash"),
        (f"http://user:{SECRET}@127.0.0.1:{port}", "contains user info"),
        (f"http://127.0.0.1:{port}/?x=1", "has a query or fragment"),
        (f"http://127.0.0.1:{port}#frag", "has a query or fragment"),
        (f"http://127.0.0.1:{port}/v2 x", "white space"),
    ]


@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("source", ["env", "flag", "iam"])
def test_endpoints_are_parsed_strictly(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], index: int, source: str
) -> None:
    server = hostile()
    url, problem = bad_endpoints(server.port)[index]
    if source == "env":
        result = bs("list-shares", "--debug", env=endpoint_env(url))
        where = "endpoint (env BACKUPSHARE_ENDPOINT)"
    elif source == "flag":
        result = bs("list-shares", "--debug", "--endpoint", url, env=endpoint_env(server.url))
        where = "endpoint (flag --endpoint)"
    else:
        result = bs("list-shares", "--debug", env=password_env(url, server.url))
        where = "iam_endpoint (env BACKUPSHARE_IAM_ENDPOINT)"
    assert result.code == 3, result.err
    assert result.err.startswith(f"error: {where}: "), result.err
    assert problem in result.err
    assert_never_shown(result, SECRET, DEFAULT_USER[1])
    assert server.connections == 0


@pytest.mark.parametrize(
    ("userinfo", "leak"),
    [
        ("john@corp.example:pw-" + SECRET, SECRET),
        ("user:pw@" + SECRET, SECRET),
        ("user:pw/" + SECRET, SECRET),
    ],
    ids=["at-in-user", "at-in-password", "slash-in-password"],
)
def test_an_endpoint_password_with_at_or_slash_is_never_printed(
    bs: Callable[..., CliResult], hostile: Callable[..., Hostile], userinfo: str, leak: str
) -> None:
    server = hostile()
    result = bs("list-shares", env=endpoint_env(f"http://{userinfo}@127.0.0.1:{server.port}"))
    assert result.code == 3, result.err
    assert server.connections == 0
    assert_never_shown(result, leak)


# -- regions checked -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "region", ["evil.example/x", "x@127.0.0.1:{port}/", "eu-de.127.0.0.1.nip.io#"]
)
@pytest.mark.parametrize("source", ["HUAWEICLOUD_SDK_REGION", "BACKUPSHARE_REGION", "flag", "file"])
def test_a_region_that_is_not_one_is_refused_before_any_request(
    bs: Callable[..., CliResult],
    hostile: Callable[..., Hostile],
    tmp_path: Path,
    region: str,
    source: str,
) -> None:
    capture = hostile()  # where an unchecked region would send the request (and token)
    region = region.format(port=capture.port)
    in_file = f"    region: '{region}'\n" if source == "file" else ""
    config = write_config(
        tmp_path / "conf",
        f"profiles:\n  default:\n    cloud: otc\n{in_file}    project_id: {OWN}\n"
        "    auth: {method: token, token_env: T}\n",
    )
    env: dict[str, str | None] = {
        "BACKUPSHARE_CONFIG": str(config),
        "T": DEFAULT_TOKEN,
        "BACKUPSHARE_TOKEN": None,
    }
    argv = ["list-shares", "--timeout", "2"]
    if source == "flag":
        argv += ["--region", region]
    elif source != "file":
        env[source] = region
    result = bs(*argv, env=env)
    assert result.code == 3, result.err
    assert "does not look like a region" in result.err
    where = {"flag": "region (flag --region)", "file": "key 'region'"}.get(
        source, f"region (env {source})"
    )
    assert where in result.err
    assert capture.connections == 0


# -- regions, derived URLs, CSV formulas by default, YAML's bidi overrides -------------------------
@pytest.mark.parametrize("region", ["eu-de\n", "eu-de\r", "eu-de/x", "eu-de.evil.example"])
def test_a_region_with_a_trailing_line_break_is_refused(
    bs: Callable[..., CliResult], region: str
) -> None:
    env = {
        "BACKUPSHARE_ENDPOINT": None,
        "BACKUPSHARE_CLOUD": "otc",
        "BACKUPSHARE_REGION": region,
        "BACKUPSHARE_PROJECT_ID": OWN,
        "BACKUPSHARE_TOKEN": DEFAULT_TOKEN,
    }
    result = bs("list-shares", env=env)
    assert result.code == 3, result.err
    assert "does not look like a region" in result.err


@pytest.mark.parametrize(
    ("template", "region"),
    [
        ("https://vbs.{region}.example", "eu-de\n"),
        ("http://vbs.{region}.example", "eu-de"),  # plain http off loopback
        ("https://vbs.{region}.example?x", "eu-de"),
    ],
)
def test_derived_urls_are_checked_like_configured_ones(template: str, region: str) -> None:
    with pytest.raises(ConfigError, match="the URL derived from cloud and region"):
        resolution.derived_url(template, region)
    assert (
        resolution.derived_url("https://vbs.{region}.example", "eu-de")
        == "https://vbs.eu-de.example"
    )
