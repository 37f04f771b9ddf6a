"""Where settings come from: numbers checked whatever their source, environment credentials outrank
the profile's, a file of profiles with none selected, endpoints derived from cloud and region,
/dev/null as the config file, upper-case regions from every source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backupshare.emulator import RunningEmulator

from .helpers import BACKUP, OWN, P1, P2, fault


# -- configuration ----------------------------------------------------------------------------------
def test_dev_null_as_the_config_file_is_an_empty_configuration(cli: Any, monkeypatch: Any) -> None:
    import json

    monkeypatch.setenv("BACKUPSHARE_CONFIG", "/dev/null")
    shown = cli("config", "show", "-o", "json")
    assert (shown.code, shown.err) == (0, "")
    assert {r["key"]: r["value"] for r in json.loads(shown.out)}["config_file"] == "/dev/null"
    assert cli("list-shares", "-o", "ids").code == 0
    validated = cli("config", "validate")
    assert (validated.code, validated.out + validated.err) == (0, "/dev/null: valid\n")


def test_an_upper_case_region_is_lower_cased_from_every_source(
    cli: Any, monkeypatch: Any, isolated: Any
) -> None:
    import json

    def region_shown(*argv: str) -> str:
        result = cli("config", "show", "-o", "json", *argv)
        assert result.code == 0, result.err
        return str({r["key"]: r["value"] for r in json.loads(result.out)}["region"])

    assert region_shown("--region", "EU-DE") == "eu-de"
    monkeypatch.setenv("BACKUPSHARE_REGION", "EU-NL")
    assert region_shown() == "eu-nl"
    monkeypatch.delenv("BACKUPSHARE_REGION")
    config = isolated / "c.yaml"
    config.write_text("profiles:\n  default:\n    region: CN-NORTH-4\n")
    config.chmod(0o600)
    assert region_shown("--config", str(config)) == "cn-north-4"
    assert cli("config", "validate", "--config", str(config)).code == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--timeout", "0"],
            "invalid timeout '0.0' (flag --timeout): must be more than 0 and at most 3600 seconds",
        ),
        (["--timeout", "-5"], "invalid timeout '-5.0' (flag --timeout)"),
        (["--timeout", "nan"], "invalid timeout 'nan' (flag --timeout)"),
        (["--timeout", "inf"], "invalid timeout 'inf' (flag --timeout)"),
        (["--timeout", "1e308"], "invalid timeout '1e+308' (flag --timeout)"),
        (["--retries", "-1"], "invalid retries '-1' (flag --retries): must be between 0 and 20"),
        (["--retries", "21"], "invalid retries '21' (flag --retries): must be between 0 and 20"),
    ],
)
def test_bad_numbers_on_the_command_line_are_usage_errors(
    cli: Any, emulator: RunningEmulator, argv: list[str], message: str
) -> None:
    result = cli(*argv, "share", BACKUP, P1)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(f"error: {message}")
    assert emulator.logged() == []  # nothing sent


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("BACKUPSHARE_TIMEOUT", "0", "invalid timeout '0' (env BACKUPSHARE_TIMEOUT)"),
        ("BACKUPSHARE_RETRIES", "x", "invalid retries 'x' (env BACKUPSHARE_RETRIES): must be an"),
        ("BACKUPSHARE_RETRIES", "100000", "invalid retries '100000' (env BACKUPSHARE_RETRIES)"),
    ],
)
def test_bad_numbers_in_the_environment_are_config_errors(
    cli: Any, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    result = cli("list-shares")
    assert result.code == 3
    assert result.err.startswith(f"error: {message}")


def test_retries_zero_is_exactly_one_attempt(cli: Any, emulator: RunningEmulator) -> None:
    fault(emulator, "status", method="GET", status=503, count=10)
    result = cli("--retries", "0", "share", BACKUP, P1)
    assert result.code == 8
    assert len(emulator.logged("GET")) == 1
    assert emulator.logged("POST") == []


def test_environment_credentials_outrank_the_default_profiles(
    cli: Any, isolated: Path, monkeypatch: pytest.MonkeyPatch, emulator: RunningEmulator
) -> None:
    config = isolated / ".config" / "backupshare" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "default_profile: prod\nprofiles:\n  prod:\n"
        f"    endpoint: {emulator.url}\n    project_id: {OWN}\n"
        "    auth: {method: aksk, access_key: AKEXAMPLE, secret_key_env: PROD_SK}\n"
    )
    monkeypatch.delenv("BACKUPSHARE_ENDPOINT")
    result = cli("list-shares", "--count")  # BACKUPSHARE_TOKEN is set; PROD_SK is not
    assert (result.code, result.out, result.err) == (0, "0\n", "")
    shown = cli("config", "show", "-o", "json")
    assert '"value": "token"' in shown.out and "derived from the environment" in shown.out


# -- a file with profiles, none selected -----------------------------------------------------------
@pytest.fixture
def two_profiles(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = isolated / ".config" / "backupshare" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "profiles:\n"
        "  prod: {cloud: otc, region: eu-de, project_id: " + P1 + ", auth: {method: token}}\n"
        "  staging: {cloud: otc, region: eu-nl, project_id: " + P2 + ", auth: {method: token}}\n"
    )
    config.chmod(0o600)
    for name in ("BACKUPSHARE_ENDPOINT", "BACKUPSHARE_PROJECT_ID", "BACKUPSHARE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return config


def test_no_profile_selected_is_named_as_the_problem(cli: Any, two_profiles: Path) -> None:
    result = cli("list-shares")
    assert (result.code, result.out) == (3, "")
    assert result.err.splitlines() == [
        f"error: no profile selected; profiles in {two_profiles}: prod, staging",
        "hint: choose one with --profile prod or BACKUPSHARE_PROFILE=prod, or set "
        "`default_profile: prod` in the file (without a profile: profile 'default' has no "
        "endpoint)",
    ]


def test_doctor_names_the_missing_profile_selection(cli: Any, two_profiles: Path) -> None:
    import json

    result = cli("doctor", "-o", "json")
    assert result.code == 3
    steps = {step["check"]: step for step in json.loads(result.out)}
    assert steps["profile"]["status"] == "fail"
    assert steps["profile"]["detail"].startswith("no profile selected; profiles in")
    assert "--profile prod" in steps["profile"]["fix"]


def test_the_environment_alone_still_works_beside_a_file_of_profiles(
    cli: Any, two_profiles: Path, emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUPSHARE_ENDPOINT", emulator.url)
    monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", OWN)
    monkeypatch.setenv("BACKUPSHARE_TOKEN", "emulator-token")
    assert cli("list-shares", "--count").out == "0\n"


# -- endpoints from cloud and region in the environment ---------------------------------------------
@pytest.mark.parametrize(
    ("cloud", "region", "endpoint"),
    [
        ("otc", "eu-nl", "https://vbs.eu-nl.otc.t-systems.com"),
        ("huaweicloud", "ap-southeast-1", "https://vbs.ap-southeast-1.myhuaweicloud.com"),
    ],
)
def test_env_only_setups_derive_the_endpoint(
    cli: Any, monkeypatch: pytest.MonkeyPatch, cloud: str, region: str, endpoint: str
) -> None:
    import json

    from backupshare.config import CLOUDS

    assert CLOUDS[cloud]["vbs"].format(region=region) == endpoint
    monkeypatch.delenv("BACKUPSHARE_ENDPOINT")
    monkeypatch.setenv("BACKUPSHARE_CLOUD", cloud)
    monkeypatch.setenv("BACKUPSHARE_REGION", region)
    result = cli("config", "show", "-o", "json")
    assert result.code == 0, result.err
    shown = {row["key"]: row for row in json.loads(result.out)}
    assert shown["endpoint"]["value"] == endpoint
    assert shown["endpoint"]["source"] == "derived from cloud and region"
    assert shown["cloud"]["source"] == "env BACKUPSHARE_CLOUD"


def test_an_unknown_cloud_in_the_environment_is_a_config_error(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKUPSHARE_ENDPOINT")
    monkeypatch.setenv("BACKUPSHARE_CLOUD", "aws")
    monkeypatch.setenv("BACKUPSHARE_REGION", "eu-de")
    result = cli("list-shares")
    assert result.code == 3
    assert result.err.splitlines()[0] == (
        "error: cloud 'aws' (env BACKUPSHARE_CLOUD) is not one of otc, huaweicloud"
    )
