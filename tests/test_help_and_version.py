"""--help, `help`, --version (and --verbose), no arguments; did-you-mean for commands, options,
formats and config keys; every --help pastes at 80 columns; each help line is written once."""

from __future__ import annotations

import re
from typing import Any

import pytest


def test_version_and_help(cli: Any) -> None:
    from backupshare import __version__

    assert cli("--version").out == f"backupshare {__version__}\n"
    for command in ("share", "list-shares", "show", "cancel", "doctor", "config", "completion"):
        result = cli(command, "--help")
        assert result.code == 0 and "Usage: backupshare" in result.out
        assert "Example" in result.out


@pytest.mark.parametrize("order", [("--version", "--verbose"), ("--verbose", "--version")])
def test_version_verbose_says_what_a_bug_report_needs(cli: Any, order: tuple[str, str]) -> None:
    import platform
    import sys
    from importlib.metadata import version

    from backupshare import __version__

    result = cli(*order)
    assert (result.code, result.err) == (0, "")
    first, python, system, *libraries = result.out.splitlines()
    assert first == f"backupshare {__version__}"  # what plain --version prints, then details
    assert python == f"python    {platform.python_version()} (CPython) {sys.executable}"
    assert system == f"platform  {platform.platform()}"
    assert libraries == [
        f"{name:<9} {version(name)}" for name in ("typer", "requests", "rich", "PyYAML")
    ]


def test_verbose_without_version_is_a_usage_error(cli: Any) -> None:
    result = cli("--verbose", "list-shares")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "error: --verbose only goes with --version\nhint: for request logs use --debug\n"
    )


def test_no_arguments_shows_help(cli: Any) -> None:
    result = cli()
    assert result.code == 2 and "Usage: backupshare" in result.err


def test_each_commands_help_line_is_written_once() -> None:
    # app.COMMANDS holds each command's help line; a docstring on its function would never be
    # shown, and editing it would change nothing (a trap for the next maintainer)
    from backupshare.cli.app import COMMANDS, app
    from backupshare.cli.typer_internals import click_command

    root = click_command(app)
    commands = {name: root.get_command(None, name) for name in COMMANDS}
    assert all(commands[name].help == COMMANDS[name][1] for name in COMMANDS)
    documented = [
        name for name, c in commands.items() if c.callback is not None and c.callback.__doc__
    ]
    assert documented == []


# -- did you mean ------------------------------------------------------------------------------------
def test_a_mistyped_output_format_suggests_the_near_one(cli: Any) -> None:
    result = cli("list-shares", "-o", "jsn")
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == [
        "error: invalid --output 'jsn': choose one of table, json, jsonl, yaml, csv, ids, dot",
        "hint: did you mean 'json' or 'jsonl'?",
    ]


def test_a_mistyped_option_suggests_the_near_one(cli: Any) -> None:
    result = cli("list-shares", "--shared-with-mee")
    assert (result.code, result.out) == (2, "")
    assert result.err.splitlines() == [
        "error: no such option: --shared-with-mee",
        "hint: did you mean '--shared-with-me'? see 'backupshare list-shares --help'",
    ]
    far = cli("list-shares", "--zzz")
    assert far.err.splitlines()[1] == "hint: see 'backupshare list-shares --help'"


def test_a_mistyped_config_key_suggests_the_near_one(cli: Any, isolated: Any) -> None:
    config = isolated / "c.yaml"
    config.write_text("profiles:\n  default:\n    endpiont: http://x\n    auth: {methd: token}\n")
    config.chmod(0o600)
    result = cli("config", "validate", "--config", str(config))
    assert result.code == 3
    first, second = result.err.splitlines()[:2]
    assert "key 'endpiont' (line 3): unknown key (did you mean 'endpoint'? known: cloud," in first
    assert second.endswith("key 'auth.methd' (line 4): unknown key (did you mean 'method'?)")


