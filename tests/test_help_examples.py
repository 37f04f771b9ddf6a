"""Every example in every `--help` parses: a help that shows an option that does not exist
(`config init --secret-key-env` once did) fails here, not in a user's terminal."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

import pytest

from .helpers import BACKUP, P1

PLACEHOLDERS = {
    "BACKUP_ID": BACKUP,
    "SHARE_ID": "11111111-2222-4333-8444-555555555555",
    "PROJECT_ID": P1,
    "ID": P1,
    "VOLUME_ID": "9d2f7f3e-5b5c-4f0e-8d8e-1c2b3a4d5e6f",
    "AK": "AKEXAMPLE",
}
SHELL_ENDS = {">", ">>", "|", "&&", ";"}


def root_command() -> Any:
    from typer.main import get_command

    from backupshare.cli.app import app

    return get_command(app)


def all_commands() -> Iterator[tuple[str, Any]]:
    """(path, command) for the root, every command and every subcommand."""
    root = root_command()
    context = root.make_context("backupshare", [], resilient_parsing=True)
    stack = [("backupshare", root, context)]
    while stack:
        path, command, ctx = stack.pop()
        yield path, command
        for name in getattr(command, "list_commands", lambda _: [])(ctx):
            sub = command.get_command(ctx, name)
            sub_ctx = sub.make_context(name, [], parent=ctx, resilient_parsing=True)
            stack.append((f"{path} {name}", sub, sub_ctx))


def examples_of(command: Any) -> list[str]:
    """The epilog's examples ("Examples:  backupshare a  ·  backupshare b  (a remark)")."""
    found = re.findall(r"backupshare [^·]+", command.epilog or "")
    return [example.split("  (")[0].strip() for example in found]


def argv_of(example: str) -> list[str]:
    words = shlex.split(example)[1:]
    for index, word in enumerate(words):
        if word in SHELL_ENDS:
            words = words[:index]
            break
    return [PLACEHOLDERS.get(word, word) for word in words]


def parse(argv: list[str]) -> str:
    """Parses argv as the CLI would, down to the command that runs, without running it;
    returns that command's path."""
    command = root_command()
    ctx = command.make_context("backupshare", list(argv))
    while hasattr(command, "resolve_command"):
        rest = [*ctx._protected_args, *ctx.args]  # the vendored click's own spelling
        if not rest:
            break
        name, command, remaining = command.resolve_command(ctx, rest)
        if command.name == "emulator":  # its options are the emulator's own (argparse)
            from backupshare.emulator.__main__ import parse as parse_emulator

            parse_emulator(remaining)
            return f"{ctx.command_path} emulator"
        ctx = command.make_context(name, remaining, parent=ctx)
    return str(ctx.command_path)


EXAMPLES = [(path, example) for path, command in all_commands() for example in examples_of(command)]


def test_every_command_has_an_example() -> None:
    with_examples = {path for path, _ in EXAMPLES}
    missing = [path for path, _ in all_commands() if path not in with_examples]
    assert missing == []


@pytest.mark.parametrize(("path", "example"), EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_help_example_parses(path: str, example: str) -> None:
    parsed = parse(argv_of(example))
    assert f"{parsed} ".startswith(f"{path} ")  # of its own command (a group: of one of its own)


def test_a_wrong_example_would_be_caught() -> None:
    from typer._click.exceptions import UsageError

    with pytest.raises(UsageError, match="No such option"):
        parse(argv_of("backupshare config init --secret-key-env PROD_SK"))
