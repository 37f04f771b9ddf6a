"""Sharings files (backupshare/sharings.py): every error a configuration error (exit 3) naming
FILE:LINE and the key, found before any request — the emulator's log proves nothing was sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backupshare.emulator import RunningEmulator
from backupshare.errors import ConfigError
from backupshare.sharings import parse_sharings

from .helpers import P1, P2, CliResult

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
V1 = "11111111-1111-4111-8111-111111111111"
GOOD = f"""\
version: 1
groups:
  dr: [{P1}]
sharings:
  - name: nightly
    backups: {{volume_id: [{V1}], newest: 2}}
    to: [dr, {P2.upper()}, {P1}]
    mode: exact
  - backups: {{id: 066B1E37-9305-4057-97E5-2E99B21FC71D}}
    to: dr
"""


def test_a_good_file_becomes_typed_entries() -> None:
    parsed = parse_sharings(GOOD, "s.yaml", now=NOW)
    first, second = parsed.entries
    assert (first.label, first.exact, first.to, first.where) == (
        "nightly",
        True,
        (P1, P2),
        "s.yaml:5",
    )
    assert first.selector.filters is not None and first.selector.filters.volume_ids == (V1,)
    assert (first.selector.newest, first.selector.per_volume) == (2, True)
    assert (second.label, second.exact, second.to) == ("sharings[1]", False, (P1,))
    assert second.selector.backup_id == "066b1e37-9305-4057-97e5-2e99b21fc71d"


ENTRY = "sharings:\n  - backups: {name_prefix: db-}\n    to: [dr]\n"
HEAD = f"version: 1\ngroups:\n  dr: [{P1}]\n"
BAD_FILES = [
    ("sharings: []\n", "s.yaml:1: version: missing"),
    ("version: 2\nsharings: []\n", "s.yaml:1: version: unknown version 2"),
    ("version: '1'\nsharings: []\n", "s.yaml:1: version: unknown version '1'"),
    ("version: 1\nsharing: []\n", "s.yaml:2: sharing: unknown key in the file"),
    ("- 1\n- 2\n", "s.yaml:1: the file must be a mapping"),
    (HEAD + "sharings: {a: 1}\n", "s.yaml:4: sharings: must be a list"),
    (HEAD + "sharings:\n  - 42\n", "s.yaml:4: sharings[0]: each entry must be a mapping"),
    (
        HEAD + "sharings:\n  - backups: {name: x}\n    to: [dr]\n    mod: exact\n",
        "s.yaml:7: mod: unknown key in sharings[0]",
    ),
    (
        HEAD + "sharings:\n  - backups: {name: x, newset: 1}\n    to: [dr]\n",
        "s.yaml:5: newset: unknown key in backups",
    ),
    (
        HEAD + "sharings:\n  - backups: {id: not-a-uuid}\n    to: [dr]\n",
        "s.yaml:5: id: invalid backup id 'not-a-uuid'",
    ),
    (
        HEAD + "sharings:\n  - backups: {volume_id: [x]}\n    to: [dr]\n",
        "s.yaml:5: volume_id: invalid volume_id 'x'",
    ),
    (
        HEAD + "sharings:\n  - backups: {name: x}\n    to: [722513ed0a324dadaabe5b2d0fe848]\n",
        "s.yaml:6: to: invalid project id '722513ed0a324dadaabe5b2d0fe848'",
    ),
    (
        HEAD + "sharings:\n  - backups: {name: x}\n    to: [staging]\n",
        "s.yaml:6: to: unknown group 'staging' (groups: dr)",
    ),
    ("version: 1\ngroups:\n  dr: [abc]\nsharings: []\n", "s.yaml:3: dr: invalid project id 'abc'"),
    (
        HEAD + "sharings:\n  - backups: {newest: 1}\n    to: [dr]\n",
        "s.yaml:5: backups: no selector",
    ),
    (HEAD + "sharings:\n  - backups: {}\n    to: [dr]\n", "s.yaml:5: backups: no selector"),
    (
        HEAD
        + f"sharings:\n  - backups: {{id: 066b1e37-9305-4057-97e5-2e99b21fc71d, volume_id: {V1}}}"
        "\n    to: [dr]\n",
        "s.yaml:5: volume_id: `id` selects one backup",
    ),
    (
        HEAD + "sharings:\n  - backups: {name: x}\n    to: []\n",
        "s.yaml:6: to: empty in an additive entry",
    ),
    (HEAD + "sharings:\n  - backups: [x]\n    to: [dr]\n", "s.yaml:5: backups: must be a mapping"),
    (HEAD + "sharings:\n  - backups: {name: x}\n", "s.yaml:5: sharings[0]: to: missing"),
    (HEAD + "sharings:\n  - to: [dr]\n", "s.yaml:5: sharings[0]: backups: missing"),
    (
        HEAD + "sharings:\n  - backups: {name: x, newest: 0}\n    to: [dr]\n",
        "s.yaml:5: newest: 0: a whole number",
    ),
    (
        HEAD + "sharings:\n  - backups: {name: x, newest: true}\n    to: [dr]\n",
        "s.yaml:5: newest: True: a whole number",
    ),
    (
        HEAD + "sharings:\n  - backups: {name: x}\n    to: [dr]\n    mode: prune\n",
        "s.yaml:7: mode: 'prune': must be additive or exact",
    ),
    (
        HEAD + "sharings:\n  - backups: {name: x, created_after: soon}\n    to: [dr]\n",
        "s.yaml:5: created_after: invalid created_after 'soon'",
    ),
    (
        HEAD + 'sharings:\n  - name: "a\\x1bb"\n    backups: {name: x}\n    to: [dr]\n',
        "s.yaml:5: name: control characters",
    ),
    ("version: 1\ngroups: [a]\n", "s.yaml:2: groups: must be a mapping"),
    ("version: 1\nversion: 1\n", "duplicate key 'version'"),
    ("version: 1\nsharings: [\n", "YAML syntax error"),
    ("version: 1\nx: !!python/object:os.system {}\n", "s.yaml"),
    ("a: &a [1, *a]\n", "s.yaml"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_every_error_names_the_file_the_line_and_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_sharings(text, "s.yaml", now=NOW)
    assert message in raised.value.message


@pytest.mark.parametrize(("text", "message"), BAD_FILES[::4])
def test_the_cli_says_it_in_one_line_exit_3_and_sends_nothing(
    cli: Callable[..., CliResult],
    emulator: RunningEmulator,
    tmp_path: Path,
    text: str,
    message: str,
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    for command in (["plan"], ["apply", "--yes"]):
        result = cli(*command, "-f", str(path))
        assert result.code == 3, result.err
        assert message.replace("s.yaml", str(path)) in result.err
        assert "Traceback" not in result.err
    assert emulator.logged() == []


def test_stdin_is_read_with_a_dash(
    cli: Callable[..., CliResult], emulator: RunningEmulator
) -> None:
    result = cli("plan", "-f", "-", stdin="version: 1\nsharings: []\n")
    assert (result.code, result.err) == (
        0,
        "nothing selected: the plan is empty\n"
        "plan: 0 to share, 0 to cancel, 0 unchanged, 0 blocked\n",
    )
    bad = cli("plan", "-f", "-", stdin="version: 3\n")
    assert (bad.code, bad.err.splitlines()[0]) == (
        3,
        "error: <stdin>:1: version: unknown version 3: this tool reads 1",
    )


def test_unreadable_huge_and_binary_files_are_configuration_errors(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"#" * (1024 * 1024 + 1))
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"version: 1\x00\n")
    for name, message in (
        (str(tmp_path / "missing.yaml"), "cannot read the sharings file"),
        (str(huge), "larger than 1024 KiB"),
        (str(binary), "contains NUL bytes"),
        (str(tmp_path), "is a directory"),
    ):
        result = cli("plan", "-f", name)
        assert result.code == 3 and message in result.err, result.err
    assert cli("plan").code == 2  # no -f at all: a usage error
    assert emulator.logged() == []


@given(st.text(max_size=200))
def test_any_text_is_a_file_or_a_configuration_error(text: str) -> None:
    try:
        parse_sharings(text, "s.yaml", now=NOW)
    except ConfigError as exc:
        assert exc.message.startswith("s.yaml")