# -- help that pastes: the walk of every --help ----------------------------------------------------------
def help_paths() -> list[str]:
    from .test_help_examples import all_commands

    # `emulator --help` is the emulator's own (argparse), tested with it
    return sorted(path for path, _ in all_commands() if path != "backupshare emulator")


@pytest.mark.parametrize("path", help_paths())
def test_every_help_pastes_at_80_columns(cli: Any, monkeypatch: Any, path: str) -> None:
    from backupshare.cli.typer_internals import epilog_lines

    from .test_help_examples import all_commands

    monkeypatch.setenv("COLUMNS", "80")
    command = dict(all_commands())[path]
    shown = cli(*path.split()[1:], "--help")
    assert shown.code == 0, shown.err
    assert not re.search(r"<(str|int|float|bool|list\[)", shown.out), shown.out  # metavars only
    lines = [line.strip() for line in shown.out.splitlines()]
    _, examples, _ = epilog_lines(command.epilog or "")
    for example in examples:  # each whole on a line of its own, however long
        assert example in lines, f"{example!r} is wrapped or missing in:\n{shown.out}"
    quiet = [p.opts[0] for p in command.params
             if p.param_type_name == "option" and not p.hidden and not p.help]  # fmt: skip
    assert quiet == [], f"options without a help line in {path}"


def test_completion_help_gives_the_readmes_install_lines(cli: Any, monkeypatch: Any) -> None:
    from .helpers import readme_block

    monkeypatch.setenv("COLUMNS", "60")
    shown = cli("completion", "--help")
    assert shown.code == 0
    install = readme_block("completion:install").strip().splitlines()
    at = [line.strip() for line in shown.out.splitlines()].index(install[0])
    assert [line.strip() for line in shown.out.splitlines()[at : at + len(install)]] == install


def test_help_topics_are_the_reference_pages(cli: Any) -> None:
    from .helpers import ROOT

    for topic in ("exit-codes", "configuration", "output", "commands", "wire", "emulator"):
        shown = cli("help", topic)
        assert (shown.code, shown.out) == (0, (ROOT / "docs" / f"{topic}.md").read_text())
    mistyped = cli("help", "exit-code")
    assert (mistyped.code, mistyped.err.splitlines()[1]) == (
        2,
        "hint: did you mean 'exit-codes'? see 'backupshare --help'",
    )


# -- mistyped commands and `help` ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "error", "hint"),
    [
        (["shar"], "no such command 'shar'", "did you mean 'share'? see 'backupshare --help'"),
        (["cancle", "x"], "no such command 'cancle'", "did you mean 'cancel'?"),
        (["doctr"], "no such command 'doctr'", "did you mean 'doctor'?"),
        (["config", "shwo"], "no such command 'shwo'", "did you mean 'show'? see 'backupshare config --help'"),
        (["help", "shrae"], "no such command 'shrae'", "did you mean 'share'?"),
        (["help", "config", "nit"], "no such command 'nit'", "did you mean 'init'?"),
        (["frobnicate"], "no such command 'frobnicate'", "commands: share, backups, list-shares, show, cancel"),
    ],
)  # fmt: skip
def test_a_mistyped_command_names_what_was_meant(
    cli: Any, argv: list[str], error: str, hint: str
) -> None:
    result = cli(*argv)
    assert (result.code, result.out) == (2, "")
    first, second = result.err.splitlines()
    assert first == f"error: {error}"
    assert second.startswith("hint: ") and hint in second


@pytest.mark.parametrize("path", [["share"], ["cancel"], ["config", "init"], []])
def test_help_command_prints_the_commands_own_help(cli: Any, path: list[str]) -> None:
    via_help = cli("help", *path)
    via_flag = cli(*path, "--help")
    assert via_help.code == 0 and via_help.err == ""
    assert via_help.out == via_flag.out
    assert via_help.out.startswith(f"Usage: backupshare {' '.join(path)}".rstrip())
