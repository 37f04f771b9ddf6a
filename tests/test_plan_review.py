"""The findings of the review of plan/apply (issue #22's), one test (or more) each, against the
emulator where a request could be sent — the request log proving nothing was."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backupshare.emulator import EmulatorConfig, RunningEmulator, start
from backupshare.errors import ConfigError
from backupshare.sharings import parse_sharings

from .helpers import OWN, P1, P2, CliResult, Emulated
from .test_plan import NOW, A, B, C, D, changes_sent, seeds, sharings_file


@pytest.fixture
def emulator() -> Iterator[Emulated]:
    """test_plan's backups (used by `cli`, which talks to this emulator)."""
    with start(EmulatorConfig(backups=seeds())) as running:
        yield Emulated.of(running)


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
    emulator.clear_log()
    path = sharings_file(tmp_path, exact_entry(backups))
    for command in (["plan"], ["apply", "--yes", "--max-removals", "100"]):
        result = cli(*command, "-f", path)
        assert result.code == 3, result.err
        first = result.err.splitlines()[0]
        assert first.startswith(f"error: {path}:") and message in first, first
    assert emulator.logged() == []


def test_the_library_refuses_a_blank_selector_too(emulator: RunningEmulator) -> None:
    from backupshare import Client

    text = "version: 1\nsharings:\n  - backups: {volume_id: []}\n    to: []\n    mode: exact\n"
    with Client(endpoint=emulator.url, project_id=OWN, token="emulator-token") as api:
        for call in (lambda: api.plan(text=text), lambda: api.apply(text=text)):
            with pytest.raises(ConfigError) as raised:
                call()
            assert raised.value.message.startswith("<text>:3: volume_id: [] value")
    assert emulator.logged() == []


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
    emulator.clear_log()
    path = tmp_path / "s.yaml"
    path.write_text("version: 1\ngroups:\n  dr: []\n" + exact_entry("{name_prefix: web-}"))
    for command in (["plan"], ["apply", "--yes"]):
        result = cli(*command, "-f", str(path))
        assert result.code == 3, result.err
        assert result.err.splitlines()[0] == (
            f"error: {path}:3: dr: an empty group: list its project ids, or remove it"
        )
    assert emulator.logged() == []
    literal = sharings_file(tmp_path, exact_entry("{name_prefix: web-}", "[]"))
    assert parse_sharings(Path(literal).read_text(), "s.yaml", now=NOW).entries[0].to == ()


# -- 3. an entry naming the run's own profile is resolved as --profile NAME ----------------------
# -- 10. an unknown entry profile is the sharings file's error, at its `profile:` line ----------
def partner_config(tmp_path: Path, url: str) -> Path:
    from backupshare.emulator.server import DEFAULT_TOKEN

    config = tmp_path / "config.yaml"
    config.write_text(
        f"default_profile: partner\nprofiles:\n"
        f"  partner: {{endpoint: '{url}', project_id: {P1}, service: cbr,\n"
        f"            auth: {{method: token, token: partner-token}}}}\n"
        f"  own: {{endpoint: '{url}', project_id: {OWN}, service: cbr,\n"
        f"        auth: {{method: token, token: {DEFAULT_TOKEN}}}}}\n"
    )
    config.chmod(0o600)
    return config


