"""Issue #24 point 3: a profile named with -p/--profile uses its own credentials and project id,
whatever the environment holds (the AWS CLI's rule); run with a real environment in a child."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from backupshare.emulator import RunningEmulator
from backupshare.emulator.server import DEFAULT_TOKEN

from .helpers import BIN, OWN, P1


def partner_config(home: Path) -> Path:
    config = home / ".config" / "backupshare" / "config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(
        "profiles:\n"
        f"  partner: {{project_id: {P1}, auth: {{method: token, token: partner-token}}}}\n"
    )
    config.chmod(0o600)
    return config


def run(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *argv], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def ci_environment(emulator: RunningEmulator) -> dict[str, str]:
    """What the quick start teaches to export: our project's token and id, and the endpoint."""
    env = dict(os.environ)
    env.update(
        BACKUPSHARE_ENDPOINT=emulator.url,
        BACKUPSHARE_TOKEN=DEFAULT_TOKEN,
        BACKUPSHARE_PROJECT_ID=OWN,
        HUAWEICLOUD_SDK_AK="SOMEACCESSKEY",
    )
    return env


@pytest.mark.e2e
def test_explicit_profile_uses_its_own_identity_and_names_what_it_ignored(
    emulator: RunningEmulator, isolated: Path
) -> None:
    partner_config(isolated)
    result = run("-p", "partner", "config", "show", "-o", "json", env=ci_environment(emulator))
    assert result.returncode == 0, result.stderr
    shown = {row["key"]: row for row in json.loads(result.stdout)}
    assert shown["project_id"]["value"] == P1
    assert shown["project_id"]["source"].startswith("file ")
    assert shown["auth.token"]["source"].startswith("file ")
    assert shown["endpoint"]["source"] == "env BACKUPSHARE_ENDPOINT"  # not identity: still applies
    assert shown["profile"]["source"].startswith("flag --profile")
    assert result.stderr.splitlines() == [
        "warning: --profile partner given: ignoring BACKUPSHARE_PROJECT_ID, BACKUPSHARE_TOKEN, "
        "HUAWEICLOUD_SDK_AK from the environment (the profile's credentials and project id apply)"
    ]


@pytest.mark.e2e
def test_explicit_profile_acts_as_that_project(emulator: RunningEmulator, isolated: Path) -> None:
    partner_config(isolated)
    result = run("-p", "partner", "backups", "-o", "json", env=ci_environment(emulator))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("warning:") == 1
    mine = run("backups", "-o", "json", env=ci_environment(emulator))
    assert mine.returncode == 0, mine.stderr
    assert json.loads(result.stdout) != json.loads(mine.stdout)  # the partner's own backups


@pytest.mark.e2e
def test_profile_from_the_environment_does_not_count_as_the_flag(
    emulator: RunningEmulator, isolated: Path
) -> None:
    partner_config(isolated)
    env = ci_environment(emulator) | {"BACKUPSHARE_PROFILE": "partner"}
    result = run("config", "show", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    shown = {row["key"]: row for row in json.loads(result.stdout)}
    assert shown["project_id"]["value"] == OWN
    assert shown["project_id"]["source"] == "env BACKUPSHARE_PROJECT_ID"
    assert shown["profile"]["source"] == "env BACKUPSHARE_PROFILE"
    assert "warning" not in result.stderr


@pytest.mark.e2e
def test_no_warning_when_nothing_is_ignored(emulator: RunningEmulator, isolated: Path) -> None:
    partner_config(isolated)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKUPSHARE_")}
    env["BACKUPSHARE_ENDPOINT"] = emulator.url
    result = run("-p", "partner", "config", "show", env=env)
    assert (result.returncode, result.stderr) == (0, "")


def test_library_profile_gets_the_rule_too(emulator: RunningEmulator, isolated: Path) -> None:
    from backupshare.config import Flags
    from backupshare.resolution import load_settings

    partner_config(isolated)
    env = ci_environment(emulator) | {
        "HOME": str(isolated),
        "XDG_CONFIG_HOME": str(isolated / ".config"),
    }
    settings = load_settings(Flags(profile="partner"), env)
    assert settings.project_id == P1
    assert settings.auth.token is not None and settings.auth.token.reveal() == "partner-token"
    assert load_settings(Flags(), env).project_id == OWN


@pytest.mark.e2e
def test_doctor_warns_of_the_ignored_variables(emulator: RunningEmulator, isolated: Path) -> None:
    partner_config(isolated)
    result = run("-p", "partner", "doctor", "-o", "json", env=ci_environment(emulator))
    assert result.returncode == 0, result.stderr
    steps = {step["check"]: step for step in json.loads(result.stdout)}
    assert steps["profile"]["status"] == "warn"
    assert "ignoring BACKUPSHARE_PROJECT_ID, BACKUPSHARE_TOKEN" in steps["profile"]["detail"]
    assert steps["credentials"]["status"] == "ok"
