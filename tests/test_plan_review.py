"""The findings of the review of plan/apply (issue #22's), one test (or more) each, against the
emulator where a request could be sent — the request log proving nothing was."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backupshare.emulator import EmulatorConfig, RunningEmulator, start
from backupshare.errors import ConfigError
from backupshare.sharings import parse_sharings

from .conftest import OWN, P2, CliResult
from .test_plan import NOW, A, C, seeds, sharings_file


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    """test_plan's backups (used by `cli`, which talks to this emulator)."""
    with start(EmulatorConfig(backups=seeds())) as running:
        yield running


def exact_entry(backups: str, to: str = "[dr]") -> str:
    return f"sharings:\n  - name: nightly\n    backups: {backups}\n    to: {to}\n    mode: exact\n"


# -- 1. a null or empty selector value never selects every backup --------------------------------
BLANK_SELECTORS = [
    ("\n      volume_id:\n", "volume_id: empty value"),
    ("{volume_id: []}", "volume_id: [] value"),
    ("{volume_id: ~}", "volume_id: empty value"),
    ("{name: null}", "name: empty value"),
    ("{name: ''}", "name: empty value"),
    ("{vault_id: null}", "vault_id: empty value"),
    ("{created_after: null}", "created_after: empty value"),
    ("{volume_id: [], newest: 100}", "volume_id: [] value"),
    ("{name: web-c, newest: ~}", "newest: empty value"),
    ("{id: ~}", "id: empty value"),
]


@pytest.mark.parametrize(("backups", "message"), BLANK_SELECTORS)
def test_a_blank_selector_value_is_refused_naming_the_line_and_the_key(
    cli: Callable[..., CliResult],
    emulator: RunningEmulator,
    tmp_path: Path,
    backups: str,
    message: str,
) -> None:
    assert cli("share", A, P2).code == 0  # what exact mode would cancel, were it to run
    emulator.emulator.clear_log()
    path = sharings_file(tmp_path, exact_entry(backups))
    for command in (["plan"], ["apply", "--yes", "--max-removals", "100"]):
        result = cli(*command, "-f", path)
        assert result.code == 3, result.err
        first = result.err.splitlines()[0]
        assert first.startswith(f"error: {path}:") and message in first, first
    assert emulator.emulator.logged() == []


def test_the_library_refuses_a_blank_selector_too(emulator: RunningEmulator) -> None:
    from backupshare import Client

    text = "version: 1\nsharings:\n  - backups: {volume_id: []}\n    to: []\n    mode: exact\n"
    with Client(endpoint=emulator.url, project_id=OWN, token="emulator-token") as api:
        for call in (lambda: api.plan(text=text), lambda: api.apply(text=text)):
            with pytest.raises(ConfigError) as raised:
                call()
            assert raised.value.message.startswith("<text>:3: volume_id: [] value")
    assert emulator.emulator.logged() == []


def test_make_plan_refuses_an_exact_entry_whose_selector_names_nothing() -> None:
    """Behind the reader: an Entry made some other way still never means "every backup"."""
    from backupshare.selectors import Selectors
    from backupshare.sharings import BackupSelector, Entry, SharingsFile
    from backupshare.verbs.plan import make_plan

    def no_service(profile: str | None) -> None:
        raise AssertionError("no service may be asked")

    for selector in (BackupSelector(), BackupSelector(filters=Selectors(), newest=100)):
        entry = Entry(0, "all", None, selector, (), True, "s.yaml:3")
        with pytest.raises(ConfigError) as raised:
            make_plan(SharingsFile("s.yaml", (entry,)), no_service)  # type: ignore[arg-type]
        assert raised.value.message.startswith("s.yaml:3: all: backups: an exact entry")


# -- 2. an empty group is a configuration error, not `to: []` -----------------------------------
def test_an_empty_group_is_refused_and_nothing_is_sent(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    assert cli("share", C, P2).code == 0
    emulator.emulator.clear_log()
    path = tmp_path / "s.yaml"
    path.write_text("version: 1\ngroups:\n  dr: []\n" + exact_entry("{name_prefix: web-}"))
    for command in (["plan"], ["apply", "--yes"]):
        result = cli(*command, "-f", str(path))
        assert result.code == 3, result.err
        assert result.err.splitlines()[0] == (
            f"error: {path}:3: dr: an empty group: list its project ids, or remove it"
        )
    assert emulator.emulator.logged() == []
    literal = sharings_file(tmp_path, exact_entry("{name_prefix: web-}", "[]"))
    assert parse_sharings(Path(literal).read_text(), "s.yaml", now=NOW).entries[0].to == ()