def test_an_entry_naming_the_runs_own_profile_gets_that_profiles_identity(
    make_emulator: Callable[..., RunningEmulator],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The run's profile is `partner`, but the environment brings OWN's identity (it wins for a
    profile not named with --profile); `profile: partner` in the file means partner's."""
    import json

    from backupshare.cli import run
    from backupshare.emulator.server import DEFAULT_TOKEN

    from .helpers import PARTNER_BACKUP

    running = make_emulator()
    config = partner_config(tmp_path, running.url)
    monkeypatch.setenv("BACKUPSHARE_PROJECT_ID", OWN)
    monkeypatch.setenv("BACKUPSHARE_TOKEN", DEFAULT_TOKEN)
    body = (
        f"sharings:\n  - backups: {{id: 066b1e37-9305-4057-97e5-2e99b21fc71d}}\n    to: [{P2}]\n"
        f"  - profile: partner\n    backups: {{id: {PARTNER_BACKUP}}}\n    to: [{P2}]\n"
    )
    path = sharings_file(tmp_path, body)
    capsys.readouterr()
    assert run(["--config", str(config), "plan", "-f", path, "-o", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [(c["profile"], c["project_id"], c["backup_id"], c["action"])
            for c in document["changes"]] == [
        ("partner", OWN, "066b1e37-9305-4057-97e5-2e99b21fc71d", "share"),
        ("partner", P1, PARTNER_BACKUP, "share"),
    ]  # fmt: skip
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(document))
    assert run(["--config", str(config), "apply", "--plan", str(saved), "--yes"]) == 0
    members = running.emulator.store.members(PARTNER_BACKUP)
    assert P2 in {m["dest_project_id"] for m in members}  # shared as partner, not as OWN


def test_an_unknown_entry_profile_names_the_file_the_line_and_the_key(
    make_emulator: Callable[..., RunningEmulator],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from backupshare.cli import run

    running = make_emulator()
    config = partner_config(tmp_path, running.url)
    body = f"sharings:\n  - backups: {{name: x}}\n    to: [{P2}]\n    profile: nobody\n"
    path = sharings_file(tmp_path, body)
    capsys.readouterr()
    for command in (["plan"], ["apply", "--yes"]):
        assert run(["--config", str(config), *command, "-f", path]) == 3
        first = capsys.readouterr().err.splitlines()[0]
        assert first.startswith(f"error: {path}:8: profile: ") and "'nobody' not found" in first
    assert running.emulator.logged() == []


# -- 4. an alias bomb is refused at load, and no message repr()s a huge value -------------------
# -- 5. a bad timestamp or deep nesting is a configuration error naming FILE:LINE ---------------
def alias_bomb(levels: int = 9) -> str:
    """< 1 KB of YAML: 10 ** levels values once its aliases are expanded."""
    lists = ["&a0 [x,x,x,x,x,x,x,x,x,x]"]
    lists += [f"&a{n} [{','.join([f'*a{n - 1}'] * 10)}]" for n in range(1, levels)]
    return "[" + ", ".join(lists) + "]"


HOSTILE_YAML = [
    (f"version: 1\nsharings:\n  - name: {alias_bomb()}\n", 3, "aliases expand to more than"),
    (f"version: {alias_bomb()}\n", 1, "aliases expand to more than"),
    ("version: 1\nsharings:\n  - backups: {created_after: 2026-13-45}\n", 3, "cannot read"),
    ("version: 1\nx: " + "[" * 5000 + "]" * 5000 + "\n", 2, "nested more than"),
    ("version: 1\nx: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", 2, "nested more than"),
]


@pytest.mark.parametrize(("text", "line", "message"), HOSTILE_YAML)
def test_hostile_yaml_in_a_sharings_file_is_refused_at_its_line(
    cli: Callable[..., CliResult],
    emulator: RunningEmulator,
    tmp_path: Path,
    text: str,
    line: int,
    message: str,
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_sharings(text, "s.yaml", now=NOW)
    assert raised.value.message.startswith(f"s.yaml:{line}: ") and message in raised.value.message
    path = tmp_path / "s.yaml"
    path.write_text(text)
    result = cli("plan", "-f", str(path))
    assert result.code == 3 and result.err.startswith(f"error: {path}:{line}: "), result.err
    assert "Traceback" not in result.err
    assert emulator.logged() == []


@pytest.mark.parametrize(("text", "line", "message"), HOSTILE_YAML)
def test_hostile_yaml_in_the_config_file_is_refused_at_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, line: int, message: str
) -> None:
    from backupshare.cli import run

    config = tmp_path / "config.yaml"
    config.write_text(text.replace("version: 1\n", "profiles: {}\n").replace("version:", "x:"))
    config.chmod(0o600)
    capsys.readouterr()
    assert run(["--config", str(config), "config", "validate"]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"error: {config}:{line}: ") and message in err, err


def test_a_huge_value_is_shown_bounded_in_a_message() -> None:
    """Where a value is not refused at load (a wide one), its message stays short."""
    from backupshare.sharings import shown_value

    wide = "version: 1\nsharings:\n  - name: [" + ", ".join(["x" * 50] * 2_000) + "]\n"
    with pytest.raises(ConfigError) as raised:
        parse_sharings(wide, "s.yaml", now=NOW)
    assert raised.value.message.startswith("s.yaml:3: name: ['xxx")
    assert len(raised.value.message) < 200
    assert shown_value(10**5000) == "<a number of 16610 bits>"
    assert shown_value(object()) == "<object>"


# -- 6. apply --plan re-reads its `ok` pairs too ------------------------------------------------
def test_a_saved_ok_pair_ended_since_is_stale_not_existing(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    import json

    shared = cli("share", B, P1, "-o", "json")
    assert shared.code == 0, shared.err
    path = sharings_file(tmp_path, f"sharings:\n  - backups: {{id: {B}}}\n    to: [dr]\n")
    saved = tmp_path / "plan.json"
    saved.write_text(cli("plan", "-f", path, "-o", "json").out)
    assert [c["action"] for c in json.loads(saved.read_text())["changes"]] == ["ok"]
    assert cli("cancel", "--backup-id", B, "--to-project", P1, "--yes").code == 0  # by hand
    emulator.clear_log()
    stale = cli("apply", "--plan", str(saved), "--yes")
    assert stale.code == 6, stale.err
    assert f"differs from the saved plan for 1 pair: backup {B} to {P1}" in stale.err
    assert changes_sent(emulator) == []


# -- 7. a saved plan: one change per pair, no unknown keys, no controls, and a library mapping
def test_a_saved_plan_is_refused_for_what_the_format_cannot_hold(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    import copy
    import json

    path = sharings_file(tmp_path, f"sharings:\n  - backups: {{id: {A}}}\n    to: [dr]\n")
    good = json.loads(cli("plan", "-f", path, "-o", "json").out)
    change = good["changes"][0]
    cancel = {**change, "action": "cancel", "seen": {**change["seen"], "shared": True}}

    def edited(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
        document = copy.deepcopy(good)
        edit(document)
        return document

    for document, message in [
        (edited(lambda d: d["changes"].append(dict(change))),
         f"changes[1]: backup {A} to project {P1} is changes[0] already"),
        (edited(lambda d: d["changes"].append(cancel)), "changes[1]: backup"),
        (edited(lambda d: d.update(version=True)), "not a plan document of version 1"),
        (edited(lambda d: d.update(extra=1)), "plan.json: 'extra': unknown key"),
        (edited(lambda d: d["summary"].update(delete=1)), "plan.json: summary: 'delete'"),
        (edited(lambda d: d["changes"][0].update(force=True)), "changes[0]: 'force': unknown"),
        (edited(lambda d: d["changes"][0]["seen"].update(x=1)), "changes[0].seen: 'x': unknown"),
        (edited(lambda d: d["changes"][0].update(entry="\x1b]0;PWNED\x07")),
         "changes[0].entry: control characters are not allowed"),
        (edited(lambda d: d["changes"][0].update(reason="a\nb")),
         "changes[0].reason: control characters are not allowed"),
    ]:  # fmt: skip
        saved = tmp_path / "plan.json"
        saved.write_text(json.dumps(document))
        emulator.clear_log()
        result = cli("apply", "--plan", str(saved), "--yes")
        assert result.code == 3, result.err
        first = result.err.splitlines()[0]
        assert first.startswith(f"error: {saved}") and message in first, (message, first)
        assert emulator.logged() == []


def test_the_library_checks_a_plan_mapping_by_type_without_json(
    emulator: RunningEmulator,
) -> None:
    from backupshare import Client
    from backupshare.errors import BackupshareError

    text = f"version: 1\nsharings:\n  - backups: {{id: {A}}}\n    to: [{P1}]\n"
    with Client(endpoint=emulator.url, project_id=OWN, token="emulator-token") as api:
        document = api.plan(text=text).to_document()
        emulator.clear_log()
        for key, value in (("entry", object()), ("reason", b"x"), ("backup_name", 1.5)):
            broken = {**document, "changes": [{**document["changes"][0], key: value}]}
            with pytest.raises(BackupshareError) as raised:
                api.apply(plan=broken)
            assert raised.value.message.startswith(f"<plan>: changes[0].{key}: expected text")
        with pytest.raises(BackupshareError):
            api.apply(plan={**document, "summary": {"share": object()}})
        assert emulator.logged() == []


# -- 8. at 80 columns the plan still says why a row is blocked ----------------------------------
@pytest.mark.e2e
def test_a_blocked_rows_reason_shows_on_an_80_column_terminal(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    from .test_terminal import assert_fits
    from .test_terminal import on_terminal as screen_of

    def on_terminal(*argv: Any) -> str:
        """The screen without the spinner's remains (it is erased on a real terminal)."""
        screen = screen_of(*argv)
        spinner = [line for line in screen.splitlines() if "planning" in line]
        assert spinner and all("reading backups and sharings" in s for s in spinner)
        assert not any("records" in line for line in spinner)  # no count of nothing (12.)
        return "\n".join(line for line in screen.split("\n") if line not in spinner)

    body = f"sharings:\n  - name: web\n    backups: {{id: {C}}}\n    to: [dr, {OWN}]\n"
    screen = on_terminal(emulator, 80, "plan", "-f", sharings_file(tmp_path, body))
    assert_fits(screen, 80)
    reason = "own project: a backup cannot be shared with its own project"
    assert re.search(rf"^ACTION +blocked\n(.+\n)*REASON +{reason}$", screen, re.M), screen
    assert re.search(rf"^TO PROJECT +{OWN}$", screen, re.M)  # ids whole
    # Without a blocked row, nothing to say: the table of ids fits 80 columns.
    fine = sharings_file(tmp_path, body.replace(f", {OWN}]", "]"), "fine.yaml")
    plain = on_terminal(emulator, 80, "plan", "-f", fine)
    assert_fits(plain, 80)
    assert re.search(rf"^ACTION +BACKUP ID +TO PROJECT\b.*\n.*\nshare +{C} +{P1}\b", plain, re.M)


# -- 12. a number where a name is expected says so, as `to:` does -------------------------------
@pytest.mark.parametrize("key", ["name", "name_prefix"])
def test_a_number_as_a_name_says_to_quote_it(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path, key: str
) -> None:
    path = sharings_file(tmp_path, f"sharings:\n  - backups: {{{key}: 2024}}\n    to: [dr]\n")
    result = cli("plan", "-f", path)
    assert result.code == 3
    assert result.err.splitlines()[0] == (
        f"error: {path}:6: {key}: 2024 is a number: quote it ('2024') to match a name"
    )
    assert emulator.logged() == []


# -- 9. an interrupted apply: the ok rows of a backup not started are `existing` ----------------
def test_an_interrupt_reports_the_ok_rows_of_backups_not_started_as_existing(
    emulator: RunningEmulator,
) -> None:
    from backupshare.registry import connect
    from backupshare.verbs.apply import apply_plan
    from backupshare.verbs.batch import Interrupt
    from backupshare.verbs.plan import make_plan

    from .helpers import token_settings

    backups = (A, C, D)
    for backup in backups:  # the state to plan against, not under test
        emulator.store.share(OWN, backup, [P1])
    text = "version: 1\nsharings:\n" + "".join(
        f"  - backups: {{id: {backup}}}\n    to: [{P1}, {P2}]\n" for backup in backups
    )
    sharings = parse_sharings(text, "s.yaml", now=NOW)
    with connect(token_settings(emulator.url), sleep=lambda s: None) as api:
        plan = make_plan(sharings, lambda profile: api, concurrency=1)
        assert [(r.backup_id, r.action) for r in plan.rows] == [
            (backup, action) for backup in backups for action in ("ok", "share")
        ]
        stop = Interrupt()
        outcome = apply_plan(
            plan, lambda row: api, concurrency=1, progress=lambda n: stop.raise_(), stop=stop
        )
    words = [r.result for r in outcome.results]
    assert words[:2] == ["existing", "created"] and words[-2:] == ["existing", "skipped"], words
    assert words[0::2] == ["existing"] * 3  # every ok row: seen shared, needing nothing
    assert [r.share_id for r in outcome.results[0::2]] == [r.seen.share_id for r in plan.rows[0::2]]


# -- 11. an entry label is free text in csv: neutralised like a name ----------------------------
def test_a_formula_as_entry_label_is_neutralised_in_plan_and_apply_csv(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    body = (
        f"sharings:\n  - name: '=HYPERLINK(\"http://x\")'\n    backups: {{id: {C}}}\n"
        f"    to: [dr, {OWN}]\n"
    )
    path = sharings_file(tmp_path, body)
    for command in (["plan"], ["apply", "--yes"]):
        result = cli(*command, "-f", path, "-o", "csv")
        lines = result.out.splitlines()[1:]
        assert len(lines) == 2, result.out
        for line in lines:
            assert line.startswith('"\'=HYPERLINK(""http://x"")",'), line
    blocked = cli("plan", "-f", path, "-o", "csv").out.splitlines()[2]
    assert ",own project: a backup cannot be shared with its own project," in blocked


# -- 13. a service listing two sharings for one pair: exact mode ends both ----------------------
def test_exact_mode_ends_every_sharing_a_pair_has(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    """VBS lists each sharing of (A, P1) and (A, P2) twice (as a broken or hostile server
    might): every one of the four is ended, and the report says so once per pair."""
    import json

    from .helpers import fault

    made = emulator.store.share(OWN, A, [P1, P2])
    twins = [{**record, "id": f"cccccccc-0000-4000-8000-00000000000{n}"}
             for n, record in enumerate(made, start=1)]  # fmt: skip
    listing = json.dumps({"shared": [*made, *twins]})
    fault(emulator, "raw", method="GET", path="os-vendor-backup-sharing/detail", status=200,
          body=listing, count=1)  # fmt: skip
    path = sharings_file(tmp_path, exact_entry(f"{{id: {A}}}", "[]"))
    result = cli("apply", "-f", path, "--yes", "-o", "json")
    assert result.code == 0, result.err
    assert [(r["to_project_id"], r["result"]) for r in json.loads(result.out)["results"]] == [
        (P1, "canceled"), (P2, "canceled")
    ]  # fmt: skip
    deleted = {r["path"].rsplit("/", 1)[1] for r in emulator.logged()
               if r["method"] == "DELETE"}  # fmt: skip
    assert deleted == {record["id"] for record in [*made, *twins]}
    assert emulator.store.query(OWN, {"backup_id": A}) == []


# -- the review's code points: one bounded reader, the row bound's words ------------------------
def test_a_plan_path_is_read_by_the_sharings_files_bounded_reader(
    cli: Callable[..., CliResult], emulator: RunningEmulator, tmp_path: Path
) -> None:
    binary = tmp_path / "plan.json"
    binary.write_bytes(b'{"version": 1}\x00')
    for name, message in (
        (str(tmp_path), f"error: {tmp_path}: is a directory, not a plan"),
        (str(tmp_path / "missing.json"), "cannot read the plan: No such file or directory"),
        (str(binary), f"error: {binary}: not a text file (contains NUL bytes)"),
    ):
        result = cli("apply", "--plan", name, "--yes")
        assert result.code == 3 and message in result.err.splitlines()[0], result.err
    assert emulator.logged() == []


def test_the_row_bound_counts_backup_entry_pairs(
    cli: Callable[..., CliResult],
    emulator: RunningEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("backupshare.verbs.plan.MAX_ROWS", 3)  # the bound, made reachable
    body = "sharings:\n" + "  - backups: {name_prefix: db-}\n    to: [dr]\n" * 2
    path = sharings_file(tmp_path, body)
    result = cli("plan", "-f", path)
    assert result.code == 3
    assert result.err.splitlines()[0] == f"error: {path}: selects more than 3 (backup, entry) pairs"
    assert changes_sent(emulator) == []
