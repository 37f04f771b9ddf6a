"""config.SETTINGS declares each setting once; these tests hold the places that read it to it."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from backupshare.config import ENV_NAMES, PROFILE_KEYS, SETTINGS, Flags

from .helpers import ROOT


def test_flags_are_exactly_the_settings_with_a_flag_and_the_selectors() -> None:
    with_flag = {s.key for s in SETTINGS if s.flag}
    assert {f.name for f in fields(Flags)} == with_flag | {"profile", "config", "debug"}


def test_every_setting_with_a_flag_is_an_option_of_every_command(cli: Any) -> None:
    for setting in SETTINGS:
        if setting.flag:
            for command in ("share", "list-shares", "cancel", "doctor"):
                shown = cli(command, "--help").out
                assert f"{setting.flag} {setting.metavar}" in shown, (setting.key, command)


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.env], ids=lambda s: s.key)
def test_every_environment_variable_is_in_the_readme(setting: Any) -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"`{setting.env[0]}`" in readme


def test_every_profile_key_is_in_the_example_config() -> None:
    example = (ROOT / "config.example.yaml").read_text()
    missing = [key for key in PROFILE_KEYS if f"{key}:" not in example]
    assert missing == []


@pytest.mark.parametrize(
    ("name", "value", "code", "message"),
    [
        ("BACKUPSHARE_TIMEOUT", "-1", 3, "invalid timeout '-1' (env BACKUPSHARE_TIMEOUT)"),
        ("BACKUPSHARE_RETRIES", "1.5", 3, "invalid retries '1.5' (env BACKUPSHARE_RETRIES)"),
    ],
)
def test_numbers_from_any_source_meet_the_tables_range(
    cli: Any, monkeypatch: pytest.MonkeyPatch, name: str, value: str, code: int, message: str
) -> None:
    monkeypatch.setenv(name, value)
    result = cli("list-shares")
    assert result.code == code and result.err.startswith(f"error: {message}")


def test_env_names_come_from_the_table() -> None:
    assert ENV_NAMES["cloud"] == ("BACKUPSHARE_CLOUD",)
    assert all(names[0].startswith("BACKUPSHARE_") for names in ENV_NAMES.values())
